import { ConditionalCheckFailedException, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpResponse } from '../../../lambdas/shared/http.js';
import { mockClient } from 'aws-sdk-client-mock';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../lambdas/domain/index.js';
import { apiEvent, bearer } from '../../helpers/events.js';
import { useHandlerEnv } from '../../helpers/env.js';

type Handler = (event: APIGatewayProxyEventV2) => Promise<HttpResponse>;
const ddb = mockClient(DynamoDBDocumentClient);
let join: Handler, read: Handler, heartbeat: Handler, leave: Handler, status: Handler;

beforeAll(async () => {
  useHandlerEnv();
  join = (await import('../../../lambdas/handlers/join.js')).handler;
  read = (await import('../../../lambdas/handlers/get-token.js')).handler;
  heartbeat = (await import('../../../lambdas/handlers/heartbeat.js')).handler;
  leave = (await import('../../../lambdas/handlers/leave.js')).handler;
  status = (await import('../../../lambdas/handlers/room-status.js')).handler;
});
afterEach(() => ddb.reset());

const SECRET = 'S'.repeat(43);
const TOKEN_ID = 'T'.repeat(22);
const NOW = Date.now();
const roomItem = (overrides: Record<string, unknown> = {}) => ({
  roomId: 'shop',
  capacity: 2,
  state: 'open',
  nextTicket: 7,
  activeCount: 2,
  lastAdmittedTicket: 4,
  admittedTotal: 4,
  createdAt: NOW - 60_000,
  updatedAt: NOW,
  ...overrides,
});
const tokenItem = (overrides: Record<string, unknown> = {}) => ({
  tokenId: TOKEN_ID,
  roomId: 'shop',
  ticket: 6,
  secretHash: hashSecret(SECRET),
  state: 'WAITING',
  issuedAt: NOW - 10_000,
  lastSeenAt: NOW - 10_000,
  checkSeq: 0,
  expiresAt: Math.ceil(NOW / 1000) + 86_400,
  ...overrides,
});
const conditionFailed = (item?: Record<string, unknown>) =>
  Object.assign(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }), item ? { Item: item } : {});

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

function expectError(response: HttpResponse, statusCode: number, code: string) {
  expect(response.statusCode).toBe(statusCode);
  expect(response.headers?.['Content-Type']).toBe('application/json');
  expect(body(response)).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
  expect(response.body).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
}

