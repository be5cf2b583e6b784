/**
 * The HTTP API's built-in CORS, played from the template's CorsConfiguration (lib/constructs/api.ts
 * is its one source): API Gateway answers preflights itself, adds the CORS headers to the
 * functions' responses and ignores any CORS header a function returns. CORS headers are sent only
 * to a request with an allowed Origin; a preflight also needs Access-Control-Request-Method.
 */
import type http from 'node:http';
import type { CorsDefinition } from './template.js';

/** Origin patterns as HTTP API takes them: `*`, an exact origin, or one `*` wildcard (https://*.example.com). */
function originAllowed(cors: CorsDefinition, origin: string): boolean {
  return cors.allowOrigins.some((allowed) => {
    if (allowed === '*') return true;
    if (!allowed.includes('*')) return allowed.toLowerCase() === origin.toLowerCase();
    const [prefix, suffix] = allowed.toLowerCase().split('*', 2) as [string, string];
    const candidate = origin.toLowerCase();
    return candidate.length > prefix.length + suffix.length && candidate.startsWith(prefix) && candidate.endsWith(suffix);
  });
}

/** Access-Control-Allow-Origin (and Vary) for an allowed origin: `*` when every origin is allowed without credentials. */
function allowOriginHeaders(cors: CorsDefinition, origin: string): Record<string, string> {
  if (cors.allowOrigins.includes('*') && !cors.allowCredentials) return { 'Access-Control-Allow-Origin': '*' };
  return {
    'Access-Control-Allow-Origin': origin,
    // The answer depends on the Origin: tell caches (a CDN in front of the room status) so.
    Vary: 'Origin',
    ...(cors.allowCredentials ? { 'Access-Control-Allow-Credentials': 'true' } : {}),
  };
}

const originOf = (request: http.IncomingMessage): string | undefined => {
  const origin = request.headers.origin;
  return typeof origin === 'string' && origin !== '' ? origin : undefined;
};

/** Whether the request is a CORS preflight (which API Gateway answers without calling any function). */
export function isPreflight(request: http.IncomingMessage): boolean {
  return request.method === 'OPTIONS' && originOf(request) !== undefined && typeof request.headers['access-control-request-method'] === 'string';
}

/** The headers of API Gateway's own 204 answer to a preflight; none for an origin that is not allowed. */
export function preflightHeaders(cors: CorsDefinition | undefined, request: http.IncomingMessage): Record<string, string> {
  const origin = originOf(request);
  if (!cors || !origin || !originAllowed(cors, origin)) return {};
  return {
    ...allowOriginHeaders(cors, origin),
    ...(cors.allowMethods.length > 0 ? { 'Access-Control-Allow-Methods': cors.allowMethods.join(',') } : {}),
    ...(cors.allowHeaders.length > 0 ? { 'Access-Control-Allow-Headers': cors.allowHeaders.join(',') } : {}),
    ...(cors.maxAgeSeconds !== undefined ? { 'Access-Control-Max-Age': String(cors.maxAgeSeconds) } : {}),
  };
}

/** A response's headers as API Gateway sends them: the function's CORS headers dropped, the API's added. */
export function withCorsHeaders(
  cors: CorsDefinition | undefined,
  request: http.IncomingMessage,
  headers: Record<string, string | string[]>,
): Record<string, string | string[]> {
  if (!cors) return headers;
  const kept = Object.fromEntries(Object.entries(headers).filter(([name]) => !name.toLowerCase().startsWith('access-control-')));
  const origin = originOf(request);
  if (!origin || !originAllowed(cors, origin)) return kept;
  const added = allowOriginHeaders(cors, origin);
  const vary = Object.keys(kept).find((name) => name.toLowerCase() === 'vary');
  if (added.Vary && vary) {
    kept[vary] = `${String(kept[vary])}, Origin`;
    delete added.Vary;
  }
  return {
    ...kept,
    ...added,
    ...(cors.exposeHeaders.length > 0 ? { 'Access-Control-Expose-Headers': cors.exposeHeaders.join(',') } : {}),
  };
}
