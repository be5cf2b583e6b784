/**
 * Scenario (b), the cost profile: every visitor waits 10 minutes, then spends 10 minutes admitted
 * and leaves; what does a million of them cost?
 *
 * Sizing: one room of capacity C (10,000) with arrivals at C / 600 s (16.7 a second, Poisson), so
 * the room stays full and the line holds 10 minutes of arrivals (10,000 visitors) for as long as
 * arrivals go on: a million visitors take 16.7 hours. The batches that depend on traffic (check
 * messages per ReceiveMessage, stream records per invocation, sends per SendMessageBatch) fill as
 * they would in such a room; a bigger room would batch a little better, a smaller one worse.
 *
 * The steady state is reached in two steps: for the first 10 minutes the room has no seats, so a
 * line of 10 minutes builds up; over the next 10 minutes its capacity rises by C / 600 every
 * second, so the line moves at the arrival rate and everyone admitted then has waited 10 minutes;
 * from 20 minutes on, seats come free as the first visitors leave, at the same rate. The window
 * priced is [21:40, 31:40] (after the first departures settle): cost per visitor = the window's cost
 * / the visitors who joined in it. The waits and visits actually seen are reported with it.
 */
import { costLines, type CostLine } from '../costs.js';
import { ScenarioRun } from '../scenario-run.js';

export interface CostProfileOptions {
  capacity: number;
  waitMs: number;
  visitMs: number;
  windowMs: number;
  seed?: number;
}

export const FULL_COST_PROFILE: CostProfileOptions = { capacity: 10_000, waitMs: 600_000, visitMs: 600_000, windowMs: 600_000 };
export const QUICK_COST_PROFILE: CostProfileOptions = { ...FULL_COST_PROFILE, capacity: 1_000 };

export interface CostProfileResult {
  options: CostProfileOptions;
  arrivalsPerSecond: number;
  visitorsInWindow: number;
  windowSeconds: number;
  /** Everything counted in the window (a Tally's counters). */
  counts: Record<string, number>;
  lines: CostLine[];
  meanWaitSeconds: number;
  streamShards: number;
  lost: number;
  environments: ReturnType<ScenarioRun['environments']>;
  ticketGapFraction: number;
}

export async function runCostProfile(options: CostProfileOptions): Promise<CostProfileResult> {
  const arrivalsPerSecond = options.capacity / (options.visitMs / 1000);
  const streamShards = 4; // a table this busy (a few hundred writes a second) keeps its initial partitions
  const run = new ScenarioRun({ streamShards, seed: options.seed ?? 2 });
  const roomId = 'shop';
  const rampFrom = options.waitMs;
  const steadyFrom = options.waitMs + options.visitMs;
  const windowFrom = steadyFrom + 100_000;
  const windowTo = windowFrom + options.windowMs;
  run.metricsUntil(run.at(windowTo));
  await run.deployment.configure(roomId, { capacity: 0 });

  // Poisson arrivals at the steady rate, until the window closes.
  const count = Math.ceil((arrivalsPerSecond * windowTo) / 1000);
  const times: number[] = [];
  for (let t = 0, i = 0; i < count; i++) {
    t += (-Math.log(1 - run.random()) / arrivalsPerSecond) * 1000;
    times.push(t);
  }
  run.arrive(roomId, count, (i) => times[i]!, () => ({ visitMs: options.visitMs, endsSilently: false }));
  // The capacity ramp: C / 600 more seats every second for ten minutes.
  for (let s = 1; s <= options.visitMs / 1000; s++) {
    run.sim.at(run.at(rampFrom + s * 1000), async () => {
      await run.deployment.configure(roomId, { capacity: Math.round(arrivalsPerSecond * s) });
    });
  }

  await run.runFor(windowFrom);
  run.finish();
  const before = run.meter.tally.snapshot();
  await run.runFor(windowTo);
  run.finish();
  const tally = run.meter.tally.since(before);
  const waits = run.waits.filter((w) => w.at >= run.at(windowFrom) && w.at < run.at(windowTo));
  const windowSeconds = options.windowMs / 1000;
  return {
    options,
    arrivalsPerSecond,
    visitorsInWindow: tally.get('api.req.POST /rooms/{roomId}/tokens'),
    windowSeconds,
    counts: tally.toObject(),
    lines: costLines(tally, windowSeconds),
    meanWaitSeconds: waits.reduce((sum, w) => sum + w.seconds, 0) / Math.max(1, waits.length),
    streamShards,
    lost: run.lost,
    environments: run.environments(),
    ticketGapFraction: run.ticketGapFraction(),
  };
}
