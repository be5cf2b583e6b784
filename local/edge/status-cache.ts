/**
 * The edge cache of the status behavior (lib/gate/gate.ts, its policy `statusCachePolicy` of
 * lib/constructs/status-cache.ts): the room status is the one object every waiting page polls, so
 * the edge answers it for a second from its cache. As CloudFront does with that policy:
 *
 *   - the key is the path alone (no query string, header or cookie);
 *   - the time to live is the origin's `s-maxage` or `max-age`, kept between the policy's minimum
 *     (0 s) and maximum (2 s), or the default (1 s) without either; `no-store`, `no-cache` or
 *     `private` keep it out of the cache (the minimum being 0);
 *   - only 200 answers to GET are cached here (CloudFront's default CachedMethods are GET and HEAD:
 *     a HEAD goes to the API instead);
 *   - requests for a key that is being fetched wait for that fetch (request collapsing).
 *
 * The distribution answers a viewer's If-None-Match itself and asks the origin for whole objects
 * (distribution.ts). Not played: stale-while-revalidate, compression.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface CacheTtl {
  readonly minSeconds: number;
  readonly defaultSeconds: number;
  readonly maxSeconds: number;
}

/** The TTLs of `statusCachePolicy` (lib/constructs/status-cache.ts). */
export const STATUS_CACHE_TTL: CacheTtl = { minSeconds: 0, defaultSeconds: 1, maxSeconds: 2 };

/** An origin's answer, read whole. */
export interface StoredAnswer {
  readonly status: number;
  readonly statusMessage?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface CacheLookup {
  readonly answer: StoredAnswer;
  readonly hit: boolean;
  /** Seconds since the answer was stored (Age). */
  readonly ageSeconds: number;
}

/** How long CloudFront keeps an answer with this Cache-Control, in seconds. */
export function cacheSeconds(cacheControl: string | undefined, ttl: CacheTtl): number {
  const directives = new Map(
    (cacheControl ?? '')
      .split(',')
      .map((d) => d.trim().toLowerCase())
      .filter(Boolean)
      .map((d) => {
        const eq = d.indexOf('=');
        return eq < 0 ? [d, ''] : [d.slice(0, eq).trim(), d.slice(eq + 1).trim().replace(/^"|"$/g, '')];
      }),
  );
  if (['no-store', 'no-cache', 'private'].some((d) => directives.has(d))) return ttl.minSeconds;
  const given = directives.get('s-maxage') ?? directives.get('max-age');
  const seconds = given === undefined ? NaN : Number(given);
  if (!Number.isFinite(seconds)) return ttl.defaultSeconds;
  return Math.min(ttl.maxSeconds, Math.max(ttl.minSeconds, seconds));
}

/** Entries kept at most (one per room's status in practice). */
const MAX_ENTRIES = 1000;

export class EdgeCache {
  private readonly entries = new Map<string, { answer: StoredAnswer; storedAt: number; until: number }>();
  private readonly inFlight = new Map<string, Promise<StoredAnswer>>();

  constructor(
    private readonly ttl: CacheTtl = STATUS_CACHE_TTL,
    private readonly now: () => number = Date.now,
  ) {}

  /** The stored answer for `key` while it lives, else what `fetch` gives (stored when cacheable). */
  async lookup(key: string, fetch: () => Promise<StoredAnswer>): Promise<CacheLookup> {
    const entry = this.entries.get(key);
    const now = this.now();
    if (entry && now < entry.until) return { answer: entry.answer, hit: true, ageSeconds: Math.floor((now - entry.storedAt) / 1000) };
    if (entry) this.entries.delete(key);
    const pending = this.inFlight.get(key);
    if (pending) return { answer: await pending, hit: true, ageSeconds: 0 };
    const fetching = fetch().then((answer) => {
      const header = answer.headers['cache-control'];
      const seconds = answer.status === 200 ? cacheSeconds(Array.isArray(header) ? header.join(', ') : header, this.ttl) : 0;
      if (seconds > 0) this.store(key, answer, seconds);
      return answer;
    });
    this.inFlight.set(key, fetching);
    try {
      return { answer: await fetching, hit: false, ageSeconds: 0 };
    } finally {
      this.inFlight.delete(key);
    }
  }

  private store(key: string, answer: StoredAnswer, seconds: number): void {
    const now = this.now();
    // Keys come from request paths: expired entries go once there are many.
    if (this.entries.size >= MAX_ENTRIES) for (const [k, e] of this.entries) if (e.until <= now) this.entries.delete(k);
    if (this.entries.size < MAX_ENTRIES) this.entries.set(key, { answer, storedAt: now, until: now + seconds * 1000 });
  }
}
