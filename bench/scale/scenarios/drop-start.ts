/**
 * The first minute of a drop into an EMPTY room: every seat free when the drop begins (the same
 * trapezoid as the drop, visitors / capacity = 100). What it shows: how fast the free seats are
 * taken (by the admitter under its lease, and by the visitors first in line), what the joins and
 * front-zone heartbeats read while seats are free, and which partitions that loads.
 *
 * It is a scenario of its own because the drop (drop.ts) starts from a full room: a room's first
 * fill is a transient, the plateau is what lasts.
 */
import { ScenarioRun } from '../scenario-run.js';
import { trapezoidArrivalMs } from './drop.js';

export interface DropStartSize {
  visitors: number;
  capacity: number;
}

export interface DropStartResult extends DropStartSize {
  runSeconds: number;
  joins: number;
  queriesPerJoin: number;
  tokenReadUnitsPerJoin: number;
  /** Reads of the line index and tokens by all requests, per join. */
  readUnitsPerJoin: number;
  maxRead: { partition: string; units: number; second: number };
  maxWrite: { partition: string; units: number; second: number };
  partitionsOver: number;
  /** Seconds until every seat was taken (undefined: not within the run). */
  secondsToFill: number | undefined;
  admittedInRun: number;
  /** Of those: by the admitter under its lease, and by the visitors' own requests. */
  byLease: number;
  bySelf: number;
  transactionConflicts: number;
}

export const FULL_DROP_START: DropStartSize[] = [{ visitors: 1_000_000, capacity: 10_000 }];
export const QUICK_DROP_START: DropStartSize[] = [{ visitors: 50_000, capacity: 500 }];

const RUN_MS = 60_000;

export async function runDropStart(size: DropStartSize): Promise<DropStartResult> {
  const streamShards = Math.max(4, Math.ceil((1.25 * size.visitors) / 40 / 1000));
  const run = new ScenarioRun({ streamShards, seed: 5 });
  await run.deployment.configure('drop', { capacity: size.capacity });
  run.arrive(
    'drop',
    size.visitors,
    (i) => trapezoidArrivalMs(i, size.visitors, run.random()),
    () => ({ visitMs: 600_000, endsSilently: false, ...(run.random() < 0.25 ? { abandonAfterMs: run.random() * 600_000 } : {}) }),
  );
  await run.runFor(RUN_MS);
  run.finish();
  const t = run.meter.tally;
  const joins = t.get('api.req.POST /rooms/{roomId}/tokens');
  const admissions = run.meter.series.of('admissions');
  let total = 0;
  let secondsToFill: number | undefined;
  admissions.forEach((n, s) => {
    total += n;
    if (secondsToFill === undefined && total >= size.capacity) secondsToFill = s + 1;
  });
  const peaks = run.meter.partitions.peaks();
  return {
    ...size,
    runSeconds: RUN_MS / 1000,
    joins,
    queriesPerJoin: t.get('ddb.cmd.Query') / joins,
    tokenReadUnitsPerJoin: t.get('ddb.rru.tokens') / joins,
    readUnitsPerJoin: t.get('ddb.rru') / joins,
    maxRead: peaks.read,
    maxWrite: peaks.write,
    partitionsOver: run.meter.partitions.overLimit().length,
    secondsToFill,
    admittedInRun: total,
    byLease: t.get('admissions.lease'),
    bySelf: t.get('admissions.self'),
    transactionConflicts: run.deployment.transactions.conflicts,
  };
}
