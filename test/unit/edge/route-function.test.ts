/**
 * The gate's route function (edge/route-function.js), run as CloudFront runs it: the file's text,
 * evaluated on its own in a fresh `node:vm` context (no imports, no Node globals), `handler`
 * called with viewer-request events. It strips /waiting-room/api for the API and maps the waiting
 * page's two bare URLs to its file; it leaves everything else as it is, and it stays inside the
 * CloudFront Functions runtime 2.0 subset.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { GATE_API_PATH, GATE_PATH_PATTERNS, WAITING_PATH } from '../../../lib/gate/props.js';
import { GATE_PAGE } from '../../../lib/gate/waiting-page.js';
import { REPO_ROOT } from '../../../lib/paths.js';
import { subsetViolations } from './runtime-subset.js';

const CODE = readFileSync(path.join(REPO_ROOT, 'edge', 'route-function.js'), 'utf8');

interface Request {
  method: string;
  uri: string;
  querystring: Record<string, { value: string }>;
  headers: Record<string, { value: string }>;
  cookies: Record<string, { value: string }>;
}
type Handler = (event: { version: string; context: Record<string, string>; viewer: { ip: string }; request: Request }) => Request;

const handler = new vm.Script(`${CODE}\n;handler`, { filename: 'route-function.js' }).runInNewContext(Object.create(null) as object) as Handler;

const route = (uri: string, querystring: Request['querystring'] = {}) => {
  const request: Request = { method: 'GET', uri, querystring, headers: { host: { value: 'shop.example.com' } }, cookies: {} };
  const result = handler({ version: '1.0', context: { eventType: 'viewer-request' }, viewer: { ip: '192.0.2.1' }, request });
  return { request, result };
};

describe('the route function', () => {
  it.each([
    ['/waiting-room/api/rooms/shop/tokens', '/rooms/shop/tokens'],
    ['/waiting-room/api/rooms/shop/tokens/AAAAAAAAAAAAAAAAAAAAAA/heartbeat', '/rooms/shop/tokens/AAAAAAAAAAAAAAAAAAAAAA/heartbeat'],
    ['/waiting-room/api/rooms/shop/status', '/rooms/shop/status'],
    ['/waiting-room/api/.well-known/jwks.json', '/.well-known/jwks.json'],
    ['/waiting-room/api/', '/'],
  ])('sends %s to the API as %s', (uri, expected) => {
    expect(route(uri).result.uri).toBe(expected);
  });

  it.each([['/waiting-room'], ['/waiting-room/']])('serves %s as the waiting page, keeping its query string', (uri) => {
    const querystring = { room: { value: 'shop' }, return: { value: '%2Fcheckout%3Fstep%3D2' } };
    const { request, result } = route(uri, querystring);
    expect(result).toBe(request);
    expect(result.uri).toBe('/waiting-room/index.html');
    expect(result.querystring).toEqual({ room: { value: 'shop' }, return: { value: '%2Fcheckout%3Fstep%3D2' } });
    expect(result.headers).toEqual({ host: { value: 'shop.example.com' } });
  });

  it.each([
    ['/waiting-room/index.html'],
    ['/waiting-room/assets/waiting-room.js'],
    ['/waiting-room/assets/styles.css'],
    ['/waiting-room/api'],
    ['/waiting-roomy'],
    ['/waiting-rooms/'],
    ['/shop/waiting-room/api/x'],
    ['/WAITING-ROOM/api/rooms/shop/tokens'],
    ['/'],
    ['/checkout'],
  ])('leaves %s as it is', (uri) => {
    const { request, result } = route(uri);
    expect(result).toBe(request);
    expect(result.uri).toBe(uri);
  });

  it('uses the paths the construct routes to it (lib/gate/props.ts)', () => {
    expect(GATE_PATH_PATTERNS.api).toBe(`${GATE_API_PATH}/*`);
    expect(route(`${GATE_API_PATH}/openapi.json`).result.uri).toBe('/openapi.json');
    expect(route(WAITING_PATH).result.uri).toBe(`${WAITING_PATH}/${GATE_PAGE}`);
    expect(route(`${WAITING_PATH}/`).result.uri).toBe(`${WAITING_PATH}/${GATE_PAGE}`);
  });

  it('stays inside the CloudFront Functions runtime 2.0 subset', () => {
    expect(subsetViolations(CODE)).toEqual([]);
    expect(Buffer.byteLength(CODE)).toBeLessThan(10_240);
  });

  it.each([
    ['destructuring', 'function handler(event) { const { request } = event; return request; }'],
    ['spread', 'function handler(event) { return Object.assign({}, ...[event.request]); }'],
    ['class', 'class Router {}\nfunction handler(event) { return event.request; }'],
    ['optional chaining', 'function handler(event) { return event?.request; }'],
    ['nullish coalescing (??)', 'function handler(event) { return event.request ?? null; }'],
    ['for-of', 'function handler(event) { for (const k of []) {} return event.request; }'],
    ['default value', 'function handler(event = {}) { return event.request; }'],
  ])('would refuse %s (the subset check itself)', (what, source) => {
    expect(subsetViolations(source).join('\n')).toContain(what);
  });
});
