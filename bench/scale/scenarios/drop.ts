/**
 * Scenario (a), a drop: `visitors` arrive in one room within 50 s (a trapezoid: 10 s ramp up,
 * 30 s at the peak, 10 s ramp down; 1M visitors make a 25,000/s peak), capacity 10,000, 10-minute
 * visits; a quarter of the line abandons at a random time in its first 10 minutes.
 *
 * The room is full when the drop begins: its 10,000 seats were taken over the 10 minutes before
 * (at capacity / visit length, 16.7 a second), so during the drop those visitors leave at that
 * rate and the line moves at it, as it would for as long as the line lasts. One in ten of them
 * goes silent instead of leaving (the silent-seat figure, measured under the drop's load). A drop
 * into an empty room, whose first minute is a transient of its own, is drop-start.ts.
 *
 * The plateau is measured from 120 s after the drop began (the drop and its first checks are
 * over) to 1,020 s: one full 900 s check hop, so every waiting token's check loop and every
 * keep-place round fall inside it. The line is not drained.
 */
import type { Cause } from '../meter.js';
import type { PartitionPeak, PartitionRecord } from '../partitions.js';
import { percentile, ScenarioRun } from '../scenario-run.js';

export interface DropOptions {
  visitors: number;
  capacity: number;
  /** Runs until this long after the drop began. */
  runMs: number;
  /** The plateau, relative to the drop's start. */
  window: { fromMs: number; toMs: number };
  abandonFraction: number;
  silentFraction: number;
  visitMs: number;
  seed?: number;
}

export const FULL_DROP: DropOptions = {
  visitors: 1_000_000,
  capacity: 10_000,
  runMs: 1_080_000,
  window: { fromMs: 120_000, toMs: 1_020_000 },
  abandonFraction: 0.25,
  silentFraction: 0.1,
  visitMs: 600_000,
};

export const QUICK_DROP: DropOptions = { ...FULL_DROP, visitors: 50_000, capacity: 500 };

const RAMP_S = 10;
const PEAK_S = 30;

export interface Rate {
  mean: number;
  peak: number;
  peakSecond: number;
}

export interface DropResult {
  options: DropOptions;
  peakJoinsPerSecond: number;
  streamShards: number;
  maxRead: PartitionPeak;
  maxWrite: PartitionPeak;
  partitions: PartitionRecord[];
  backend: Record<Cause, Rate>;
  dynamoOps: Record<Cause, Rate>;
  apiRequests: Rate;
  admissionsPerSecond: Rate;
  waitingAtWindowEnd: number;
  /** Everything counted in the plateau window, and over the whole run (Tally counters). */
  windowCounts: Record<string, number>;
  totalCounts: Record<string, number>;
  silentSeat: { count: number; p50: number; p99: number; max: number };
  lost: number;
  failures: number;
  ticketGapFraction: number;
  environments: ReturnType<ScenarioRun['environments']>;
  peakCheckPollers: number;
  transactionConflicts: number;
}

/** Arrival time (ms) of the i-th of n visitors under the trapezoid profile (the inverse of its cumulative count). */
export function trapezoidArrivalMs(i: number, n: number, jitter: number): number {
  const peak = n / (RAMP_S + PEAK_S); // visitors a second at the peak
  const rampCount = (peak * RAMP_S) / 2;
  const k = i + jitter; // stratified: one arrival in each 1/n of the cumulative count
  let seconds: number;
  if (k <= rampCount) seconds = Math.sqrt((2 * k * RAMP_S) / peak);
  else if (k <= rampCount + peak * PEAK_S) seconds = RAMP_S + (k - rampCount) / peak;
  else seconds = 2 * RAMP_S + PEAK_S - Math.sqrt((2 * Math.max(0, n - k) * RAMP_S) / peak);
  return seconds * 1000;
}

/** The seats fill over this long before the drop (one visit length): the room is full, and its visitors leave at the line's steady rate. */
const FILL_MS = 600_000;

export async function runDrop(options: DropOptions, progress?: (line: string) => void): Promise<DropResult> {
  const peakJoinsPerSecond = options.visitors / (RAMP_S + PEAK_S);
  // A token table warmed for the drop: one partition (and stream shard) per 1,000 writes a second, with a quarter of headroom.
  const streamShards = Math.max(4, Math.ceil((1.25 * peakJoinsPerSecond) / 1000));
  const run = new ScenarioRun({ streamShards, seed: options.seed ?? 1 });
  const dropAt = FILL_MS;
  run.metricsUntil(run.at(dropAt + options.runMs));
  if (progress) run.progress(120_000, dropAt + options.runMs, progress);
  const roomId = 'drop';
  await run.deployment.configure(roomId, { capacity: options.capacity });
  const random = run.random;
  // The seat holders: one arrival every visit/capacity, each admitted at once.
  run.arrive(
    roomId,
    options.capacity,
    (i) => ((i + random()) * FILL_MS) / options.capacity,
    () => ({ visitMs: options.visitMs, endsSilently: random() < options.silentFraction }),
  );
  run.arrive(
    roomId,
    options.visitors,
    (i) => dropAt + trapezoidArrivalMs(i, options.visitors, random()),
    () => ({ visitMs: options.visitMs, endsSilently: false, ...(random() < options.abandonFraction ? { abandonAfterMs: random() * 600_000 } : {}) }),
  );
  const fromMs = dropAt + options.window.fromMs;
  const toMs = dropAt + options.window.toMs;
  await run.runFor(fromMs);
  const atWindowStart = run.meter.tally.snapshot();
  await run.runFor(toMs);
  const windowCounts = run.meter.tally.since(atWindowStart).toObject();
  const waitingAtWindowEnd = run.waitingTokens(roomId);
  await run.runFor(dropAt + options.runMs);
  run.finish();

  const rate = (name: string): Rate => {
    const peak = run.meter.series.peak(name, fromMs, toMs);
    return { mean: run.meter.series.mean(name, fromMs, toMs), peak: peak.value, peakSecond: peak.second - dropAt / 1000 };
  };
  const causes: Cause[] = ['join', 'waiting', 'admitted', 'system'];
  const peaks = run.meter.partitions.peaks();
  const fromDrop = (p: PartitionPeak): PartitionPeak => ({ ...p, second: p.second - dropAt / 1000 });
  return {
    options,
    peakJoinsPerSecond,
    streamShards,
    maxRead: fromDrop(peaks.read),
    maxWrite: fromDrop(peaks.write),
    partitions: run.meter.partitions.records().map((r) => ({ ...r, maxReadSecond: r.maxReadSecond - dropAt / 1000, maxWriteSecond: r.maxWriteSecond - dropAt / 1000 })),
    backend: Object.fromEntries(causes.map((c) => [c, rate(`backend.${c}`)])) as Record<Cause, Rate>,
    dynamoOps: Object.fromEntries(causes.map((c) => [c, rate(`ddb.${c}`)])) as Record<Cause, Rate>,
    apiRequests: rate('api'),
    admissionsPerSecond: rate('admissions'),
    waitingAtWindowEnd,
    windowCounts,
    totalCounts: run.meter.tally.toObject(),
    silentSeat: {
      count: run.silentSeatSeconds.length,
      p50: percentile(run.silentSeatSeconds, 50),
      p99: percentile(run.silentSeatSeconds, 99),
      max: percentile(run.silentSeatSeconds, 100),
    },
    lost: run.lost,
    failures: run.failures,
    ticketGapFraction: run.ticketGapFraction(),
    environments: run.environments(),
    peakCheckPollers: run.deployment.queue.peakPollers,
    transactionConflicts: run.deployment.transactions.conflicts,
  };
}
