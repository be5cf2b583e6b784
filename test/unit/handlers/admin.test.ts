import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpResponse } from '../../../lambdas/shared/http.js';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiEvent } from '../../helpers/events.js';
import { useHandlerEnv } from '../../helpers/env.js';
import { T, counterItem, freshEnvironment, roomItem, sentChecks, tokenItem, type WaitingRoomTables } from './fixtures.js';

type Handler = (event: APIGatewayProxyEventV2) => Promise<HttpResponse>;
const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const sqs = mockClient(SQSClient);
let tables: WaitingRoomTables;
let admin: Handler;

beforeAll(() => useHandlerEnv());
beforeEach(async () => {
  tables = freshEnvironment(ddb, sqs);
  // shop: 5 seats, 3 taken; tickets up to 3 issued and admitted.
  tables.rooms.put(room(), counterItem(3));
  admin = (await import('../../../lambdas/handlers/admin.js')).handler;
});
afterEach(() => {
  ddb.reset();
  sfn.reset();
  sqs.reset();
  vi.useRealTimers();
});

const room = (overrides: Record<string, unknown> = {}) => roomItem({ capacity: 5, activeCount: 3, lastAdmittedTicket: 3, admittedTotal: 3, ...overrides });
const put = (body: string | null, roomId = 'shop') =>
  apiEvent({ method: 'PUT', route: '/admin/rooms/{roomId}', pathParameters: { roomId }, body });
const answer = (response: HttpResponse) => JSON.parse(response.body);

