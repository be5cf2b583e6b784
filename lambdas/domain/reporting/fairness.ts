/**
 * The fairness and accuracy report of a room (issue 12, item 7): over the last hour, how closely
 * admission order followed arrival order, how long visitors waited, how many gave up, and how good
 * the wait estimate shown at the join was; and from it, the range of waits a visitor is shown.
 *
 * Pure: the samples come from the token stream (lambdas/domain/reporting/fairness-samples.ts records them),
 * the window from the caller's clock.
 *
 * ## Weights
 * A busy minute keeps only a sample of its visitors (fairness-samples.ts), each standing for
 * `weight` visitors (a power of two, 1 when nothing was left out). Every figure is weighted, so a
 * quiet minute kept whole does not outweigh a busy minute kept in part: counts are sums of weights,
 * percentiles are of the weighted distribution, and Kendall's tau counts a pair of samples as
 * `w_i × w_j` pairs of visitors. With every weight 1 they are the textbook figures.
 */

/** What became of one visitor who waited: admitted, or removed while still waiting. */
export interface FairnessSample {
  ticket: number;
  /** Epoch ms of the join. */
  issuedAt: number;
  /** Epoch ms of the admission (WAITING → ADMITTED). */
  admittedAt?: number;
  /** Epoch ms of the removal while WAITING: the visitor left, or went silent and was evicted. */
  leftWaitingAt?: number;
  /** The wait the join's answer estimated (seconds). */
  predictedWaitSeconds?: number;
  /** The range of waits the join's answer showed, when it showed one. */
  shownRange?: WaitRange;
  /** How many visitors this sample stands for. @default 1 */
  weight?: number;
}

/** How good the estimate shown at the join was, over the admitted visitors whose join showed one. */
export interface PredictionAccuracy {
  /** Admitted samples with an estimate (the figures below, but the ratios, are over these). */
  samples: number;
  /**
   * Samples behind the ratios: those whose estimate was at least RATIO_MIN_PREDICTION_SECONDS (a
   * ratio to an estimate of a few seconds says more about heartbeat timings than about the rate).
   */
  ratioSamples: number;
  /** Median of actual ÷ predicted wait: below 1, the estimate was pessimistic. */
  medianRatio: number | null;
  p10Ratio: number | null;
  p90Ratio: number | null;
  meanAbsoluteErrorSeconds: number | null;
  /** Samples whose join showed a range of waits. */
  rangeSamples: number;
  /** Share of those whose actual wait fell within the range shown (null when none showed one). */
  withinRangeShare: number | null;
}

export interface FairnessReport {
  /** Epoch ms: the report covers visitors admitted or removed within [windowStart, windowEnd]. */
  windowStart: number;
  windowEnd: number;
  /** Visitors admitted in the window (sum of weights: exact when `exact`, an estimate otherwise). */
  admitted: number;
  /** Visitors removed while waiting in the window (left or evicted). */
  abandoned: number;
  /** Samples behind the figures. */
  samples: number;
  /** Every sample stands for one visitor (no minute of the window was sampled in part). */
  exact: boolean;
  /**
   * Kendall's tau-b between ticket order and admission order among the admitted: 1 when admission
   * followed tickets exactly (visitors admitted together are ties, not disorder), -1 reversed. Null
   * under 2 admitted samples, or when every one of them was admitted at the same instant.
   */
  kendallTau: number | null;
  /**
   * Goodman and Kruskal's gamma over the same pairs: 1 when no visitor was admitted before one with
   * a lower ticket, whatever the batching (tau-b stays below 1 under batched admissions: see
   * orderAgreement). Null when no two admitted samples differ in both ticket and admission time.
   */
  orderGamma: number | null;
  /** Wait (join to admission) of the admitted, seconds; null when nobody was admitted. */
  waitP50Seconds: number | null;
  waitP90Seconds: number | null;
  /** abandoned ÷ (admitted + abandoned); null when both are 0. Visitors still waiting are not counted. */
  abandonmentRate: number | null;
  predicted: PredictionAccuracy;
}

