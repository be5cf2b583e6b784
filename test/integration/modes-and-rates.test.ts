/**
 * Issue 12, items 1 and 3, on the local runtime (DynamoDB Local + the queue emulator), over HTTP,
 * with short timings (heartbeat timeout 3 s, heartbeats every second, checks a second apart):
 *
 * - a rate limit (newVisitorsPerMinute) holds admissions to its bound though seats are free, and the
 *   line still drains at about the limit; the figures are printed;
 * - passthrough admits everyone at the first heartbeat, beyond the seats, and counts them;
 * - reject refuses joins without a ticket (409 ROOM_NOT_ACCEPTING with the message), while the
 *   visitors already in line go on being admitted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RATE_BURST_MS, ROOM_VIEW_MAX_AGE_MS, type RoomStatus } from '../../lambdas/domain/index.js';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { HttpError, Visitor, admin, eventually, sleep } from '../helpers/visitor.js';

const BEAT_MS = 1_000;

let runtime: LocalRuntime;
let url: string;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    timings: { heartbeatTimeoutSeconds: 3, checkDelaySeconds: 1, heartbeatIntervalSeconds: BEAT_MS / 1000 },
    checkerTimeoutSeconds: 1,
    rooms: [],
    schedules: false,
    pages: false,
    log: () => undefined,
  });
  url = runtime.url;
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
});

let roomCounter = 0;
async function room(change: Record<string, unknown>): Promise<string> {
  const roomId = `mode-${++roomCounter}-${Date.now()}`;
  await admin(url, 'PUT', `/rooms/${roomId}`, change);
  return roomId;
}

const status = async (roomId: string) => (await (await fetch(`${url}/rooms/${roomId}/status`)).json()) as RoomStatus;
const admittedTotal = async (roomId: string) => (await admin<{ admittedTotal: number }>(url, 'GET', `/rooms/${roomId}`)).admittedTotal;

describe('a rate limit', () => {
  it('admits no more than its bound though seats are free, and drains the line at about the limit', async () => {
    const PER_MINUTE = 120;
    const VISITORS = 24;
    const roomId = await room({ capacity: 0 });
    const line = await Promise.all(Array.from({ length: VISITORS }, () => Visitor.join(url, roomId)));
    for (const visitor of line) visitor.startHeartbeats(BEAT_MS);
    try {
      await sleep(BEAT_MS + 200); // every visitor heard from: all live
      const opened = Date.now();
      await admin(url, 'PUT', `/rooms/${roomId}`, { capacity: 1_000, newVisitorsPerMinute: PER_MINUTE });
      await expect(status(roomId)).resolves.toMatchObject({ newVisitorsPerMinute: PER_MINUTE });
      const samples: { at: number; admitted: number }[] = [];
      for (;;) {
        const admitted = await admittedTotal(roomId);
        const at = Date.now();
        samples.push({ at: at - opened, admitted });
        // The bound of lambdas/domain/admission-rate.ts, from just before the room opened: load only slows admissions.
        expect(admitted, `${admitted} admitted ${at - opened} ms after opening`).toBeLessThanOrEqual(Math.floor(((at - opened + RATE_BURST_MS) * PER_MINUTE) / 60_000) + 1);
        if (admitted === VISITORS) break;
        expect(at - opened, `the line drains (${JSON.stringify(samples.filter((_, i) => i % 8 === 0))})`).toBeLessThan(60_000);
        await sleep(250);
      }
      const drained = samples[samples.length - 1]!.at;
      // The first burst (5 s worth and one), then one every 500 ms: the line cannot drain sooner.
      const soonest = (VISITORS - (RATE_BURST_MS * PER_MINUTE) / 60_000 - 1) * (60_000 / PER_MINUTE);
      expect(drained).toBeGreaterThanOrEqual(soonest - 250);
      console.log(
        `rate limit ${PER_MINUTE}/min: ${VISITORS} visitors admitted in ${(drained / 1000).toFixed(1)} s (soonest ${(soonest / 1000).toFixed(1)} s); ` +
          `admitted after 1 s: ${samples.find((s) => s.at >= 1_000)?.admitted}, after 5 s: ${samples.find((s) => s.at >= 5_000)?.admitted}`,
      );
    } finally {
      for (const visitor of line) visitor.stopHeartbeats();
      await Promise.all(line.map((v) => v.settled()));
    }
  }, 90_000);
});

describe('passthrough', () => {
  it('admits everyone at the first heartbeat, beyond the seats, and counts them', async () => {
    const roomId = await room({ capacity: 1, mode: 'passthrough' });
    const visitors = await Promise.all(Array.from({ length: 6 }, () => Visitor.join(url, roomId)));
    for (const visitor of visitors) expect(visitor.view).toMatchObject({ state: 'admitted', mode: 'passthrough' });
    expect(visitors.every((v) => typeof v.view.pass === 'string')).toBe(true);
    await expect(admin(url, 'GET', `/rooms/${roomId}`)).resolves.toMatchObject({ mode: 'passthrough', capacity: 1, activeCount: 6, admittedTotal: 6 });
    await eventually(async () => ((await status(roomId)).active === 6 ? true : undefined), 5_000, 'the status to count 6 inside');
    await expect(status(roomId)).resolves.toMatchObject({ mode: 'passthrough', estimatedWaitSeconds: 0 });
  }, 60_000);
});

describe('reject', () => {
  it('refuses joins without a ticket, with the message, while the line already there goes on', async () => {
    const roomId = await room({ capacity: 1 });
    const inside = await Visitor.join(url, roomId);
    const waiting = await Visitor.join(url, roomId);
    expect([inside.view.state, waiting.view.state]).toEqual(['admitted', 'waiting']);
    waiting.startHeartbeats(BEAT_MS);
    try {
      await admin(url, 'PUT', `/rooms/${roomId}`, { mode: 'reject', message: 'Saturday is sold out' });
      // Joins read the room through a view at most a second old.
      await sleep(ROOM_VIEW_MAX_AGE_MS + 200);
      const before = (await admin<{ lastTicket: number }>(url, 'GET', `/rooms/${roomId}`)).lastTicket;
      const refused = await Visitor.join(url, roomId).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(HttpError);
      expect(refused).toMatchObject({ status: 409, body: { error: { code: 'ROOM_NOT_ACCEPTING', message: expect.stringContaining('Saturday is sold out') } } });
      await expect(admin(url, 'GET', `/rooms/${roomId}`)).resolves.toMatchObject({ lastTicket: before, mode: 'reject' });
      await eventually(async () => ((await status(roomId)).mode === 'reject' ? true : undefined), 5_000, 'the status to say reject');
      await inside.leave();
      await eventually(async () => ((await waiting.read()).state === 'admitted' ? true : undefined), 10_000, 'the visitor in line to be admitted');
    } finally {
      waiting.stopHeartbeats();
      await waiting.settled();
    }
  }, 60_000);
});
