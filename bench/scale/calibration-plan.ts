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
 * Short timings. The front zone is 30 s rather than 10: with 10 s it holds so few live visitors
 * that whether an admitter finds too few (and widens the zone to the whole line) depends on
 * milliseconds, and two runs of the local runtime alone differ by a third in heartbeats; with 20 s
 * and keep-place signals 10 s apart, one local run in six still did (its heartbeats 28 % above the
 * model's), as far-back pages learn they are in front only at their next read or signal.
 *
 * Keep-place signals every 10 s: a far-back page times its next status read from every token view
 * it gets, at a tenth of the view's estimate (web/src/client/zones.ts firstReadDelayMs), 6-8 s
 * here. With signals every 6 s, whether a read fell between two signals at all followed the
 * estimate's last few per cent (measured: the model's pages polled 6-10 % more than the local
 * ones, in two runs of eleven just over 10 %).
 */
export const CALIBRATION_TIMINGS: Partial<Timings> = {
  heartbeatTimeoutSeconds: 4,
  heartbeatIntervalSeconds: 1,
  keepPlaceIntervalSeconds: 10,
  keepPlaceTimeoutSeconds: 30,
  frontZoneSeconds: 30,
  checkDelaySeconds: 1,
  // Visits are 15 s: the estimate before anything was measured should say so.
  assumedVisitSeconds: 15,
};

/**
 * `short`: the CI run (a minute of traffic; about 70 s in all); otherwise 80 s, a steadier figure.
 * Shorter runs than these let one early, timing-dependent admission decide a tenth of the counts.
 *
 * Visits last 5-25 s (15 on average), as real ones vary. With every visit 15 s long the first
 * twenty seats, taken in the first second, freed in the same second fifteen seconds later, and so
 * on: each wave of leaves fell on one admitter's lease, and how many found it taken (and how many
 * seats the holder then admitted in one transaction) followed milliseconds of this machine's load
 * (measured: the leaves' fills 0.17-0.23 transactions a visitor locally against 0.23 in the model;
 * with visits spread, 0.25-0.26 in both).
 */
export function calibrationPlan(short: boolean): CalibrationPlan {
  const count = short ? 240 : 300;
  const arrivalsMs = short ? 24_000 : 30_000;
  const random = seededRandom(11);
  const visitors = Array.from({ length: count }, (_unused, i) => {
    const arrivalMs = ((i + random()) * arrivalsMs) / count;
    const abandons = random() < 0.25;
    const plan: VisitorPlan = {
      visitMs: 5_000 + random() * 20_000,
      endsSilently: random() < 0.1,
      ...(abandons ? { abandonAfterMs: random() * 20_000 } : {}),
    };
    return { arrivalMs, plan };
  });
  return { roomId: 'calibration', capacity: 20, timings: CALIBRATION_TIMINGS, visitors, durationMs: short ? 60_000 : 80_000 };
}
