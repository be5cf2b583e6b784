/**
 * The visitor journey of the rehearsal kit: what a waiting page does, step by step, as a plain
 * planner with no I/O, so that the Artillery processor (artillery-processor.js) and the k6 script
 * (k6.js) drive exactly the same visitor. A driver asks `next()` for the step due and when, sends
 * that request when the time comes, and hands the answer to `answer()`; the journey decides the
 * step after it and counts what happened (joined, front, admitted, left, evicted, ...).
 *
 * The protocol (README "Zones, and why these timings"; web/src/client/zones.ts does the same):
 * - Join (POST /rooms/{roomId}/tokens). A join admits nobody: when its answer says heartbeatNow, a
 *   seat looks free and the first heartbeat goes at once.
 * - Far back (zone 'far'): read the room's shared status (GET /rooms/{roomId}/status, with the last
 *   ETag: 304 while unchanged) a tenth of the estimate after the join and then every
 *   farPollDelaySeconds, work out the place with placeOf, and send POST .../keep-place on the
 *   ticket's grid of keepPlaceIntervalSeconds (nextKeepPlaceAt). Once the place says 'front',
 *   heartbeat at once.
 * - Front zone and admitted: POST .../heartbeat every heartbeatIntervalSeconds of the last answer
 *   (the answer carries the state; once admitted, a pass).
 * - Admitted: stay `staySeconds`, heartbeating, then DELETE the token (204).
 * - 429: try the same step again after Retry-After (1 s when it is missing, as API Gateway's own
 *   throttling answers), with jitter. 5xx: counted, and tried again a second later.
 * - 404, 410 or 401 on a signal: the token is gone (evicted). Any other answer is not the protocol:
 *   `answer()` throws UnexpectedAnswer and the driver fails the visitor.
 *
 * Plain JavaScript with no imports, because k6 runs it too (ES modules, no Node built-ins).
 */

// ---------------------------------------------------------------------------------------------
// The page's rules, copied from lambdas/domain/line/positions.ts (the page runs that very code). This
// file cannot import TypeScript, so test/unit/rehearsal/journey.test.ts checks these copies
// against the domain's own functions over random inputs: they cannot drift unnoticed.

/** An estimate is never above a day (MAX_ESTIMATE_SECONDS). */
export const MAX_ESTIMATE_SECONDS = 24 * 60 * 60;
/** A far-back page reads the status at most this often, and at least this often. */
export const MIN_POLL_SECONDS = 2;
export const MAX_POLL_SECONDS = 60;

/** Tickets ahead that have not been admitted yet, plus one. */
export function positionOf(ticket, status) {
  return Math.max(1, ticket - status.lastAdmittedTicket);
}

export function estimateWaitSeconds(position, ticketsPerSecond) {
  if (position <= 0) return 0;
  if (!(ticketsPerSecond > 0)) return MAX_ESTIMATE_SECONDS;
  return Math.min(MAX_ESTIMATE_SECONDS, Math.ceil(position / ticketsPerSecond));
}

/** A waiting ticket's place (position, estimate, zone) from the room status alone. */
export function placeOf(ticket, status) {
  const position = positionOf(ticket, status);
  return {
    position,
    estimatedWaitSeconds: estimateWaitSeconds(position, status.ticketsPerSecond),
    zone: ticket <= status.frontZoneTicket ? 'front' : 'far',
  };
}

const GOLDEN = 0.6180339887498949;

/** When the next keep-place signal is due after one at `lastSignalAt` (ms): on the ticket's grid. */
export function nextKeepPlaceAt(ticket, lastSignalAt, intervalSeconds) {
  const interval = intervalSeconds * 1000;
  const phase = ((ticket * GOLDEN) % 1) * interval;
  const cycles = Math.floor((lastSignalAt - phase) / interval) + 1;
  return phase + cycles * interval;
}

