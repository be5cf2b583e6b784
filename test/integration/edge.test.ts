/**
 * The local edge (issue 9, item 4) over HTTP: the gate's distribution played on its own port, with
 * the gate function in front of the demo origin, the waiting page under /waiting-room/ and the API
 * under /waiting-room/api/ (the route function strips the prefix). A visitor without a pass is sent
 * to the waiting page (a browser) or told where to queue (an API client); the whole journey by
 * hand ends with the pass cookie the API sets through the edge, which lets the visitor in; bad
 * cookies, each by name, are refused at the edge with their reason. The demo origin, which checks
 * every request on its own, never sees one without a valid pass.
 */
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../local/preamble.js';
import { EDGE_PASS_MAX_BYTES, edgePassKvsKey, mintEdgePass, type EdgePassKey, type EdgePassRefusal } from '../../edge/edge-pass.js';
import type { LocalEdge } from '../../local/edge/local-edge.js';
import { LOCAL_GATE_ISSUER } from '../../local/edge/keys.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { REPO_ROOT } from '../../lib/paths.js';
import { rawRequest } from '../helpers/raw-http.js';
import { sleep } from '../helpers/visitor.js';
import { TOKEN_ID, forge, signText } from '../unit/edge/fixtures.js';

const ROOM = 'demo';
const OTHER_ROOM = 'other';
const HEARTBEAT_S = 1;
let runtime: LocalRuntime;
let edge: LocalEdge;
/** Requests this file sends to the site with a valid pass: the origin must have seen exactly these. */
let sentWithValidPass = 0;
/** Requests to unprotected paths (no pass needed). */
let sentUnprotected = 0;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    timings: { heartbeatIntervalSeconds: HEARTBEAT_S, checkDelaySeconds: 1 },
    rooms: [
      { roomId: ROOM, capacity: 5 },
      { roomId: OTHER_ROOM, capacity: 5 },
    ],
    edge: { port: 0 },
    schedules: false,
    log: () => undefined,
  });
  edge = runtime.edge!;
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
});

const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
/** A request to the edge, redirects not followed. */
const edgeFetch = (path: string, init: RequestInit = {}) => fetch(`${edge.url}${path}`, { redirect: 'manual', ...init });
/** A browser's navigation. */
const navigate = (path: string, cookie?: string) => edgeFetch(path, { headers: { accept: HTML, ...(cookie !== undefined ? { cookie } : {}) } });
/** An API client's call. */
const call = (path: string, cookie?: string, init: RequestInit = {}) =>
  edgeFetch(path, { ...init, headers: { accept: 'application/json', ...(cookie !== undefined ? { cookie } : {}), ...(init.headers as Record<string, string>) } });

const passCookie = (pass: string | string[]) => [pass].flat().map((p) => `wr_pass_${ROOM}=${p}`).join('; ');
const current = (): EdgePassKey => edge.keys.current;
const nowS = () => Math.floor(Date.now() / 1000);
/** A valid pass for the demo room, minted now with the run's current key, unless told otherwise. */
const mint = (overrides: Partial<Parameters<typeof mintEdgePass>[0]> = {}) =>
  mintEdgePass({ issuer: LOCAL_GATE_ISSUER, roomId: ROOM, tokenId: TOKEN_ID, now: Date.now(), ttlSeconds: 60, key: current(), ...overrides });
const claims = (overrides: Record<string, unknown> = {}) => ({ iss: LOCAL_GATE_ISSUER, room: ROOM, sub: TOKEN_ID, iat: nowS(), nbf: nowS(), exp: nowS() + 60, ...overrides });
const header = (overrides: Record<string, unknown> = {}) => ({ alg: 'HS256', typ: 'JWT', kid: current().kid, ...overrides });
const b64 = (text: string) => Buffer.from(text).toString('base64url');

