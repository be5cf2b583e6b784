import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SINGLE_WRITE_ATTEMPTS } from '../../../lambdas/adapters/dynamo-items.js';
import { hashSecret } from '../../../lambdas/domain/index.js';
import type { HttpResponse } from '../../../lambdas/shared/http.js';
import { HANDLER_ENV, useHandlerEnv } from '../../helpers/env.js';
import { apiEvent, bearer } from '../../helpers/events.js';
import { SECRET, T, TOKEN_ID, counterItem, freshEnvironment, roomItem, sentChecks, tokenItem, type WaitingRoomTables } from './fixtures.js';

type Handler = (event: APIGatewayProxyEventV2) => Promise<HttpResponse>;
const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
let tables: WaitingRoomTables;
let join: Handler, read: Handler, heartbeat: Handler, leave: Handler, status: Handler;

beforeAll(() => useHandlerEnv());
beforeEach(async () => {
  // shop: both seats taken, tickets up to 4 admitted, 7 issued.
  tables = freshEnvironment(ddb, sqs);
  join = (await import('../../../lambdas/handlers/join.js')).handler;
  read = (await import('../../../lambdas/handlers/get-token.js')).handler;
  heartbeat = (await import('../../../lambdas/handlers/heartbeat.js')).handler;
  leave = (await import('../../../lambdas/handlers/leave.js')).handler;
  status = (await import('../../../lambdas/handlers/room-status.js')).handler;
});
afterEach(() => {
  ddb.reset();
  sqs.reset();
  vi.useRealTimers();
});

const tokenRoute = (method: string, extra: Partial<Parameters<typeof apiEvent>[0]> = {}) =>
  apiEvent({
    method,
    route: '/rooms/{roomId}/tokens/{tokenId}',
    pathParameters: { roomId: 'shop', tokenId: TOKEN_ID },
    headers: bearer(SECRET),
    ...extra,
  });
const joinRoute = (extra: Partial<Parameters<typeof apiEvent>[0]> = {}) =>
  apiEvent({ method: 'POST', route: '/rooms/{roomId}/tokens', pathParameters: { roomId: 'shop' }, ...extra });
const body = (response: HttpResponse) => JSON.parse(response.body);
const busy = () => Object.assign(new Error('Transaction is ongoing for the item'), { name: 'TransactionConflictException' });

function expectError(response: HttpResponse, statusCode: number, code: string) {
  expect(response.statusCode).toBe(statusCode);
  expect(response.headers?.['Content-Type']).toBe('application/json');
  expect(body(response)).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
  expect(response.body).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
}

