/**
 * Monitoring on the local runtime: the stats table converges to the true counts, the metrics
 * state machine publishes six times per run to the local metrics sink while the room has activity,
 * publishes a final set of zeros once it is empty and then stops each run after one publish, and
 * a failing run sends its notice through the admin topic to the runtime (printed, and on the admin page).
 */
import { DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { Visitor, admin, eventually, sleep } from '../helpers/visitor.js';

const ROOM = 'stats';
let runtime: LocalRuntime;
let documents: DynamoDBDocumentClient;
const lines: string[] = [];

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    timings: { heartbeatTimeoutSeconds: 3, checkDelaySeconds: 1, heartbeatIntervalSeconds: 1 },
    rooms: [{ roomId: ROOM, capacity: 2 }],
    schedules: false,
    stateMachineWaitMs: 50,
    stateMachineRetryMs: 20,
    log: (line) => lines.push(line),
  });
  documents = DynamoDBDocumentClient.from(runtime.clients.dynamodb);
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
});

const table = (prefix: string) => runtime.resources.get(runtime.logicalId(prefix, 'AWS::DynamoDB::Table'))!.ref;
const machineArn = () => runtime.resources.get(runtime.logicalId('WaitingRoomMetricsLoop', 'AWS::StepFunctions::StateMachine'))!.ref;
const publisher = () => runtime.functions.get(runtime.logicalId('WaitingRoomMetricsLoopPublisher', 'AWS::Lambda::Function'))!;

async function trueCounts() {
  const { Items = [] } = await documents.send(new ScanCommand({ TableName: table('WaitingRoomTablesTokens'), ConsistentRead: true }));
  const mine = Items.filter((i) => i.roomId === ROOM);
  return { waiting: mine.filter((i) => i.state === 'WAITING').length, active: mine.filter((i) => i.state === 'ADMITTED').length };
}

async function stats() {
  const { Item } = await documents.send(new GetCommand({ TableName: table('WaitingRoomTablesStats'), Key: { roomId: ROOM }, ConsistentRead: true }));
  return Item;
}

type Point = { roomId: string | null; name: string; value: number; at: string };
async function metrics(): Promise<{ points: Point[]; notices: { subject: string; message: string }[] }> {
  return (await fetch(`${runtime.url}/admin/metrics`)).json() as Promise<{ points: Point[]; notices: { subject: string; message: string }[] }>;
}

