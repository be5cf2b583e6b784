/**
 * The stack's outputs, as the local runtime can honour them: each `Outputs` value of the template
 * resolved against the local resources (an output naming something not emulated, such as the
 * CloudFront status cache, is left out). Served at `GET /local/outputs` so that tools find the
 * local queues the way they read a deployed stack's outputs (`waiting-room dlq list --local`).
 */
import type { ExtraRoute } from './http-gateway.js';
import { resolve, UnresolvableError, type LocalResource } from './intrinsics.js';
import type { CfnTemplate } from './template.js';
import { send } from './web-assets.js';

/** The path of the local outputs (not an API route: the runtime's own, like its pages). */
export const LOCAL_OUTPUTS_PATH = '/local/outputs';

export function resolvedOutputs(template: CfnTemplate, resources: ReadonlyMap<string, LocalResource>): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    try {
      const value = resolve((output as { Value?: unknown }).Value, resources);
      if (typeof value === 'string') outputs[name] = value;
    } catch (error) {
      if (!(error instanceof UnresolvableError)) throw error;
    }
  }
  return outputs;
}

export function outputsRoute(outputs: () => Record<string, string>): ExtraRoute {
  return (request, response, url) => {
    if (url.pathname !== LOCAL_OUTPUTS_PATH) return false;
    const ok = request.method === 'GET';
    send(response, ok ? 200 : 405, 'application/json', JSON.stringify(ok ? outputs() : { error: { code: 'METHOD_NOT_ALLOWED', message: 'GET only' } }), { 'Cache-Control': 'no-store' });
    return true;
  };
}