describe('admin API', () => {
  it('lists rooms, each with the last ticket of its counter item, and no counter item as a room', async () => {
    tables.rooms.put(room({ roomId: 'b' }), counterItem(9, 'b'), room({ roomId: 'a' }));
    const response = await admin(apiEvent({ method: 'GET', route: '/admin/rooms' }));
    expect(response.statusCode).toBe(200);
    const rooms = answer(response).rooms as { roomId: string; lastTicket: number }[];
    expect(rooms.map((r) => [r.roomId, r.lastTicket])).toEqual([
      ['a', 0],
      ['b', 9],
      ['shop', 3],
    ]);
  });

  it('reads one room, or 404', async () => {
    const found = await admin(apiEvent({ method: 'GET', route: '/admin/rooms/{roomId}', pathParameters: { roomId: 'shop' } }));
    expect(answer(found)).toMatchObject({ roomId: 'shop', capacity: 5, activeCount: 3, lastTicket: 3 });
    const missing = await admin(apiEvent({ method: 'GET', route: '/admin/rooms/{roomId}', pathParameters: { roomId: 'nope' } }));
    expect(missing.statusCode).toBe(404);
  });

  it("answers a room's fairness report of the last hour (empty before any sample), or 404", async () => {
    const route = (roomId: string) => apiEvent({ method: 'GET', route: '/admin/rooms/{roomId}/report', pathParameters: { roomId } });
    const found = await admin(route('shop'));
    expect(found.statusCode).toBe(200);
    const report = answer(found);
    expect(report).toMatchObject({ roomId: 'shop', admitted: 0, abandoned: 0, samples: 0, exact: true, kendallTau: null, waitP50Seconds: null, abandonmentRate: null });
    expect(Date.parse(report.windowEnd) - Date.parse(report.windowStart)).toBe(60 * 60 * 1000);
    expect((await admin(route('nope'))).statusCode).toBe(404);
  });

  it('creates a room with 201 and changes one with 200', async () => {
    const created = await admin(put('{"capacity":5}', 'new'));
    expect(created.statusCode).toBe(201);
    expect(answer(created)).toMatchObject({ roomId: 'new', capacity: 5, state: 'open', activeCount: 0, lastTicket: 0 });
    // Its line index gets the deployment's shards (WR_LINE_SHARDS, 32 by default).
    expect(tables.rooms.get('new')).toMatchObject({ lineShards: 32, wakeSeq: 1 });
    const changed = await admin(put('{"capacity":5,"state":"open"}'));
    expect(changed.statusCode).toBe(200);
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.UpdateExpression).toContain('#capacity = :capacity');
  });

  it('admits waiting visitors at once when capacity is raised', async () => {
    tables.rooms.put(room({ capacity: 3 }), counterItem(5));
    const [fourth, fifth] = ['F'.repeat(22), 'G'.repeat(22)];
    tables.tokens.put(
      tokenItem({ tokenId: fourth, ticket: 4, lastSeenAt: T - 2_000, checkDueAt: T + 8_000 }),
      tokenItem({ tokenId: fifth, ticket: 5, lastSeenAt: T - 2_000, checkDueAt: T + 8_000 }),
    );
    const response = await admin(put('{"capacity":5}'));
    expect(response.statusCode).toBe(200);
    expect(answer(response)).toMatchObject({ capacity: 5, activeCount: 5, lastAdmittedTicket: 5 });
    // Both in one transaction with the room's counts.
    const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items.map((item) => item.Update?.Key)).toEqual([{ tokenId: fourth }, { tokenId: fifth }, { roomId: 'shop' }]);
    expect([tables.tokens.get(fourth)?.state, tables.tokens.get(fifth)?.state]).toEqual(['ADMITTED', 'ADMITTED']);
    expect(sentChecks(sqs)).toEqual([]);
  });

  it('re-arms the check loop of a visitor it admits whose next check was scheduled while it kept its place', async () => {
    tables.rooms.put(room({ capacity: 3 }), counterItem(4));
    const fourth = 'F'.repeat(22);
    tables.tokens.put(tokenItem({ tokenId: fourth, ticket: 4, lastSeenAt: T - 2_000, checkSeq: 0, checkDueAt: T + 600_000 }));
    expect((await admin(put('{"capacity":5}'))).statusCode).toBe(200);
    // Due at its heartbeat timeout (20 s after it was last heard from), not 10 minutes from now.
    expect(tables.tokens.get(fourth)).toMatchObject({ state: 'ADMITTED', checkSeq: 1, checkDueAt: T + 18_000, checkBy: expect.stringMatching(/^rearm:/) });
    expect(sentChecks(sqs)).toEqual([{ message: { tokenId: fourth, roomId: 'shop', seq: 1 }, delaySeconds: 18 }]);
  });

  it.each([
    ['a negative capacity', '{"capacity":-1}'],
    ['a fractional capacity', '{"capacity":2.5}'],
    ['a capacity as a string', '{"capacity":"5"}'],
    ['an unknown state', '{"state":"busy"}'],
    ['an unknown field', '{"capacity":1,"color":"red"}'],
    ['nothing to change', '{}'],
    ['malformed JSON', '{capacity:1}'],
    ['a message of 281 characters', JSON.stringify({ message: 'x'.repeat(281) })],
    ['a message on two lines', JSON.stringify({ message: 'Sold out\nSorry' })],
    ['a message with a bidirectional override', JSON.stringify({ message: 'Sold \u202eout' })],
    ['a message that is not text', '{"message":42}'],
    ['revokePasses that is not a boolean', '{"revokePasses":"yes"}'],
  ])('refuses %s with 400 and no write', async (_name, body) => {
    const response = await admin(put(body));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error.code).toBe('BAD_REQUEST');
    expect(ddb.calls()).toHaveLength(0);
  });

  it('routes on the route key the HTTP API matched, not on the path', async () => {
    const event = apiEvent({ method: 'GET', route: '/admin/rooms/{roomId}', pathParameters: { roomId: 'shop' } });
    expect((await admin({ ...event, rawPath: '/somewhere/else' })).statusCode).toBe(200);
    const unknown = await admin({ ...event, routeKey: 'DELETE /admin/rooms/{roomId}' });
    expect(unknown.statusCode).toBe(400);
    expect(JSON.parse(unknown.body).error.message).toMatch(/No admin route for DELETE \/admin\/rooms\/\{roomId\}/);
  });

  it('reads a base64-encoded body (curl -d sends a form content type, which API Gateway encodes)', async () => {
    const event = apiEvent({
      method: 'PUT',
      route: '/admin/rooms/{roomId}',
      pathParameters: { roomId: 'shop' },
      body: Buffer.from('{"capacity":2}').toString('base64'),
      isBase64Encoded: true,
    });
    const response = await admin(event);
    expect(response.statusCode).toBe(200);
    expect(answer(response)).toMatchObject({ capacity: 2 });
  });

  it('sets the message to the line (280 characters, emoji counted as one; stored trimmed), shows it, and clears it with null or ""', async () => {
    const message = `${'🎟'.repeat(279)}!`; // 280 characters, 559 UTF-16 code units
    const set = await admin(put(JSON.stringify({ message })));
    expect(set.statusCode).toBe(200);
    expect(answer(set)).toMatchObject({ message });
    expect(tables.rooms.get('shop')).toMatchObject({ message, capacity: 5 });
    expect(answer(await admin(put('{"message":"  Saturday is sold out "}')))).toMatchObject({ message: 'Saturday is sold out' });
    const markup = await admin(put(JSON.stringify({ message: '<b>Saturday</b> is sold out' })));
    expect(answer(markup)).toMatchObject({ message: '<b>Saturday</b> is sold out' }); // plain text: stored as written
    for (const cleared of ['null', '""', '"   "']) {
      tables.rooms.put(room({ message: 'Saturday is sold out' }));
      const response = await admin(put(`{"message":${cleared}}`));
      expect(response.statusCode, cleared).toBe(200);
      expect(answer(response), cleared).not.toHaveProperty('message');
      expect(tables.rooms.get('shop'), cleared).not.toHaveProperty('message');
    }
  });

  it('stops the room in an emergency: revokePasses moves it to its next epoch, with any state, and shows the epoch', async () => {
    expect(answer(await admin(apiEvent({ method: 'GET', route: '/admin/rooms/{roomId}', pathParameters: { roomId: 'shop' } })))).toMatchObject({ epoch: 0 });
    const stopped = await admin(put('{"state":"paused","revokePasses":true}'));
    expect(stopped.statusCode).toBe(200);
    expect(answer(stopped)).toMatchObject({ state: 'paused', epoch: 1, activeCount: 3 });
    expect(answer(await admin(put('{"revokePasses":true}')))).toMatchObject({ state: 'paused', epoch: 2 });
    expect(answer(await admin(put('{"revokePasses":false,"state":"open"}')))).toMatchObject({ state: 'open', epoch: 2 });
    expect(tables.rooms.get('shop')).toMatchObject({ epoch: 2 });
  });

  it('refuses to create a room without a capacity', async () => {
    const response = await admin(put('{"state":"open"}', 'new'));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error.message).toMatch(/give a capacity/);
    expect(tables.rooms.get('new')).toBeUndefined();
  });
});

