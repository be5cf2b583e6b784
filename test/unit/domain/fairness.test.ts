import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CALIBRATION,
  MAX_RANGE_FACTOR,
  MIN_CALIBRATION_SAMPLES,
  calibrationOf,
  defaultCalibration,
  estimateRange,
  fairnessReport,
  kendallTauB,
  orderAgreement,
  weightedQuantile,
  type FairnessSample,
  type RangeCalibration,
  type RankedPair,
} from '../../../lambdas/domain/reporting/fairness.js';

const T0 = Date.UTC(2026, 0, 1, 12);
const HOUR = 3_600_000;

/** Kendall's tau-b by its definition, over every pair (O(n²)): the reference the fast algorithm must match. */
function reference(pairs: readonly RankedPair[]): { tauB: number | null; gamma: number | null } {
  let s = 0;
  let untiedX = 0;
  let untiedY = 0;
  let untiedBoth = 0;
  for (let i = 0; i < pairs.length; i++) {
    for (let j = i + 1; j < pairs.length; j++) {
      const a = pairs[i]!;
      const b = pairs[j]!;
      const w = (a.weight ?? 1) * (b.weight ?? 1);
      s += Math.sign(a.x - b.x) * Math.sign(a.y - b.y) * w;
      if (a.x !== b.x) untiedX += w;
      if (a.y !== b.y) untiedY += w;
      if (a.x !== b.x && a.y !== b.y) untiedBoth += w;
    }
  }
  return {
    tauB: pairs.length < 2 || untiedX === 0 || untiedY === 0 ? null : s / Math.sqrt(untiedX * untiedY),
    gamma: untiedBoth === 0 ? null : s / untiedBoth,
  };
}
const referenceTauB = (pairs: readonly RankedPair[]) => reference(pairs).tauB;

const expectClose = (actual: number | null, expected: number | null) => {
  if (expected === null) expect(actual).toBeNull();
  else expect(actual).toBeCloseTo(expected, 9);
};

/** Small value ranges, so that ties (shared tickets, batched admissions) are common. */
const pairsArb = (withWeights: boolean) =>
  fc.array(
    fc.record({ x: fc.integer({ min: 0, max: 12 }), y: fc.integer({ min: 0, max: 8 }), weight: withWeights ? fc.constantFrom(1, 2, 4, 8) : fc.constant(1) }),
    { maxLength: 60 },
  );

const admittedSample = (ticket: number, waitSeconds: number, extra: Partial<FairnessSample> = {}): FairnessSample => ({
  ticket,
  issuedAt: T0,
  admittedAt: T0 + waitSeconds * 1000,
  ...extra,
});

