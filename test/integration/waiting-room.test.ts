/**
 * The waiting room on the local runtime (DynamoDB Local + fauxqs), driven only over HTTP, with
 * short timings: heartbeat timeout 3 s, check delay 1 s, heartbeat every 1 s.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { ROOM_VIEW_MAX_AGE_MS } from '../../lambdas/domain/index.js';
import { Visitor, admin, eventually, roomActiveCount, signedAdminHeaders, sleep } from '../helpers/visitor.js';

const TIMEOUT_S = 3;
const DELAY_S = 1;
const BEAT_MS = 1000;
let runtime: LocalRuntime;
let url: string;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    timings: { heartbeatTimeoutSeconds: TIMEOUT_S, checkDelaySeconds: DELAY_S, heartbeatIntervalSeconds: 1 },
    // Visibility timeout 18 s (6 times). Not 1 s: a check arrives up to 2 s before its deadline and
    // waits the rest in the checker (lambdas/domain/check-loop/check-loop.ts), and a checker killed by its own
    // timeout loses the delivery: two in a row sent live check loops to the DLQ beside the poison.
    checkerTimeoutSeconds: 3,
    checkMaxReceiveCount: 2,
    streamRetryAttempts: 2,
    rooms: [],
    log: () => undefined,
  });
  url = runtime.url;
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
});

let roomCounter = 0;
async function room(capacity: number): Promise<string> {
  const roomId = `room-${++roomCounter}-${Date.now()}`;
  await admin(url, 'PUT', `/rooms/${roomId}`, { capacity });
  return roomId;
}

async function tokenItem(tokenId: string): Promise<Record<string, unknown> | undefined> {
  const documents = DynamoDBDocumentClient.from(runtime.clients.dynamodb);
  const { Item } = await documents.send(
    new GetCommand({ TableName: runtime.resources.get(runtime.logicalId('WaitingRoomTablesTokens'))!.ref, Key: { tokenId }, ConsistentRead: true }),
  );
  return Item;
}

describe('admission over HTTP', () => {
  it('makes joins beyond capacity wait, and admits them in ticket order as seats free', async () => {
    const roomId = await room(2);
    const visitors: Visitor[] = [];
    for (let i = 0; i < 5; i++) {
      const v = await Visitor.join(url, roomId);
      v.startHeartbeats(BEAT_MS);
      visitors.push(v);
    }
    try {
      expect(visitors.map((v) => v.view.state)).toEqual(['admitted', 'admitted', 'waiting', 'waiting', 'waiting']);
      expect(visitors.slice(2).map((v) => v.view.position)).toEqual([1, 2, 3]);
      // Positions are upper bounds read through a room view cached up to a second (ROOM_VIEW_MAX_AGE_MS):
      // they reach 1 within that second, and never go up.
      const positionReaches1 = async (v: Visitor) => {
        let last = Number.POSITIVE_INFINITY;
        await eventually(async () => {
          const view = await v.read();
          expect(view.state).toBe('waiting');
          expect(view.position).toBeLessThanOrEqual(last);
          last = view.position;
          return view.position === 1 ? true : undefined;
        }, 2 * ROOM_VIEW_MAX_AGE_MS + 3_000, 'position 1', 100);
      };
      // A leave offers its seat at once; when a check's fill holds the room's lease just then, the
      // holder takes the seat in its wake-up round, a moment after the leave's answer.
      const admitted = (v: Visitor) =>
        eventually(async () => ((await v.read()).state === 'admitted' ? true : undefined), ROOM_VIEW_MAX_AGE_MS + BEAT_MS, 'admitted after the leave', 20);
      await visitors[0]!.leave();
      await admitted(visitors[2]!);
      await positionReaches1(visitors[3]!);
      await visitors[1]!.leave();
      await admitted(visitors[3]!);
      await positionReaches1(visitors[4]!);
    } finally {
      for (const v of visitors) v.stopHeartbeats();
    }
  });

  it('frees a seat on DELETE and admits the next visitor within a second', async () => {
    const roomId = await room(1);
    const first = await Visitor.join(url, roomId);
    const second = await Visitor.join(url, roomId);
    second.startHeartbeats(BEAT_MS);
    try {
      const left = Date.now();
      await first.leave();
      await eventually(async () => ((await second.read()).state === 'admitted' ? true : undefined), 1000, 'the next visitor admitted', 20);
      expect(Date.now() - left).toBeLessThan(1000);
      expect(await roomActiveCount(url, roomId)).toBe(1);
    } finally {
      second.stopHeartbeats();
    }
  });
});

describe('the public status', () => {
  it('counts the line from what really waits: back to 0 waiting and a 0 s estimate once everyone left', async () => {
    const roomId = await room(1);
    const inside = await Visitor.join(url, roomId);
    const waiting = [await Visitor.join(url, roomId), await Visitor.join(url, roomId)];
    const status = async () => (await (await fetch(`${url}/rooms/${roomId}/status`)).json()) as { waiting: number; active: number; estimatedWaitSeconds: number };
    // The stats aggregator folds stream batches of up to a second; the status view is a second old at most.
    await eventually(async () => ((await status()).waiting === 2 ? true : undefined), 10_000, 'two counted waiting');
    for (const v of waiting) await v.leave();
    await inside.leave();
    const settled = await eventually(async () => {
      const s = await status();
      return s.waiting === 0 && s.active === 0 ? s : undefined;
    }, 10_000, 'an empty room in the status');
    expect(settled.estimatedWaitSeconds).toBe(0);
    await sleep(2_000);
    expect(await status()).toMatchObject({ waiting: 0, active: 0, estimatedWaitSeconds: 0 }); // and it stays so
  });
});

describe('eviction over HTTP', () => {
  it('evicts a silent admitted visitor within timeout + delay, admits the next, and keeps a visitor who heartbeats', async () => {
    const roomId = await room(1);
    const otherRoom = await room(1);
    // Taken before the join is sent: the server records the join's lastSeenAt later than this.
    const lastSeen = Date.now();
    const silent = await Visitor.join(url, roomId);
    const next = await Visitor.join(url, roomId);
    const diligent = await Visitor.join(url, otherRoom);
    next.startHeartbeats(BEAT_MS);
    diligent.startHeartbeats(BEAT_MS);
    try {
      expect([silent.view.state, next.view.state, diligent.view.state]).toEqual(['admitted', 'waiting', 'admitted']);
      await eventually(async () => ((await next.read()).state === 'admitted' ? true : undefined), 10_000, 'the next visitor admitted', 50);
      const freedAfter = (Date.now() - lastSeen) / 1000;
      expect(freedAfter).toBeGreaterThanOrEqual(TIMEOUT_S);
      expect(freedAfter).toBeLessThanOrEqual(TIMEOUT_S + DELAY_S + 1.5);
      await expect(silent.read()).rejects.toMatchObject({ status: 404 });
      await sleep(3 * TIMEOUT_S * 1000 - (Date.now() - lastSeen));
      expect((await diligent.read()).state).toBe('admitted');
    } finally {
      next.stopHeartbeats();
      diligent.stopHeartbeats();
    }
  });
});

describe('check loop over the real queue', () => {
  it('drops a duplicated check message instead of starting a second loop', async () => {
    const roomId = await room(10);
    const v = await Visitor.join(url, roomId);
    v.startHeartbeats(BEAT_MS);
    try {
      const first = await eventually(async () => {
        const item = await tokenItem(v.view.tokenId);
        return Number(item?.checkSeq ?? 0) >= 1 ? item : undefined;
      }, 20 * DELAY_S * 1000, 'the first check'); // about 2.5 s unloaded: the stream poll, the delay, the batching window
      const seqBefore = Number(first.checkSeq);
      const checkQueue = runtime.resources.get(runtime.logicalId('WaitingRoomCheckLoopCheckQueue', 'AWS::SQS::Queue'))!.ref;
      await runtime.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: checkQueue, MessageBody: JSON.stringify({ tokenId: v.view.tokenId, roomId, seq: seqBefore }), DelaySeconds: 0 }),
      );
      const started = Date.now();
      await sleep(5 * DELAY_S * 1000);
      const rounds = (Date.now() - started) / (DELAY_S * 1000);
      const advanced = Number((await tokenItem(v.view.tokenId))?.checkSeq) - seqBefore;
      // One loop has one pending message (ready or delayed); the message being processed may still
      // be in flight beside its successor for a moment, and between the step and the send there is
      // none: sample for two seconds. Two loops would show two pending messages throughout.
      const pending: number[] = [];
      for (let i = 0; i < 20; i++) {
        pending.push(runtime.queueMessages('WaitingRoomCheckLoopCheckQueue').filter((m) => m.body.includes(v.view.tokenId) && m.state !== 'inflight').length);
        await sleep(100);
      }
      expect(Math.max(...pending)).toBe(1);
      // One loop advances about once per delay; two loops would advance twice as fast.
      expect(advanced).toBeLessThanOrEqual(Math.ceil(rounds) + 1);
      expect(advanced).toBeGreaterThanOrEqual(2);
    } finally {
      v.stopHeartbeats();
    }
  });

  it('retries a message the checker cannot process, then moves it to the DLQ, and tells the admins', async () => {
    const checkQueue = runtime.resources.get(runtime.logicalId('WaitingRoomCheckLoopCheckQueue', 'AWS::SQS::Queue'))!.ref;
    const poison = JSON.stringify({ tokenId: 'not-a-token-id', roomId: 'x', seq: 'one' });
    await runtime.clients.sqs.send(new SendMessageCommand({ QueueUrl: checkQueue, MessageBody: poison }));
    const dead = await eventually(
      async () => runtime.queueMessages('WaitingRoomCheckLoopCheckDlq').find((m) => m.body === poison),
      // Two receives a visibility timeout (18 s) apart: about 36 s; two and a half times that on a loaded machine.
      (5 * 2 * 18_000) / 2,
      'the poison message in the DLQ',
      250,
    );
    expect(dead.body).toBe(poison);
    expect(dead.receiveCount).toBeGreaterThanOrEqual(2); // delivered, failed, retried, failed
    expect(runtime.queueMessages('WaitingRoomCheckLoopCheckQueue').some((m) => m.body === poison)).toBe(false);
    // The DLQ's alarm, as CloudWatch would raise it, reaches the admins' notices (local/queue-alarms.ts).
    const notice = await eventually(async () => runtime.notices().find((n) => n.subject.startsWith('ALARM') && n.subject.includes('CheckDlqNotEmpty')), 20_000, 'the DLQ notice', 250);
    expect(notice.message).toMatch(/failure queue CheckDlq .*check loops they carried stopped.*ALARM: 1 message visible/s);
  }, 150_000);
});

describe('the HTTP shim', () => {
  it('passes bad input to the handlers, which answer JSON errors', async () => {
    const roomId = await room(1);
    const adminUrl = `${url}/admin/rooms/${roomId}`;
    const malformed = await fetch(adminUrl, { method: 'PUT', body: '{"capacity":', headers: await signedAdminHeaders(adminUrl, 'PUT', '{"capacity":', { 'content-type': 'application/json' }) });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    const big = await fetch(`${url}/rooms/${roomId}/tokens`, { method: 'POST', body: JSON.stringify({ pad: 'x'.repeat(5000) }) });
    expect(big.status).toBe(413);
    const noSecret = await fetch(`${url}/rooms/${roomId}/tokens/${'A'.repeat(22)}`);
    expect(noSecret.status).toBe(401);
    const unknownRoom = await fetch(`${url}/rooms/nowhere/tokens`, { method: 'POST' });
    expect(unknownRoom.status).toBe(404);
    const unknownRoute = await fetch(`${url}/nothing/here`);
    expect(unknownRoute.status).toBe(404);
    expect(((await unknownRoute.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    const preflight = await fetch(`${url}/rooms/${roomId}/tokens`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://shop.example.com', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    expect(preflight.headers.get('access-control-max-age')).toBe('7200');
  });
});

describe('local resources are the template\'s', () => {
  const templateResources = (type: string) => Object.entries(runtime.template.Resources).filter(([, r]) => r.Type === type);
  const sorted = <T>(values: T[] | undefined) => [...(values ?? [])].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

  it('creates every table with the template\'s keys, indexes, stream and TTL', async () => {
    const tables = templateResources('AWS::DynamoDB::Table');
    expect(tables.length).toBe(3);
    for (const [logicalId, table] of tables) {
      const p = table.Properties as Record<string, unknown>;
      const { Table } = await runtime.clients.dynamodb.send(new DescribeTableCommand({ TableName: logicalId }));
      expect(Table?.KeySchema, logicalId).toEqual(p.KeySchema);
      expect(sorted(Table?.AttributeDefinitions), logicalId).toEqual(sorted(p.AttributeDefinitions as object[]));
      const indexes = (Table?.GlobalSecondaryIndexes ?? []).map((i) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema, Projection: i.Projection }));
      expect(sorted(indexes), logicalId).toEqual(sorted((p.GlobalSecondaryIndexes as object[] | undefined) ?? []));
      const stream = p.StreamSpecification as { StreamViewType: string } | undefined;
      expect(Table?.StreamSpecification?.StreamViewType, logicalId).toBe(stream?.StreamViewType);
      const ttl = p.TimeToLiveSpecification as { AttributeName: string } | undefined;
      const { TimeToLiveDescription } = await runtime.clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: logicalId }));
      expect(TimeToLiveDescription?.AttributeName, logicalId).toBe(ttl?.AttributeName);
    }
  });

  it('creates every queue with the template\'s timeouts, retention and redrive to the right DLQ', async () => {
    const queues = templateResources('AWS::SQS::Queue');
    expect(queues.length).toBeGreaterThanOrEqual(4);
    for (const [logicalId, queue] of queues) {
      const p = queue.Properties as Record<string, unknown>;
      const url = runtime.resources.get(logicalId)!.ref;
      const { Attributes = {} } = await runtime.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
      if (p.VisibilityTimeout !== undefined) expect(Attributes.VisibilityTimeout, logicalId).toBe(String(p.VisibilityTimeout));
      if (p.MessageRetentionPeriod !== undefined) expect(Attributes.MessageRetentionPeriod, logicalId).toBe(String(p.MessageRetentionPeriod));
      const redrive = p.RedrivePolicy as { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] }; maxReceiveCount: number } | undefined;
      if (redrive) {
        const local = JSON.parse(Attributes.RedrivePolicy ?? '{}') as { deadLetterTargetArn: string; maxReceiveCount: number | string };
        expect(Number(local.maxReceiveCount), logicalId).toBe(redrive.maxReceiveCount);
        expect(local.deadLetterTargetArn, logicalId).toBe(runtime.resources.get(redrive.deadLetterTargetArn['Fn::GetAtt'][0])!.attributes.Arn);
      } else {
        expect(Attributes.RedrivePolicy, logicalId).toBeUndefined();
      }
    }
  });

  it('runs every function of the template that is meant to run locally, on the routes of the template', () => {
    const entries = templateResources('AWS::Lambda::Function').filter(([, f]) => f.Metadata?.['WaitingRoom:Entry'] && f.Metadata?.['WaitingRoom:LocalRuntime'] !== 'skip');
    expect([...runtime.functions.keys()].sort()).toEqual(entries.map(([id]) => id).sort());
    const routes = templateResources('AWS::ApiGatewayV2::Route');
    expect(routes.length).toBeGreaterThanOrEqual(10);
  });
});
