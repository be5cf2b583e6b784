/**
 * The ceilings of one room, each measured against DynamoDB's per-partition limits.
 *
 * Joins: a ladder of join rates into a full room (its seats taken before the run, so joins do not
 * admit), with every visitor then following the page and the stream consumers at work. Each rate
 * is reached by a ramp of a few seconds (so that the function environments it needs exist: a
 * burst from nothing would be all cold starts, each reserving its own first ticket block and
 * reading the room, which says more about cold starts than about the rate) and then held; a rate
 * passes when no partition, on the table or an index, goes over 1,000 write or 3,000 read units in
 * any second of the hold. The ceiling is the highest rate that passes, refined by bisection
 * between the last pass and the first failure.
 *
 * Admissions: a room with a large live front zone (the front zone widened to an hour, so that
 * every visitor in line heartbeats) and free seats: its capacity is raised by 100,000 at once.
 * Admissions per second are counted while the line lasts, split into those made by the room's one
 * admitter under its lease (batches of up to 99) and those the visitors' own heartbeats make (one
 * each: with more free seats than live visitors ahead, a heartbeat admits itself).
 */
import type { PartitionRecord } from '../partitions.js';
import { ScenarioRun } from '../scenario-run.js';

export interface JoinRung {
  joinsPerSecond: number;
  passed: boolean;
  /** The partitions over a limit, with their peaks. */
  over: PartitionRecord[];
  busiest: PartitionRecord | undefined;
  streamShards: number;
}

export interface JoinCeiling {
  joinsPerSecondPerRoom: number;
  rungs: JoinRung[];
  /** What stopped the ladder: the first failing rung. */
  limitedBy: JoinRung | undefined;
}

export interface CeilingOptions {
  ladder: number[];
  rungSeconds: number;
  bisections: number;
}

export const FULL_CEILINGS: CeilingOptions = { ladder: [5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 40_000, 50_000, 60_000], rungSeconds: 5, bisections: 3 };
export const QUICK_CEILINGS: CeilingOptions = { ladder: [5_000, 10_000, 25_000, 40_000], rungSeconds: 2, bisections: 1 };

const FULL_ROOM = 10_000;
/** After the joins, the run goes on this long: stream batches, enqueued checks and first polls land. */
const TAIL_MS = 3_000;

/** Seconds of the ramp from nothing to the rung's rate. */
const RAMP_S = 3;

async function joinRung(joinsPerSecond: number, seconds: number): Promise<JoinRung> {
  // The token table warmed for the rate: a partition (stream shard) per 1,000 writes a second, a quarter of headroom.
  const streamShards = Math.max(4, Math.ceil((1.25 * joinsPerSecond) / 1000));
  const run = new ScenarioRun({ streamShards, seed: 3 });
  await run.deployment.configure('ceiling', { capacity: FULL_ROOM });
  run.deployment.store.seedActive('ceiling', FULL_ROOM);
  // A linear ramp to the rate over RAMP_S (rate × RAMP_S / 2 joins), then the rate held: arrival i at the inverse of the cumulative count.
  const rampCount = (joinsPerSecond * RAMP_S) / 2;
  const count = Math.round(rampCount + joinsPerSecond * seconds);
  const arrivalMs = (i: number) => {
    const k = i + run.random();
    return 1000 * (k <= rampCount ? Math.sqrt((2 * k * RAMP_S) / joinsPerSecond) : RAMP_S + (k - rampCount) / joinsPerSecond);
  };
  run.arrive('ceiling', count, arrivalMs, () => ({ visitMs: 600_000, endsSilently: false }));
  // Only the hold is judged: partitions are counted afresh from its first second, until it ends.
  await run.runFor(RAMP_S * 1000);
  run.meter.restartPartitions();
  await run.runFor((RAMP_S + seconds) * 1000);
  const over = run.meter.partitions.overLimit(RAMP_S, RAMP_S + seconds);
  const busiest = run.meter.partitions.records()[0];
  await run.runFor((RAMP_S + seconds) * 1000 + TAIL_MS);
  run.finish();
  return { joinsPerSecond, passed: over.length === 0, over, busiest, streamShards };
}