describe("fairness: Kendall's tau-b between ticket order and admission order", () => {
  it('agrees with the pairwise definition on random data with ties', () => {
    fc.assert(
      fc.property(pairsArb(false), (pairs) => {
        const fast = orderAgreement(pairs);
        const slow = reference(pairs);
        expectClose(fast.tauB, slow.tauB);
        expectClose(fast.gamma, slow.gamma);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with the pairwise definition on weighted samples, and a weight of w is w identical visitors', () => {
    fc.assert(
      fc.property(pairsArb(true), (pairs) => {
        const fast = orderAgreement(pairs);
        const replicated = pairs.flatMap((p) => Array.from({ length: p.weight }, () => ({ x: p.x, y: p.y })));
        expectClose(fast.tauB, reference(pairs).tauB);
        expectClose(fast.gamma, reference(pairs).gamma);
        expectClose(fast.tauB, reference(replicated).tauB);
        expectClose(fast.gamma, reference(replicated).gamma);
      }),
      { numRuns: 300 },
    );
  });

  it('is 1 for admissions in ticket order and -1 for the reverse', () => {
    const ordered = Array.from({ length: 50 }, (_, i) => ({ x: i, y: 1000 + i * 10 }));
    expect(kendallTauB(ordered)).toBe(1);
    expect(kendallTauB(ordered.map((p) => ({ x: p.x, y: -p.y })))).toBe(-1);
  });

  it('counts visitors admitted together as ties, not as disorder (gamma 1; tau-b keeps them in its denominator)', () => {
    // Five batches of ten, in ticket order: perfect order, with ties within each batch.
    const batched = Array.from({ length: 50 }, (_, i) => ({ x: i, y: Math.floor(i / 10) }));
    const perfect = orderAgreement(batched);
    expect(perfect.gamma).toBe(1);
    // 1,225 pairs, 225 of them within a batch: tau-b = √(1000 / 1225).
    expect(perfect.tauB).toBeCloseTo(Math.sqrt(1000 / 1225), 12);
    // A ticket of the second batch swapped with one of the first: both fall.
    const swapped = orderAgreement(batched.map((p) => (p.x === 15 ? { ...p, y: 0 } : p.x === 5 ? { ...p, y: 1 } : p)));
    expect(swapped.gamma!).toBeLessThan(1);
    expect(swapped.gamma!).toBeGreaterThan(0.95);
    expect(swapped.tauB!).toBeLessThan(perfect.tauB!);
    expect(swapped.tauB).toBeCloseTo(referenceTauB(batched.map((p) => (p.x === 15 ? { ...p, y: 0 } : p.x === 5 ? { ...p, y: 1 } : p)))!, 12);
  });

  it('has no value under two samples, or when everyone was admitted at one instant', () => {
    expect(kendallTauB([])).toBeNull();
    expect(kendallTauB([{ x: 1, y: 1 }])).toBeNull();
    expect(kendallTauB([{ x: 1, y: 5 }, { x: 2, y: 5 }, { x: 3, y: 5 }])).toBeNull();
  });

  it('takes 200,000 samples (an O(n log n) count: the pairwise definition would not end)', () => {
    const n = 200_000;
    const pairs = Array.from({ length: n }, (_, i) => ({ x: i, y: Math.floor((i + ((i * 7919) % 97)) / 50) }));
    expect(kendallTauB(pairs)!).toBeGreaterThan(0.99);
  });
});

describe('fairness: percentiles', () => {
  const unit = (values: number[]) => values.map((value) => ({ value, weight: 1 }));

  it('takes the nearest rank', () => {
    const values = unit(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(weightedQuantile(values, 0.5)).toBe(5);
    expect(weightedQuantile(values, 0.9)).toBe(9);
    expect(weightedQuantile(values, 0.1)).toBe(1);
    expect(weightedQuantile(values, 0)).toBe(1);
    expect(weightedQuantile(values, 1)).toBe(10);
    expect(weightedQuantile(unit([4, 1, 3, 2]), 0.5)).toBe(2);
  });

  it('does not let floating point move a rank (0.1 × 30 is not above 3)', () => {
    expect(weightedQuantile(unit(Array.from({ length: 30 }, (_, i) => i + 1)), 0.1)).toBe(3);
  });

  it('weighs each value, and a weight of w is w equal values', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ value: fc.integer({ min: 0, max: 100 }), weight: fc.constantFrom(1, 2, 4) }), { minLength: 1, maxLength: 40 }),
        fc.constantFrom(0.1, 0.5, 0.9),
        (values, q) => {
          const replicated = unit(values.flatMap((v) => Array.from({ length: v.weight }, () => v.value)));
          expect(weightedQuantile(values, q)).toBe(weightedQuantile(replicated, q));
        },
      ),
    );
  });

  it('has no value for no values', () => {
    expect(weightedQuantile([], 0.5)).toBeNull();
  });
});