/** A range of waits, whole seconds, 0 ≤ lowSeconds ≤ highSeconds. */
export interface WaitRange {
  lowSeconds: number;
  highSeconds: number;
}

/**
 * How to turn a room's point estimate into the range a visitor is shown (estimateRange): the range
 * is [point × lowFactor, point × highFactor]. Small enough for the room's public status.
 */
export interface RangeCalibration {
  lowFactor: number;
  highFactor: number;
  /** Samples the factors were measured from; 0 for the defaults. */
  samples: number;
}

/** The report covers the last hour. */
export const FAIRNESS_WINDOW_MS = 60 * 60 * 1000;

/** Ratio samples needed before the range is measured rather than the default: p10 and p90 of 30 rest on 3 samples each side. */
export const MIN_CALIBRATION_SAMPLES = 30;

/** Estimates below this many seconds give no ratio (see PredictionAccuracy.ratioSamples). */
export const RATIO_MIN_PREDICTION_SECONDS = 10;

/** The low end of the default range, as a share of the point estimate once departures are taken off. */
export const DEFAULT_LOW_SHARE = 0.5;

/**
 * Calibrated factors are kept within [0, MAX_RANGE_FACTOR]: a range up to four times the estimate
 * already tells the visitor the estimate is poor; a wider one would be noise from a few slow visitors.
 */
export const MAX_RANGE_FACTOR = 4;

/** The range before anything is measured: from nothing to the point estimate (see defaultCalibration). */
export const DEFAULT_CALIBRATION: Readonly<RangeCalibration> = Object.freeze({ lowFactor: DEFAULT_LOW_SHARE, highFactor: 1, samples: 0 });

/** The port the admin route and the CLI read a room's report through. */
export interface FairnessReports {
  /** The report over [now - FAIRNESS_WINDOW_MS, now]. */
  report(roomId: string, now: number): Promise<FairnessReport>;
}

// ---------------------------------------------------------------------------------------------
// The report.

const weightOf = (sample: FairnessSample): number =>
  typeof sample.weight === 'number' && Number.isFinite(sample.weight) && sample.weight > 0 ? sample.weight : 1;

/** When the sample's outcome happened (admission first: a sample with both is an admission). */
export const outcomeAt = (sample: FairnessSample): number | undefined => sample.admittedAt ?? sample.leftWaitingAt;

/** The fairness report of the samples whose outcome falls within [windowStart, windowEnd]. */
export function fairnessReport(samples: readonly FairnessSample[], windowStart: number, windowEnd: number): FairnessReport {
  const inWindow = samples.filter((s) => {
    const at = outcomeAt(s);
    return at !== undefined && at >= windowStart && at <= windowEnd;
  });
  const admittedSamples = inWindow.filter((s) => s.admittedAt !== undefined);
  const admitted = sum(admittedSamples.map(weightOf));
  const abandoned = sum(inWindow.filter((s) => s.admittedAt === undefined).map(weightOf));
  const waits = admittedSamples.map((s) => ({ value: waitSecondsOf(s), weight: weightOf(s) }));
  const order = orderAgreement(admittedSamples.map((s) => ({ x: s.ticket, y: s.admittedAt!, weight: weightOf(s) })));
  return {
    windowStart,
    windowEnd,
    admitted,
    abandoned,
    samples: inWindow.length,
    exact: inWindow.every((s) => weightOf(s) === 1),
    kendallTau: order.tauB,
    orderGamma: order.gamma,
    waitP50Seconds: weightedQuantile(waits, 0.5),
    waitP90Seconds: weightedQuantile(waits, 0.9),
    abandonmentRate: admitted + abandoned > 0 ? abandoned / (admitted + abandoned) : null,
    predicted: predictionAccuracy(admittedSamples),
  };
}