describe('POST /rooms/{roomId}/tokens (join)', () => {
  it('answers 201 with the token view, the secret and where the token lives', async () => {
    const response = await join(joinRoute());
    expect(response.statusCode).toBe(201);
    const view = body(response);
    expect(view).toMatchObject({ roomId: 'shop', ticket: 8, state: 'waiting', position: 4, zone: 'front', heartbeatIntervalSeconds: 5 });
    expect(view.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(response.headers?.Location).toBe(`/rooms/shop/tokens/${view.tokenId}`);
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    // In the line index under its shard (8 mod 2) and ticket; heartbeating, since it joined in the front zone.
    expect(put.Item).toMatchObject({ state: 'WAITING', signal: 'heartbeat', ticket: 8, lineShard: 'shop#0', lineTicket: 8 });
    expect(JSON.stringify(put.Item)).not.toContain(view.secret);
  });

  it('takes its ticket with one addition on the ticket counter, never writing the room item', async () => {
    await join(joinRoute());
    expect(ddb.commandCalls(BatchGetCommand)[0]!.args[0].input.RequestItems).toEqual({
      [HANDLER_ENV.ROOMS_TABLE]: { Keys: [{ roomId: 'shop' }, { roomId: 'shop#tickets' }], ConsistentRead: true },
    });
    expect(ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({ Key: { roomId: 'shop#tickets' }, UpdateExpression: 'ADD nextTicket :count', ExpressionAttributeValues: { ':count': 1 } }),
    ]);
    expect(tables.rooms.get('shop')).toEqual(roomItem());
  });

  it('reads the room once a second per environment, and reserves tickets in blocks as joins come faster', async () => {
    const tickets = [];
    for (let i = 0; i < 3; i++) tickets.push(body(await join(joinRoute())).ticket);
    expect(tickets).toEqual([8, 9, 10]);
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(1);
    // One ticket, then a block of two when the first ran out within its half second.
    expect(ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input.ExpressionAttributeValues?.[':count'])).toEqual([1, 4]);
    vi.setSystemTime(T + 1_000);
    await join(joinRoute());
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(2);
  });

  it('admits nobody at the join; the first heartbeat with its secret takes the free seat when nobody is ahead', async () => {
    tables.rooms.put(roomItem({ activeCount: 0, lastAdmittedTicket: 0, admittedTotal: 0 }), counterItem(0));
    const joined = body(await join(joinRoute()));
    expect(joined).toMatchObject({ state: 'waiting', position: 1, zone: 'front' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(tables.tokens.get(joined.tokenId)).toMatchObject({ state: 'WAITING', heard: false });
    const response = await heartbeat(
      apiEvent({
        method: 'POST',
        route: '/rooms/{roomId}/tokens/{tokenId}/heartbeat',
        pathParameters: { roomId: 'shop', tokenId: joined.tokenId },
        headers: bearer(joined.secret),
      }),
    );
    expect(body(response)).toMatchObject({ state: 'admitted', position: 0, estimatedWaitSeconds: 0 });
    // Nobody ahead: every shard of the line asked for tickets below its own.
    expect(ddb.commandCalls(QueryCommand).map((call) => call.args[0].input.ExpressionAttributeValues?.[':shard'])).toEqual(['shop#0', 'shop#1']);
    const [tokenUpdate, roomUpdate] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(tokenUpdate?.Update?.ConditionExpression).toBe(
      '#state = :waiting AND (#signal = :heartbeat OR attribute_not_exists(#signal)) AND (heard = :heard OR attribute_not_exists(heard)) AND lastSeenAt >= :liveSince AND roomId = :room AND checkSeq = :seq',
    );
    expect(roomUpdate?.Update?.ConditionExpression).toBe(
      '#state = :open AND #capacity >= :capacity AND activeCount <= :seatsLeft AND (attribute_not_exists(#epoch) OR #epoch = :epoch) AND lastAdmittedTicket < :raise',
    );
    expect(tables.tokens.get(joined.tokenId)).toMatchObject({ state: 'ADMITTED', heard: true });
    expect(tables.rooms.get('shop')).toMatchObject({ activeCount: 1, lastAdmittedTicket: 1, admittedTotal: 1 });
  });

  it('tells a visitor who joins far back to keep its place, and gives it no free seat', async () => {
    tables.rooms.put(roomItem({ activeCount: 1 }), counterItem(100));
    const view = body(await join(joinRoute()));
    expect(view).toMatchObject({ ticket: 101, state: 'waiting', zone: 'far', keepPlaceIntervalSeconds: 300 });
    expect(tables.tokens.get(view.tokenId)).toMatchObject({ state: 'WAITING', signal: 'keep-place' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('answers 404 for an unknown room and 409 for a closed one, without taking a ticket', async () => {
    tables.rooms.put(roomItem({ roomId: 'shut', state: 'closed' }), counterItem(3, 'shut'));
    expectError(await join(joinRoute({ pathParameters: { roomId: 'nope' } })), 404, 'ROOM_NOT_FOUND');
    expectError(await join(joinRoute({ pathParameters: { roomId: 'shut' } })), 409, 'ROOM_CLOSED');
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it.each([
    ['a room id with a space', { pathParameters: { roomId: 'bad room' } }, 400, 'BAD_REQUEST'],
    ['a room id of 65 characters', { pathParameters: { roomId: 'r'.repeat(65) } }, 400, 'BAD_REQUEST'],
    ['malformed JSON', { body: '{"oops"' }, 400, 'BAD_REQUEST'],
    ['an unexpected field', { body: '{"capacity": 3}' }, 400, 'BAD_REQUEST'],
    ['a JSON array', { body: '[1,2]' }, 400, 'BAD_REQUEST'],
    ['a body over 4 KB', { body: JSON.stringify({ pad: 'x'.repeat(5000) }) }, 413, 'PAYLOAD_TOO_LARGE'],
  ] as const)('refuses %s without touching DynamoDB', async (_name, extra, statusCode, code) => {
    expectError(await join(joinRoute(extra as Partial<Parameters<typeof apiEvent>[0]>)), statusCode, code);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('accepts an empty JSON object as body', async () => {
    expect((await join(joinRoute({ body: '{}' }))).statusCode).toBe(201);
  });

  it('reads a base64-encoded body as API Gateway delivers a non-text one', async () => {
    expect((await join(joinRoute({ body: Buffer.from('{}').toString('base64'), isBase64Encoded: true }))).statusCode).toBe(201);
    const refused = await join(joinRoute({ body: Buffer.from('{"capacity":3}').toString('base64'), isBase64Encoded: true }));
    expectError(refused, 400, 'BAD_REQUEST');
  });

  it('leaves CORS headers to the HTTP API, which ignores any a function sends', async () => {
    const responses = [await join(joinRoute()), await join(joinRoute({ body: '{"oops"' }))];
    for (const response of responses) {
      expect(Object.keys(response.headers).filter((name) => name.toLowerCase().startsWith('access-control-'))).toEqual([]);
    }
  });

  it('answers 429 with Retry-After when DynamoDB throttles', async () => {
    ddb.on(UpdateCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    const response = await join(joinRoute());
    expectError(response, 429, 'THROTTLED');
    expect(response.headers?.['Retry-After']).toBe('1');
  });

  it('answers a bare 500 for an unexpected failure', async () => {
    ddb.on(UpdateCommand).rejects(new Error('socket hang up at /var/task/index.mjs:12:3'));
    const response = await join(joinRoute());
    expectError(response, 500, 'INTERNAL');
    expect(response.body).not.toContain('socket');
  });
});

describe('GET /rooms/{roomId}/tokens/{tokenId} (read)', () => {
  it('answers the token view, and writes nothing', async () => {
    tables.tokens.put(tokenItem());
    const response = await read(tokenRoute('GET'));
    expect(response.statusCode).toBe(200);
    expect(body(response)).toEqual({
      roomId: 'shop',
      tokenId: TOKEN_ID,
      ticket: 6,
      state: 'waiting',
      position: 2,
      estimatedWaitSeconds: expect.any(Number),
      estimatedWaitLowSeconds: expect.any(Number),
      estimatedWaitHighSeconds: expect.any(Number),
      roomState: 'open',
      mode: 'fifo',
      zone: 'front',
      heartbeatIntervalSeconds: 5,
      keepPlaceIntervalSeconds: 300,
    });
    expect(body(response)).not.toHaveProperty('secret');
    expect(ddb.calls().filter((call) => !(call.args[0] instanceof GetCommand || call.args[0] instanceof BatchGetCommand))).toEqual([]);
  });

  it.each([
    ['no Authorization header', {}, 401, 'MISSING_CREDENTIAL'],
    ['an empty Authorization header', { Authorization: '' }, 401, 'MISSING_CREDENTIAL'],
    ['a Basic credential', { Authorization: 'Basic dXNlcjpwYXNz' }, 401, 'INVALID_CREDENTIAL'],
    ['a secret of the wrong shape', { Authorization: 'Bearer short' }, 401, 'INVALID_CREDENTIAL'],
  ] as const)('refuses %s without touching DynamoDB', async (_name, headers, statusCode, code) => {
    const response = await read(tokenRoute('GET', { headers }));
    expectError(response, statusCode, code);
    expect(response.headers?.['WWW-Authenticate']).toBe('Bearer');
    expect(ddb.calls()).toHaveLength(0);
  });

  it('refuses a malformed token id with 400 before anything else', async () => {
    expectError(await read(tokenRoute('GET', { pathParameters: { roomId: 'shop', tokenId: '../../etc' } })), 400, 'BAD_REQUEST');
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 404 for an unknown token, 401 for a wrong secret, 404 for a token of another room', async () => {
    expectError(await read(tokenRoute('GET')), 404, 'TOKEN_NOT_FOUND');
    tables.tokens.put(tokenItem({ secretHash: hashSecret('W'.repeat(43)) }));
    expectError(await read(tokenRoute('GET')), 401, 'INVALID_CREDENTIAL');
    tables.tokens.put(tokenItem({ roomId: 'elsewhere' }));
    expectError(await read(tokenRoute('GET')), 404, 'TOKEN_NOT_FOUND');
  });

  it('accepts the header in any case', async () => {
    tables.tokens.put(tokenItem());
    expect((await read(tokenRoute('GET', { headers: { authorization: `bearer ${SECRET}` } }))).statusCode).toBe(200);
  });
});

describe('POST /rooms/{roomId}/tokens/{tokenId}/heartbeat', () => {
  const heartbeatRoute = (extra: Partial<Parameters<typeof apiEvent>[0]> = {}) =>
    tokenRoute('POST', { route: '/rooms/{roomId}/tokens/{tokenId}/heartbeat', ...extra });

  it('authenticates and records the heartbeat in one conditional write, then answers the view', async () => {
    tables.tokens.put(tokenItem());
    const response = await heartbeat(heartbeatRoute());
    expect(response.statusCode).toBe(200);
    expect(body(response)).toMatchObject({ state: 'waiting', position: 2, zone: 'front' });
    expect(ddb.commandCalls(GetCommand, { TableName: HANDLER_ENV.TOKENS_TABLE })).toHaveLength(0);
    const update = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(update).toMatchObject({
      UpdateExpression: 'SET lastSeenAt = :now, #signal = :signal, heard = :heard, #ttl = :ttl',
      ConditionExpression: 'attribute_exists(tokenId) AND secretHash = :hash AND roomId = :room',
      ExpressionAttributeValues: expect.objectContaining({ ':now': T, ':signal': 'heartbeat', ':heard': true }),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(update.ExpressionAttributeValues?.[':hash']).toBe(hashSecret(SECRET));
    expect(JSON.stringify(update)).not.toContain(SECRET);
    expect(tables.tokens.get(TOKEN_ID)).toMatchObject({ lastSeenAt: T, signal: 'heartbeat' });
  });

  it('records every heartbeat, however soon after the last one', async () => {
    tables.tokens.put(tokenItem({ lastSeenAt: T }));
    expect((await heartbeat(heartbeatRoute())).statusCode).toBe(200);
    vi.setSystemTime(T + 100);
    expect((await heartbeat(heartbeatRoute())).statusCode).toBe(200);
    expect(ddb.commandCalls(UpdateCommand, { TableName: HANDLER_ENV.TOKENS_TABLE })).toHaveLength(2);
    expect(tables.tokens.get(TOKEN_ID)).toMatchObject({ lastSeenAt: T + 100 });
  });

  it('answers 404 when the checker removed the token first', async () => {
    expectError(await heartbeat(heartbeatRoute()), 404, 'TOKEN_NOT_FOUND');
  });

  it('answers 401 when the stored token has another secret, and records nothing', async () => {
    tables.tokens.put(tokenItem({ secretHash: hashSecret('W'.repeat(43)) }));
    expectError(await heartbeat(heartbeatRoute()), 401, 'INVALID_CREDENTIAL');
    expect(tables.tokens.get(TOKEN_ID)).toMatchObject({ lastSeenAt: T - 10_000 });
  });

  it('answers 429 when the token item stays busy with an admission through the retries', async () => {
    tables.tokens.put(tokenItem());
    ddb.on(UpdateCommand, { TableName: HANDLER_ENV.TOKENS_TABLE }).rejects(busy());
    const response = await heartbeat(heartbeatRoute());
    expectError(response, 429, 'THROTTLED');
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(SINGLE_WRITE_ATTEMPTS);
  });

  it('gives a free seat to a waiting visitor with nobody live ahead', async () => {
    tables.rooms.put(roomItem({ activeCount: 1 }));
    tables.tokens.put(tokenItem({ ticket: 5 }));
    const response = await heartbeat(heartbeatRoute());
    expect(body(response)).toMatchObject({ state: 'admitted', position: 0 });
    expect(tables.tokens.get(TOKEN_ID)).toMatchObject({ state: 'ADMITTED', admittedAt: T });
    expect(tables.rooms.get('shop')).toMatchObject({ activeCount: 2, lastAdmittedTicket: 5 });
    expect(sentChecks(sqs)).toEqual([]); // its next check is due in time for an admitted visitor
  });

  it('re-arms the check loop of a visitor it admits on its first heartbeat after keeping its place', async () => {
    tables.rooms.put(roomItem({ activeCount: 1 }));
    // Its last check was scheduled far off, while it kept its place (15 minutes away).
    tables.tokens.put(tokenItem({ ticket: 5, signal: 'keep-place', checkSeq: 2, checkDueAt: T + 900_000 }));
    expect(body(await heartbeat(heartbeatRoute()))).toMatchObject({ state: 'admitted' });
    // The new loop step is due at the heartbeat timeout after this heartbeat, and its check is sent.
    expect(tables.tokens.get(TOKEN_ID)).toMatchObject({ state: 'ADMITTED', signal: 'heartbeat', checkSeq: 3, checkBy: 'rearm:self', checkDueAt: T + 20_000 });
    expect(sentChecks(sqs)).toEqual([{ message: { tokenId: TOKEN_ID, roomId: 'shop', seq: 3 }, delaySeconds: 20 }]);
  });

  it('refuses a body of the wrong type', async () => {
    expectError(await heartbeat(heartbeatRoute({ body: '"alive"' })), 400, 'BAD_REQUEST');
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('POST /rooms/{roomId}/tokens/{tokenId}/keep-place', () => {
  const keepPlaceRoute = () => tokenRoute('POST', { route: '/rooms/{roomId}/tokens/{tokenId}/keep-place' });

  it('records a keep-place signal and tells a visitor far back to keep its place', async () => {
    tables.tokens.put(tokenItem({ ticket: 500, signal: 'keep-place' }));
    const response = await heartbeat(keepPlaceRoute());
    expect(response.statusCode).toBe(200);
    expect(body(response)).toMatchObject({ state: 'waiting', position: 496, zone: 'far', keepPlaceIntervalSeconds: 300 });
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues).toMatchObject({ ':now': T, ':signal': 'keep-place' });
    expect(tables.tokens.get(TOKEN_ID)).toMatchObject({ lastSeenAt: T, signal: 'keep-place' });
  });

  it('tells a visitor the front zone has reached to heartbeat, and admits nobody on a keep-place', async () => {
    tables.rooms.put(roomItem({ activeCount: 1 })); // a seat is free
    tables.tokens.put(tokenItem({ ticket: 5, signal: 'keep-place' }));
    expect(body(await heartbeat(keepPlaceRoute()))).toMatchObject({ state: 'waiting', position: 1, zone: 'front', heartbeatIntervalSeconds: 5 });
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});

describe('DELETE /rooms/{roomId}/tokens/{tokenId} (leave)', () => {
  it('answers 204 after removing a waiting token', async () => {
    tables.tokens.put(tokenItem());
    const response = await leave(tokenRoute('DELETE'));
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect(ddb.commandCalls(DeleteCommand)[0]!.args[0].input.ConditionExpression).toBe('#state = :state AND roomId = :room');
    expect(tables.tokens.get(TOKEN_ID)).toBeUndefined();
  });

  it('frees an admitted seat in one transaction with the deletion, which wakes the room’s admitter', async () => {
    tables.tokens.put(tokenItem({ state: 'ADMITTED' }));
    expect((await leave(tokenRoute('DELETE'))).statusCode).toBe(204);
    const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items[0]?.Delete?.ConditionExpression).toBe('#state = :state AND roomId = :room');
    expect(items[1]?.Update?.UpdateExpression).toBe('SET updatedAt = :now ADD activeCount :minusOne, wakeSeq :one');
    expect(tables.rooms.get('shop')).toMatchObject({ activeCount: 1, wakeSeq: 2 });
  });

  it('gives the freed seat to the next live visitor in line at once, and hands the admitter lease back', async () => {
    const next = 'N'.repeat(22);
    tables.rooms.put(roomItem({ capacity: 1, activeCount: 1 }));
    tables.tokens.put(tokenItem({ ticket: 3, state: 'ADMITTED' }), tokenItem({ tokenId: next, ticket: 5, lastSeenAt: T - 2_000, checkDueAt: T + 8_000 }));
    expect((await leave(tokenRoute('DELETE'))).statusCode).toBe(204);
    expect(tables.tokens.get(next)).toMatchObject({ state: 'ADMITTED', admittedAt: T });
    expect(tables.rooms.get('shop')).toMatchObject({ activeCount: 1, lastAdmittedTicket: 5 });
    expect(tables.rooms.get('shop')).not.toHaveProperty('admitter');
  });

  it('answers 404 for a token that already left', async () => {
    expectError(await leave(tokenRoute('DELETE')), 404, 'TOKEN_NOT_FOUND');
  });
});

describe('GET /rooms/{roomId}/status', () => {
  const statusRoute = (headers: Record<string, string> = {}, roomId = 'shop') =>
    apiEvent({ method: 'GET', route: '/rooms/{roomId}/status', pathParameters: { roomId }, headers });
  /** What the aggregator counted for shop: 2 visitors in line (the tickets say at most 3). */
  const counted = (waiting: number, updatedAt = T - 5_000) => ({ roomId: 'shop', waiting, active: 2, updatedAt });

  it('answers the public status, cacheable at the edge for a second and served stale for two more', async () => {
    tables.stats.put(counted(2));
    const response = await status(statusRoute());
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      'Content-Type': 'application/json',
      'Cache-Control': 'public, max-age=1, stale-while-revalidate=2',
      ETag: expect.stringMatching(/^"[A-Za-z0-9_-]{22}"$/),
    });
    expect(body(response)).toEqual({
      roomId: 'shop',
      state: 'open',
      mode: 'fifo',
      capacity: 2,
      active: 2,
      waiting: 2,
      lastAdmittedTicket: 4,
      lastTicket: 7,
      frontZoneTicket: 14,
      ticketsPerSecond: 0.067,
      rateMeasured: true,
      estimatedWaitSeconds: expect.any(Number),
      estimatedWaitLowSeconds: expect.any(Number),
      estimatedWaitHighSeconds: expect.any(Number),
      // No calibration measured yet: the defaults (half the estimate, up to the estimate).
      estimateCalibration: { lowFactor: 0.5, highFactor: 1, samples: 0 },
      heartbeatIntervalSeconds: 5,
      keepPlaceIntervalSeconds: 300,
      epoch: 0,
    });
  });

  it('carries the message to the line in its bytes: a page holding the old ETag gets the new message, and one without a message', async () => {
    tables.rooms.put(roomItem({ message: 'Saturday is sold out' }));
    const first = await status(statusRoute());
    expect(body(first)).toMatchObject({ message: 'Saturday is sold out' });
    const etag = first.headers.ETag!;
    expect((await status(statusRoute({ 'If-None-Match': etag }))).statusCode).toBe(304);

    tables.rooms.put(roomItem({ message: 'Sunday is sold out too' }));
    vi.setSystemTime(T + 2_000);
    const changed = await status(statusRoute({ 'If-None-Match': etag }));
    expect(changed.statusCode).toBe(200);
    expect(body(changed)).toMatchObject({ message: 'Sunday is sold out too' });
    expect(changed.headers.ETag).not.toBe(etag);

    tables.rooms.put(roomItem());
    vi.setSystemTime(T + 3_000);
    const cleared = await status(statusRoute({ 'If-None-Match': changed.headers.ETag! }));
    expect(cleared.statusCode).toBe(200);
    expect(body(cleared)).not.toHaveProperty('message');
  });

  it('counts the waiting visitors from the stats table', async () => {
    tables.stats.put(counted(2));
    expect(body(await status(statusRoute()))).toMatchObject({ waiting: 2, lastTicket: 7, lastAdmittedTicket: 4 });
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).toMatchObject({ TableName: HANDLER_ENV.STATS_TABLE, Key: { roomId: 'shop' } });
  });

  it.each([
    ['the stats table has no item for the room', []],
    ['the aggregator has not counted the room yet', [counted(0, 0)]],
  ])('answers the upper bound lastTicket - lastAdmittedTicket as waiting while %s', async (_name, items) => {
    tables.stats.put(...items);
    expect(body(await status(statusRoute()))).toMatchObject({ waiting: 3 });
  });

  it.each([
    ['its ETag', (etag: string) => etag],
    ['its weak form', (etag: string) => `W/${etag}`],
    ['a list that holds it', (etag: string) => `"other", ${etag}`],
    ['*', () => '*'],
  ])('answers 304 with no body to an If-None-Match naming %s', async (_name, ifNoneMatch) => {
    const etag = (await status(statusRoute())).headers.ETag!;
    const response = await status(statusRoute({ 'If-None-Match': ifNoneMatch(etag) }));
    expect(response.statusCode).toBe(304);
    expect(response.body).toBe('');
    expect(response.headers).toMatchObject({ ETag: etag, 'Cache-Control': 'public, max-age=1, stale-while-revalidate=2' });
  });

  it('answers 200 with the new bytes and a new ETag once the status changed', async () => {
    const etag = (await status(statusRoute())).headers.ETag!;
    tables.rooms.put(roomItem({ activeCount: 1 }));
    vi.setSystemTime(T + 1_000);
    const response = await status(statusRoute({ 'If-None-Match': etag }));
    expect(response.statusCode).toBe(200);
    expect(body(response)).toMatchObject({ active: 1 });
    expect(response.headers.ETag).not.toBe(etag);
  });

  it('reads the room and its count at most once a second per environment', async () => {
    tables.stats.put(counted(2));
    const reads = () => [ddb.commandCalls(BatchGetCommand).length, ddb.commandCalls(GetCommand).length];
    await status(statusRoute());
    vi.setSystemTime(T + 999);
    await status(statusRoute());
    expect(reads()).toEqual([1, 1]);
    vi.setSystemTime(T + 1_000);
    await status(statusRoute());
    expect(reads()).toEqual([2, 2]);
  });

  it('answers 404 for an unknown room', async () => {
    expectError(await status(statusRoute({}, 'nope')), 404, 'ROOM_NOT_FOUND');
  });
});