describe('POST /rooms/{roomId}/tokens (join)', () => {
  it('answers 201 with the token view, the secret and where the token lives', async () => {
    ddb.on(UpdateCommand, { ConditionExpression: 'attribute_exists(roomId) AND #state <> :closed' }).resolves({ Attributes: roomItem({ nextTicket: 8 }) });
    ddb.on(PutCommand).resolves({});
    ddb.on(GetCommand).resolves({ Item: roomItem({ nextTicket: 8 }) });
    const response = await join(joinRoute());
    expect(response.statusCode).toBe(201);
    const view = body(response);
    expect(view).toMatchObject({ roomId: 'shop', ticket: 8, state: 'waiting', position: 4, heartbeatIntervalSeconds: 5 });
    expect(view.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(response.headers?.Location).toBe(`/rooms/shop/tokens/${view.tokenId}`);
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.Item).toMatchObject({ state: 'WAITING', ticket: 8, waitingRoom: 'shop', waitingTicket: 8 });
    expect(JSON.stringify(put.Item)).not.toContain(view.secret);
  });

  it('admits at once into a free seat with nobody ahead', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: roomItem({ nextTicket: 1, activeCount: 0, lastAdmittedTicket: 0 }) });
    ddb.on(PutCommand).resolves({});
    ddb.on(GetCommand).resolves({ Item: roomItem({ nextTicket: 1, activeCount: 0, lastAdmittedTicket: 0 }) });
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(TransactWriteCommand).resolves({});
    const response = await join(joinRoute());
    expect(body(response)).toMatchObject({ state: 'admitted', position: 0, estimatedWaitSeconds: 0 });
    const [tokenUpdate, roomUpdate] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(tokenUpdate?.Update?.ConditionExpression).toBe('#state = :waiting');
    expect(roomUpdate?.Update?.ConditionExpression).toBe('#state = :open AND activeCount < #capacity AND lastAdmittedTicket < :ticket');
  });

  it('answers 404 for an unknown room and 409 for a closed one', async () => {
    ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).rejectsOnce(conditionFailed({ state: { S: 'closed' } }));
    expectError(await join(joinRoute()), 404, 'ROOM_NOT_FOUND');
    expectError(await join(joinRoute()), 409, 'ROOM_CLOSED');
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
    ddb.on(UpdateCommand).resolves({ Attributes: roomItem() });
    ddb.on(GetCommand).resolves({ Item: roomItem() });
    expect((await join(joinRoute({ body: '{}' }))).statusCode).toBe(201);
  });

  it('reads a base64-encoded body as API Gateway delivers a non-text one', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: roomItem() });
    ddb.on(GetCommand).resolves({ Item: roomItem() });
    expect((await join(joinRoute({ body: Buffer.from('{}').toString('base64'), isBase64Encoded: true }))).statusCode).toBe(201);
    const refused = await join(joinRoute({ body: Buffer.from('{"capacity":3}').toString('base64'), isBase64Encoded: true }));
    expectError(refused, 400, 'BAD_REQUEST');
  });

  it('leaves CORS headers to the HTTP API, which ignores any a function sends', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: roomItem() });
    ddb.on(GetCommand).resolves({ Item: roomItem() });
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

  it('answers 429 when the room item stays busy with transactions through the retries', async () => {
    ddb.on(UpdateCommand).rejects(Object.assign(new Error('Transaction is ongoing for the item'), { name: 'TransactionConflictException' }));
    const response = await join(joinRoute());
    expectError(response, 429, 'THROTTLED');
  });

  it('answers a bare 500 for an unexpected failure', async () => {
    ddb.on(UpdateCommand).rejects(new Error('socket hang up at /var/task/index.mjs:12:3'));
    const response = await join(joinRoute());
    expectError(response, 500, 'INTERNAL');
    expect(response.body).not.toContain('socket');
  });
});

describe('GET /rooms/{roomId}/tokens/{tokenId} (read)', () => {
  it('answers the token view', async () => {
    ddb.on(GetCommand, { TableName: 'tokens-table' }).resolves({ Item: tokenItem() });
    ddb.on(GetCommand, { TableName: 'rooms-table' }).resolves({ Item: roomItem() });
    const response = await read(tokenRoute('GET'));
    expect(response.statusCode).toBe(200);
    expect(body(response)).toEqual({
      roomId: 'shop',
      tokenId: TOKEN_ID,
      ticket: 6,
      state: 'waiting',
      position: 2,
      estimatedWaitSeconds: expect.any(Number),
      heartbeatIntervalSeconds: 5,
    });
    expect(body(response)).not.toHaveProperty('secret');
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
    ddb.on(GetCommand, { TableName: 'tokens-table' })
      .resolvesOnce({})
      .resolvesOnce({ Item: tokenItem({ secretHash: hashSecret('W'.repeat(43)) }) })
      .resolvesOnce({ Item: tokenItem({ roomId: 'elsewhere' }) });
    expectError(await read(tokenRoute('GET')), 404, 'TOKEN_NOT_FOUND');
    expectError(await read(tokenRoute('GET')), 401, 'INVALID_CREDENTIAL');
    expectError(await read(tokenRoute('GET')), 404, 'TOKEN_NOT_FOUND');
  });

  it('accepts the header in any case', async () => {
    ddb.on(GetCommand, { TableName: 'tokens-table' }).resolves({ Item: tokenItem() });
    ddb.on(GetCommand, { TableName: 'rooms-table' }).resolves({ Item: roomItem() });
    expect((await read(tokenRoute('GET', { headers: { authorization: `bearer ${SECRET}` } }))).statusCode).toBe(200);
  });
});