describe('the local edge, laid out as the distribution', () => {
  it('sends a browser without a pass to the waiting page, with the room and the URL it asked for', async () => {
    const answer = await navigate('/products/1');
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe('/waiting-room/?room=demo&return=%2Fproducts%2F1');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('x-cache')).toBe('FunctionGeneratedResponse from cloudfront');
    const withQuery = await navigate('/products/2?colour=red&size=m');
    expect(withQuery.headers.get('location')).toBe('/waiting-room/?room=demo&return=%2Fproducts%2F2%3Fcolour%3Dred%26size%3Dm');
  });

  it('answers an API client without a pass 403 JSON naming the queue, whatever the method', async () => {
    for (const init of [{}, { method: 'POST', body: '{"product":1}', headers: { 'content-type': 'application/json' } }]) {
      const answer = await call('/api/cart', undefined, init);
      expect(answer.status).toBe(403);
      expect(answer.headers.get('content-type')).toBe('application/json');
      expect(await answer.json()).toEqual({
        error: {
          code: 'PASS_REQUIRED',
          message: expect.any(String),
          reason: 'MISSING',
          queue: '/waiting-room/api/rooms/demo/tokens',
          waitingRoom: '/waiting-room/?room=demo',
        },
      });
    }
  });

  it("gives the other local room its own paths, /other/*, before the first room's /*", async () => {
    expect(edge.config.rooms).toEqual([
      { roomId: OTHER_ROOM, paths: ['/other/*'] },
      { roomId: ROOM, paths: ['/*'] },
    ]);
    const answer = await call('/other/tickets');
    expect(((await answer.json()) as { error: { queue: string } }).error.queue).toBe('/waiting-room/api/rooms/other/tokens');
  });

  it('refuses a path the origin might read as another one (400 BAD_PATH), before any room', async () => {
    const answer = await rawRequest(edge.port, 'GET', '/robots.txt/../products/1', { accept: 'application/json' });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'BAD_PATH' } });
  });

  it('lets the unprotected paths through without a pass (robots.txt, as the construct leaves it)', async () => {
    const answer = await navigate('/robots.txt');
    sentUnprotected += 1;
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('User-agent');
  });

  it('serves the waiting page under /waiting-room/, rewritten for its place, and its assets beside it', async () => {
    const page = await navigate('/waiting-room/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('public, max-age=60');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    const html = await page.text();
    expect(html).toContain('data-api-base="/waiting-room/api"');
    expect(html).not.toMatch(/(?:src|href)="\/assets\//);
    const assets = [...html.matchAll(/(?:src|href)="(\/waiting-room\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of [...assets, '/waiting-room/assets/client.js']) {
      const answer = await navigate(asset);
      expect(answer.status, asset).toBe(200);
      expect(answer.headers.get('content-type'), asset).toMatch(/^text\/(javascript|css)/);
      expect(await answer.text(), asset).not.toMatch(/sourceMappingURL/);
    }
    for (const same of ['/waiting-room', '/waiting-room/index.html', '/waiting-room/?room=demo&return=%2Fproducts%2F1']) {
      expect(await (await navigate(same)).text(), same).toBe(html);
    }
  });

  it('answers what the page bucket does not hold 403 AccessDenied, as S3 behind Origin Access Control does, and the page behavior only GET and HEAD', async () => {
    for (const path of ['/waiting-room/assets/admin.js', '/waiting-room/assets/waiting-room.js.map', '/waiting-room/nothing-here', '/waiting-room/waiting-room.html']) {
      const answer = await navigate(path);
      expect(answer.status, path).toBe(403);
      expect(await answer.text(), path).toContain('AccessDenied');
    }
    expect((await edgeFetch('/waiting-room/', { method: 'POST', body: 'x' })).status).toBe(403);
  });

  it('passes the API through with the /waiting-room/api prefix stripped, and caches the room status for a second', async () => {
    const openapi = await call('/waiting-room/api/openapi.json');
    expect(openapi.status).toBe(200);
    expect(openapi.headers.get('x-cache')).toBe('Miss from cloudfront');
    const status = await call(`/waiting-room/api/rooms/${ROOM}/status`);
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ roomId: ROOM });
    expect(status.headers.get('x-cache')).toMatch(/^(Hit|Miss) from cloudfront$/);
    // The edge answers a matching If-None-Match itself, from the object it holds.
    const etag = status.headers.get('etag')!;
    const unchanged = await call(`/waiting-room/api/rooms/${ROOM}/status`, undefined, { headers: { 'if-none-match': etag } });
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.get('etag')).toBe(etag);
    const missing = await call('/waiting-room/api/rooms/no-such-room/status');
    expect(missing.status).toBe(404);
  });
});

