/**
 * Lambda functions as pools of execution environments.
 *
 * An invocation takes a free warm environment of its function or starts a new one (a cold start,
 * billed like the handler). An environment is busy from the invocation's start until its modelled
 * end: the overhead plus the latency of the calls it made (on its EnvClock). So the number of
 * environments follows from the load, and with it the number of ticket blocks and room-view
 * refreshes, which are per environment in the domain (environmentOf).
 *
 * Of the free environments, the one freed last is reused (a stack). Lambda does not document its
 * choice; this one keeps the warm set as small as the load allows, the conservative choice for the
 * per-environment caches (fewer environments would mean fewer room reads and ticket blocks).
 *
 * Lambda adds at most 1,000 environments to a function every 10 seconds (a bucket of 1,000 new
 * environments, refilled at 100 a second). An invocation that finds every environment busy and
 * the bucket empty is throttled; the model lets it wait for
 * the first environment to come free (as a client retrying the 429 would, a little sooner) and
 * counts the wait. The account's concurrency quota is assumed raised to what the load needs.
 */
import { COLD_START_MS, FUNCTION_MEMORY_MB, INVOCATION_OVERHEAD_MS, LAMBDA_SCALING } from './assumptions.js';
import { BinaryHeap } from './event-queue.js';
import type { LambdaKeys, Meter } from './meter.js';
import { EnvClock } from './simulation.js';

export interface LambdaEnvironment<C> {
  readonly id: number;
  readonly clock: EnvClock;
  readonly context: C;
  busyUntil: number;
}

export class LambdaFunction<C> {
  private readonly free: LambdaEnvironment<C>[] = [];
  private readonly busy = new BinaryHeap<LambdaEnvironment<C>>((a, b) => a.busyUntil < b.busyUntil);
  private created = 0;
  private peak = 0;
  /** New environments the function may still start now, and when that was worked out. */
  private allowance: number = LAMBDA_SCALING.burst;
  private allowanceAt = Number.NEGATIVE_INFINITY;
  private readonly keys: LambdaKeys;

  constructor(
    readonly name: string,
    private readonly meter: Meter,
    private readonly createContext: (clock: EnvClock) => C,
    /** One environment takes every request, however many at once (the local runtime's handlers). */
    private readonly single = false,
    readonly memoryMb: number = FUNCTION_MEMORY_MB,
  ) {
    this.keys = meter.lambdaKeys(name);
  }

  /** Environments started so far, and the most that were busy at once. */
  get environments(): { created: number; peakConcurrency: number } {
    return { created: this.created, peakConcurrency: this.peak };
  }

  /** Takes one new environment from the scaling bucket; false when it is empty. */
  private mayStart(at: number): boolean {
    if (at > this.allowanceAt) {
      const refill = Number.isFinite(this.allowanceAt) ? ((at - this.allowanceAt) / 1000) * LAMBDA_SCALING.perSecond : LAMBDA_SCALING.burst;
      this.allowance = Math.min(LAMBDA_SCALING.burst, this.allowance + refill);
      this.allowanceAt = at;
    }
    if (this.allowance < 1) return false;
    this.allowance -= 1;
    return true;
  }

  /**
   * Runs `work` in an environment from `at`; resolves with its result and the invocation's end.
   * The work advances `env.clock`; the invocation is billed from `at` to the end, in whole ms.
   */
  async invoke<R>(at: number, work: (env: LambdaEnvironment<C>) => Promise<R>): Promise<{ value: R; end: number }> {
    while (this.busy.size > 0 && this.busy.peek()!.busyUntil <= at) this.free.push(this.busy.pop()!);
    let env = this.single ? (this.free.pop() ?? this.busy.pop()) : this.free.pop();
    let start = at;
    let cold = false;
    if (!env && this.busy.size > 0 && !this.mayStart(at)) {
      // Throttled: the first environment to come free takes it.
      env = this.busy.pop()!;
      start = env.busyUntil;
      this.meter.tally.add(this.keys.throttled);
      this.meter.tally.add(this.keys.throttledMs, start - at);
    }
    if (!env) {
      const clock = new EnvClock();
      env = { id: ++this.created, clock, context: this.createContext(clock), busyUntil: at };
      cold = true;
    }
    this.peak = Math.max(this.peak, this.busy.size + 1);
    env.clock.time = start + (cold ? COLD_START_MS : 0);
    let value: R;
    const outer = this.meter.running;
    this.meter.running = this.name;
    try {
      value = await work(env);
    } finally {
      this.meter.running = outer;
      const end = env.clock.time + INVOCATION_OVERHEAD_MS;
      env.busyUntil = end;
      this.busy.push(env);
      this.meter.lambda(this.keys, Math.ceil(end - start), cold);
    }
    return { value, end: env.busyUntil };
  }
}
