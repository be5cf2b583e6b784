/**
 * The routes that end an admission before its visitor goes silent (issue 12, items 4 and 5), through
 * the real handlers and adapters on the in-memory tables: the origin frees a seat with the visitor's
 * pass (POST /rooms/{roomId}/passes/revoke, served by the heartbeat function), and after an
 * emergency stop (a room epoch above the visitor's) its heartbeat and read are refused with 410.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { decodeJwt } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateKeySet, serializePassKeySet } from '../../../lambdas/adapters/pass-key-sources.js';
import { JosePassIssuer } from '../../../lambdas/adapters/pass-signer.js';
import type { PassKeySet } from '../../../lambdas/domain/passes/pass-keys.js';
import type { HttpResponse } from '../../../lambdas/shared/http.js';
import { useHandlerEnv } from '../../helpers/env.js';
import { apiEvent, bearer } from '../../helpers/events.js';
import { MutableKeySource } from '../passes/fixtures.js';
import { SECRET, T, TOKEN_ID, counterItem, freshEnvironment, roomItem, tokenItem, type WaitingRoomTables } from './fixtures.js';

type Handler = (event: APIGatewayProxyEventV2) => Promise<HttpResponse>;
const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
let tables: WaitingRoomTables;
let heartbeat: Handler;
let read: Handler;
let keySet: PassKeySet;
let issuer: JosePassIssuer;

/** Two visitors inside (tickets 3 and 4, admitted in epoch 0), TOKEN_ID waiting live at ticket 6. */
const INSIDE = 'A'.repeat(22);
const ALSO_INSIDE = 'B'.repeat(22);
const inside = (tokenId: string, ticket: number, overrides: Record<string, unknown> = {}) =>
  tokenItem({ tokenId, ticket, state: 'ADMITTED', admittedAt: T - 30_000, admittedEpoch: 0, lastSeenAt: T - 2_000, checkDueAt: T + 18_000, ...overrides });

beforeAll(async () => {
  useHandlerEnv();
  keySet = await generateKeySet();
  issuer = new JosePassIssuer(new MutableKeySource(keySet), { ttlSeconds: 60 });
});
beforeEach(async () => {
  tables = freshEnvironment(ddb, sqs);
  // Every token of tokenItem has the secret SECRET.
  tables.tokens.put(inside(INSIDE, 3), inside(ALSO_INSIDE, 4), tokenItem());
  process.env.WR_PASS_KEYS = serializePassKeySet(keySet);
  heartbeat = (await import('../../../lambdas/handlers/heartbeat.js')).handler;
  read = (await import('../../../lambdas/handlers/get-token.js')).handler;
});
afterEach(() => {
  delete process.env.WR_PASS_KEYS;
  ddb.reset();
  sqs.reset();
  vi.useRealTimers();
});

const passOf = async (tokenId = INSIDE, ticket = 3, overrides: { roomId?: string; now?: number; epoch?: number } = {}) =>
  (await issuer.issue({ roomId: overrides.roomId ?? 'shop', tokenId, ticket, epoch: overrides.epoch ?? 0 }, overrides.now ?? Date.now())).pass;
const revoke = (headers: Record<string, string>, extra: Partial<APIGatewayProxyEventV2> = {}) => ({
  ...apiEvent({ method: 'POST', route: '/rooms/{roomId}/passes/revoke', pathParameters: { roomId: 'shop' }, headers }),
  ...extra,
});
const signal = (route: 'heartbeat' | 'read', tokenId: string, secret: string) =>
  apiEvent({
    method: route === 'heartbeat' ? 'POST' : 'GET',
    route: route === 'heartbeat' ? '/rooms/{roomId}/tokens/{tokenId}/heartbeat' : '/rooms/{roomId}/tokens/{tokenId}',
    pathParameters: { roomId: 'shop', tokenId },
    headers: bearer(secret),
  });
const body = (response: HttpResponse) => JSON.parse(response.body) as Record<string, unknown>;

function expectError(response: HttpResponse, statusCode: number, code: string) {
  expect(response.statusCode).toBe(statusCode);
  expect(body(response)).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
}