describe('fairness: the report', () => {
  it('reports waits, order and abandonment over the window', () => {
    const samples: FairnessSample[] = [
      ...Array.from({ length: 10 }, (_, i) => admittedSample(i + 1, (i + 1) * 10)),
      { ticket: 11, issuedAt: T0, leftWaitingAt: T0 + 30_000 },
      { ticket: 12, issuedAt: T0, leftWaitingAt: T0 + 40_000 },
      // Outside the window: counted for nothing.
      admittedSample(0, 5, { admittedAt: T0 - HOUR - 1 }),
      { ticket: 13, issuedAt: T0, leftWaitingAt: T0 + 2 * HOUR },
    ];
    const report = fairnessReport(samples, T0 - HOUR, T0 + HOUR);
    expect(report).toMatchObject({
      windowStart: T0 - HOUR,
      windowEnd: T0 + HOUR,
      admitted: 10,
      abandoned: 2,
      samples: 12,
      exact: true,
      kendallTau: 1,
      orderGamma: 1,
      waitP50Seconds: 50,
      waitP90Seconds: 90,
    });
    expect(report.abandonmentRate).toBeCloseTo(2 / 12, 12);
  });

  it('weighs sampled minutes: counts are estimates and the figures are of the visitors', () => {
    const report = fairnessReport(
      [admittedSample(1, 10, { weight: 4 }), admittedSample(2, 20), { ticket: 3, issuedAt: T0, leftWaitingAt: T0 + 1, weight: 4 }],
      T0 - HOUR,
      T0 + HOUR,
    );
    expect(report).toMatchObject({ admitted: 5, abandoned: 4, samples: 3, exact: false, waitP50Seconds: 10, waitP90Seconds: 20 });
    expect(report.abandonmentRate).toBeCloseTo(4 / 9, 12);
  });

  it('has no figures for an empty window', () => {
    expect(fairnessReport([], T0 - HOUR, T0)).toEqual({
      windowStart: T0 - HOUR,
      windowEnd: T0,
      admitted: 0,
      abandoned: 0,
      samples: 0,
      exact: true,
      kendallTau: null,
      orderGamma: null,
      waitP50Seconds: null,
      waitP90Seconds: null,
      abandonmentRate: null,
      predicted: {
        samples: 0,
        ratioSamples: 0,
        medianRatio: null,
        p10Ratio: null,
        p90Ratio: null,
        meanAbsoluteErrorSeconds: null,
        rangeSamples: 0,
        withinRangeShare: null,
      },
    });
  });

  it('compares the estimate shown at the join with the real wait', () => {
    const samples = [
      admittedSample(1, 30, { predictedWaitSeconds: 60, shownRange: { lowSeconds: 20, highSeconds: 60 } }),
      admittedSample(2, 50, { predictedWaitSeconds: 100, shownRange: { lowSeconds: 60, highSeconds: 100 } }),
      admittedSample(3, 90, { predictedWaitSeconds: 100 }),
      // An estimate of a few seconds gives no ratio, but counts for the error.
      admittedSample(4, 12, { predictedWaitSeconds: 2 }),
      admittedSample(5, 40),
      { ticket: 6, issuedAt: T0, leftWaitingAt: T0 + 5_000, predictedWaitSeconds: 30 },
    ];
    const { predicted } = fairnessReport(samples, T0 - HOUR, T0 + HOUR);
    expect(predicted).toMatchObject({ samples: 4, ratioSamples: 3, rangeSamples: 2, withinRangeShare: 0.5 });
    expect(predicted.medianRatio).toBeCloseTo(0.5, 12);
    expect(predicted.p10Ratio).toBeCloseTo(0.5, 12);
    expect(predicted.p90Ratio).toBeCloseTo(0.9, 12);
    expect(predicted.meanAbsoluteErrorSeconds).toBeCloseTo((30 + 50 + 10 + 10) / 4, 12);
  });
});

