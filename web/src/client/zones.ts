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
 * Until a scheduled event's draw, every waiting ticket is far back, whatever the status's front
 * zone says, and reads the status no later than the event's start (room-event.ts).
 *
 * This module decides which step is due and when (pure functions) and makes the view a status read
 * gives the page; line-memory.ts keeps what the tabs of a browser remember about their ticket. The
 * client sends the requests.
 */
import { farPollDelaySeconds, MAX_POLL_SECONDS, MIN_POLL_SECONDS, nextKeepPlaceAt, placeOf } from '../../../lambdas/domain/line/positions.js';
import { DEFAULT_CALIBRATION, estimateRange } from '../../../lambdas/domain/reporting/fairness.js';
import { DEFAULT_TIMINGS } from '../../../lambdas/domain/timings.js';
import type { RoomStatus, TokenView } from './api.js';
import { eventReadDelayMs, waitsForDraw } from './room-event.js';

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

/** The next status read after one at `now`: the domain's farPollDelaySeconds (the server's own rule), in a pre-queue no later than its start. */
export function nextReadDelayMs(ticket: number, status: RoomStatus, now: number): number {
  return eventReadDelayMs(status.event, now, farPollDelaySeconds(ticket, status) * 1000);
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
    // Nobody is admitted before an event's draw: far back, whatever the front zone says (as the server's views).
    ...(waitsForDraw(status.event) ? { zone: 'far' as const } : {}),
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
    this.nextAt = now + nextReadDelayMs(ticket, status, now);
  }

  /** Counts a failure; the next read is due after `delayMs(failures in a row)`, which this returns. */
  failed(now: number, delayMs: (failures: number) => number): number {
    this.failures++;
    const retryInMs = delayMs(this.failures);
    this.nextAt = now + retryInMs;
    return retryInMs;
  }
}
