import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TIMINGS,
  MAX_ESTIMATE_SECONDS,
  estimateWaitSeconds,
  measuredAdmissionRate,
  positionOf,
  timingProblems,
  type Room,
} from '../../../lambdas/domain/index.js';

const T0 = 1_000_000;
function room(overrides: Partial<Room> = {}): Room {
  return {
    roomId: 'r',
    capacity: 10,
    state: 'open',
    nextTicket: 0,
    activeCount: 0,
    lastAdmittedTicket: 0,
    admittedTotal: 0,
    evictedTotal: 0,
    rate: { prevAt: T0, prevTotal: 0, curAt: T0, curTotal: 0 },
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

describe('wait estimate', () => {
  it('divides the position by the measured admission rate', () => {
    // 30 admissions in 60 s: 0.5 per second; position 10 → 20 s.
    const r = room({ admittedTotal: 30 });
    expect(measuredAdmissionRate(r, T0 + 60_000)).toBeCloseTo(0.5);
    expect(estimateWaitSeconds(10, r, T0 + 60_000, DEFAULT_TIMINGS)).toBe(20);
  });
  it('falls back to capacity turning over once per assumed visit before any admission', () => {
    // capacity 10, visit 300 s: 1 admission per 30 s; position 3 → 90 s.
    expect(estimateWaitSeconds(3, room(), T0 + 60_000, DEFAULT_TIMINGS)).toBe(90);
  });
  it('ignores a measurement over less than a few seconds', () => {
    expect(measuredAdmissionRate(room({ admittedTotal: 5 }), T0 + 1_000)).toBeUndefined();
  });
  it('is zero for an admitted visitor and capped at a day', () => {
    expect(estimateWaitSeconds(0, room(), T0, DEFAULT_TIMINGS)).toBe(0);
    const slow = room({ capacity: 0 });
    expect(estimateWaitSeconds(1_000_000, slow, T0, DEFAULT_TIMINGS)).toBe(MAX_ESTIMATE_SECONDS);
  });
});

describe('timings', () => {
  it('accepts the defaults', () => {
    expect(timingProblems(DEFAULT_TIMINGS)).toEqual([]);
  });
  it('refuses a check delay outside SQS DelaySeconds', () => {
    expect(timingProblems({ ...DEFAULT_TIMINGS, checkDelaySeconds: 901 }).join()).toMatch(/0-900|1 to 900/);
    expect(timingProblems({ ...DEFAULT_TIMINGS, checkDelaySeconds: 2.5 }).join()).toMatch(/whole number/);
  });
  it('refuses a heartbeat interval that is not shorter than the timeout', () => {
    expect(timingProblems({ ...DEFAULT_TIMINGS, heartbeatIntervalSeconds: 20 }).join()).toMatch(/shorter/);
  });
  it('refuses a non-positive timing', () => {
    expect(timingProblems({ ...DEFAULT_TIMINGS, passTtlSeconds: 0 }).join()).toMatch(/passTtlSeconds/);
  });
});
