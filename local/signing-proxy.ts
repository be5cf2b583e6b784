/**
 * The admin console's signing proxy: the admin page, served on this machine, calls
 * `<prefix>/admin/...` on its own origin, and the proxy forwards each call to the waiting-room API
 * signed with SigV4 (the operator's credentials, or the local runtime's own). So one page works
 * against `npm start` and against a deployed stack, and no secret reaches the browser.
 *
 * Only this machine's pages may use it: the Host must be a loopback name (against DNS
 * rebinding), and a browser's request must come from the same origin (Sec-Fetch-Site), so another
 * site open in the operator's browser cannot have the proxy sign for it.
 */
import type http from 'node:http';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { readBody } from './http-gateway.js';
import { signedHeaders } from './sigv4-sign.js';

export interface SigningProxyOptions {
  /** Where calls go (the API's base URL), looked up per call. */
  baseUrl: () => string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  region: string;
  /** The path prefix the page calls, e.g. /console. */
  prefix: string;
}

const MAX_BODY_BYTES = 1024 * 1024;
const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;
const METHODS = new Set(['GET', 'PUT', 'POST']);

function answer(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  response.end(JSON.stringify(body));
}

/** A route handler: true when it answered the request (it was for the proxy). */
export function signingProxy(options: SigningProxyOptions): (request: http.IncomingMessage, response: http.ServerResponse, url: URL) => Promise<boolean> {
  const prefix = options.prefix.replace(/\/+$/, '');
  return async (request, response, url) => {
    if (!url.pathname.startsWith(`${prefix}/admin/`)) return false;
    if (!LOOPBACK_HOST.test(request.headers.host ?? '')) {
      answer(response, 403, { message: 'The console answers pages of this machine only (Host is not a loopback name)' });
      return true;
    }
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      answer(response, 403, { message: 'The console signs only for its own page' });
      return true;
    }
    const method = request.method ?? 'GET';
    if (!METHODS.has(method)) {
      answer(response, 405, { message: `${method} is not an admin method` });
      return true;
    }
    const read = await readBody(request, MAX_BODY_BYTES);
    if (read === 'too-large') {
      // The rest of the body is still on the connection: close it, as the gateway does.
      response.setHeader('Connection', 'close');
      answer(response, 413, { message: 'Request Entity Too Large' });
      return true;
    }
    const body = read.toString('utf8');
    const target = new URL(`${options.baseUrl().replace(/\/+$/, '')}${url.pathname.slice(prefix.length)}${url.search}`);
    const headers: Record<string, string> = { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) };
    try {
      const signed = await signedHeaders({ url: target, method, headers, ...(body ? { body } : {}), credentials: options.credentials, region: options.region });
      const upstream = await fetch(target, { method, headers: signed, ...(body ? { body } : {}) });
      response.writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'application/json', 'Cache-Control': 'no-store' });
      response.end(Buffer.from(await upstream.arrayBuffer()));
    } catch (error) {
      answer(response, 502, { message: `The console could not reach the API at ${target.origin}: ${error instanceof Error ? error.message : String(error)}` });
    }
    return true;
  };
}