/** The actual wait of an admitted sample, seconds (never negative: clocks of two writers may differ a little). */
const waitSecondsOf = (sample: FairnessSample): number => Math.max(0, (sample.admittedAt! - sample.issuedAt) / 1000);

function predictionAccuracy(admitted: readonly FairnessSample[]): PredictionAccuracy {
  const predicted = admitted.filter((s) => typeof s.predictedWaitSeconds === 'number' && Number.isFinite(s.predictedWaitSeconds) && s.predictedWaitSeconds >= 0);
  const ratios = predicted
    .filter((s) => s.predictedWaitSeconds! >= RATIO_MIN_PREDICTION_SECONDS)
    .map((s) => ({ value: waitSecondsOf(s) / s.predictedWaitSeconds!, weight: weightOf(s) }));
  const errors = predicted.map((s) => ({ value: Math.abs(waitSecondsOf(s) - s.predictedWaitSeconds!), weight: weightOf(s) }));
  const ranged = predicted.filter((s) => s.shownRange !== undefined);
  const rangedWeight = sum(ranged.map(weightOf));
  const within = sum(
    ranged.filter((s) => waitSecondsOf(s) >= s.shownRange!.lowSeconds && waitSecondsOf(s) <= s.shownRange!.highSeconds).map(weightOf),
  );
  return {
    samples: predicted.length,
    ratioSamples: ratios.length,
    medianRatio: weightedQuantile(ratios, 0.5),
    p10Ratio: weightedQuantile(ratios, 0.1),
    p90Ratio: weightedQuantile(ratios, 0.9),
    meanAbsoluteErrorSeconds: errors.length > 0 ? sum(errors.map((e) => e.value * e.weight)) / sum(errors.map((e) => e.weight)) : null,
    rangeSamples: ranged.length,
    withinRangeShare: rangedWeight > 0 ? within / rangedWeight : null,
  };
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------------
// Percentiles.

/**
 * The q-quantile of a weighted sample (nearest rank): the smallest value whose cumulative weight
 * reaches q × the total weight; the smallest value for q = 0. With unit weights, the p50 of an even
 * count is the lower median. Null for no values.
 */
export function weightedQuantile(values: readonly { value: number; weight: number }[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a.value - b.value);
  const total = sum(sorted.map((v) => v.weight));
  // 0.1 × 30 is 3.0000000000000004 in floating point: without the tolerance, p10 of 30 would take rank 4.
  const target = q * total - 1e-9 * total;
  let cumulative = 0;
  for (const v of sorted) {
    cumulative += v.weight;
    if (cumulative >= target && cumulative > 0) return v.value;
  }
  return sorted[sorted.length - 1]!.value;
}

// ---------------------------------------------------------------------------------------------
// Kendall's tau-b, O(n log n) (Knight 1966), weighted.

/** A point of the two orders compared: x (ticket), y (admission time). */
export interface RankedPair {
  x: number;
  y: number;
  /** @default 1 */
  weight?: number;
}

/** How two orders agree over a set of pairs (see orderAgreement). */
export interface OrderAgreement {
  /** Kendall's tau-b, in [-1, 1]; null under 2 samples or when all are tied in x or all in y. */
  tauB: number | null;
  /** Goodman and Kruskal's gamma, (C − D) / (C + D), in [-1, 1]; null when no pair is untied in both. */
  gamma: number | null;
}

/**
 * Kendall's tau-b of the pairs, (C − D) / √((P − Tx)(P − Ty)), and Goodman and Kruskal's gamma,
 * (C − D) / (C + D), where P counts every pair of samples, Tx those tied in x, Ty those tied in y,
 * C and D the concordant and discordant ones; a pair of samples counts w_i × w_j (so a sample of
 * weight w is w identical visitors: the figures are those of the visitors it stands for).
 *
 * Ties are what batched admissions make (many visitors admitted at one instant). Neither figure
 * counts them as disorder, but tau-b keeps them in its denominator: visitors with distinct tickets
 * admitted in batches of b, in perfect ticket order, have a tau-b of about √(1 − (b − 1)/(n − 1))
 * (0.90 for 5 batches of 10), never 1, while their gamma is exactly 1. Gamma answers "did a later
 * ticket ever go first?"; tau-b is the figure asked for and comparable across rooms of equal batching.
 *
 * Knight's algorithm, O(n log n): sort by (x, y); the weight of pairs tied in x (and in both) is
 * read off the runs; a merge sort on y then counts the discordant pairs as the weighted swaps it
 * makes (a pair tied in x is already in y order, and a pair tied in y is never swapped, the merge
 * being stable); the runs of the y-sorted result give the pairs tied in y. Then C + D = P − Tx −
 * Ty + Txy and C − D = C + D − 2D.
 */
export function orderAgreement(pairs: readonly RankedPair[]): OrderAgreement {
  const n = pairs.length;
  if (n < 2) return { tauB: null, gamma: null };
  const points = pairs.map((p) => ({ x: p.x, y: p.y, w: typeof p.weight === 'number' && p.weight > 0 ? p.weight : 1 }));
  points.sort((a, b) => a.x - b.x || a.y - b.y);

  const totalWeight = sum(points.map((p) => p.w));
  const squares = sum(points.map((p) => p.w * p.w));
  const all = (totalWeight * totalWeight - squares) / 2;
  const tiedX = tiedPairs(points, (a, b) => a.x === b.x);
  const tiedXY = tiedPairs(points, (a, b) => a.x === b.x && a.y === b.y);

  const discordant = mergeSortCountingSwaps(points);
  const tiedY = tiedPairs(points, (a, b) => a.y === b.y);

  const untied = all - tiedX - tiedY + tiedXY;
  const difference = untied - 2 * discordant;
  const denominator = Math.sqrt((all - tiedX) * (all - tiedY));
  const bounded = (value: number): number => Math.max(-1, Math.min(1, value));
  return {
    tauB: denominator > 0 ? bounded(difference / denominator) : null,
    gamma: untied > 0 ? bounded(difference / untied) : null,
  };
}

/** Kendall's tau-b of the pairs (orderAgreement); null under 2 samples, or when all are tied in x or all in y. */
export function kendallTauB(pairs: readonly RankedPair[]): number | null {
  return orderAgreement(pairs).tauB;
}

interface Weighted {
  x: number;
  y: number;
  w: number;
}

/** The weight of the pairs within runs of equal neighbours: per run, ((Σw)² − Σw²) / 2. */
function tiedPairs(points: readonly Weighted[], same: (a: Weighted, b: Weighted) => boolean): number {
  let total = 0;
  let runWeight = 0;
  let runSquares = 0;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (i > 0 && !same(points[i - 1]!, p)) {
      total += (runWeight * runWeight - runSquares) / 2;
      runWeight = 0;
      runSquares = 0;
    }
    runWeight += p.w;
    runSquares += p.w * p.w;
  }
  return total + (runWeight * runWeight - runSquares) / 2;
}

