/**
 * Scheduled events (issue 12, item 2): a room's drop at a known time, with a pre-queue ordered by a
 * verifiable lottery (lottery.ts). What an event changes, by phase (EVENT_PHASES):
 *
 * - scheduled (before prequeueStart): nothing; the room works as configured.
 * - prequeue (prequeueStart ≤ now < start): arrivals take tickets as usual and wait far back
 *   (keep-place, minutes apart: a pre-queue may last hours); each gets a signed lottery receipt of
 *   its ticket and entry. Nobody is admitted. The commitment to the seed is public from the moment
 *   the event is set, so before anyone could join the pre-queue.
 * - drawing (start ≤ now, no draw recorded): still nobody admitted. Ticket blocks reserved before
 *   `start` are not used after it, and the first reservation after it fixes the event's boundary
 *   (the last ticket reserved before start), so every arrival after `start` has a higher ticket
 *   than every pre-queued one. The metrics run draws (event-draw.ts): it reads the waiting
 *   tickets up to the boundary, orders their entries by the seed, gives the k-th drawn visitor the
 *   k-th lowest of those tickets (the set of tickets is unchanged, so the line's counts and gaps
 *   are too), publishes the list and the seed, and records the draw.
 * - live: admissions as usual, in ticket order: the drawn order first, then arrival order.
 * - ended (now ≥ end): joins are refused when the event closes the room at its end; the metrics run
 *   applies `atEnd` to the room once (closes it, or switches it to passthrough).
 *
 * A pre-queued visitor's position can grow at the draw (a low ticket drawn late): the one place
 * where positions are not upper bounds that only go down (DESIGN §3), by design of a lottery.
 */
import { ValidationError } from '../errors.js';
import { LOTTERY_EVENT_ID_PATTERN, commitmentOf, newLotterySeed } from './lottery.js';
import type { TicketCut } from '../line/tickets.js';
import { EVENT_END_ACTIONS, type EventEndAction, type EventPhase, type PublicEvent, type Room, type RoomEvent } from '../model.js';

/** How long after `start` the draw waits, so that joins of the last moments before it are in the line index (eventually consistent). */
export const DRAW_SETTLE_MS = 2_000;
/** The furthest ahead an event may be scheduled. */
export const MAX_EVENT_LEAD_MS = 366 * 24 * 3600 * 1000;
/** The longest pre-queue. */
export const MAX_PREQUEUE_MS = 7 * 24 * 3600 * 1000;

/** An event as an operator schedules it (times in epoch ms): the seed and commitment are made here. */
export interface EventSchedule {
  eventId: string;
  prequeueStart: number;
  start: number;
  end?: number;
  /** @default 'close' */
  atEnd?: EventEndAction;
}

export function eventPhase(event: RoomEvent, now: number): EventPhase {
  if (event.end !== undefined && now >= event.end) return 'ended';
  if (now < event.prequeueStart) return 'scheduled';
  if (now < event.start) return 'prequeue';
  return event.draw ? 'live' : 'drawing';
}

/**
 * Whether the event's draw or end falls due within `ms` from now (or is due and not done): the
 * metrics loop, which makes both, keeps running through it instead of idling for the minute.
 */
export function eventStepDueWithin(event: RoomEvent, now: number, ms: number): boolean {
  const drawDue = !event.draw && now + ms >= event.start && (event.end === undefined || now < event.end);
  const endDue = event.end !== undefined && event.endedAt === undefined && now + ms >= event.end;
  return drawDue || endDue;
}

/** The room's event phase now, or undefined without an event. */
export const phaseOf = (room: Pick<Room, 'event'>, now: number): EventPhase | undefined => (room.event ? eventPhase(room.event, now) : undefined);

/** Nobody is admitted: the pre-queue is open, or closed and not drawn yet, or the event ended closing the room. */
export function eventHoldsAdmissions(room: Pick<Room, 'event'>, now: number): boolean {
  const phase = phaseOf(room, now);
  return phase === 'prequeue' || phase === 'drawing' || (phase === 'ended' && room.event!.atEnd === 'close' && room.event!.endedAt === undefined);
}

/** A join now is an entry in the event's lottery. */
export const joinsPrequeue = (room: Pick<Room, 'event'>, now: number): boolean => phaseOf(room, now) === 'prequeue';

/** Joins are refused: the event ended and closes the room (before the metrics run closed it). */
export const eventClosesJoins = (room: Pick<Room, 'event'>, now: number): boolean => phaseOf(room, now) === 'ended' && room.event!.atEnd === 'close';

/**
 * The ticket cut of a join now: from the pre-queue's opening until the draw, a ticket block reserved
 * before `start` is not used at or after it, and reservations after it fix the boundary
 * (tickets.ts), so that arrivals after `start` always come after the pre-queue.
 */
