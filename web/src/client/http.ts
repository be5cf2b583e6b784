/**
 * The client's HTTP: one request with a timeout, its answer read as JSON or turned into a
 * WaitingRoomError, and the checks on what the API sends back. No retries here (see the client's
 * `attempt`).
 */
import { SECRET_PATTERN } from '../../../lambdas/domain/id-patterns.js';
import { isRoomStatus, isTokenView, WaitingRoomError, type RoomStatus, type TokenView } from './api.js';
import { parseRetryAfter } from './backoff.js';
import type { FetchLike, RequestInitLike, ResponseLike, Timers } from './environment.js';
import { isRecord, safeParse } from './json.js';
import { withReadableEvent } from './room-event.js';

export interface HttpOptions {
  fetch: FetchLike;
  timers: Timers;
  now: () => number;
  /** A request that takes longer is aborted (and fails as retryable). */
  timeoutMs: number;
}

export interface RequestOptions {
  /** Sent as `Authorization: Bearer <secret>`. */
  secret?: string;
  /**
   * A shared, cacheable read (the room status): the browser's HTTP cache may answer it and
   * revalidate it with its ETag. Without this, requests bypass the cache (`cache: 'no-store'`).
   */
  cacheable?: boolean;
}

/** What a cacheable request resolves with when the server answers 304 Not Modified. */
export const NOT_MODIFIED: unique symbol = Symbol('not-modified');

export class Http {
  constructor(private readonly options: HttpOptions) {}

  /**
   * One request; resolves with the JSON body of a 2xx answer (NOT_MODIFIED for a cacheable 304),
   * throws WaitingRoomError otherwise.
   */
  async request(method: 'GET' | 'POST', url: string, options: RequestOptions = {}): Promise<unknown> {
    const { fetch, timers, timeoutMs } = this.options;
    // A cacheable read sends no Authorization header, so it stays a CORS-simple request (no preflight).
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (options.secret) headers.Authorization = `Bearer ${options.secret}`;
    const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
    let timedOut = false;
    const timeout = timers.setTimeout(() => {
      timedOut = true;
      controller?.abort();
    }, timeoutMs);
    const init: RequestInitLike = {
      method,
      headers,
      ...(options.cacheable ? {} : { cache: 'no-store' as const }),
      ...(controller ? { signal: controller.signal } : {}),
    };
    let response: ResponseLike;
    let text: string;
    try {
      response = await fetch(url, init);
      text = await response.text();
    } catch {
      throw timedOut
        ? new WaitingRoomError('TIMEOUT', `No answer within ${timeoutMs} ms`, 0)
        : new WaitingRoomError('NETWORK', 'The waiting room could not be reached', 0);
    } finally {
      timers.clearTimeout(timeout);
    }
    if (options.cacheable && response.status === 304) return NOT_MODIFIED;
    const body = text.trim() === '' ? undefined : safeParse(text);
    if (response.status >= 200 && response.status < 300) return body;
    const problem = isRecord(body) && isRecord(body.error) ? body.error : {};
    throw new WaitingRoomError(
      typeof problem.code === 'string' ? problem.code : `HTTP_${response.status}`,
      typeof problem.message === 'string' ? problem.message : `HTTP ${response.status}`,
      response.status,
      parseRetryAfter(response.headers.get('Retry-After'), this.options.now()),
    );
  }
}

export function toWaitingRoomError(error: unknown): WaitingRoomError {
  if (error instanceof WaitingRoomError) return error;
  return new WaitingRoomError('CLIENT', error instanceof Error ? error.message : String(error), 0);
}

function badResponse(): WaitingRoomError {
  // Retryable: most likely a proxy's error page rather than the API.
  return new WaitingRoomError('BAD_RESPONSE', 'The waiting room sent an unexpected answer', 502);
}

export function expectView(body: unknown): TokenView {
  if (!isTokenView(body)) throw badResponse();
  return body;
}

export function expectJoined(body: unknown): TokenView & { secret: string } {
  const view = expectView(body);
  const secret = (body as { secret?: unknown }).secret;
  if (typeof secret !== 'string' || !SECRET_PATTERN.test(secret)) throw badResponse();
  return { ...view, secret };
}

/** A room status of `roomId`; a 304 stands for `previous` (the status this tab read last). An event it cannot read is left out. */
export function expectStatus(body: unknown, roomId: string, previous: RoomStatus | undefined): RoomStatus {
  if (body === NOT_MODIFIED && previous) return previous;
  if (!isRoomStatus(body) || body.roomId !== roomId) throw badResponse();
  return withReadableEvent(body);
}