/**
 * Sorts `points` by y in place (stable, bottom-up merge sort) and returns the weight of the swaps:
 * each time an element of the right run goes before the rest of the left run, it is discordant
 * with each of them.
 */
function mergeSortCountingSwaps(points: Weighted[]): number {
  const n = points.length;
  let from = points.slice();
  let to = new Array<Weighted>(n);
  let swaps = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let start = 0; start < n; start += 2 * width) {
      const middle = Math.min(start + width, n);
      const end = Math.min(start + 2 * width, n);
      let leftWeight = 0;
      for (let k = start; k < middle; k++) leftWeight += from[k]!.w;
      let i = start;
      let j = middle;
      let k = start;
      while (i < middle && j < end) {
        const left = from[i]!;
        const right = from[j]!;
        if (right.y < left.y) {
          swaps += right.w * leftWeight;
          to[k++] = right;
          j++;
        } else {
          leftWeight -= left.w;
          to[k++] = left;
          i++;
        }
      }
      while (i < middle) to[k++] = from[i++]!;
      while (j < end) to[k++] = from[j++]!;
    }
    [from, to] = [to, from];
  }
  for (let k = 0; k < n; k++) points[k] = from[k]!;
  return swaps;
}

// ---------------------------------------------------------------------------------------------
// The range shown to visitors.

