/**
 * Zones (DESIGN §2 step 2, §8 "Position without a scan"): how a page keeps its visitor's place.
 *
 * - Admitted, or waiting in the front zone: heartbeat every `heartbeatIntervalSeconds`.
 * - Waiting far from the front: no heartbeat. Read the room's shared, cacheable status, work out
 *   the place from the ticket with the domain's own `placeOf`, read it again after
 *   `farPollDelaySeconds`, and send a keep-place signal on the domain's per-ticket grid of
 *   `keepPlaceIntervalSeconds` (`nextKeepPlaceAt`: at most an interval after the last signal, and a
 *   crowd's signals spread evenly). Once the place is in the front zone, heartbeat at once.
 *
 * This module decides which step is due and when (pure functions), makes the view a status read
 * gives the page, and keeps what the tabs of a browser remember about their ticket (the last
 * signal sent, the lowest position shown). The client sends the requests.
 */
import { farPollDelaySeconds, MAX_POLL_SECONDS, MIN_POLL_SECONDS, nextKeepPlaceAt, placeOf } from '../../../lambdas/domain/positions.js';
import { DEFAULT_CALIBRATION, estimateRange } from '../../../lambdas/domain/fairness.js';
import { DEFAULT_TIMINGS } from '../../../lambdas/domain/timings.js';
import type { RoomStatus, TokenView } from './api.js';
import type { StorageLike } from './environment.js';
import { isRecord, safeParse } from './json.js';

/** heartbeat: admitted, or waiting in the front zone · far: reads the room status and keeps its place. */
export type Cadence = 'heartbeat' | 'far';

export function cadenceOf(view: TokenView): Cadence {
  return view.state === 'waiting' && view.zone === 'far' ? 'far' : 'heartbeat';
}

/** heartbeat and keep-place are signals (per-visitor writes); status is the shared, cacheable read. */
export type StepKind = 'heartbeat' | 'keep-place' | 'status';

export interface Step {
  kind: StepKind;
  /** When it is due, epoch milliseconds. */
  at: number;
}

/** What the next step is worked out from. */
export interface Timeline {
  view: TokenView;
  /** When the last token view arrived (from this tab's requests and status reads, or from the leader tab). */
  lastViewAt: number;
  /** When any tab last sent a signal (join, heartbeat, keep-place) for this ticket; -Infinity if unknown. */
  signalAt: number;
  /** When this tab's next status read is due, set by its last read; undefined: timed from the last view. */
  nextReadAt: number | undefined;
}

function boundedMs(value: number, fallback: number, min: number, max: number): number {
  const seconds = Number.isFinite(value) && value > 0 ? value : fallback;
  return Math.min(max, Math.max(min, seconds)) * 1000;
}

export function heartbeatIntervalMs(view: TokenView): number {
  return boundedMs(view.heartbeatIntervalSeconds, DEFAULT_TIMINGS.heartbeatIntervalSeconds, 1, 60);
}

export function keepPlaceIntervalMs(view: TokenView): number {
  return boundedMs(view.keepPlaceIntervalSeconds, DEFAULT_TIMINGS.keepPlaceIntervalSeconds, 5, 24 * 60 * 60);
}

/** When the next keep-place signal is due: on the domain's per-ticket grid, at most an interval after the last signal. */
export function keepPlaceAt(t: Pick<Timeline, 'view' | 'signalAt'>): number {
  if (!Number.isFinite(t.signalAt)) return t.signalAt; // nothing sent yet that we know of: at once
  return nextKeepPlaceAt(t.view.ticket, t.signalAt, keepPlaceIntervalMs(t.view) / 1000);
}

/** The first status read after a token view: a tenth of the view's estimated wait, within the domain's poll bounds. */
export function firstReadDelayMs(view: TokenView): number {
  return boundedMs(Math.round(view.estimatedWaitSeconds / 10), MIN_POLL_SECONDS, MIN_POLL_SECONDS, MAX_POLL_SECONDS);
}

/** The next status read after one: the domain's farPollDelaySeconds (the server's own rule). */
export function nextReadDelayMs(ticket: number, status: RoomStatus): number {
  return farPollDelaySeconds(ticket, status) * 1000;
}

/** The step due next, and when. */
export function nextStep(t: Timeline): Step {
  if (cadenceOf(t.view) === 'heartbeat') return { kind: 'heartbeat', at: t.signalAt + heartbeatIntervalMs(t.view) };
  const signalAt = keepPlaceAt(t);
  const readAt = t.nextReadAt ?? t.lastViewAt + firstReadDelayMs(t.view);
  return signalAt <= readAt ? { kind: 'keep-place', at: signalAt } : { kind: 'status', at: readAt };
}

/** The step to take at once (back online, or standing in for a silent leader tab): the cheapest one that learns the news. */
export function urgentStep(t: Timeline, now: number): StepKind {
  if (cadenceOf(t.view) === 'heartbeat') return 'heartbeat';
  return now >= keepPlaceAt(t) ? 'keep-place' : 'status';
}

