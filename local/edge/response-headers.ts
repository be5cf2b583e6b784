/**
 * What CloudFront adds to every response of the gate's distribution: the response headers policy
 * of lib/gate/gate.ts (security headers, `override: false`, so an origin's own values win), and
 * the headers CloudFront itself sets: Via, and X-Cache saying where the answer came from.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { EDGE_VIA } from './origin-request.js';

/** lib/gate/gate.ts SecurityHeaders: HSTS 365 days without subdomains, nosniff, SAMEORIGIN, strict-origin-when-cross-origin. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'strict-transport-security': 'max-age=31536000',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

/** CloudFront's X-Cache values. */
export type CacheResult = 'Hit' | 'Miss' | 'Error' | 'FunctionGeneratedResponse';

/** `headers` with the security headers each added unless present, Via, and X-Cache. */
export function edgeResponseHeaders(headers: OutgoingHttpHeaders, result: CacheResult): OutgoingHttpHeaders {
  const present = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  const out: OutgoingHttpHeaders = { ...headers };
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!present.has(name)) out[name] = value;
  out.via = EDGE_VIA;
  out['x-cache'] = `${result} from cloudfront`;
  return out;
}
