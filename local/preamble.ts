/** Imported first by the local entry points: settings that must exist before any SDK module loads. */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
