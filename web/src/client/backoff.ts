/**
 * Retry timing: capped exponential backoff with full jitter, never sooner than the server's
 * Retry-After.
 */

export interface BackoffPolicy {
  /** Ceiling of the first retry; doubles with each failure. */
  baseMs: number;
  /** The ceiling never exceeds this. */
  capMs: number;
  /** A Retry-After longer than this is shortened to it (a guard against absurd headers). */
  maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ baseMs: 1_000, capMs: 16_000, maxRetryAfterMs: 120_000 });

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Delay before retry number `attempt` (1 for the first retry): "full jitter", a uniform draw
 * between 0 and min(cap, base * 2^(attempt-1)), but never sooner than the server's Retry-After.
 */
export function backoffDelay(attempt: number, random: () => number, policy: BackoffPolicy, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.floor(Math.min(Math.max(random(), 0), 1) * ceiling);
  const floor = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, policy.maxRetryAfterMs);
  return Math.max(jittered, floor);
}