describe('on-demand metrics refresh', () => {
  const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:metrics-loop';
  const refresh = (body: string | null = null) => admin(apiEvent({ method: 'POST', route: '/admin/metrics/refresh', body }));

  beforeEach(() => {
    process.env.STATE_MACHINE_ARN = STATE_MACHINE_ARN;
  });
  afterEach(() => {
    delete process.env.STATE_MACHINE_ARN;
  });

  it('starts an execution of the metrics state machine and answers 202 with its ARN and start time', async () => {
    const startDate = new Date('2030-01-02T03:04:05.678Z');
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE_ARN}:run-1`, startDate });
    const response = await refresh();
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body)).toEqual({ executionArn: `${STATE_MACHINE_ARN}:run-1`, startedAt: '2030-01-02T03:04:05.678Z' });
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input.stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(JSON.parse(calls[0]!.args[0].input.input!)).toMatchObject({ trigger: 'admin' });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('accepts an empty JSON object as body, and refuses any other body with 400 and no execution', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE_ARN}:run-2`, startDate: new Date() });
    expect((await refresh('{}')).statusCode).toBe(202);
    const refused = await refresh('{"now":true}');
    expect(refused.statusCode).toBe(400);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('fails with 500 and starts nothing when STATE_MACHINE_ARN is not configured', async () => {
    delete process.env.STATE_MACHINE_ARN;
    const response = await refresh();
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body).error.code).toBe('INTERNAL');
    expect(sfn.calls()).toHaveLength(0);
  });

  it('answers 429 when Step Functions throttles, and 500 without detail on any other failure', async () => {
    sfn.on(StartExecutionCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })).rejectsOnce(new Error('boom'));
    expect((await refresh()).statusCode).toBe(429);
    const failed = await refresh();
    expect(failed.statusCode).toBe(500);
    expect(failed.body).not.toContain('boom');
  });
});
