import { fileURLToPath } from 'node:url';
import path from 'node:path';

/**
 * The repository root, from which handler entries and the lock file are resolved. Compiled into
 * the package, this file is dist/lib/paths.js and the root is dist/, where the package build
 * (scripts/build-package.ts) also writes the pre-bundled functions and the built pages.
 */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Where the package build writes each handler pre-bundled, `<dir>/<handler>/index.mjs`, relative
 * to REPO_ROOT. Only the installed package has it: in the repository, functions are bundled at synth.
 */
export const PREBUNDLED_FUNCTIONS_DIR = 'functions';

/** Where the package build writes the built pages and assets (web/build.ts), relative to REPO_ROOT; only the installed package has it. */
export const BUILT_PAGES_DIR = 'pages';

/** Metadata key on each Lambda function's template resource: its TypeScript entry, relative to the repo. */
export const ENTRY_METADATA = 'WaitingRoom:Entry';

/** Metadata key telling the local runtime to leave a function out ('skip'), e.g. one that manages AWS-only resources. */
export const LOCAL_RUNTIME_METADATA = 'WaitingRoom:LocalRuntime';
