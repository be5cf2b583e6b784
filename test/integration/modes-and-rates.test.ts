/**
 * Issue 12, items 1 and 3, on the local runtime (DynamoDB Local + the queue emulator), over HTTP,
 * with short timings (heartbeat timeout 3 s, heartbeats every second, checks a second apart):
 *
 * - a rate limit (newVisitorsPerMinute) holds admissions to its bound though seats are free, and the
 *   line still drains at about the limit; the figures are printed;
 * - passthrough admits everyone at the first heartbeat, beyond the seats, and counts them;
 * - reject refuses joins without a ticket (409 ROOM_NOT_ACCEPTING with the message), while the
 *   visitors already in line go on being admitted;
 * - random fills each freed seat with a visitor drawn among the live waiting ones, not in ticket
 *   order (with probability above 1 - 1e-6), and never beyond the seats.
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
        // The bound of lambdas/domain/admission/admission-rate.ts, from just before the room opened: load only slows admissions.
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

describe('the range of waits shown', () => {
  it("is calibrated from the room's measured hour by the metrics run, and reaches the status and the views", async () => {
    const roomId = await room({ capacity: 2 });
    const visitors = [];
    for (let i = 0; i < 4; i++) visitors.push(await Visitor.join(url, roomId));
    expect(visitors.map((v) => v.view.state)).toEqual(['admitted', 'admitted', 'waiting', 'waiting']);
    // Two give up while waiting: abandonment 0.5, too few admissions to measure ratios, so the
    // calibration is the default derived from abandonment: from half the estimate × (1 - 0.5).
    await visitors[2]!.leave();
    await visitors[3]!.leave();
    await eventually(
      async () => {
        const report = await admin<{ admitted: number; abandoned: number }>(url, 'GET', `/rooms/${roomId}/report`);
        return report.admitted === 2 && report.abandoned === 2 ? report : undefined;
      },
      20_000,
      'the token stream to reach the report',
    );
    await admin(url, 'POST', '/metrics/refresh');
    const calibrated = await eventually(
      async () => {
        const s = await status(roomId);
        return s.estimateCalibration.lowFactor === 0.25 ? s : undefined;
      },
      20_000,
      'the metrics run to store the calibration',
    );
    // (samples: the admitted visitors behind it, fewer than the 30 a measured range needs.)
    expect(calibrated.estimateCalibration).toMatchObject({ lowFactor: 0.25, highFactor: 1 });
    expect(calibrated.estimateCalibration.samples).toBeLessThan(30);
    const late = await Visitor.join(url, roomId);
    expect(late.view.estimatedWaitLowSeconds).toBe(Math.floor(late.view.estimatedWaitSeconds * 0.25));
    expect(late.view.estimatedWaitHighSeconds).toBe(late.view.estimatedWaitSeconds);
  }, 60_000);
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

describe('random', () => {
  it('fills each freed seat with a visitor drawn among the live ones, whatever their tickets, never beyond the seats', async () => {
    const CAPACITY = 3;
    const VISITORS = 12;
    const LEAVES = 5;
    const roomId = await room({ capacity: 0, mode: 'random' });
    const line = await Promise.all(Array.from({ length: VISITORS }, () => Visitor.join(url, roomId)));
    for (const visitor of line) visitor.startHeartbeats(BEAT_MS);
    let peak = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        peak = Math.max(peak, (await admin<{ activeCount: number }>(url, 'GET', `/rooms/${roomId}`)).activeCount);
        await sleep(50);
      }
    })();
    try {
      await sleep(BEAT_MS + 200); // every visitor heard from: all live
      for (const visitor of line) expect(visitor.view).toMatchObject({ state: 'waiting', zone: 'front', mode: 'random' });
      const left = new Set<Visitor>();
      const admitted = async () => (await Promise.all(line.filter((v) => !left.has(v)).map((v) => v.read()))).filter((view) => view.state === 'admitted');
      /** The tickets admitted after each draw, in the order of the draws. */
      const draws: number[][] = [];
      const seated = async (n: number) => eventually(async () => ((await admitted()).length === n ? admitted() : undefined), 10_000, `${n} seated`);

      await admin(url, 'PUT', `/rooms/${roomId}`, { capacity: CAPACITY });
      const everAdmitted = new Set((await seated(CAPACITY)).map((v) => v.ticket));
      draws.push([...everAdmitted]);
      for (let i = 0; i < LEAVES; i++) {
        // Free one seat: the first admitted visitor leaves, and the leave's admission draws the next.
        const leaving = line.find((v) => !left.has(v) && everAdmitted.has(v.view.ticket) && v.view.state === 'admitted')!;
        left.add(leaving);
        await leaving.leave();
        const now = await seated(CAPACITY);
        const drawn = now.map((v) => v.ticket).filter((t) => !everAdmitted.has(t));
        expect(drawn).toHaveLength(1);
        everAdmitted.add(drawn[0]!);
        draws.push(drawn);
      }
      // The line still waiting sees its length, not a ticket distance, and stays in the front zone.
      const waiting = line.filter((v) => !everAdmitted.has(v.view.ticket));
      expect(waiting).toHaveLength(VISITORS - CAPACITY - LEAVES);
      for (const visitor of waiting) expect(await visitor.read()).toMatchObject({ state: 'waiting', zone: 'front', position: expect.any(Number) });
      expect(Math.min(...(await Promise.all(waiting.map(async (v) => (await v.read()).position))))).toBeGreaterThanOrEqual(waiting.length);

      // Not ticket order. Were the draws fifo, after each one the tickets admitted would be the lowest
      // as many: 3 of 12 first, then the lowest of 9, 8, 7, 6 and 5 left. Drawn uniformly, that
      // happens with probability 1/220 × 1/9 × 1/8 × 1/7 × 1/6 × 1/5 = 1 in 3,326,400 (< 1e-6).
      const tickets = line.map((v) => v.view.ticket).sort((a, b) => a - b);
      let soFar: number[] = [];
      const fifoAtEveryDraw = draws.every((drawn) => {
        soFar = [...soFar, ...drawn].sort((a, b) => a - b);
        return soFar.every((t, k) => t === tickets[k]);
      });
      expect(fifoAtEveryDraw, `draws ${JSON.stringify(draws)} of tickets ${tickets.join(', ')}`).toBe(false);
      console.log(`random: ${VISITORS} visitors, ${CAPACITY} seats, draws ${JSON.stringify(draws)} of tickets ${tickets.join(', ')}`);
    } finally {
      watching = false;
      await watch;
      for (const visitor of line) visitor.stopHeartbeats();
      await Promise.all(line.map((v) => v.settled()));
    }
    expect(peak, 'seats taken at most').toBeLessThanOrEqual(CAPACITY);
    expect(peak).toBe(CAPACITY);
  }, 60_000);
});
