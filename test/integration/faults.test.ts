/**
 * Faults of the system itself must not pass for the visitors' silence (issue 10, items 5 and the
 * fault suite). While visitors heartbeat every second against a 4 s timeout, one fault at a time:
 *
 * - DynamoDB Local paused (SIGSTOP) for 10 s, then 30 s: the checker puts off evictions for a
 *   heartbeat timeout after its reads stalled (lambdas/domain/check-loop/stall-watch.ts);
 * - the queue emulator frozen for 15 s (local/freezable.ts): checks and new check loops wait;
 * - the checker crashing mid-batch for 10 s (it handles the first half of each batch, then throws,
 *   as a function that dies does): the whole batch comes back after the visibility timeout, the
 *   handled half as duplicates that are dropped.
 *
 * Each time: nobody who kept heartbeating is evicted, the capacity holds, the public status counts
 * the line truly within 30 s of the recovery and again once everyone is gone, a visitor who really
 * goes silent afterwards is still removed, and nothing is lost: every failure queue is empty, or
 * its alarm told the admins. The datastore killed outright is test/integration/supervision.test.ts
 * (the runtime says so and exits); `npm run test:faults` runs both files.
 */
import { execSync } from 'node:child_process';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomStatus } from '../../lambdas/domain/index.js';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { dynamoDbJavaPid } from '../helpers/emulators.js';
import { HttpError, Visitor, admin, eventually, roomActiveCount, sleep } from '../helpers/visitor.js';

const TIMEOUT_S = 4;
const CAPACITY = 4;
/** The checker's timeout; a check that fails (its reads timed out in the pause) comes back after the visibility timeout, six times this. */
const CHECKER_TIMEOUT_S = 5;
/** How soon after the recovery (or after everyone left) the public status must count the line truly. */
const STATUS_CONVERGES_MS = 30_000;
/** Failure queues of the template, by logical id prefix, and the alarm that tells of each. */
const FAILURE_QUEUES = [
  ['WaitingRoomCheckLoopCheckDlq', 'CheckDlqNotEmpty'],
  ['WaitingRoomCheckLoopStreamFailures', 'EnqueuerStreamFailuresNotEmpty'],
  ['WaitingRoomStatsAggregatorFailures', 'StatsStreamFailuresNotEmpty'],
] as const;

let runtime: LocalRuntime;
let java = '';

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    timings: { heartbeatTimeoutSeconds: TIMEOUT_S, checkDelaySeconds: 1, heartbeatIntervalSeconds: 1 },
    checkerTimeoutSeconds: CHECKER_TIMEOUT_S,
    rooms: [],
    schedules: false,
    pages: false,
    log: () => undefined,
  });
  java = dynamoDbJavaPid(runtime);
}, 120_000);
afterAll(async () => {
  if (java) execSync(`kill -CONT ${java}`); // never leave it stopped
  await runtime?.stop();
});

const status = async (roomId: string) => (await (await fetch(`${runtime.url}/rooms/${roomId}/status`)).json()) as RoomStatus;

/** A fault: begin() starts it and returns how to end it. */
interface Fault {
  begin(): () => void;
  seconds: number;
}

/** The checker function, made to handle the first half of each batch of more than one message and then throw. */
let crashes = 0;
function checkerCrashingMidBatch(): () => void {
  const checker = runtime.functions.get(runtime.logicalId('WaitingRoomCheckLoopChecker', 'AWS::Lambda::Function'))!;
  const invoke = checker.invoke.bind(checker);
  checker.invoke = (async (event: SQSEvent) => {
    if (event.Records.length < 2) return invoke(event);
    await invoke({ Records: event.Records.slice(0, Math.ceil(event.Records.length / 2)) });
    crashes += 1;
    throw new Error('the checker crashed mid-batch');
  }) as typeof checker.invoke;
  return () => {
    checker.invoke = invoke;
  };
}