/** When a far-back page reads the status again, in seconds. */
export function farPollDelaySeconds(ticket, status) {
  const { estimatedWaitSeconds: wait } = placeOf(ticket, status);
  const untilFront = status.ticketsPerSecond > 0 ? (ticket - status.frontZoneTicket) / status.ticketsPerSecond : MAX_POLL_SECONDS;
  const delay = Math.min(wait / 10, untilFront / 3);
  return Math.round(Math.min(MAX_POLL_SECONDS, Math.max(MIN_POLL_SECONDS, delay)));
}

/** The first status read after a token view: a tenth of its estimate, within the poll bounds (zones.ts firstReadDelayMs). */
export function firstReadDelaySeconds(estimatedWaitSeconds) {
  const tenth = Math.round(estimatedWaitSeconds / 10);
  return Math.min(MAX_POLL_SECONDS, Math.max(MIN_POLL_SECONDS, Number.isFinite(tenth) && tenth > 0 ? tenth : MIN_POLL_SECONDS));
}

// ---------------------------------------------------------------------------------------------
// The journey

/** What the journey counts; each driver turns them into its own metrics (journey.<name> / journey_<name>). */
export const COUNTS = Object.freeze([
  'joined', // a ticket taken (201)
  'front', // started heartbeating: in the front zone, or told a seat looks free
  'admitted', // a heartbeat answered "admitted"
  'left', // an admitted visitor left after its stay (204)
  'gave_up', // waited longer than maxWaitSeconds and left the line
  'evicted', // the token was gone while the visitor followed the protocol
  'throttled', // a 429 answer (the step is tried again after Retry-After)
  'server_errors', // a 5xx answer (tried again a second later)
]);

/** The journey's steps, named as the drivers name their requests (and their latency metrics). */
export const STEPS = Object.freeze(['join', 'status', 'keep-place', 'heartbeat', 'leave']);

/** The path of each step's request, below the API's base URL. */
export function pathOf(kind, roomId, tokenId) {
  const room = `/rooms/${encodeURIComponent(roomId)}`;
  switch (kind) {
    case 'join':
      return `${room}/tokens`;
    case 'status':
      return `${room}/status`;
    case 'keep-place':
    case 'heartbeat':
      return `${room}/tokens/${encodeURIComponent(tokenId)}/${kind}`;
    case 'leave':
      return `${room}/tokens/${encodeURIComponent(tokenId)}`;
    default:
      throw new Error(`unknown step ${kind}`);
  }
}

/** The HTTP method of each step. */
export const METHOD = Object.freeze({ join: 'POST', status: 'GET', 'keep-place': 'POST', heartbeat: 'POST', leave: 'DELETE' });

/** A base URL as an operator copies it (the stack's ApiUrl ends with "/"), without its trailing slashes. */
export function baseUrl(url) {
  return String(url ?? '').replace(/\/+$/, '');
}

/** An answer that is not the protocol's (a 400, a closed room, an unknown room, no answer): the visitor fails. */
export class UnexpectedAnswer extends Error {
  constructor(message) {
    super(message);
    this.name = 'UnexpectedAnswer';
  }
}

/** 5xx and 429 answers in a row after which a step is given up, failing the visitor (so a broken stack cannot hang a run). */
export const MAX_FAILURES_IN_A_ROW = 20;
/** Wait before trying a step again after a 5xx, and after a 429 without Retry-After. */
const RETRY_MS = 1_000;

function parseJson(body, what) {
  try {
    return JSON.parse(body);
  } catch {
    throw new UnexpectedAnswer(`${what}: the body is not JSON`);
  }
}

function errorCode(body) {
  try {
    return JSON.parse(body)?.error?.code ?? '';
  } catch {
    return '';
  }
}

