import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TIMINGS,
  FRONT_ZONE_MIN_TICKETS,
  MAX_ESTIMATE_SECONDS,
  MAX_POLL_SECONDS,
  MIN_POLL_SECONDS,
  estimateWaitSeconds,
  farPollDelaySeconds,
  lineFacts,
  lineRate,
  placeOf,
  positionOf,
  rolledRate,
  silenceLimitMs,
  timingProblems,
  type Room,
} from '../../../lambdas/domain/index.js';

const T0 = 1_000_000;
function room(overrides: Partial<Room> = {}): Room {
  return {
    roomId: 'r',
    capacity: 10,
    state: 'open',
    mode: 'fifo',
    nextTicket: 0,
    activeCount: 0,
    lastAdmittedTicket: 0,
    admittedTotal: 0,
    evictedTotal: 0,
    rate: { prevAt: T0, prevTotal: 0, prevTicket: 0, curAt: T0, curTotal: 0, curTicket: 0 },
    lineShards: 4,
    frontFloor: 0,
    wakeSeq: 0,
    epoch: 0,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

describe('position', () => {
  it('counts the tickets ahead that were not admitted, plus one', () => {
    expect(positionOf(15, room({ lastAdmittedTicket: 10 }))).toBe(5);
  });
  it('is 1 for a ticket that raced an admission past it', () => {
    expect(positionOf(7, room({ lastAdmittedTicket: 10 }))).toBe(1);
    expect(positionOf(10, room({ lastAdmittedTicket: 10 }))).toBe(1);
  });
});

describe('line rate', () => {
  it('measures tickets per second from how far lastAdmittedTicket moved, gaps included', () => {
    // 30 admissions in 60 s while lastAdmittedTicket moved 45 tickets (15 gaps or visitors who left).
    const rate = lineRate(room({ admittedTotal: 30, lastAdmittedTicket: 45 }), T0 + 60_000, DEFAULT_TIMINGS);
    expect(rate).toEqual({ ticketsPerSecond: 0.75, admissionsPerSecond: 0.5, measured: true });
  });
  it('falls back to capacity turning over once per assumed visit before any admission', () => {
    expect(lineRate(room(), T0 + 60_000, DEFAULT_TIMINGS)).toEqual({ ticketsPerSecond: 10 / 300, admissionsPerSecond: 10 / 300, measured: false });
  });
  it('ignores a span of less than a few seconds, and samples grown too old', () => {
    expect(lineRate(room({ admittedTotal: 5 }), T0 + 1_000, DEFAULT_TIMINGS).measured).toBe(false);
    expect(lineRate(room({ admittedTotal: 5 }), T0 + 60 * 60_000, DEFAULT_TIMINGS).measured).toBe(false);
  });
  it('rolls the samples forward every half window', () => {
    const r = room({ admittedTotal: 8, lastAdmittedTicket: 9 });
    expect(rolledRate(r, T0 + 10_000)).toBeUndefined();
    expect(rolledRate(r, T0 + 30_000)).toEqual({ prevAt: T0, prevTotal: 0, prevTicket: 0, curAt: T0 + 30_000, curTotal: 8, curTicket: 9 });
  });
});

describe('wait estimate', () => {
  it('divides the position by the line speed', () => {
    expect(estimateWaitSeconds(10, 0.5)).toBe(20);
  });
  it('is zero once admitted and at most a day', () => {
    expect(estimateWaitSeconds(0, 1)).toBe(0);
    expect(estimateWaitSeconds(1_000_000, 0.001)).toBe(MAX_ESTIMATE_SECONDS);
    expect(estimateWaitSeconds(5, 0)).toBe(MAX_ESTIMATE_SECONDS);
  });
});

describe('front zone', () => {
  it('holds the tickets expected within frontZoneSeconds at the measured speed', () => {
    // 2 tickets a second × 60 s = 120 tickets past lastAdmittedTicket 1000.
    const facts = lineFacts(room({ admittedTotal: 120, lastAdmittedTicket: 1_000, rate: { prevAt: T0, prevTotal: 0, prevTicket: 880, curAt: T0, curTotal: 0, curTicket: 880 } }), T0 + 60_000, DEFAULT_TIMINGS);
    expect(facts.frontZoneTicket).toBe(1_120);
    expect(placeOf(1_120, facts)).toMatchObject({ zone: 'front', position: 120, estimatedWaitSeconds: 60 });
    expect(placeOf(1_121, facts).zone).toBe('far');
  });
  it('always holds a few tickets, and reaches the floor an admitter raised', () => {
    const slow = lineFacts(room({ capacity: 1, lastAdmittedTicket: 50 }), T0, DEFAULT_TIMINGS);
    expect(slow.frontZoneTicket).toBe(50 + FRONT_ZONE_MIN_TICKETS);
    expect(lineFacts(room({ capacity: 1, lastAdmittedTicket: 50, frontFloor: 400 }), T0, DEFAULT_TIMINGS).frontZoneTicket).toBe(400);
  });
  it('tells a far-back page to poll about ten times over its wait, and early enough before its zone', () => {
    const facts = { state: 'open' as const, lastAdmittedTicket: 0, frontZoneTicket: 60, ticketsPerSecond: 1, rateMeasured: true };
    expect(farPollDelaySeconds(600, facts)).toBe(MAX_POLL_SECONDS); // 600 s away: a minute
    expect(farPollDelaySeconds(300, facts)).toBe(30);
    expect(farPollDelaySeconds(75, facts)).toBe(5); // 15 s before the zone: every 5 s
    expect(farPollDelaySeconds(61, facts)).toBe(MIN_POLL_SECONDS);
  });
});

describe('timings', () => {
  it('accepts the defaults', () => {
    expect(timingProblems(DEFAULT_TIMINGS)).toEqual([]);
  });
  it('refuses a check delay outside SQS DelaySeconds', () => {
    expect(timingProblems({ ...DEFAULT_TIMINGS, checkDelaySeconds: 901 }).join()).toMatch(/1 to 900/);
    expect(timingProblems({ ...DEFAULT_TIMINGS, checkDelaySeconds: 2.5 }).join()).toMatch(/whole number/);
  });
  it('refuses heartbeat and keep-place intervals that are not shorter than their timeouts', () => {
    expect(timingProblems({ ...DEFAULT_TIMINGS, heartbeatIntervalSeconds: 20 }).join()).toMatch(/heartbeatIntervalSeconds.*shorter/);
    expect(timingProblems({ ...DEFAULT_TIMINGS, admittedHeartbeatIntervalSeconds: 25 }).join()).toMatch(/admittedHeartbeatIntervalSeconds.*shorter/);
    expect(timingProblems({ ...DEFAULT_TIMINGS, keepPlaceIntervalSeconds: 1200 }).join()).toMatch(/keepPlaceIntervalSeconds.*shorter/);
  });
  it('refuses a non-positive timing', () => {
    expect(timingProblems({ ...DEFAULT_TIMINGS, passTtlSeconds: 0 }).join()).toMatch(/passTtlSeconds/);
  });
  it('gives far-back waiting tokens the keep-place timeout and everyone else the heartbeat timeout', () => {
    expect(silenceLimitMs({ state: 'WAITING', signal: 'keep-place' }, DEFAULT_TIMINGS)).toBe(1_200_000);
    expect(silenceLimitMs({ state: 'WAITING', signal: 'heartbeat' }, DEFAULT_TIMINGS)).toBe(20_000);
    expect(silenceLimitMs({ state: 'ADMITTED', signal: 'keep-place' }, DEFAULT_TIMINGS)).toBe(20_000);
  });
});