/** The longest a leader tab goes without a new view: a follower that hears nothing for a few of these steps in. */
export function viewIntervalMs(view: TokenView): number {
  return cadenceOf(view) === 'far' ? firstReadDelayMs(view) : heartbeatIntervalMs(view);
}

/**
 * The view a status read gives the page: the last token view with the place worked out from the
 * status (the same code the server runs), and the room's state, mode and timings as the status says.
 */
export function viewFromStatus(view: TokenView, status: RoomStatus): TokenView {
  const { message: _previous, ...rest } = view;
  const place = placeOf(view.ticket, status);
  // The range the page shows, from the status's calibration (a status from before ranges existed has none: the defaults).
  const range = estimateRange(place.estimatedWaitSeconds, status.estimateCalibration ?? DEFAULT_CALIBRATION);
  return {
    ...rest,
    ...place,
    estimatedWaitLowSeconds: range.lowSeconds,
    estimatedWaitHighSeconds: range.highSeconds,
    roomState: status.state,
    // (A status cached from before modes existed has none: the view's own stays.)
    mode: status.mode ?? view.mode,
    heartbeatIntervalSeconds: status.heartbeatIntervalSeconds,
    keepPlaceIntervalSeconds: status.keepPlaceIntervalSeconds,
    // The operator's message to the line, as the status now says it (gone when it was cleared).
    ...(status.message !== undefined ? { message: status.message } : {}),
  };
}

/** One tab's status reads: the status read last (a 304 stands for it), when the next read is due, the failures in a row. */
export class StatusReads {
  last: RoomStatus | undefined;
  nextAt: number | undefined;
  failures = 0;

  /** A token view arrived: the next read is timed from it, unless a failed read's backoff is pending (Retry-After holds). */
  restart(): void {
    if (this.failures === 0) this.nextAt = undefined;
  }

  succeeded(status: RoomStatus, ticket: number, now: number): void {
    this.last = status;
    this.failures = 0;
    this.nextAt = now + nextReadDelayMs(ticket, status);
  }

  /** Counts a failure; the next read is due after `delayMs(failures in a row)`, which this returns. */
  failed(now: number, delayMs: (failures: number) => number): number {
    this.failures++;
    const retryInMs = delayMs(this.failures);
    this.nextAt = now + retryInMs;
    return retryInMs;
  }
}

interface Remembered {
  tokenId: string;
  signalAt?: number;
  lowest?: number;
}

function isRemembered(value: unknown): value is Remembered {
  return (
    isRecord(value) &&
    typeof value.tokenId === 'string' &&
    (value.signalAt === undefined || typeof value.signalAt === 'number') &&
    (value.lowest === undefined || typeof value.lowest === 'number')
  );
}

/**
 * What the tabs of a browser remember about their ticket, in storage next to the credential: when
 * the last signal was sent (a new leader tab, or a reloaded page, keeps the beat and the keep-place
 * schedule) and the lowest position shown (positions only go down, whichever cache, clock or tab
 * gave the number). Each tab keeps its own copy too, for when storage fails.
 */
export class LineMemory {
  private own: Remembered | undefined;

  constructor(
    private readonly storage: StorageLike,
    private readonly key: string,
  ) {}

  signalAt(tokenId: string): number {
    return this.read(tokenId).signalAt ?? Number.NEGATIVE_INFINITY;
  }

  signalled(tokenId: string, at: number): void {
    const known = this.read(tokenId);
    this.write({ ...known, signalAt: Math.max(at, known.signalAt ?? at) });
  }

  /** A waiting view with its position never above the lowest shown for its ticket (remembered). */
  lowered(view: TokenView): TokenView {
    if (view.state !== 'waiting') return view;
    const known = this.read(view.tokenId);
    const lowest = Math.min(view.position, known.lowest ?? view.position);
    if (lowest !== known.lowest) this.write({ ...known, lowest });
    return lowest < view.position ? { ...view, position: lowest } : view;
  }

  /** Forgets the ticket (left, evicted); with `tokenId`, only if it is that ticket. */
  forget(tokenId?: string): void {
    if (tokenId === undefined || this.own?.tokenId === tokenId) this.own = undefined;
    try {
      if (tokenId === undefined || this.stored()?.tokenId === tokenId) this.storage.removeItem(this.key);
    } catch {
      // Storage disabled: nothing stored.
    }
  }

  private read(tokenId: string): Remembered {
    const merged: Remembered = { tokenId };
    for (const entry of [this.stored(), this.own]) {
      if (entry?.tokenId !== tokenId) continue;
      if (entry.signalAt !== undefined) merged.signalAt = Math.max(entry.signalAt, merged.signalAt ?? entry.signalAt);
      if (entry.lowest !== undefined) merged.lowest = Math.min(entry.lowest, merged.lowest ?? entry.lowest);
    }
    return merged;
  }

  private stored(): Remembered | undefined {
    try {
      const text = this.storage.getItem(this.key);
      const value = text === null ? undefined : safeParse(text);
      return isRemembered(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }

  private write(entry: Remembered): void {
    this.own = entry;
    try {
      this.storage.setItem(this.key, JSON.stringify(entry));
    } catch {
      // Storage full or disabled: this tab's copy serves.
    }
  }
}
