/** The visitors' scheduler on real time (the local runtime over HTTP), as bench/scale/visitor.ts needs it. */
import type { Scheduler } from './visitor.js';

/** Real timers that can all be stopped at once. */
export class RealScheduler implements Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  failures = 0;

  now(): number {
    return Date.now();
  }

  /**
   * Runs `task` once now() has reached `ms` from now, as simulated time does. A Node timer may fire
   * a millisecond before Date.now() gets there; the visitor, reading the clock, would then take a
   * keep-place signal that is due for a poll, or send it twice (measured: the local run's status
   * polls at 2.7 times the model's, then its keep-place signals at 1.7 times).
   */
  after(ms: number, task: () => void | Promise<void>): void {
    this.at(Date.now() + Math.max(0, ms), task);
  }

  private at(due: number, task: () => void | Promise<void>): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      if (Date.now() < due) return this.at(due, task);
      Promise.resolve()
        .then(task)
        .catch(() => (this.failures += 1));
    }, due - Date.now());
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
