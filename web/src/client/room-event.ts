/**
 * A room's scheduled event as the client sees it (the status's `event`, lambdas/domain/events/events.ts):
 * what it changes in keeping a ticket. Pure functions; the client sends the requests.
 *
 * - Until the draw (phases prequeue and drawing) nobody is admitted: every waiting ticket is far
 *   back and keeps its place with keep-place signals. In the pre-queue it reads the status at its
 *   far-zone rate, but no later than the start (so that the page learns of the draw's beginning on
 *   time); during the draw, which takes seconds (the settling time, then the next metrics run), at
 *   the poll minimum, so that it learns its drawn place as soon as the status shows it, and the
 *   seats the draw opens are not left waiting for pages that read minutes apart. The status is the
 *   cached one (CloudFront), so this costs requests at the edge, not at the backend.
 * - The draw moves the pre-queue's tickets (a permutation of them): once a status shows a draw
 *   (`drawnAt`) that a ticket which waited through the pre-queue or the draw has not been read
 *   after, the client reads its token once for its new ticket before it works out a place from the
 *   status again. A ticket that joined after the draw never re-reads.
 */
import { EVENT_PHASES, type PublicEvent, type RoomStatus } from '../../../lambdas/domain/model.js';
import { MIN_POLL_SECONDS } from '../../../lambdas/domain/line/positions.js';
import { isRecord } from './json.js';

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isOptional = (value: unknown, check: (v: unknown) => boolean) => value === undefined || check(value);

/** Whether a value has the shape of a status's `event` (only what the client and the page read is checked). */
export function isPublicEvent(value: unknown): value is PublicEvent {
  return (
    isRecord(value) &&
    typeof value.eventId === 'string' &&
    (EVENT_PHASES as readonly unknown[]).includes(value.phase) &&
    isTime(value.prequeueStart) &&
    isTime(value.start) &&
    isOptional(value.end, isTime) &&
    isOptional(value.drawnAt, isTime) &&
    isOptional(value.entries, isTime)
  );
}

/** The status without an `event` the client cannot read (a newer server's, or a broken one): the line still works without it. */
export function withReadableEvent(status: RoomStatus): RoomStatus {
  if (status.event === undefined || isPublicEvent(status.event)) return status;
  const { event: _unreadable, ...rest } = status;
  return rest;
}

/** Nobody is admitted until the draw: the pre-queue is open, or closed and not drawn yet. */
export function waitsForDraw(event: PublicEvent | undefined): event is PublicEvent {
  return event?.phase === 'prequeue' || event?.phase === 'drawing';
}

/** What the tabs of a browser remember about their ticket and the room's event (line-memory.ts). */
export interface EventMemory {
  /** The event whose pre-queue or draw the ticket waited through (its join was an entry, or a status said so). */
  heldBy?: string;
  /** The `drawnAt` of the draw the ticket was last read after. */
  rereadAfter?: number;
}

/** The draw (its `drawnAt`) after which the ticket must be read again before its place is worked out; undefined: none. */
export function drawToReread(event: PublicEvent | undefined, memory: EventMemory): number | undefined {
  if (event?.drawnAt === undefined || event.eventId !== memory.heldBy) return undefined;
  return event.drawnAt === memory.rereadAfter ? undefined : event.drawnAt;
}

/**
 * The delay of the next status read, `farDelayMs` as the line gives it: in the pre-queue, no later
 * than the start (never sooner than the poll minimum); during the draw, the poll minimum.
 */
export function eventReadDelayMs(event: PublicEvent | undefined, now: number, farDelayMs: number): number {
  if (event?.phase === 'drawing') return Math.min(farDelayMs, MIN_POLL_SECONDS * 1000);
  if (event?.phase !== 'prequeue') return farDelayMs;
  return Math.min(farDelayMs, Math.max(MIN_POLL_SECONDS * 1000, event.start - now));
}