export async function measureJoinCeiling(options: CeilingOptions): Promise<JoinCeiling> {
  const rungs: JoinRung[] = [];
  let pass: JoinRung | undefined;
  let fail: JoinRung | undefined;
  for (const rate of options.ladder) {
    const rung = await joinRung(rate, options.rungSeconds);
    rungs.push(rung);
    if (!rung.passed) {
      fail = rung;
      break;
    }
    pass = rung;
  }
  for (let i = 0; i < options.bisections && fail; i++) {
    const rate = Math.round(((pass?.joinsPerSecond ?? 0) + fail.joinsPerSecond) / 2 / 500) * 500;
    if (rate === pass?.joinsPerSecond || rate === fail.joinsPerSecond || rate === 0) break;
    const rung = await joinRung(rate, options.rungSeconds);
    rungs.push(rung);
    if (rung.passed) pass = rung;
    else fail = rung;
  }
  return { joinsPerSecondPerRoom: pass?.joinsPerSecond ?? 0, rungs: rungs.sort((a, b) => a.joinsPerSecond - b.joinsPerSecond), limitedBy: fail };
}

export interface AdmissionCeilingOptions {
  line: number;
  joinSeconds: number;
  raiseBy: number;
  measureSeconds: number;
}

export const FULL_ADMISSIONS: AdmissionCeilingOptions = { line: 20_000, joinSeconds: 4, raiseBy: 100_000, measureSeconds: 15 };
export const QUICK_ADMISSIONS: AdmissionCeilingOptions = { line: 5_000, joinSeconds: 2, raiseBy: 100_000, measureSeconds: 10 };

export interface AdmissionCeiling {
  admissionsPerSecondPerRoom: number;
  peakAdmissionsPerSecond: number;
  admitted: number;
  /** Of those: by the admitter under its lease, and by the visitors' own heartbeats. */
  byLease: number;
  bySelf: number;
  measuredSeconds: number;
  over: PartitionRecord[];
  busiest: PartitionRecord | undefined;
  transactionConflicts: number;
  leaseRefusals: number;
}

export async function measureAdmissionCeiling(options: AdmissionCeilingOptions): Promise<AdmissionCeiling> {
  const run = new ScenarioRun({ streamShards: 8, seed: 4, timings: { frontZoneSeconds: 3_600 } });
  await run.deployment.configure('ceiling', { capacity: FULL_ROOM });
  run.deployment.store.seedActive('ceiling', FULL_ROOM);
  run.arrive('ceiling', options.line, (i) => ((i + run.random()) * options.joinSeconds * 1000) / options.line, () => ({ visitMs: 3_600_000, endsSilently: false }));
  // Everyone has joined and heartbeats (a heartbeat every 5 s, the first 5 s after joining).
  const raiseAt = options.joinSeconds * 1000 + 8_000;
  await run.runFor(raiseAt);
  const admittedBefore = run.meter.tally.get('visitors.admitted');
  const leaseBefore = run.meter.tally.get('admissions.lease');
  const selfBefore = run.meter.tally.get('admissions.self');
  const refusedBefore = run.meter.tally.get('admitter.refused');
  const conflictsBefore = run.deployment.transactions.conflicts;
  run.meter.restartPartitions();
  await run.deployment.configure('ceiling', { capacity: FULL_ROOM + options.raiseBy });
  const endMs = raiseAt + options.measureSeconds * 1000;
  await run.runFor(endMs);
  run.finish();
  // Admissions a second, from the raise until the line ran out (or the window closed).
  const perSecond = run.meter.series.of('admissions').slice(raiseAt / 1000, endMs / 1000);
  // Whole seconds only: the second in which the line ran out is left out.
  const lastBusy = perSecond.findLastIndex((n) => n > 0);
  const active = perSecond.slice(0, lastBusy === perSecond.length - 1 ? perSecond.length : Math.max(1, lastBusy));
  const admitted = run.meter.tally.get('visitors.admitted') - admittedBefore;
  const over = run.meter.partitions.overLimit(raiseAt / 1000, endMs / 1000);
  return {
    admissionsPerSecondPerRoom: active.reduce((a, b) => a + b, 0) / active.length,
    peakAdmissionsPerSecond: Math.max(0, ...perSecond),
    admitted,
    byLease: run.meter.tally.get('admissions.lease') - leaseBefore,
    bySelf: run.meter.tally.get('admissions.self') - selfBefore,
    measuredSeconds: active.length,
    over,
    busiest: run.meter.partitions.records()[0],
    transactionConflicts: run.deployment.transactions.conflicts - conflictsBefore,
    leaseRefusals: run.meter.tally.get('admitter.refused') - refusedBefore,
  };
}