describe('stats and metrics', () => {
  it('keeps the stats table equal to the true counts through joins, admissions, leaves and evictions', async () => {
    const visitors: Visitor[] = [];
    for (let i = 0; i < 5; i++) visitors.push(await Visitor.join(runtime.url, ROOM));
    const [leaver, silent, ...rest] = visitors;
    for (const v of rest) v.startHeartbeats(800);
    try {
      await leaver!.leave(); // frees a seat: ticket 3 is admitted
      // `silent` never heartbeats: evicted after 3-4 s, and ticket 4 takes its seat.
      await eventually(async () => ((await silent!.read().catch(() => 'gone')) === 'gone' ? true : undefined), 15_000, 'the eviction');
      await sleep(500);
      const truth = await trueCounts();
      expect(truth).toEqual({ waiting: 1, active: 2 });
      const settled = await eventually(
        async () => {
          const s = await stats();
          return s && s.waiting === truth.waiting && s.active === truth.active && s.removedTotal === 2 ? s : undefined;
        },
        20_000,
        'the stats table to drain',
        200,
      );
      expect(settled).toMatchObject({ waiting: 1, active: 2, issuedTotal: 5, admittedTotal: 4, removedTotal: 2 });
    } finally {
      for (const v of rest) v.stopHeartbeats();
      for (const v of rest) await v.settled();
    }
  }, 60_000);

  it('publishes six times per run of the state machine, with the values of the stats and rooms tables', async () => {
    const before = (await metrics()).points.filter((p) => p.roomId === ROOM && p.name === 'WaitingUsers').length;
    const s = await stats();
    const execution = runtime.stateMachines.start(machineArn(), {});
    await execution.done;
    expect(execution.status).toBe('SUCCEEDED');
    const points = (await metrics()).points.filter((p) => p.roomId === ROOM);
    const waiting = points.filter((p) => p.name === 'WaitingUsers');
    expect(waiting.length - before).toBe(6);
    const last = (name: string) => points.filter((p) => p.name === name).at(-1)!.value;
    expect(last('WaitingUsers')).toBe(Number(s!.waiting));
    expect(last('ActiveUsers')).toBe(Number(s!.active));
    expect(last('Capacity')).toBe(2);
    expect(last('Utilization')).toBe((Number(s!.active) / 2) * 100);
    expect(points.some((p) => p.name === 'EstimatedWaitSeconds')).toBe(true);
    const serviceWide = (await metrics()).points.filter((p) => p.roomId === null && p.name === 'ActiveUsers');
    expect(serviceWide.length).toBeGreaterThanOrEqual(6);
  });

  it('starts a run on demand from the admin API', async () => {
    const started = await admin<{ executionArn: string }>(runtime.url, 'POST', '/metrics/refresh', {});
    expect(started.executionArn).toContain('MetricsLoop');
    const execution = runtime.stateMachines.executions.get(started.executionArn)!;
    await execution.done;
    expect(execution.status).toBe('SUCCEEDED');
  });

  it('publishes a final set of zeros once the room is empty, then stops each run after its first publish', async () => {
    // The visitors of the first test stopped heartbeating: they are evicted.
    await eventually(
      async () => {
        const [truth, s] = [await trueCounts(), await stats()];
        return truth.waiting === 0 && truth.active === 0 && s?.waiting === 0 && s.active === 0 ? true : undefined;
      },
      30_000,
      'the room to empty',
      200,
    );
    const fn = publisher();
    const invoke = fn.invoke.bind(fn);
    let calls = 0;
    fn.invoke = async <T,>(event: unknown): Promise<T> => {
      calls += 1;
      return invoke<T>(event);
    };
    try {
      // The run that sees the evictions publishes them; the first quiet run after it, the final set.
      const settle = runtime.stateMachines.start(machineArn(), {});
      await settle.done;
      expect(settle.status).toBe('SUCCEEDED');
      const points = (await metrics()).points.filter((p) => p.roomId === ROOM);
      const last = (name: string) => points.filter((p) => p.name === name).at(-1)!.value;
      expect([last('WaitingUsers'), last('ActiveUsers'), last('Utilization'), last('AdmissionsPerMinute'), last('EvictionsPerMinute')]).toEqual([0, 0, 0, 0, 0]);

      calls = 0;
      const idle = runtime.stateMachines.start(machineArn(), {});
      await idle.done;
      expect(idle.status).toBe('SUCCEEDED');
      expect(calls).toBe(1);
      expect(JSON.parse(idle.output!)).toMatchObject({ firstRun: { rooms: 1, points: 0, idle: true } });
      expect((await metrics()).points.filter((p) => p.roomId === ROOM)).toHaveLength(points.length);
    } finally {
      fn.invoke = invoke;
    }
  }, 60_000);

  it('tells the admins when a run fails after its retries: printed by the runtime and on the admin page', async () => {
    const fn = publisher();
    const invoke = fn.invoke.bind(fn);
    let calls = 0;
    fn.invoke = async () => {
      calls += 1;
      throw new Error('stats table unreachable');
    };
    try {
      const execution = runtime.stateMachines.start(machineArn(), {});
      await execution.done;
      expect(execution.status).toBe('FAILED');
      expect(calls).toBe(3); // the first attempt and two retries
      const notice = await eventually(async () => (await metrics()).notices.at(-1), 10_000, 'the failure notice');
      expect(`${notice.subject} ${notice.message}`).toMatch(/metrics/i);
      expect(lines.some((l) => l.startsWith('NOTICE to admin@example.com'))).toBe(true);
    } finally {
      fn.invoke = invoke;
    }
  });
});
