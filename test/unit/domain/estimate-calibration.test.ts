import { describe, expect, it } from 'vitest';
import {
  CALIBRATION_INTERVAL_MS,
  RoomCalibrator,
  calibrationDue,
  fairnessReport,
  statusOf,
  timingsWithDefaults,
  waitRangeIn,
  type EstimateCalibration,
  type FairnessSample,
  type Room,
} from '../../../lambdas/domain/index.js';
import { domainFixture } from '../../helpers/domain-fixture.js';

const T = 10_000_000;
const room = (overrides: Partial<Room> = {}): Room => ({
  roomId: 'shop',
  capacity: 10,
  state: 'open',
  mode: 'fifo',
  nextTicket: 100,
  activeCount: 10,
  lastAdmittedTicket: 10,
  admittedTotal: 10,
  evictedTotal: 0,
  rate: { prevAt: T - 60_000, prevTotal: 0, prevTicket: 0, curAt: T, curTotal: 10, curTicket: 10 },
  lineShards: 4,
  frontFloor: 0,
  wakeSeq: 1,
  epoch: 0,
  createdAt: 0,
  updatedAt: T,
  ...overrides,
});

/** 40 admitted visitors who waited 60-90 % of their 100 s estimate: p10 and p90 of actual ÷ estimated near 0.6 and 0.9. */
const samples: FairnessSample[] = Array.from({ length: 40 }, (_, i) => ({
  ticket: i + 1,
  issuedAt: T - 200_000,
  admittedAt: T - 200_000 + (60 + (i * 30) / 39) * 1000,
  predictedWaitSeconds: 100,
}));

describe('the range of waits shown', () => {
  it('is half the estimate up to the estimate before any calibration, and the calibrated factors after', () => {
    expect(waitRangeIn(room(), 120)).toEqual({ lowSeconds: 60, highSeconds: 120 });
    expect(waitRangeIn(room({ calibration: { lowFactor: 0.6, highFactor: 0.9, samples: 40, at: T } }), 120)).toEqual({ lowSeconds: 72, highSeconds: 108 });
  });

  it('is in the status (for a new arrival, and the factors for a page to apply to its own estimate)', () => {
    const status = statusOf(room({ calibration: { lowFactor: 0.6, highFactor: 0.9, samples: 40, at: T } }), T, timingsWithDefaults({}), 90);
    expect(status.estimateCalibration).toEqual({ lowFactor: 0.6, highFactor: 0.9, samples: 40 });
    expect(status.estimatedWaitLowSeconds).toBe(Math.floor(status.estimatedWaitSeconds * 0.6));
    expect(status.estimatedWaitHighSeconds).toBe(Math.ceil(status.estimatedWaitSeconds * 0.9));
  });

  it("is in every waiting visitor's view, and the join keeps the range it showed on the token for the report", async () => {
    const f = domainFixture();
    await f.rooms.configure('shop', { capacity: 0 });
    f.store.rooms.get('shop')!.calibration = { lowFactor: 0.25, highFactor: 0.75, samples: 31, at: f.clock.now() };
    const joined = await f.visitors.join('shop');
    const { estimatedWaitSeconds: point, estimatedWaitLowSeconds: low, estimatedWaitHighSeconds: high } = joined.view;
    expect(point).toBeGreaterThan(0);
    expect([low, high]).toEqual([Math.floor(point * 0.25), Math.ceil(point * 0.75)]);
    expect(f.store.tokens.get(joined.view.tokenId)).toMatchObject({ joinEstimateSeconds: point, joinEstimateLowSeconds: low, joinEstimateHighSeconds: high });
  });
});

describe('calibrating rooms', () => {
  const calibrated = (at: number): Room['calibration'] => ({ lowFactor: 0.5, highFactor: 1, samples: 0, at });

  it('is due for a room never calibrated, and a minute later only if something happened meanwhile', () => {
    expect(calibrationDue(room(), T)).toBe(true);
    expect(calibrationDue(room({ calibration: calibrated(T - 1_000), updatedAt: T }), T)).toBe(false);
    expect(calibrationDue(room({ calibration: calibrated(T - CALIBRATION_INTERVAL_MS), updatedAt: T }), T)).toBe(true);
    // Idle since its last calibration: nothing to measure, nothing read.
    expect(calibrationDue(room({ calibration: calibrated(T - 10 * CALIBRATION_INTERVAL_MS), updatedAt: T - 11 * CALIBRATION_INTERVAL_MS }), T)).toBe(false);
  });

  it("stores each due room's measured p10-p90 factors, skips the others, and reports a failure without stopping", async () => {
    const saved: [string, EstimateCalibration & { at: number }][] = [];
    const errors: string[] = [];
    const reported: string[] = [];
    const calibrator = new RoomCalibrator(
      {
        report: async (roomId, now) => {
          reported.push(roomId);
          if (roomId === 'broken') throw new Error('throttled');
          return fairnessReport(samples, now - 3_600_000, now);
        },
      },
      { saveCalibration: async (roomId, calibration) => void saved.push([roomId, calibration]) },
      (roomId) => errors.push(roomId),
    );
    const rooms = [room(), room({ roomId: 'idle', calibration: calibrated(T - 5 * 60_000), updatedAt: T - 6 * 60_000 }), room({ roomId: 'broken' })];
    await expect(calibrator.refresh(rooms, T)).resolves.toBe(1);
    expect(reported.sort()).toEqual(['broken', 'shop']);
    expect(errors).toEqual(['broken']);
    expect(saved).toHaveLength(1);
    const [roomId, calibration] = saved[0]!;
    expect(roomId).toBe('shop');
    expect(calibration.at).toBe(T);
    expect(calibration.samples).toBe(40);
    expect(calibration.lowFactor).toBeGreaterThanOrEqual(0.6);
    expect(calibration.lowFactor).toBeLessThan(0.65);
    expect(calibration.highFactor).toBeGreaterThan(0.85);
    expect(calibration.highFactor).toBeLessThanOrEqual(0.91);
  });
});
