/**
 * The OpenAPI document against the running API (local runtime, real emulators): it is served at
 * /openapi.json, it describes every API route of the local gateway and no other, and every real
 * answer, success or error, has a status the document lists for its route, a body its schema
 * accepts (ajv, draft 2020-12) and the headers it requires (test/helpers/openapi.ts). Driven: the
 * visitor's journey, the status with its 304, the JWKS, the admin routes, the origin freeing a
 * seat with a pass, the error classes of the bad-input table (400, 401, 403, 404, 409, 413), a
 * revoked admission (410) and a shed request (429).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openApiDocument, type OpenApiDocument } from '../../lambdas/api/document.js';
import '../../local/preamble.js';
import { compileRoute, type LocalRoute } from '../../local/http-gateway.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { routesOf } from '../../local/template.js';
import { OpenApiConformance, answerOf, type RealAnswer } from '../helpers/openapi.js';
import { rawRequest } from '../helpers/raw-http.js';
import { signedAdminHeaders } from '../helpers/visitor.js';
import { UNSIGNED, cases } from './bad-input-cases.js';

let runtime: LocalRuntime;
const conformance = new OpenApiConformance(openApiDocument());
/** What did not conform, each with the request that got it: asserted empty at the end of each test. */
let problems: string[] = [];
beforeEach(() => {
  problems = [];
});

beforeAll(async () => {
  // One invocation of a function at a time and no waiting for a turn: two requests at once to the same function get a 429.
  runtime = await startLocalRuntime({ port: 0, rooms: [], schedules: false, pages: false, shedding: { concurrencyPerFunction: 1, maxWaitMs: 0 }, log: () => undefined });
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
});

type Sent = { body?: string; headers?: Record<string, string> };

/** Sends a request on `routeKey` (its path filled in as `path`), checks the answer against the document, and returns it. */
async function call(routeKey: string, path: string, sent: Sent = {}): Promise<RealAnswer & { json: unknown }> {
  const method = routeKey.split(' ')[0]!;
  const url = `${runtime.url}${path}`;
  const headers = routeKey.includes(' /admin/')
    ? await signedAdminHeaders(url, method, sent.body, { 'content-type': 'application/json', ...sent.headers })
    : (sent.headers ?? {});
  const answer = await answerOf(await fetch(url, { method, headers, ...(sent.body !== undefined ? { body: sent.body } : {}) }));
  problems.push(...conformance.problems(routeKey, answer).map((problem) => `${method} ${path}: ${problem}`));
  return { ...answer, json: parsed(answer.body) };
}