describe('POST /rooms/{roomId}/tokens/{tokenId}/heartbeat', () => {
  const heartbeatRoute = (extra: Partial<Parameters<typeof apiEvent>[0]> = {}) =>
    tokenRoute('POST', { route: '/rooms/{roomId}/tokens/{tokenId}/heartbeat', ...extra });

  it('authenticates and records lastSeenAt in one conditional write, then answers the view', async () => {
    ddb.on(GetCommand, { TableName: 'rooms-table' }).resolves({ Item: roomItem() });
    ddb.on(UpdateCommand).resolves({ Attributes: tokenItem({ lastSeenAt: NOW }) });
    const response = await heartbeat(heartbeatRoute());
    expect(response.statusCode).toBe(200);
    expect(body(response)).toMatchObject({ state: 'waiting', position: 2 });
    expect(ddb.commandCalls(GetCommand, { TableName: 'tokens-table' })).toHaveLength(0);
    const update = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(update).toMatchObject({
      UpdateExpression: 'SET lastSeenAt = :now, #ttl = :ttl',
      ConditionExpression: 'attribute_exists(tokenId) AND secretHash = :hash AND roomId = :room AND lastSeenAt <= :stale',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(update.ExpressionAttributeValues?.[':hash']).toBe(hashSecret(SECRET));
    expect(JSON.stringify(update)).not.toContain(SECRET);
  });

  it('answers 404 when the checker removed the token first', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    expectError(await heartbeat(heartbeatRoute()), 404, 'TOKEN_NOT_FOUND');
  });

  it('answers 401 when the stored token has another secret', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed(marshall(tokenItem({ secretHash: hashSecret('W'.repeat(43)) }))));
    expectError(await heartbeat(heartbeatRoute()), 401, 'INVALID_CREDENTIAL');
  });

  it('answers the view without a write when the last heartbeat was under a second ago', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed(marshall(tokenItem({ lastSeenAt: NOW }))));
    ddb.on(GetCommand, { TableName: 'rooms-table' }).resolves({ Item: roomItem() });
    expect((await heartbeat(heartbeatRoute())).statusCode).toBe(200);
  });

  it('refuses a body of the wrong type', async () => {
    expectError(await heartbeat(heartbeatRoute({ body: '"alive"' })), 400, 'BAD_REQUEST');
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('DELETE /rooms/{roomId}/tokens/{tokenId} (leave)', () => {
  it('answers 204 after removing a waiting token', async () => {
    ddb.on(GetCommand, { TableName: 'tokens-table' }).resolves({ Item: tokenItem() });
    const response = await leave(tokenRoute('DELETE'));
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
  });

  it('frees an admitted seat in one transaction with the deletion', async () => {
    ddb.on(GetCommand, { TableName: 'tokens-table' }).resolves({ Item: tokenItem({ state: 'ADMITTED' }) });
    ddb.on(GetCommand, { TableName: 'rooms-table' }).resolves({ Item: roomItem({ activeCount: 1 }) });
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect((await leave(tokenRoute('DELETE'))).statusCode).toBe(204);
    const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items[0]?.Delete?.ConditionExpression).toBe('#state = :state AND roomId = :room');
    expect(items[1]?.Update?.UpdateExpression).toBe('SET updatedAt = :now ADD activeCount :minusOne');
  });

  it('answers 404 for a token that already left', async () => {
    ddb.on(GetCommand).resolves({});
    expectError(await leave(tokenRoute('DELETE')), 404, 'TOKEN_NOT_FOUND');
  });
});

describe('GET /rooms/{roomId}/status', () => {
  it('answers the public status, cacheable for a second', async () => {
    ddb.on(GetCommand).resolves({ Item: roomItem() });
    const response = await status(apiEvent({ method: 'GET', route: '/rooms/{roomId}/status', pathParameters: { roomId: 'shop' } }));
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Cache-Control']).toBe('public, max-age=1');
    expect(body(response)).toEqual({
      roomId: 'shop',
      state: 'open',
      capacity: 2,
      active: 2,
      waiting: 3,
      lastAdmittedTicket: 4,
      estimatedWaitSeconds: expect.any(Number),
    });
  });

  it('answers 404 for an unknown room', async () => {
    ddb.on(GetCommand).resolves({});
    expectError(await status(apiEvent({ method: 'GET', route: '/rooms/{roomId}/status', pathParameters: { roomId: 'nope' } })), 404, 'ROOM_NOT_FOUND');
  });
});
