/**
 * Place in line and wait estimates (DESIGN §8 "Position without a scan").
 */
import type { Room } from './model.js';
import type { Timings } from './timings.js';

/** An estimate is never above a day: beyond that, "a long time" is all a number can say. */
export const MAX_ESTIMATE_SECONDS = 24 * 60 * 60;
/** Admissions are measured over a window of about this length. */
export const RATE_WINDOW_MS = 60_000;
const MIN_RATE_SPAN_MS = 5_000;

/**
 * Tickets ahead that have not been admitted yet, plus one: an upper bound that only goes down.
 * A ticket at or below lastAdmittedTicket (a join that raced an admission) is next in line.
 */
export function positionOf(ticket: number, room: Pick<Room, 'lastAdmittedTicket'>): number {
  return Math.max(1, ticket - room.lastAdmittedTicket);
}

/**
 * Admissions per second, measured between the older rate sample and now. Undefined when there
 * is not yet enough history (less than a few seconds, or no admission at all).
 */
export function measuredAdmissionRate(room: Pick<Room, 'admittedTotal' | 'rate'>, now: number): number | undefined {
  if (room.rate.prevAt <= 0) return undefined; // no sample yet (a room seeded at deploy time)
  const span = now - room.rate.prevAt;
  const admitted = room.admittedTotal - room.rate.prevTotal;
  if (span < MIN_RATE_SPAN_MS || admitted <= 0) return undefined;
  return admitted / (span / 1000);
}

/**
 * Seconds until a visitor at `position` is admitted: position divided by the measured admission
 * rate; before any admission was measured, the room's capacity turning over once per assumed
 * visit length. Zero for position 0 (already admitted).
 */
export function estimateWaitSeconds(
  position: number,
  room: Pick<Room, 'admittedTotal' | 'rate' | 'capacity'>,
  now: number,
  timings: Pick<Timings, 'assumedVisitSeconds'>,
): number {
  if (position <= 0) return 0;
  const rate = measuredAdmissionRate(room, now) ?? Math.max(room.capacity, 1) / timings.assumedVisitSeconds;
  return Math.min(MAX_ESTIMATE_SECONDS, Math.ceil(position / rate));
}