async function heartbeatThrough(name: string, fault: Fault): Promise<void> {
  const roomId = `fault-${name}-${Date.now()}`;
  await admin(runtime.url, 'PUT', `/rooms/${roomId}`, { capacity: CAPACITY });
  const visitors: Visitor[] = [];
  for (let i = 0; i < 2 * CAPACITY; i++) visitors.push(await Visitor.join(runtime.url, roomId));
  const evicted = new Set<string>();
  for (const v of visitors) {
    v.startHeartbeats(1_000, (error) => {
      if (error instanceof HttpError && error.status === 404) evicted.add(v.view.tokenId);
    });
  }
  try {
    await sleep(3 * 1_000);
    const end = fault.begin();
    try {
      await sleep(fault.seconds * 1_000);
    } finally {
      end();
    }
    // Hung requests complete, heartbeats resume, the deferred checks come back: watch for two
    // heartbeat timeouts beyond the recovery window.
    await sleep(3 * TIMEOUT_S * 1_000);
    expect([...evicted], 'visitors evicted although they kept heartbeating').toEqual([]);
    for (const v of visitors) expect((await v.read()).tokenId).toBe(v.view.tokenId);
    expect(await roomActiveCount(runtime.url, roomId)).toBeLessThanOrEqual(CAPACITY);
    // Everyone is here: the seats taken, the rest waiting.
    await eventually(async () => ((await status(roomId)).waiting === CAPACITY ? true : undefined), STATUS_CONVERGES_MS, 'the status counting the waiting visitors', 500);
  } finally {
    for (const v of visitors) v.stopHeartbeats();
  }
  // Silence after the recovery is real silence: every token goes, within the timeout, the
  // recovery window, a check's redelivery (a check whose reads failed in the pause comes back
  // after the visibility timeout) and a loaded machine's margin.
  await eventually(
    async () => {
      for (const v of visitors) {
        const gone = await v.read().then(
          () => false,
          (e: unknown) => e instanceof HttpError && e.status === 404,
        );
        if (!gone) return undefined;
      }
      return true;
    },
    (2 * TIMEOUT_S + 6 * CHECKER_TIMEOUT_S + 20) * 1_000,
    'the silent visitors removed',
    500,
  );
  await eventually(async () => ((await status(roomId)).waiting === 0 ? true : undefined), STATUS_CONVERGES_MS, 'the status back to nobody waiting', 500);
  expect(await roomActiveCount(runtime.url, roomId)).toBe(0);
  // Nothing lost: a message set aside is in a failure queue, and the admins were told of it.
  for (const [queue, alarm] of FAILURE_QUEUES) {
    if (runtime.queueMessages(queue).length === 0) continue;
    await eventually(async () => runtime.notices().find((n) => n.subject.includes(alarm)), 20_000, `the ${alarm} notice`, 500);
  }
}

describe('faults of the system itself', () => {
  it.each([10, 30])('a paused datastore (%i s): evicts nobody who heartbeats, and still removes the silent afterwards', async (pauseSeconds) => {
    await heartbeatThrough(`db-${pauseSeconds}`, {
      seconds: pauseSeconds,
      begin: () => {
        execSync(`kill -STOP ${java}`);
        return () => execSync(`kill -CONT ${java}`);
      },
    });
  }, 240_000);

  it('a frozen queue emulator (15 s): evicts nobody who heartbeats, and still removes the silent afterwards', async () => {
    const queueUrl = runtime.resources.get(runtime.logicalId('WaitingRoomCheckLoopCheckQueue', 'AWS::SQS::Queue'))!.ref;
    let probe: Promise<number> | undefined;
    await heartbeatThrough('queue', {
      seconds: 15,
      begin: () => {
        const thaw = runtime.emulators.freezeMessaging();
        const sent = Date.now();
        // A request sent while frozen is answered only after the thaw: the fault is real.
        probe = runtime.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] })).then(() => Date.now() - sent);
        return thaw;
      },
    });
    expect(await probe).toBeGreaterThanOrEqual(14_000);
  }, 240_000);

  it('a checker crashing mid-batch (10 s): evicts nobody who heartbeats, and still removes the silent afterwards', async () => {
    await heartbeatThrough('checker', { seconds: 10, begin: checkerCrashingMidBatch });
    expect(crashes, 'batches the checker crashed in').toBeGreaterThan(0);
  }, 240_000);
});