/** The body as JSON, or undefined when it is none (the conformance check has said so already). */
function parsed(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

describe('the OpenAPI document, served by the local runtime', () => {
  it('is served at /openapi.json, is the one the code builds, and describes every API route of the local gateway', async () => {
    const response = await fetch(`${runtime.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect((await response.json()) as OpenApiDocument).toEqual(conformance.document);

    const gatewayRoutes = routesOf(runtime.template).map((route) => route.routeKey);
    expect(gatewayRoutes.length).toBeGreaterThan(0);
    expect(conformance.routeKeys().sort()).toEqual([...gatewayRoutes].sort());
  });
});

describe('real answers', () => {
  it('of a visit, the room status, the JWKS and the admin routes conform to the document', async () => {
    expect((await call('GET /openapi.json', '/openapi.json')).status).toBe(200);
    expect((await call('PUT /admin/rooms/{roomId}', '/admin/rooms/oa', { body: '{"capacity":1}' })).status).toBe(201);
    expect((await call('PUT /admin/rooms/{roomId}', '/admin/rooms/oa', { body: '{"capacity":1,"state":"open"}' })).status).toBe(200);
    expect((await call('GET /admin/rooms', '/admin/rooms')).status).toBe(200);
    expect((await call('GET /admin/rooms/{roomId}', '/admin/rooms/oa')).status).toBe(200);
    expect((await call('GET /admin/rooms/{roomId}/report', '/admin/rooms/oa/report')).status).toBe(200);

    // The first visitor takes the one seat (its answer carries a pass), the second waits.
    const first = await call('POST /rooms/{roomId}/tokens', '/rooms/oa/tokens');
    expect(first.status).toBe(201);
    const a = first.json as { tokenId: string; secret: string };
    const asA = { headers: { Authorization: `Bearer ${a.secret}` } };
    const admitted = await call('POST /rooms/{roomId}/tokens/{tokenId}/heartbeat', `/rooms/oa/tokens/${a.tokenId}/heartbeat`, asA);
    expect(admitted.json).toMatchObject({ state: 'admitted', pass: expect.any(String) });
    expect((await call('GET /rooms/{roomId}/tokens/{tokenId}', `/rooms/oa/tokens/${a.tokenId}`, asA)).status).toBe(200);

    const second = await call('POST /rooms/{roomId}/tokens', '/rooms/oa/tokens', { body: '{}', headers: { 'Content-Type': 'application/json' } });
    const b = second.json as { tokenId: string; secret: string };
    const asB = { headers: { Authorization: `Bearer ${b.secret}` } };
    expect((await call('POST /rooms/{roomId}/tokens/{tokenId}/heartbeat', `/rooms/oa/tokens/${b.tokenId}/heartbeat`, asB)).json).toMatchObject({ state: 'waiting' });
    expect((await call('POST /rooms/{roomId}/tokens/{tokenId}/keep-place', `/rooms/oa/tokens/${b.tokenId}/keep-place`, asB)).status).toBe(200);
    expect((await call('GET /rooms/{roomId}/tokens/{tokenId}', `/rooms/oa/tokens/${b.tokenId}`, asB)).json).toMatchObject({ state: 'waiting', position: 1 });

    // The status, then 304 for the bytes just read (a fresh view of the room may change them: read again).
    let notModified = 0;
    for (let attempt = 0; attempt < 5 && notModified === 0; attempt++) {
      const status = await call('GET /rooms/{roomId}/status', '/rooms/oa/status');
      expect(status.status).toBe(200);
      const etag = (status.headers as Headers).get('etag') ?? '';
      const again = await call('GET /rooms/{roomId}/status', '/rooms/oa/status', { headers: { 'If-None-Match': etag } });
      if (again.status === 304) notModified += 1;
    }
    expect(notModified).toBe(1);

    expect((await call('GET /.well-known/jwks.json', '/.well-known/jwks.json')).status).toBe(200);
    expect((await call('POST /admin/metrics/refresh', '/admin/metrics/refresh')).status).toBe(202);

    // The origin frees A's seat with A's pass; B leaves.
    const pass = (admitted.json as { pass: string }).pass;
    expect((await call('POST /rooms/{roomId}/passes/revoke', '/rooms/oa/passes/revoke', { headers: { Authorization: `Bearer ${pass}` } })).status).toBe(204);
    expect((await call('GET /rooms/{roomId}/tokens/{tokenId}', `/rooms/oa/tokens/${a.tokenId}`, asA)).json).toMatchObject({ error: { code: 'TOKEN_NOT_FOUND' } });
    expect((await call('DELETE /rooms/{roomId}/tokens/{tokenId}', `/rooms/oa/tokens/${b.tokenId}`, asB)).status).toBe(204);

    // A scheduled event: the admin answer and the status with it, a pre-queue join with its receipt, the lottery (not drawn yet, and none without an event).
    const event = { eventId: 'oa-drop', prequeueStart: new Date(Date.now() - 60_000).toISOString(), start: new Date(Date.now() + 600_000).toISOString(), end: new Date(Date.now() + 900_000).toISOString() };
    expect((await call('PUT /admin/rooms/{roomId}', '/admin/rooms/oa-event', { body: JSON.stringify({ capacity: 1, event }) })).status).toBe(201);
    expect((await call('POST /rooms/{roomId}/tokens', '/rooms/oa-event/tokens')).json).toMatchObject({ lotteryEventId: 'oa-drop', lotteryReceipt: expect.any(String) });
    expect((await call('GET /rooms/{roomId}/status', '/rooms/oa-event/status')).json).toMatchObject({ event: { phase: 'prequeue' } });
    expect((await call('GET /rooms/{roomId}/lottery', '/rooms/oa-event/lottery')).json).toMatchObject({ eventId: 'oa-drop', entries: [] });
    expect((await call('GET /rooms/{roomId}/lottery', '/rooms/oa/lottery')).json).toMatchObject({ error: { code: 'NO_EVENT' } });

    expect(problems).toEqual([]);
    const exercised = new Set(conformance.checked().map((checked) => checked.split(' ').slice(0, 2).join(' ')));
    expect(conformance.routeKeys().filter((routeKey) => !exercised.has(routeKey))).toEqual([]);
  });

  it('of errors conform to the document: bad ids and bodies, missing secrets, unknown rooms and tokens, a closed room, large bodies', async () => {
    expect((await call('PUT /admin/rooms/{roomId}', '/admin/rooms/oa-closed', { body: '{"capacity":1,"state":"closed"}' })).status).toBe(201);
    expect((await call('PUT /admin/rooms/{roomId}', '/admin/rooms/oa-sold-out', { body: '{"capacity":1,"mode":"reject","message":"Sold out"}' })).status).toBe(201);
    const joined = (await call('POST /rooms/{roomId}/tokens', '/rooms/oa/tokens')).json as { tokenId: string; secret: string };
    const token = `/rooms/oa/tokens/${joined.tokenId}`;
    const bearer = { Authorization: `Bearer ${joined.secret}` };

    const expected: [string, string, Sent, number][] = [
      ['GET /rooms/{roomId}/status', '/rooms/bad!id/status', {}, 400],
      ['POST /rooms/{roomId}/tokens/{tokenId}/heartbeat', `${token}/heartbeat`, { headers: { ...bearer, 'Content-Type': 'application/json' }, body: '{"x":1}' }, 400],
      ['PUT /admin/rooms/{roomId}', '/admin/rooms/oa', { body: '{}' }, 400],
      ['GET /rooms/{roomId}/tokens/{tokenId}', token, {}, 401],
      ['POST /rooms/{roomId}/tokens', '/rooms/nowhere/tokens', {}, 404],
      ['GET /admin/rooms/{roomId}', '/admin/rooms/nowhere', {}, 404],
      ['GET /admin/rooms/{roomId}/report', '/admin/rooms/nowhere/report', {}, 404],
      ['GET /rooms/{roomId}/tokens/{tokenId}', `/rooms/oa/tokens/${'A'.repeat(22)}`, { headers: bearer }, 404],
      ['POST /rooms/{roomId}/tokens', '/rooms/oa-closed/tokens', {}, 409],
      ['POST /rooms/{roomId}/tokens', '/rooms/oa-sold-out/tokens', {}, 409],
      ['POST /rooms/{roomId}/tokens/{tokenId}/keep-place', `${token}/keep-place`, { headers: { ...bearer, 'Content-Type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(5000) }) }, 413],
    ];
    for (const [routeKey, path, sent, status] of expected) expect((await call(routeKey, path, sent)).status, `${routeKey} ${path}`).toBe(status);

    // A visitor inside when the room is stopped: refused (410) once the heartbeat function's room view is fresh.
    expect((await call('PUT /admin/rooms/{roomId}', '/admin/rooms/oa-stop', { body: '{"capacity":1}' })).status).toBe(201);
    const inside = (await call('POST /rooms/{roomId}/tokens', '/rooms/oa-stop/tokens')).json as { tokenId: string; secret: string };
    const asInside = { headers: { Authorization: `Bearer ${inside.secret}` } };
    expect((await call('POST /rooms/{roomId}/tokens/{tokenId}/heartbeat', `/rooms/oa-stop/tokens/${inside.tokenId}/heartbeat`, asInside)).json).toMatchObject({ state: 'admitted' });
    expect((await call('PUT /admin/rooms/{roomId}', '/admin/rooms/oa-stop', { body: '{"revokePasses":true}' })).json).toMatchObject({ epoch: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // a room view's life
    expect((await call('POST /rooms/{roomId}/tokens/{tokenId}/heartbeat', `/rooms/oa-stop/tokens/${inside.tokenId}/heartbeat`, asInside)).status).toBe(410);

    // Every class of the bad-input table whose request is on an API route.
    expect((await call('PUT /admin/rooms/{roomId}', '/admin/rooms/oa-other', { body: '{"capacity":1}' })).status).toBe(201);
    const other = (await call('POST /rooms/{roomId}/tokens', '/rooms/oa-other/tokens')).json as { tokenId: string; secret: string };
    const routes: LocalRoute[] = routesOf(runtime.template).map((definition) => compileRoute(definition, runtime.functions.get(definition.functionLogicalId)!));
    let onRoutes = 0;
    for (const [what, method, path, given, body] of cases('oa', 'oa-closed', joined.tokenId, joined.secret, { token: other.tokenId, secret: other.secret })) {
      const pathname = new URL(path, 'http://localhost').pathname;
      const route = routes.find((r) => r.definition.method === method && r.pattern.test(pathname));
      if (!route) continue;
      onRoutes += 1;
      const { [UNSIGNED]: unsigned, ...headers } = given;
      const sign = path.startsWith('/admin/') && unsigned === undefined && !('Authorization' in headers);
      const lowerCased = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      const sent = sign ? { ...headers, ...(await signedAdminHeaders(`http://127.0.0.1:${runtime.port}${path}`, method, body, lowerCased)) } : headers;
      const raw = await rawRequest(runtime.port, method, path, sent, body);
      const answer = { status: raw.status, headers: Object.fromEntries(Object.entries(raw.headers).map(([k, v]) => [k, String(v)])), body: raw.body };
      problems.push(...conformance.problems(route.definition.routeKey, answer).map((problem) => `${what}: ${problem}`));
    }
    expect(onRoutes).toBeGreaterThan(40);

    expect(problems).toEqual([]);
    const statuses = new Set(conformance.checked().map((checked) => checked.split(' ')[2]));
    for (const status of ['400', '401', '403', '404', '409', '410', '413']) expect(statuses.has(status), status).toBe(true);
  });

  it('of a shed request (429, Retry-After) conform to the document', async () => {
    const joined = (await call('POST /rooms/{roomId}/tokens', '/rooms/oa/tokens')).json as { tokenId: string; secret: string };
    // Reads at once of a token (each reads the table): one at a time is answered, the others are shed at once.
    let shed = 0;
    for (let attempt = 0; attempt < 10 && shed === 0; attempt++) {
      const read = () => call('GET /rooms/{roomId}/tokens/{tokenId}', `/rooms/oa/tokens/${joined.tokenId}`, { headers: { Authorization: `Bearer ${joined.secret}` } });
      const answers = await Promise.all(Array.from({ length: 4 }, read));
      shed = answers.filter((answer) => answer.status === 429).length;
    }
    expect(shed).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });
});
