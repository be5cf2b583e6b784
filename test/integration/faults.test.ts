/**
 * Faults of the system itself must not pass for the visitors' silence (issue 10, item 5):
 * DynamoDB Local is paused (SIGSTOP) for 10 s and then 30 s while visitors heartbeat every
 * second against a 4 s timeout. Nobody who kept heartbeating is evicted (the checker puts off
 * evictions for a heartbeat timeout after its reads stalled: lambdas/domain/stall-watch.ts), the
 * capacity holds, and a visitor who really goes silent afterwards is still removed.
 */
import { execSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { dynamoDbJavaPid } from '../helpers/emulators.js';
import { HttpError, Visitor, admin, eventually, roomActiveCount, sleep } from '../helpers/visitor.js';

const TIMEOUT_S = 4;
const CAPACITY = 4;
/** The checker's timeout; a check that fails (its reads timed out in the pause) comes back after the visibility timeout, six times this. */
const CHECKER_TIMEOUT_S = 5;
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

describe('a paused datastore', () => {
  it.each([10, 30])('evicts nobody who heartbeats across a %i s pause, and still removes the silent afterwards', async (pauseSeconds) => {
    const roomId = `fault-${pauseSeconds}-${Date.now()}`;
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
      execSync(`kill -STOP ${java}`);
      await sleep(pauseSeconds * 1_000);
      execSync(`kill -CONT ${java}`);
      // Hung requests complete, heartbeats resume, the deferred checks come back: watch for two
      // heartbeat timeouts beyond the recovery window.
      await sleep(3 * TIMEOUT_S * 1_000);
      expect([...evicted], 'visitors evicted although they kept heartbeating').toEqual([]);
      for (const v of visitors) expect((await v.read()).tokenId).toBe(v.view.tokenId);
      expect(await roomActiveCount(runtime.url, roomId)).toBeLessThanOrEqual(CAPACITY);
    } finally {
      for (const v of visitors) v.stopHeartbeats();
    }
    // Silence after the recovery is real silence: every token goes, within the timeout, the
    // recovery window, a check's redelivery (a check whose reads failed in the pause comes back
    // after the visibility timeout) and a loaded machine's margin.
    await eventually(
      async () => {
        for (const v of visitors) {
          const gone = await v.read().then(() => false, (e: unknown) => e instanceof HttpError && e.status === 404);
          if (!gone) return undefined;
        }
        return true;
      },
      (2 * TIMEOUT_S + 6 * CHECKER_TIMEOUT_S + 20) * 1_000,
      'the silent visitors removed',
      500,
    );
  }, 180_000);
});