export class Journey {
  /**
   * @param options.staySeconds   how long an admitted visitor stays (heartbeating) before it leaves
   * @param options.maxWaitSeconds a waiting visitor leaves the line after this long (counted as gave_up)
   * @param options.count         called with one of COUNTS each time it happens
   * @param options.random        jitter of retries, [0, 1)
   */
  constructor({ staySeconds, maxWaitSeconds, count = () => undefined, random = Math.random }) {
    if (!(staySeconds >= 0) || !(maxWaitSeconds > 0)) throw new Error(`staySeconds (${staySeconds}) and maxWaitSeconds (${maxWaitSeconds}) must be numbers`);
    this.stayMs = staySeconds * 1000;
    this.maxWaitMs = maxWaitSeconds * 1000;
    this.count = count;
    this.random = random;
    /** new · far · front · admitted · done */
    this.mode = 'new';
    this.tokenId = '';
    this.secret = '';
    this.ticket = 0;
    this.joinedAt = 0;
    this.heartbeatMs = 5_000;
    this.keepPlaceMs = 300_000;
    /** Send time of the last answered signal (the join counts, for the keep-place grid). */
    this.lastSignalAt = 0;
    this.nextPollAt = 0;
    this.nextKeepAt = 0;
    this.visitEndsAt = 0;
    /** A heartbeat due at once (heartbeatNow, or the front zone reached from far back). */
    this.urgentHeartbeat = false;
    /** A step to take again (after a 429 or a 5xx): { kind, at }. */
    this.retry = undefined;
    this.failuresInARow = 0;
    this.reachedFront = false;
    this.wasAdmitted = false;
    /** How the journey ended: 'left' (after its stay), 'gave_up' (left the line), 'evicted'; undefined until then. */
    this.outcome = undefined;
    /** The last status read and its ETag (a 304 stands for it). */
    this.status = undefined;
    this.etag = '';
  }

  get done() {
    return this.mode === 'done';
  }

  /** The step due next and when (epoch ms; at or before `now` means at once), or undefined once done. */
  next(now) {
    if (this.mode === 'done') return undefined;
    if (this.retry) return this.retry;
    switch (this.mode) {
      case 'new':
        return { kind: 'join', at: now };
      case 'admitted': {
        const beatAt = this.lastSignalAt + this.heartbeatMs;
        return this.visitEndsAt <= beatAt ? { kind: 'leave', at: this.visitEndsAt } : { kind: 'heartbeat', at: beatAt };
      }
      case 'front':
        return this.waiting({ kind: 'heartbeat', at: this.urgentHeartbeat ? now : this.lastSignalAt + this.heartbeatMs });
      case 'far':
        return this.waiting(this.nextKeepAt <= this.nextPollAt ? { kind: 'keep-place', at: this.nextKeepAt } : { kind: 'status', at: this.nextPollAt });
      default:
        throw new Error(`unknown mode ${this.mode}`);
    }
  }

  /** A waiting visitor's step, unless its patience runs out first: then it leaves the line. */
  waiting(step) {
    const giveUpAt = this.joinedAt + this.maxWaitMs;
    return step.at < giveUpAt ? step : { kind: 'leave', at: giveUpAt, givingUp: true };
  }

  /**
   * Follows the answer to `step` (as `next()` gave it), sent at `sentAt` and answered at `now`.
   * `response`: { status, body (text), retryAfter?, etag? } (header values or undefined).
   */
  answer(step, response, sentAt, now) {
    const { kind } = step;
    const { status } = response;
    this.retry = undefined;
    if (status === 429 || status >= 500) {
      this.count(status === 429 ? 'throttled' : 'server_errors');
      if (++this.failuresInARow >= MAX_FAILURES_IN_A_ROW) throw new UnexpectedAnswer(`${kind} answered ${status} ${MAX_FAILURES_IN_A_ROW} times in a row`);
      const retryAfterS = Number(response.retryAfter);
      const waitMs = status === 429 && Number.isFinite(retryAfterS) && retryAfterS >= 0 ? retryAfterS * 1000 : RETRY_MS;
      this.retry = { ...step, at: now + waitMs * (0.5 + this.random()) };
      return;
    }
    this.failuresInARow = 0;
    switch (kind) {
      case 'join':
        return this.joined(response, sentAt, now);
      case 'status':
        return this.statusRead(response, now);
      case 'keep-place':
      case 'heartbeat':
        return this.signalled(kind, response, sentAt, now);
      case 'leave':
        return this.left(step, response);
      default:
        throw new Error(`unknown step ${kind}`);
    }
  }

