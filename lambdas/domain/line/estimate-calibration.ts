/**
 * The range of waits a visitor is shown (issue 12 item 7): the point estimate of positions.ts is an
 * upper bound (positions count gaps and visitors who will leave), so visitors see a range calibrated
 * from what the room measured over its last hour (fairness.ts calibrationOf: p10 and p90 of actual ÷
 * estimated wait, or, with too few admissions yet, a default derived from abandonment).
 *
 * The calibration lives on the room item, so that every function's room view carries it for free:
 * the metrics publisher, which runs every 10 s while a room is active, measures each room that had
 * activity since its last calibration at most once a minute (one read of the last hour's sample
 * buckets, lambdas/adapters/dynamo-fairness.ts) and stores the factors. Idle rooms cost nothing.
 */
import { DEFAULT_CALIBRATION, calibrationOf, estimateRange, type FairnessReports, type WaitRange } from '../reporting/fairness.js';
import type { EstimateCalibration, Room } from '../model.js';

/** A room is calibrated again at most this often. */
export const CALIBRATION_INTERVAL_MS = 60_000;

export interface CalibrationStore {
  /** Stores the room's calibration (without touching what counts as the room's activity: updatedAt). */
  saveCalibration(roomId: string, calibration: EstimateCalibration & { at: number }): Promise<void>;
}

/** The calibration a room's views use: its own, or the defaults before its first. */
export const calibrationOfRoom = (room: Pick<Room, 'calibration'>): EstimateCalibration =>
  room.calibration ? { lowFactor: room.calibration.lowFactor, highFactor: room.calibration.highFactor, samples: room.calibration.samples } : { ...DEFAULT_CALIBRATION };

/** The range to show for a point estimate in this room. */
export const waitRangeIn = (room: Pick<Room, 'calibration'>, pointSeconds: number): WaitRange => estimateRange(pointSeconds, calibrationOfRoom(room));

/** Whether a room is due for calibration: never calibrated, or a minute since and something happened meanwhile. */
export function calibrationDue(room: Pick<Room, 'calibration' | 'updatedAt'>, now: number): boolean {
  if (!room.calibration) return true;
  return now - room.calibration.at >= CALIBRATION_INTERVAL_MS && room.updatedAt > room.calibration.at;
}

export class RoomCalibrator {
  constructor(
    private readonly reports: FairnessReports,
    private readonly store: CalibrationStore,
    private readonly onError: (roomId: string, error: unknown) => void = () => undefined,
  ) {}

  /** Calibrates the rooms that are due; a failure leaves that room's calibration as it was. Returns how many were stored. */
  async refresh(rooms: readonly Room[], now: number): Promise<number> {
    let stored = 0;
    await Promise.all(
      rooms
        .filter((room) => calibrationDue(room, now))
        .map(async (room) => {
          try {
            const calibration = calibrationOf(await this.reports.report(room.roomId, now));
            await this.store.saveCalibration(room.roomId, { ...calibration, at: now });
            stored++;
          } catch (error) {
            this.onError(room.roomId, error);
          }
        }),
    );
    return stored;
  }
}
