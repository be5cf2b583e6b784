/**
 * How the local gateway sheds load instead of queueing it past every client's patience (issue 10,
 * item 4). Two limits, checked before a function runs:
 *
 * - the stage's own throttling (the template's rate and burst): a token bucket, as API Gateway
 *   applies it; beyond it, 429 as API Gateway answers it;
 * - a concurrency limit per function, standing in for Lambda's execution environments: at most
 *   `limit` invocations at once, each further request waits its turn for at most `maxWaitMs`, and
 *   is then answered 429 with Retry-After. On one laptop the functions share two cores with the
 *   emulators, so waiting longer only makes every answer late; an early 429 tells the client
 *   when to come back.
 *
 * A request shed here never reaches its function: a join answered 429 took no ticket.
 */

/** API Gateway's token bucket: `burst` requests at once, refilled at `rate` per second. */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.refilledAt = now();
  }

  /** Takes one request's token: false when the bucket is empty (answer 429). */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whole seconds until the next token (Retry-After). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((1 - this.tokens) / this.rate));
  }
}

export type Release = () => void;

/** At most `limit` holders at once; the others queue in arrival order, each for a bounded time. */
export class ConcurrencyLimit {
  private running = 0;
  private readonly queue: { grant: (release: Release) => void; timer?: NodeJS.Timeout }[] = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new Error(`A concurrency limit must be at least 1 (got ${limit})`);
  }

  get active(): number {
    return this.running;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /**
   * A slot, once one is free: resolves to its release, or to undefined when none came free
   * within `maxWaitMs` (no bound when absent).
   */
  acquire(maxWaitMs?: number): Promise<Release | undefined> {
    if (this.running < this.limit) {
      this.running += 1;
      return Promise.resolve(this.releaser());
    }
    if (maxWaitMs !== undefined && maxWaitMs <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: (typeof this.queue)[number] = { grant: resolve };
      if (maxWaitMs !== undefined) {
        waiter.timer = setTimeout(() => {
          const at = this.queue.indexOf(waiter);
          if (at >= 0) this.queue.splice(at, 1);
          resolve(undefined);
        }, maxWaitMs);
      }
      this.queue.push(waiter);
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (!next) {
        this.running -= 1;
        return;
      }
      // The slot passes straight to the next in the queue.
      clearTimeout(next.timer);
      next.grant(this.releaser());
    };
  }
}

/** How the gateway sheds: the stage throttle from the template, the limit per function from the options. */
export interface SheddingOptions {
  /** The stage's throttling (rate per second, burst); none when the template sets none. */
  stage?: { rateLimit: number; burstLimit: number };
  /** Invocations of one function at once. */
  concurrencyPerFunction: number;
  /** How long a request waits for its function before it is answered 429. */
  maxWaitMs: number;
}

/** On two cores, about as many invocations as keep the emulators busy without making each slow. */
export const DEFAULT_CONCURRENCY_PER_FUNCTION = 8;
/** Well within the clients' patience (their requests time out after 10 s), and long enough to ride out a burst. */
export const DEFAULT_MAX_WAIT_MS = 1_500;