/**
 * The default calibration, before MIN_CALIBRATION_SAMPLES ratios are measured. The point estimate
 * (position ÷ admission rate) is an upper bound while the rate holds: the position counts every
 * ticket ahead, gaps in ticket blocks and visitors who will leave before their turn included. So
 * the range ends at the point (highFactor 1), and starts at the point with the abandonment taken
 * off, × (1 − abandonmentRate), and halved (DEFAULT_LOW_SHARE) for what is not measured yet:
 * the gaps, and a rate that picks up as seats free faster. An unknown abandonment counts as 0.
 */
export function defaultCalibration(abandonmentRate: number | null, samples = 0): RangeCalibration {
  const abandonment = abandonmentRate !== null && Number.isFinite(abandonmentRate) ? Math.min(1, Math.max(0, abandonmentRate)) : 0;
  return { lowFactor: floorTo(DEFAULT_LOW_SHARE * (1 - abandonment), 2), highFactor: 1, samples };
}

/**
 * The calibration a report supports: with at least MIN_CALIBRATION_SAMPLES ratios, the measured
 * p10 and p90 of actual ÷ predicted wait (so about 8 visitors in 10 were admitted within the range
 * their estimate would now give), each within [0, MAX_RANGE_FACTOR], rounded outwards to two
 * decimals (the status stays short and the range only widens); otherwise defaultCalibration.
 */
export function calibrationOf(report: FairnessReport): RangeCalibration {
  const { ratioSamples, p10Ratio, p90Ratio } = report.predicted;
  if (ratioSamples < MIN_CALIBRATION_SAMPLES || p10Ratio === null || p90Ratio === null) {
    return defaultCalibration(report.abandonmentRate, ratioSamples);
  }
  const low = clampFactor(p10Ratio);
  const high = Math.max(low, clampFactor(p90Ratio));
  return { lowFactor: floorTo(low, 2), highFactor: Math.min(MAX_RANGE_FACTOR, ceilTo(high, 2)), samples: ratioSamples };
}

/**
 * The range of waits to show for a point estimate: [floor(point × lowFactor), ceil(point ×
 * highFactor)], whole seconds, never negative, low ≤ high whatever the calibration holds (factors
 * out of order are swapped, factors that are not numbers fall back to the defaults', negative
 * ones count as 0). A point estimate that is not a positive number gives [0, 0].
 */
export function estimateRange(pointEstimateSeconds: number, calibration: RangeCalibration): WaitRange {
  const point = Number.isFinite(pointEstimateSeconds) && pointEstimateSeconds > 0 ? pointEstimateSeconds : 0;
  const a = factorOr(calibration.lowFactor, DEFAULT_CALIBRATION.lowFactor);
  const b = factorOr(calibration.highFactor, DEFAULT_CALIBRATION.highFactor);
  const lowSeconds = Math.floor(point * Math.min(a, b));
  const highSeconds = Math.ceil(point * Math.max(a, b));
  return { lowSeconds, highSeconds: Math.max(lowSeconds, highSeconds) };
}

const clampFactor = (factor: number): number => Math.min(MAX_RANGE_FACTOR, Math.max(0, factor));
const factorOr = (factor: number, fallback: number): number => (Number.isFinite(factor) ? clampFactor(factor) : fallback);
const floorTo = (value: number, decimals: number): number => Math.floor(value * 10 ** decimals + 1e-9) / 10 ** decimals;
const ceilTo = (value: number, decimals: number): number => Math.ceil(value * 10 ** decimals - 1e-9) / 10 ** decimals;
