/**
 * What the local edge sends an origin for a request a function let through: the request as the
 * function returned it, with every header and cookie, Host naming the origin (the origin request
 * policy ALL_VIEWER_EXCEPT_HOST_HEADER), X-Forwarded-For and Via; and the route function's rewrite.
 */
import { describe, expect, it } from 'vitest';
import { viewerRequestEvent } from '../../../../edge/viewer-event.js';
import { originHeaders, originPath, viewerHeaders } from '../../../../local/edge/origin-request.js';
import { edgeResponseHeaders } from '../../../../local/edge/response-headers.js';
import { loadRouteFunction } from '../../../../local/edge/route-function.js';

const event = (url: string, headers: Record<string, string | string[]> = {}) =>
  viewerRequestEvent({ method: 'GET', url, headers: { host: '127.0.0.1:3080', ...headers }, socket: { remoteAddress: '127.0.0.1' } });

describe('the origin request', () => {
  it('keeps the path and the query string as sent', () => {
    expect(originPath(event('/products/1').request)).toBe('/products/1');
    expect(originPath(event('/search?q=a%20b&tag=1&tag=2&flag').request)).toBe('/search?q=a%20b&tag=1&tag=2&flag');
  });

  it('passes every header and cookie, names the origin in Host, and adds X-Forwarded-For and Via', () => {
    const headers = originHeaders(
      event('/', { cookie: 'a=1; wr_pass_demo=x.y.z', accept: 'text/html', 'x-forwarded-for': '203.0.113.9', connection: 'keep-alive', 'x-custom': 'yes' }).request,
      { host: '127.0.0.1:4000', viewerIp: '127.0.0.1' },
    );
    expect(headers).toEqual({
      accept: 'text/html',
      'x-custom': 'yes',
      cookie: 'a=1; wr_pass_demo=x.y.z',
      'x-forwarded-for': '203.0.113.9, 127.0.0.1',
      via: '1.1 local-edge (CloudFront)',
      host: '127.0.0.1:4000',
    });
  });

  it('sends a cookie sent twice twice (the gate refuses it first)', () => {
    expect(originHeaders(event('/', { cookie: 'a=1; a=2' }).request, { host: 'o', viewerIp: 'v' }).cookie).toBe('a=1; a=2');
  });
});

describe('the answer to the viewer', () => {
  it("keeps the origin's headers, Set-Cookie included, adds the security headers it lacks, Via and X-Cache", () => {
    const headers = edgeResponseHeaders(viewerHeaders({ 'set-cookie': ['a=1', 'b=2'], 'x-frame-options': 'DENY', connection: 'keep-alive', 'transfer-encoding': 'chunked' }), 'Miss');
    expect(headers).toEqual({
      'set-cookie': ['a=1', 'b=2'],
      'x-frame-options': 'DENY',
      'strict-transport-security': 'max-age=31536000',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'strict-origin-when-cross-origin',
      via: '1.1 local-edge (CloudFront)',
      'x-cache': 'Miss from cloudfront',
    });
  });
});

describe('the route function, as the local edge runs it', () => {
  const route = loadRouteFunction();
  it('strips /waiting-room/api for the API and maps the waiting page to its file, keeping the query string', () => {
    expect(originPath(route(event('/waiting-room/api/rooms/demo/tokens')) as never)).toBe('/rooms/demo/tokens');
    expect(originPath(route(event('/waiting-room/?room=demo&return=%2Fproducts%2F1')) as never)).toBe('/waiting-room/index.html?room=demo&return=%2Fproducts%2F1');
  });

  it('answers 503 when the function throws, as CloudFront does', () => {
    const errors: unknown[] = [];
    const broken = loadRouteFunction('function handler(event) { return event.nothing.uri; }', (e) => errors.push(e));
    expect(broken(event('/waiting-room/'))).toMatchObject({ statusCode: 503 });
    expect(errors).toHaveLength(1);
  });
});
