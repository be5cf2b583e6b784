/**
 * One run of the model: a simulation, its meter, the deployment, the API and the visitors, with
 * what every scenario wants to know about them afterwards (environments per function, silent
 * seats, visitors lost while following the protocol, the ticket gap).
 */
import { ROOM_VIEW_MAX_AGE_MS, TICKET_BLOCK_MS } from '../../lambdas/domain/index.js';
import { Deployment, FUNCTION_NAMES, type DeploymentOptions, type FunctionName } from './deployment.js';
import { Meter } from './meter.js';
import { MetricsLoopModel } from './metrics-loop.js';
import { ModelApi, type ModelApiOptions } from './model-api.js';
import { seededRandom, Simulation } from './simulation.js';
import { Visitor, type VisitorPlan } from './visitor.js';

export type RunOptions = DeploymentOptions & ModelApiOptions;

/** Visitors are created in chunks, so a million arrivals are not a million pending events at once. */
const ARRIVAL_CHUNK = 2_000;

export class ScenarioRun {
  readonly sim = new Simulation();
  readonly meter: Meter;
  readonly deployment: Deployment;
  readonly api: ModelApi;
  readonly random: () => number;
  /** Seconds from an admitted visitor's last heartbeat to the removal of its token, for those that went silent. */
  readonly silentSeatSeconds: number[] = [];
  /** Waiting time of each admitted visitor, seconds, with the time of its admission. */
  readonly waits: { at: number; seconds: number }[] = [];
  /** Visitors whose token was gone while they were still following the protocol (invariant 4: should be none). */
  lost = 0;
  failures = 0;
  private readonly silentSince = new Map<string, number>();

  constructor(options: RunOptions) {
    this.meter = new Meter(this.sim.start);
    this.deployment = new Deployment(this.sim, this.meter, {
      ...options,
      environment: { roomViewMaxAgeMs: ROOM_VIEW_MAX_AGE_MS, ticketBlockMs: TICKET_BLOCK_MS, ...options.environment },
    });
    this.api = new ModelApi(this.deployment, options);
    this.random = seededRandom((options.seed ?? 1) * 7919);
    this.deployment.onRemoved = (e) => {
      const since = this.silentSince.get(e.tokenId);
      if (since !== undefined && e.reason === 'silent' && e.state === 'ADMITTED') {
        this.silentSeatSeconds.push((e.at - since) / 1000);
        this.silentSince.delete(e.tokenId);
      }
    };
  }

  /** Reports progress every `everyMs` of simulated time until `untilMs` (ms since the start). */
  progress(everyMs: number, untilMs: number, print: (line: string) => void): void {
    const wallStart = Date.now();
    for (let ms = everyMs; ms <= untilMs; ms += everyMs) {
      this.sim.at(this.at(ms), () =>
        print(`simulated ${ms / 1000} s of ${untilMs / 1000} s, ${((Date.now() - wallStart) / 1000).toFixed(0)} s wall, ${this.sim.pending.toLocaleString('en-US')} events pending`),
      );
    }
  }

  /** Runs the metrics loop from now until `until` (epoch ms). */
  metricsUntil(until: number): void {
    new MetricsLoopModel(this.deployment).start(until);
  }

  /** Milliseconds since the start, as epoch ms. */
  at(ms: number): number {
    return this.sim.start + ms;
  }

  /** Starts `count` visitors, the i-th at `arrivalMs(i)` (ms since the start, non-decreasing), each with `plan(i)`. */
  arrive(roomId: string, count: number, arrivalMs: (i: number) => number, plan: (i: number) => VisitorPlan): void {
    const chunk = (from: number) => {
      const to = Math.min(count, from + ARRIVAL_CHUNK);
      for (let i = from; i < to; i++) {
        const scheduler = { now: () => this.api.visitorNow(), after: (ms: number, task: () => void | Promise<void>) => this.sim.at(this.api.visitorNow() + ms, task) };
        const visitor = new Visitor(roomId, plan(i), this.api, scheduler, {
          admitted: (v, at) => this.waits.push({ at, seconds: (at - v.joinedAt) / 1000 }),
          wentSilent: (v, lastHeartbeatAt) => this.silentSince.set(v.tokenId, lastHeartbeatAt),
          lost: () => (this.lost += 1),
          failed: () => (this.failures += 1),
        });
        this.sim.at(this.at(arrivalMs(i)), () => visitor.start());
      }
      if (to < count) this.sim.at(this.at(arrivalMs(to)) - 1, () => chunk(to));
    };
    if (count > 0) this.sim.at(this.at(arrivalMs(0)) - 1, () => chunk(0));
  }

  async runFor(ms: number): Promise<void> {
    await this.sim.runUntil(this.at(ms));
  }

  /** Ends the run: idle pollers' empty receives up to now. */
  finish(): void {
    this.deployment.queue.finish(this.sim.now);
  }

  environments(): Record<FunctionName, { created: number; peakConcurrency: number }> {
    return Object.fromEntries(FUNCTION_NAMES.map((name) => [name, this.deployment.functions[name].environments])) as Record<
      FunctionName,
      { created: number; peakConcurrency: number }
    >;
  }

  /** Ticket numbers reserved in blocks but never given to a token. */
  ticketGapFraction(): number {
    const reserved = this.meter.tally.get('tickets.reserved');
    return reserved > 0 ? (reserved - this.meter.tally.get('tickets.used')) / reserved : 0;
  }

  waitingTokens(roomId: string): number {
    let n = 0;
    for (const token of this.deployment.store.tokens.values()) if (token.roomId === roomId && token.state === 'WAITING') n += 1;
    return n;
  }
}

/** The p-th percentile (0-100) of some numbers. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