describe('fairness: the range of waits shown to visitors', () => {
  const calibrationArb = fc.record({
    lowFactor: fc.oneof(fc.double({ min: -2, max: 10, noNaN: false }), fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY)),
    highFactor: fc.oneof(fc.double({ min: -2, max: 10, noNaN: false }), fc.constant(Number.NaN)),
    samples: fc.nat(),
  });

  it('is whole seconds, never negative, low ≤ high, whatever the estimate and calibration', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: -100, max: 1e7 }), fc.constant(Number.NaN)), calibrationArb, (point, calibration: RangeCalibration) => {
        const { lowSeconds, highSeconds } = estimateRange(point, calibration);
        expect(Number.isInteger(lowSeconds) && Number.isInteger(highSeconds)).toBe(true);
        expect(lowSeconds).toBeGreaterThanOrEqual(0);
        expect(lowSeconds).toBeLessThanOrEqual(highSeconds);
        if (Number.isFinite(point) && point > 0) expect(highSeconds).toBeLessThanOrEqual(Math.ceil(point * MAX_RANGE_FACTOR));
      }),
      { numRuns: 500 },
    );
  });

  it('runs from half the estimate to the estimate before anything is measured', () => {
    expect(estimateRange(120, DEFAULT_CALIBRATION)).toEqual({ lowSeconds: 60, highSeconds: 120 });
    expect(estimateRange(0, DEFAULT_CALIBRATION)).toEqual({ lowSeconds: 0, highSeconds: 0 });
    expect(estimateRange(-5, DEFAULT_CALIBRATION)).toEqual({ lowSeconds: 0, highSeconds: 0 });
    expect(estimateRange(100.4, { lowFactor: 0.333, highFactor: 1, samples: 0 })).toEqual({ lowSeconds: 33, highSeconds: 101 });
  });

  it('takes departures off the low end by default', () => {
    expect(defaultCalibration(0.2)).toEqual({ lowFactor: 0.4, highFactor: 1, samples: 0 });
    expect(defaultCalibration(null)).toEqual(DEFAULT_CALIBRATION);
    expect(defaultCalibration(1)).toEqual({ lowFactor: 0, highFactor: 1, samples: 0 });
    const report = fairnessReport(
      [admittedSample(1, 10, { predictedWaitSeconds: 20 }), { ticket: 2, issuedAt: T0, leftWaitingAt: T0 + 1 }, { ticket: 3, issuedAt: T0, leftWaitingAt: T0 + 1 }, admittedSample(4, 10)],
      T0 - HOUR,
      T0 + HOUR,
    );
    expect(calibrationOf(report)).toEqual({ lowFactor: 0.25, highFactor: 1, samples: 1 });
  });

  it(`measures the range from p10 and p90 of actual ÷ estimate once ${MIN_CALIBRATION_SAMPLES} ratios are known`, () => {
    // Ratios 0.31, 0.32 … 0.30 + n/100: p10 is the 3rd of 30, p90 the 27th.
    const samples = (n: number) => Array.from({ length: n }, (_, i) => admittedSample(i + 1, 30 + i + 1, { predictedWaitSeconds: 100 }));
    const measured = calibrationOf(fairnessReport(samples(30), T0 - HOUR, T0 + HOUR));
    expect(measured).toEqual({ lowFactor: 0.33, highFactor: 0.57, samples: 30 });
    expect(estimateRange(200, measured)).toEqual({ lowSeconds: 66, highSeconds: 114 });
    // One short of the minimum: the default.
    expect(calibrationOf(fairnessReport(samples(29), T0 - HOUR, T0 + HOUR))).toEqual({ lowFactor: 0.5, highFactor: 1, samples: 29 });
  });

  it('keeps measured factors within bounds', () => {
    const slow = Array.from({ length: 40 }, (_, i) => admittedSample(i + 1, 1000, { predictedWaitSeconds: 10 }));
    expect(calibrationOf(fairnessReport(slow, T0 - HOUR, T0 + HOUR))).toEqual({ lowFactor: MAX_RANGE_FACTOR, highFactor: MAX_RANGE_FACTOR, samples: 40 });
  });
});