describe('the journey by hand, through the edge', () => {
  it('joins, heartbeats until admitted, gets the pass cookie from the API and is let in with it', async () => {
    const joined = await call(`/waiting-room/api/rooms/${ROOM}/tokens`, undefined, { method: 'POST' });
    expect(joined.status).toBe(201);
    expect(joined.headers.getSetCookie()).toEqual([]);
    const { tokenId, secret } = (await joined.json()) as { tokenId: string; secret: string };
    const heartbeat = () => call(`/waiting-room/api/rooms/${ROOM}/tokens/${tokenId}/heartbeat`, undefined, { method: 'POST', headers: { authorization: `Bearer ${secret}` } });

    // Heartbeat as the page does, until admitted (a free seat: at once; a loaded machine: a few beats).
    const deadline = Date.now() + 30_000;
    let admitted: Response | undefined;
    while (!admitted) {
      const answer = await heartbeat();
      expect(answer.status).toBe(200);
      const view = (await answer.json()) as { state: string };
      if (view.state === 'admitted') admitted = answer;
      else if (Date.now() > deadline) throw new Error('not admitted within 30 s');
      else await sleep(HEARTBEAT_S * 1000);
    }
    const [cookie, ...more] = admitted.headers.getSetCookie();
    expect(more).toEqual([]);
    expect(cookie).toMatch(/^wr_pass_demo=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    expect(cookie).not.toMatch(/Secure/);
    const pass = /^wr_pass_demo=([^;]+)/.exec(cookie!)![1]!;

    const product = await navigate('/products/1', `theme=dark; wr_pass_demo=${pass}`);
    sentWithValidPass += 1;
    expect(product.status).toBe(200);
    expect(product.headers.get('x-cache')).toBe('Miss from cloudfront');
    const html = await product.text();
    expect(html).toContain('Product 1');
    expect(html).toContain("import { WaitingRoomClient } from '/waiting-room/assets/client.js'");
    expect(html).toContain("mode: 'keep-alive'");
    const seen = edge.origin.requests().at(-1)!;
    expect(seen).toMatchObject({ method: 'GET', url: '/products/1', room: ROOM, pass: 'valid', host: `127.0.0.1:${edge.origin.port}` });

    // A POST with a body, both ways.
    const added = await call('/api/cart', passCookie(pass), { method: 'POST', body: JSON.stringify({ product: 3 }), headers: { 'content-type': 'application/json' } });
    sentWithValidPass += 1;
    expect(added.status).toBe(201);
    expect(await added.json()).toEqual({ items: [3] });
    const cart = await call('/api/cart', passCookie(pass));
    sentWithValidPass += 1;
    expect(await cart.json()).toEqual({ items: [3] });

    // The next admitted heartbeat renews the cookie; leaving clears it.
    const renewed = (await heartbeat()).headers.getSetCookie();
    expect(renewed).toEqual([expect.stringMatching(/^wr_pass_demo=[^;]+\..+; HttpOnly; SameSite=Lax; Max-Age=\d+$/)]);
    const left = await call(`/waiting-room/api/rooms/${ROOM}/tokens/${tokenId}`, undefined, { method: 'DELETE', headers: { authorization: `Bearer ${secret}` } });
    expect(left.status).toBe(204);
    expect(left.headers.getSetCookie()).toEqual(['wr_pass_demo=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0']);
  });

  it('lets in a pass of the next key (published one rotation ahead), and refuses it once the store drops that key', async () => {
    const next = edge.keys.next!;
    const pass = mint({ key: next });
    expect((await call('/api/cart', passCookie(pass))).status).toBe(200);
    sentWithValidPass += 1;
    const stored = edge.kvs.get(edgePassKvsKey(next.kid))!;
    edge.kvs.delete(edgePassKvsKey(next.kid));
    try {
      const refused = await call('/api/cart', passCookie(pass));
      expect(((await refused.json()) as { error: { reason: string } }).error.reason).toBe('UNKNOWN_KEY');
    } finally {
      edge.kvs.set(edgePassKvsKey(next.kid), stored);
    }
  });
});

/** A bad cookie: what the request carries for wr_pass_demo (undefined: nothing), built when the test runs, and why the edge refuses it. */
interface BadCookie {
  readonly name: string;
  readonly cookie: () => string | string[] | undefined;
  readonly reason: EdgePassRefusal;
}

const OTHER_SECRET = Buffer.alloc(32, 7).toString('base64url');

const BAD_COOKIES: readonly BadCookie[] = [
  { name: 'missing', cookie: () => undefined, reason: 'MISSING' },
  { name: 'empty', cookie: () => '', reason: 'MISSING' },
  { name: 'malformed: not a JWT', cookie: () => 'hello', reason: 'MALFORMED' },
  { name: 'malformed: two parts of a valid pass', cookie: () => mint().split('.').slice(0, 2).join('.'), reason: 'MALFORMED' },
  { name: 'wrong signature (another secret, same kid)', cookie: () => forge({ header: header(), claims: claims(), secret: OTHER_SECRET }), reason: 'BAD_SIGNATURE' },
  {
    name: 'wrong signature (payload edited after signing)',
    cookie: () => {
      const [h, , s] = mint().split('.');
      return `${h}.${b64(JSON.stringify(claims({ exp: nowS() + 900 })))}.${s}`;
    },
    reason: 'BAD_SIGNATURE',
  },
  { name: 'alg: none, signed anyway', cookie: () => forge({ header: header({ alg: 'none' }), claims: claims(), secret: current().secret }), reason: 'BAD_HEADER' },
  { name: 'alg: none, no signature', cookie: () => `${b64('{"alg":"none","typ":"JWT"}')}.${mint().split('.')[1]}.`, reason: 'MALFORMED' },
  { name: 'alg: HS512', cookie: () => forge({ header: header({ alg: 'HS512' }), claims: claims(), secret: current().secret }), reason: 'BAD_HEADER' },
  { name: 'unknown kid', cookie: () => forge({ header: header({ kid: 'retired-7' }), claims: claims(), secret: current().secret }), reason: 'UNKNOWN_KEY' },
  { name: 'expired', cookie: () => mint({ now: Date.now() - 120_000, ttlSeconds: 60 }), reason: 'EXPIRED' },
  { name: "other room's pass", cookie: () => mint({ roomId: OTHER_ROOM }), reason: 'WRONG_ROOM' },
  { name: "wrong issuer (a deployed gate's)", cookie: () => mint({ issuer: 'waiting-room:WaitingRoom/Gate' }), reason: 'WRONG_ISSUER' },
  { name: 'future nbf (a minute ahead)', cookie: () => forge({ header: header(), claims: claims({ iat: nowS() + 60, nbf: nowS() + 60, exp: nowS() + 120 }), secret: current().secret }), reason: 'NOT_YET_VALID' },
  { name: 'lifetime over the maximum', cookie: () => forge({ header: header(), claims: claims({ exp: nowS() + edge.config.maxLifetimeSeconds + 1 }), secret: current().secret }), reason: 'LIFETIME_TOO_LONG' },
  { name: 'oversized (over 1 KB)', cookie: () => forge({ header: header(), claims: claims({ iss: 'x'.repeat(EDGE_PASS_MAX_BYTES) }), secret: current().secret }), reason: 'TOO_LARGE' },
  { name: 'duplicated (the same valid pass twice)', cookie: () => [mint(), mint()], reason: 'DUPLICATED' },
  { name: 'payload not JSON, signed', cookie: () => signText(JSON.stringify(header()), '{"iss":', current().secret), reason: 'MALFORMED' },
];

describe('bad cookies, refused at the local edge', () => {
  it('lists at least ten kinds, each by name', () => {
    expect(BAD_COOKIES.length).toBeGreaterThanOrEqual(10);
    expect(new Set(BAD_COOKIES.map((c) => c.name)).size).toBe(BAD_COOKIES.length);
    expect(new Set(BAD_COOKIES.map((c) => c.reason)).size).toBeGreaterThanOrEqual(10);
  });

  it.each(BAD_COOKIES)('$name: 403 $reason to an API client, the waiting page to a browser', async ({ cookie, reason }) => {
    const value = cookie();
    const header = value === undefined ? 'theme=dark' : `theme=dark; ${passCookie(value)}`;
    const answer = await call('/api/cart', header);
    expect(answer.status).toBe(403);
    expect(((await answer.json()) as { error: { reason: string } }).error.reason).toBe(reason);
    const navigation = await navigate('/products/7', header);
    expect(navigation.status).toBe(302);
    expect(navigation.headers.get('location')).toBe('/waiting-room/?room=demo&return=%2Fproducts%2F7');
  });
});

describe('npm start with the local edge', () => {
  it('says in one line that EDGE_PORT is taken, before starting anything, and exits non-zero', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as net.AddressInfo;
    try {
      const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bin/local.ts')], {
        cwd: REPO_ROOT,
        env: { ...process.env, PORT: '0', EDGE_PORT: String(port) },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.status).toBe(1);
      expect(result.stderr.trim().split('\n').filter((l) => l.startsWith('npm start:'))).toEqual([
        `npm start: Port ${port} (EDGE_PORT) is already in use: set EDGE_PORT to a free port (0 picks one)`,
      ]);
    } finally {
      server.close();
    }
  });
});

describe('the demo origin', () => {
  it('saw no request without a valid pass, and every request sent with one', () => {
    const counts = edge.origin.counts();
    expect(counts.withoutValidPass).toBe(0);
    expect(counts.withValidPass).toBe(sentWithValidPass);
    expect(counts.unprotected).toBe(sentUnprotected);
    expect(counts.total).toBe(sentWithValidPass + sentUnprotected);
    const requests = edge.origin.requests();
    expect(requests).toHaveLength(counts.total);
    expect(requests.filter((r) => r.room !== null && r.pass !== 'valid')).toEqual([]);
    expect(new Set(requests.map((r) => r.host))).toEqual(new Set([`127.0.0.1:${edge.origin.port}`]));
  });
});