  joined(response, sentAt, now) {
    if (response.status !== 201) {
      const code = errorCode(response.body);
      const hint = code === 'ROOM_NOT_FOUND' ? ': create the room first (npm run cli -- rooms set <roomId> --capacity N)' : '';
      throw new UnexpectedAnswer(`join answered ${response.status} ${code}${hint}`.trim());
    }
    const { secret, ...view } = parseJson(response.body, 'join');
    this.count('joined');
    this.tokenId = view.tokenId;
    this.secret = secret;
    this.ticket = view.ticket;
    this.joinedAt = sentAt;
    // The join is the ticket's first signal: the keep-place grid starts from it (zones.ts).
    this.lastSignalAt = sentAt;
    if (view.heartbeatNow) {
      this.applyTimings(view);
      this.enterFront(true);
      return;
    }
    this.follow(view, 'join', now);
  }

  statusRead(response, now) {
    if (response.status === 200) {
      this.status = parseJson(response.body, 'status');
      this.etag = response.etag ?? '';
    } else if (response.status !== 304 || !this.status) {
      throw new UnexpectedAnswer(`status answered ${response.status} ${errorCode(response.body)}`.trim());
    }
    if (this.mode !== 'far') return; // a read that raced a signal's answer: the signal decided
    const status = this.status;
    this.heartbeatMs = status.heartbeatIntervalSeconds * 1000;
    this.keepPlaceMs = status.keepPlaceIntervalSeconds * 1000;
    if (placeOf(this.ticket, status).zone === 'front') {
      this.enterFront(true);
      return;
    }
    this.nextPollAt = now + farPollDelaySeconds(this.ticket, status) * 1000;
    this.nextKeepAt = nextKeepPlaceAt(this.ticket, this.lastSignalAt, this.keepPlaceMs / 1000);
  }

  signalled(kind, response, sentAt, now) {
    if (response.status === 404 || response.status === 410 || response.status === 401) {
      this.end('evicted');
      return;
    }
    if (response.status !== 200) throw new UnexpectedAnswer(`${kind} answered ${response.status} ${errorCode(response.body)}`.trim());
    this.lastSignalAt = sentAt;
    this.urgentHeartbeat = false;
    this.follow(parseJson(response.body, kind), kind, now);
  }

  left(step, response) {
    if (response.status === 404 || response.status === 410 || response.status === 401) {
      this.end('evicted'); // gone before it left
    } else if (response.status === 204) {
      this.end(step.givingUp || !this.wasAdmitted ? 'gave_up' : 'left');
    } else {
      throw new UnexpectedAnswer(`leave answered ${response.status} ${errorCode(response.body)}`.trim());
    }
  }

  end(outcome) {
    this.outcome = outcome;
    this.count(outcome);
    this.mode = 'done';
  }

  /** A token view from a join or a signal: admitted, front zone or far back. */
  follow(view, source, now) {
    this.applyTimings(view);
    if (view.state === 'admitted') {
      if (!this.wasAdmitted) {
        if (!this.reachedFront) this.enterFront(false);
        this.wasAdmitted = true;
        this.visitEndsAt = now + this.stayMs;
        this.count('admitted');
      }
      this.mode = 'admitted';
      return;
    }
    if (view.zone === 'front') {
      // From far back (a keep-place answer says the front reached it): heartbeat at once.
      this.enterFront(source === 'keep-place');
      return;
    }
    this.mode = 'far';
    this.nextPollAt = now + firstReadDelaySeconds(view.estimatedWaitSeconds) * 1000;
    this.nextKeepAt = nextKeepPlaceAt(this.ticket, this.lastSignalAt, this.keepPlaceMs / 1000);
  }

  applyTimings(view) {
    this.heartbeatMs = view.heartbeatIntervalSeconds * 1000;
    this.keepPlaceMs = view.keepPlaceIntervalSeconds * 1000;
  }

  enterFront(atOnce) {
    this.mode = 'front';
    this.urgentHeartbeat = this.urgentHeartbeat || atOnce;
    if (!this.reachedFront) {
      this.reachedFront = true;
      this.count('front');
    }
  }
}
