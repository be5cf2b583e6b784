/**
 * The calibration's visitors: a few hundred, short timings, the same arrivals and plans (who
 * abandons when, who goes silent) for the model and for the local runtime, so that their counts
 * can be compared visitor for visitor.
 */
import type { Timings } from '../../lambdas/domain/index.js';
import { seededRandom } from './simulation.js';
import type { VisitorPlan } from './visitor.js';

export interface CalibrationPlan {
  roomId: string;
  capacity: number;
  timings: Partial<Timings>;
  /** Arrival of each visitor, ms after the start, and its plan. */
  visitors: { arrivalMs: number; plan: VisitorPlan }[];
  /** Counting stops this long after the start. */
  durationMs: number;
}

/**
 * Short timings. The front zone is 20 s rather than 10: with 10 s it holds so few live visitors
 * that whether an admitter finds too few (and widens the zone to the whole line) depends on
 * milliseconds, and two runs of the local runtime alone differ by a third in heartbeats.
 */
export const CALIBRATION_TIMINGS: Partial<Timings> = {
  heartbeatTimeoutSeconds: 4,
  heartbeatIntervalSeconds: 1,
  keepPlaceIntervalSeconds: 6,
  keepPlaceTimeoutSeconds: 20,
  frontZoneSeconds: 20,
  checkDelaySeconds: 1,
  // Visits are 15 s: the estimate before anything was measured should say so.
  assumedVisitSeconds: 15,
};

/**
 * `short`: the CI run (a minute of traffic; about 70 s in all); otherwise 80 s, a steadier figure.
 * Shorter runs than these let one early, timing-dependent admission decide a tenth of the counts.
 */
export function calibrationPlan(short: boolean): CalibrationPlan {
  const count = short ? 240 : 300;
  const arrivalsMs = short ? 24_000 : 30_000;
  const random = seededRandom(11);
  const visitors = Array.from({ length: count }, (_unused, i) => {
    const arrivalMs = ((i + random()) * arrivalsMs) / count;
    const abandons = random() < 0.25;
    const plan: VisitorPlan = {
      visitMs: 15_000,
      endsSilently: random() < 0.1,
      ...(abandons ? { abandonAfterMs: random() * 20_000 } : {}),
    };
    return { arrivalMs, plan };
  });
  return { roomId: 'calibration', capacity: 20, timings: CALIBRATION_TIMINGS, visitors, durationMs: short ? 60_000 : 80_000 };
}
