/**
 * The route function of the gate's waiting-room behaviors (edge/route-function.js), run as
 * CloudFront runs it: the text that lib/gate deploys (`routeFunctionCode`), evaluated on its own in
 * a fresh node:vm context (no imports, no Node globals, no code generation from strings), its
 * `handler` called with the viewer-request event. A handler that throws is a 503, as at CloudFront.
 */
import vm from 'node:vm';
import type { CloudFrontRequest, CloudFrontResponse, CloudFrontViewerRequestEvent } from '../../edge/cloudfront-event.js';
import { ROUTE_FUNCTION_FILE, routeFunctionCode } from '../../lib/gate/gate-code.js';

export type RouteFunction = (event: CloudFrontViewerRequestEvent) => CloudFrontRequest | CloudFrontResponse;

export function loadRouteFunction(code: string = routeFunctionCode(), onError: (error: unknown) => void = () => undefined): RouteFunction {
  const context = vm.createContext(Object.create(null) as object, { codeGeneration: { strings: false, wasm: false } });
  const handler = new vm.Script(`${code}\n;handler`, { filename: ROUTE_FUNCTION_FILE }).runInContext(context) as RouteFunction;
  return (event) => {
    try {
      return handler(event);
    } catch (error) {
      onError(error);
      return { statusCode: 503, statusDescription: 'Service Unavailable', headers: { 'cache-control': { value: 'no-store' } } };
    }
  };
}