describe('POST /rooms/{roomId}/passes/revoke (the origin frees a seat)', () => {
  it('removes the pass’s token as a leave does and gives the seat to the next live visitor at once: 204', async () => {
    const response = await heartbeat(revoke(bearer(await passOf())));
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect(tables.tokens.get(INSIDE)).toBeUndefined();
    expect(tables.tokens.get(TOKEN_ID)).toMatchObject({ state: 'ADMITTED', admittedEpoch: 0 });
    expect(tables.rooms.get('shop')).toMatchObject({ activeCount: 2, admittedTotal: 5, lastAdmittedTicket: 6 });
    expect(tables.rooms.get('shop')?.admitter).toBeUndefined();
  });

  it('takes the pass from the wr_pass cookie (an HTTP API delivers cookies in their own array)', async () => {
    const response = await heartbeat(revoke({}, { cookies: ['theme=dark', `wr_pass=${await passOf()}`] }));
    expect(response.statusCode).toBe(204);
    expect(tables.tokens.get(INSIDE)).toBeUndefined();
  });

  it('is idempotent: a pass whose visitor is gone answers 204 again and changes nothing', async () => {
    const pass = await passOf();
    expect((await heartbeat(revoke(bearer(pass)))).statusCode).toBe(204);
    const writes = ddb.commandCalls(TransactWriteCommand).length;
    const room = tables.rooms.get('shop');
    expect((await heartbeat(revoke(bearer(pass)))).statusCode).toBe(204);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(writes);
    expect(tables.rooms.get('shop')).toEqual(room);
  });

  it('answers 401 in the error shape for no pass, an expired, forged or another room’s pass, and frees nothing', async () => {
    const forger = new JosePassIssuer(new MutableKeySource({ ...(await generateKeySet()), current: { ...(await generateKeySet()).current, kid: keySet.current.kid } }), {
      ttlSeconds: 60,
    });
    const forged = (await forger.issue({ roomId: 'shop', tokenId: INSIDE, ticket: 3, epoch: 0 }, Date.now())).pass;
    const missing = await heartbeat(revoke({}));
    expectError(missing, 401, 'MISSING_PASS');
    expect(missing.headers['WWW-Authenticate']).toBe('Bearer');
    for (const pass of [await passOf(INSIDE, 3, { now: Date.now() - 120_000 }), forged, await passOf(INSIDE, 3, { roomId: 'other' }), 'not.a.pass']) {
      const response = await heartbeat(revoke(bearer(pass)));
      expectError(response, 401, 'INVALID_PASS');
      expect(response.body).not.toContain(pass);
    }
    expect(tables.tokens.get(INSIDE)).toMatchObject({ state: 'ADMITTED' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('frees nothing for a pass whose ticket is not its token’s', async () => {
    expect((await heartbeat(revoke(bearer(await passOf(INSIDE, 9))))).statusCode).toBe(204);
    expect(tables.tokens.get(INSIDE)).toMatchObject({ state: 'ADMITTED' });
  });

  it('refuses a body with 400', async () => {
    expectError(await heartbeat({ ...revoke(bearer(await passOf())), body: '{"tokenId":"x"}' }), 400, 'BAD_REQUEST');
    expect(tables.tokens.get(INSIDE)).toMatchObject({ state: 'ADMITTED' });
  });

  it('answers 404 PASSES_NOT_CONFIGURED when passes are off', async () => {
    tables = freshEnvironment(ddb, sqs);
    tables.tokens.put(inside(INSIDE, 3));
    delete process.env.WR_PASS_KEYS;
    const off = (await import('../../../lambdas/handlers/heartbeat.js')).handler;
    expectError(await off(revoke(bearer(await passOf()))), 404, 'PASSES_NOT_CONFIGURED');
  });
});

describe('after an emergency stop (the room in a later epoch)', () => {
  beforeEach(() => {
    tables.rooms.put(roomItem({ epoch: 1 }), counterItem(7));
  });

  it('refuses the heartbeat of a visitor admitted before it with 410, removes its token and gives the seat to the next live visitor', async () => {
    const response = await heartbeat(signal('heartbeat', INSIDE, SECRET));
    expectError(response, 410, 'ADMISSION_REVOKED');
    expect(tables.tokens.get(INSIDE)).toBeUndefined();
    expect(tables.tokens.get(TOKEN_ID)).toMatchObject({ state: 'ADMITTED', admittedEpoch: 1 });
    expect(tables.rooms.get('shop')).toMatchObject({ activeCount: 2, epoch: 1 });
    // The next visitor's pass carries the new epoch.
    const view = body(await heartbeat(signal('heartbeat', TOKEN_ID, SECRET)));
    expect(view).toMatchObject({ state: 'admitted' });
    expect(decodeJwt(view.pass as string)).toMatchObject({ ep: 1, sub: TOKEN_ID });
  });

  it('refuses a read of a revoked admission with 410 and writes nothing: the next heartbeat removes it', async () => {
    expectError(await read(signal('read', INSIDE, SECRET)), 410, 'ADMISSION_REVOKED');
    expect(tables.tokens.get(INSIDE)).toMatchObject({ state: 'ADMITTED' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('behind the edge gate, clears the edge pass cookie with the refusal, so the next request to the site meets the gate', async () => {
    tables = freshEnvironment(ddb, sqs);
    tables.rooms.put(roomItem({ epoch: 1 }), counterItem(7));
    tables.tokens.put(inside(INSIDE, 3));
    process.env.EDGE_PASS_ISSUER = 'gate';
    process.env.WR_EDGE_PASS_KEYS = JSON.stringify({ current: { kid: 'k1', secret: 'K'.repeat(43) }, previous: [] });
    try {
      const gated = (await import('../../../lambdas/handlers/heartbeat.js')).handler;
      const refused = await gated(signal('heartbeat', INSIDE, SECRET));
      expectError(refused, 410, 'ADMISSION_REVOKED');
      expect(refused.cookies).toEqual([expect.stringMatching(/^wr_pass_shop=; .*Max-Age=0/)]);
      // Gone now: the next heartbeat's 404 clears it too.
      const gone = await gated(signal('heartbeat', INSIDE, SECRET));
      expectError(gone, 404, 'TOKEN_NOT_FOUND');
      expect(gone.cookies).toEqual([expect.stringMatching(/^wr_pass_shop=; /)]);
    } finally {
      delete process.env.EDGE_PASS_ISSUER;
      delete process.env.WR_EDGE_PASS_KEYS;
    }
  });

  it('keeps a visitor admitted in the room’s epoch, its renewed pass carrying it', async () => {
    tables.tokens.put(inside(ALSO_INSIDE, 4, { admittedEpoch: 1 }));
    const view = body(await heartbeat(signal('heartbeat', ALSO_INSIDE, SECRET)));
    expect(view).toMatchObject({ state: 'admitted', tokenId: ALSO_INSIDE });
    expect(decodeJwt(view.pass as string)).toMatchObject({ ep: 1 });
  });
});
