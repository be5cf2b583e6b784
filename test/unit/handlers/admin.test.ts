import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { HttpResponse } from '../../../lambdas/shared/http.js';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiEvent } from '../../helpers/events.js';
import { useHandlerEnv } from '../../helpers/env.js';

type Handler = (event: APIGatewayProxyEventV2) => Promise<HttpResponse>;
const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
let admin: Handler;

beforeAll(async () => {
  useHandlerEnv();
  admin = (await import('../../../lambdas/handlers/admin.js')).handler;
});
afterEach(() => {
  ddb.reset();
  sfn.reset();
});

const NOW = Date.now();
const room = (overrides: Record<string, unknown> = {}) => ({
  roomId: 'shop', capacity: 5, state: 'open', nextTicket: 3, activeCount: 3, lastAdmittedTicket: 3, admittedTotal: 3, createdAt: NOW, updatedAt: NOW, ...overrides,
});
const put = (body: string | null, roomId = 'shop') =>
  apiEvent({ method: 'PUT', route: '/admin/rooms/{roomId}', pathParameters: { roomId }, body });

describe('admin API', () => {
  it('lists rooms', async () => {
    ddb.on(ScanCommand).resolves({ Items: [room({ roomId: 'b' }), room({ roomId: 'a' })] });
    const response = await admin(apiEvent({ method: 'GET', route: '/admin/rooms' }));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body).rooms.map((r: { roomId: string }) => r.roomId)).toEqual(['a', 'b']);
  });

  it('reads one room, or 404', async () => {
    ddb.on(GetCommand).resolvesOnce({ Item: room() }).resolvesOnce({});
    const found = await admin(apiEvent({ method: 'GET', route: '/admin/rooms/{roomId}', pathParameters: { roomId: 'shop' } }));
    expect(JSON.parse(found.body)).toMatchObject({ roomId: 'shop', capacity: 5, activeCount: 3, lastTicket: 3 });
    const missing = await admin(apiEvent({ method: 'GET', route: '/admin/rooms/{roomId}', pathParameters: { roomId: 'nope' } }));
    expect(missing.statusCode).toBe(404);
  });

  it('creates a room with 201 and changes one with 200', async () => {
    ddb.on(GetCommand).resolvesOnce({}).resolves({ Item: room() });
    ddb.on(UpdateCommand).resolves({ Attributes: room({ capacity: 5, activeCount: 5 }) });
    expect((await admin(put('{"capacity":5}', 'new'))).statusCode).toBe(201);
    const changed = await admin(put('{"capacity":5,"state":"open"}'));
    expect(changed.statusCode).toBe(200);
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.UpdateExpression).toContain('#capacity = :capacity');
  });

  it('admits waiting visitors at once when capacity is raised', async () => {
    ddb.on(GetCommand).resolves({ Item: room({ capacity: 6 }) });
    ddb.on(UpdateCommand).resolves({ Attributes: room({ capacity: 6 }) });
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect((await admin(put('{"capacity":6}'))).statusCode).toBe(200);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
  });

  it.each([
    ['a negative capacity', '{"capacity":-1}'],
    ['a fractional capacity', '{"capacity":2.5}'],
    ['a capacity as a string', '{"capacity":"5"}'],
    ['an unknown state', '{"state":"busy"}'],
    ['an unknown field', '{"capacity":1,"color":"red"}'],
    ['nothing to change', '{}'],
    ['malformed JSON', '{capacity:1}'],
  ])('refuses %s with 400 and no write', async (_name, body) => {
    const response = await admin(put(body));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error.code).toBe('BAD_REQUEST');
    expect(ddb.calls()).toHaveLength(0);
  });

  it('routes on the route key the HTTP API matched, not on the path', async () => {
    ddb.on(GetCommand).resolves({ Item: room() });
    const event = apiEvent({ method: 'GET', route: '/admin/rooms/{roomId}', pathParameters: { roomId: 'shop' } });
    expect((await admin({ ...event, rawPath: '/somewhere/else' })).statusCode).toBe(200);
    const unknown = await admin({ ...event, routeKey: 'DELETE /admin/rooms/{roomId}' });
    expect(unknown.statusCode).toBe(400);
    expect(JSON.parse(unknown.body).error.message).toMatch(/No admin route for DELETE \/admin\/rooms\/\{roomId\}/);
  });

  it('reads a base64-encoded body (curl -d sends a form content type, which API Gateway encodes)', async () => {
    ddb.on(GetCommand).resolves({ Item: room() });
    ddb.on(UpdateCommand).resolves({ Attributes: room({ capacity: 2 }) });
    ddb.on(QueryCommand).resolves({ Items: [] });
    const event = apiEvent({
      method: 'PUT',
      route: '/admin/rooms/{roomId}',
      pathParameters: { roomId: 'shop' },
      body: Buffer.from('{"capacity":2}').toString('base64'),
      isBase64Encoded: true,
    });
    expect((await admin(event)).statusCode).toBe(200);
  });

  it('refuses to create a room without a capacity', async () => {
    ddb.on(GetCommand).resolves({});
    const response = await admin(put('{"state":"open"}', 'new'));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error.message).toMatch(/give a capacity/);
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
