/**
 * Silence must mean the visitor's silence, not the system's (issue 10, item 5). While the
 * datastore stalls, heartbeats are not recorded, and a check that runs just after would take
 * every visitor for silent. So each checker environment watches its own store reads: one that
 * took longer than STALL_MS, or failed, is a stall. For `recoveryMs` after a stall ends (a
 * heartbeat timeout: every visitor, retrying after its errors, gets a whole timeout to be heard
 * again), an eviction is put off to the end of that window instead of done; never beyond
 * MAX_DEFER_MS of extra silence, so a system that keeps stalling still frees its ghost seats.
 *
 * A check that merely runs late is not a stall: the token it finds silent is silent for longer
 * still. (Heartbeats held up in an overloaded server, not yet recorded, are the load shedding's
 * business: they must be answered 429 quickly rather than queue past the timeout.)
 */
import type { Clock } from '../ports.js';

/** A store read this much slower than usual is a stall (DynamoDB answers in milliseconds, retries included). */
export const STALL_MS = 2_000;
/** However often the system stalls, a silent token is removed at most this long after its deadline. */
export const MAX_DEFER_MS = 120_000;

export class StallWatch {
  private stallEndedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly recoveryMs: number,
  ) {}

  /** Runs a store call, and notes a stall if it took longer than STALL_MS or failed. */
  async timed<T>(call: () => Promise<T>): Promise<T> {
    const started = this.clock.now();
    try {
      const result = await call();
      if (this.clock.now() - started > STALL_MS) this.noteStall();
      return result;
    } catch (error) {
      this.noteStall();
      throw error;
    }
  }

  /**
   * When an eviction due at `deadline` may happen: `now` (the caller's reading, which its decision
   * was made on: a second reading here could be a millisecond later, and look like a put-off),
   * unless a stall ended less than recoveryMs ago; then at the end of the recovery, at most
   * MAX_DEFER_MS after the deadline.
   */
  evictAt(deadline: number, now: number): number {
    const recovered = this.stallEndedAt + this.recoveryMs;
    return recovered <= now ? now : Math.min(recovered, Math.max(now, deadline + MAX_DEFER_MS));
  }

  private noteStall(): void {
    this.stallEndedAt = this.clock.now();
  }
}