export function ticketCutOf(room: Pick<Room, 'event'>, now: number): TicketCut | undefined {
  const event = room.event;
  if (!event || event.draw || now < event.prequeueStart) return undefined;
  return { at: event.start, boundaryOf: boundaryKeyOf(event) };
}

/**
 * The key the store keeps an event's boundary under: the event id and the start of its commitment,
 * so that an event id used again (a new seed) never finds the boundary of the earlier one.
 */
export const boundaryKeyOf = (event: Pick<RoomEvent, 'eventId' | 'commitment'>): string => `${event.eventId}_${event.commitment.slice(0, 16)}`;

/** The event as a status or an admin answer shows it: the seed only once drawn. */
export function publicEventOf(event: RoomEvent, now: number): PublicEvent {
  return {
    eventId: event.eventId,
    phase: eventPhase(event, now),
    prequeueStart: event.prequeueStart,
    start: event.start,
    ...(event.end !== undefined ? { end: event.end } : {}),
    atEnd: event.atEnd,
    commitment: event.commitment,
    ...(event.draw ? { seed: event.seed, drawnAt: event.draw.at, entries: event.draw.entries } : {}),
  };
}

/** The problem with a schedule, or undefined when it can be set now. */
export function eventScheduleProblem(schedule: EventSchedule, now: number): string | undefined {
  const { eventId, prequeueStart, start, end, atEnd } = schedule;
  if (typeof eventId !== 'string' || !LOTTERY_EVENT_ID_PATTERN.test(eventId)) return 'event.eventId must be 1-64 letters, digits, "-" or "_", starting with a letter or digit';
  for (const [name, value] of [['prequeueStart', prequeueStart], ['start', start], ['end', end]] as const) {
    if (value !== undefined && !Number.isSafeInteger(value)) return `event.${name} must be a time`;
  }
  if (!(prequeueStart <= start)) return 'event.prequeueStart must not be after event.start';
  if (start - prequeueStart > MAX_PREQUEUE_MS) return `the pre-queue may last at most ${MAX_PREQUEUE_MS / 86_400_000} days (event.start - event.prequeueStart)`;
  if (start > now + MAX_EVENT_LEAD_MS) return 'event.start may be at most a year ahead';
  if (end !== undefined && !(end > start)) return 'event.end must be after event.start';
  if (end !== undefined && end <= now) return 'event.end is already past';
  if (atEnd !== undefined && !EVENT_END_ACTIONS.includes(atEnd)) return `event.atEnd must be one of ${EVENT_END_ACTIONS.join(', ')}`;
  return undefined;
}

/**
 * The room's event after an operator sets `schedule` at `now` (seed made here, or kept when the
 * same event is rescheduled before its pre-queue opens). Refused with a ValidationError when it
 * would change an event whose pre-queue is open or whose draw is running: then only `end` and
 * `atEnd` may change, and, while the pre-queue is open, `start` to a time not past (an operator
 * who opens the doors early, or late); removing the event, `null`, is always allowed and cancels
 * the lottery.
 */
export async function scheduledEvent(current: RoomEvent | undefined, schedule: EventSchedule, now: number): Promise<RoomEvent> {
  const problem = eventScheduleProblem(schedule, now);
  if (problem) throw new ValidationError(problem);
  const atEnd = schedule.atEnd ?? 'close';
  const end = schedule.end !== undefined ? { end: schedule.end } : {};
  if (current && current.eventId === schedule.eventId) {
    const phase = eventPhase(current, now);
    if (phase !== 'scheduled' && phase !== 'ended') {
      const startMoves = current.start !== schedule.start;
      if (current.prequeueStart !== schedule.prequeueStart || (startMoves && (phase !== 'prequeue' || schedule.start < now))) {
        throw new ValidationError(
          `Event ${current.eventId} is in its ${phase} phase: its prequeueStart can no longer change, nor its start${phase === 'prequeue' ? ' to a time already past' : ''} (end and atEnd may; or remove the event)`,
        );
      }
      const { end: _end, endedAt: _endedAt, ...rest } = current;
      return { ...rest, start: schedule.start, ...end, atEnd };
    }
    if (phase === 'scheduled') {
      // Rescheduled before anyone joined its pre-queue: the same seed, so the commitment already published stands.
      return { eventId: current.eventId, prequeueStart: schedule.prequeueStart, start: schedule.start, ...end, atEnd, commitment: current.commitment, seed: current.seed };
    }
  }
  if (current && current.eventId !== schedule.eventId) {
    const phase = eventPhase(current, now);
    if (phase === 'prequeue' || phase === 'drawing') {
      throw new ValidationError(`Event ${current.eventId} is in its ${phase} phase: remove it (event: null) before scheduling another`);
    }
  }
  const seed = newLotterySeed();
  return { eventId: schedule.eventId, prequeueStart: schedule.prequeueStart, start: schedule.start, ...end, atEnd, commitment: await commitmentOf(seed), seed };
}
