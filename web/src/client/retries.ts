/**
 * Retries, sleeping and cancellation for the client: an operation is run until it succeeds or
 * fails for good (backoff on retryable errors, no request while offline), every wait is a sleep
 * that `wakeAll` ends early (back online, a stop), and work of an ended epoch is cancelled.
 */
import type { WaitingRoomError } from './api.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import type { Timers } from './environment.js';
import { toWaitingRoomError } from './http.js';

export type Outcome<T> = { kind: 'ok'; value: T } | { kind: 'failed'; error: WaitingRoomError } | { kind: 'cancelled' };

export interface RetriesOptions {
  timers: Timers;
  random: () => number;
  backoff: BackoffPolicy;
  /** The client's epoch: bumped to cancel everything in flight. */
  epoch: () => number;
  online: () => boolean;
  /** A retryable failure, and the wait before the next try. */
  onRetry: (error: WaitingRoomError, retryInMs: number) => void;
}

export class Retries {
  private readonly sleepers = new Set<(early: boolean) => void>();

  constructor(private readonly options: RetriesOptions) {}

  /** The wait before try `failures + 1`: capped exponential backoff with full jitter, never sooner than Retry-After. */
  delay(failures: number, retryAfterMs: number | undefined): number {
    return backoffDelay(failures, this.options.random, this.options.backoff, retryAfterMs);
  }

  /** Runs `operation` until it succeeds or fails for good: backoff on retryable errors, no request while offline. */
  async attempt<T>(operation: () => Promise<T>, epoch: number): Promise<Outcome<T>> {
    let failures = 0;
    for (;;) {
      if (!(await this.untilOnline(epoch))) return { kind: 'cancelled' };
      try {
        const value = await operation();
        return epoch === this.options.epoch() ? { kind: 'ok', value } : { kind: 'cancelled' };
      } catch (caught) {
        if (epoch !== this.options.epoch()) return { kind: 'cancelled' };
        const error = toWaitingRoomError(caught);
        if (!error.retryable) return { kind: 'failed', error };
        failures++;
        const retryInMs = this.delay(failures, error.retryAfterMs);
        this.options.onRetry(error, retryInMs);
        await this.sleep(retryInMs);
        if (epoch !== this.options.epoch()) return { kind: 'cancelled' };
      }
    }
  }

  /** Waits while the browser is offline; false if the epoch ended meanwhile. */
  async untilOnline(epoch: number): Promise<boolean> {
    while (!this.options.online()) {
      await this.sleep(Number.POSITIVE_INFINITY);
      if (epoch !== this.options.epoch()) return false;
    }
    return epoch === this.options.epoch();
  }

  /** Sleeps `ms` (forever if infinite); `wakeAll` ends every sleep early. Resolves true when woken early. */
  sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      let handle: unknown;
      const wake = (early: boolean) => {
        this.sleepers.delete(wake);
        if (handle !== undefined) this.options.timers.clearTimeout(handle);
        resolve(early);
      };
      this.sleepers.add(wake);
      if (Number.isFinite(ms)) handle = this.options.timers.setTimeout(() => wake(false), ms);
    });
  }

  wakeAll(): void {
    [...this.sleepers].forEach((wake) => wake(true));
  }
}
