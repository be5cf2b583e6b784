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

  after(ms: number, task: () => void | Promise<void>): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      Promise.resolve()
        .then(task)
        .catch(() => (this.failures += 1));
    }, ms);
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
