/**
 * A tiny discrete-event clock for tests: `delay(ms)` resolves when simulated time reaches it, and
 * `run()` advances time from event to event, letting every promise chain settle in between.
 */
import type { Clock } from '../../lambdas/domain/index.js';

interface Timer {
  at: number;
  seq: number;
  wake: () => void;
}

export class SimulatedTime implements Clock {
  private time: number;
  private readonly timers: Timer[] = [];
  private seq = 0;

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  delay(ms: number): Promise<void> {
    return new Promise((wake) => {
      this.timers.push({ at: this.time + Math.max(0, ms), seq: this.seq++, wake });
    });
  }

  /** Runs until no timer is left (or `until` is reached). */
  async run(until = Number.POSITIVE_INFINITY): Promise<void> {
    await settle();
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > until) break;
      this.timers.shift();
      this.time = Math.max(this.time, next.at);
      next.wake();
      await settle();
    }
    if (Number.isFinite(until)) this.time = Math.max(this.time, until);
  }
}

/** Lets every pending promise callback run. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
