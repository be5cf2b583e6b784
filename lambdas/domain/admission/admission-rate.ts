/**
 * Rate-based admission (issue 12 item 1): a room with `newVisitorsPerMinute` admits at most that
 * many visitors a minute, besides its seats. A generic cell-rate algorithm on one room attribute,
 * `rateSlotAt`: every admission takes the next slot, slots are 60 000 / limit ms apart, and slots
 * left unused for more than RATE_BURST_MS are forgotten. So admissions are spread evenly (a limit of
 * 600 admits about 10 a second, not 600 at the top of the minute), and after a quiet spell at most
 * RATE_BURST_MS worth go in at once.
 *
 *   over any span of T ms, admissions ≤ (T + RATE_BURST_MS) × limit / 60 000 + 1,
 *
 * so at most limit × 13/12 + 1 in any one minute, and the limit itself over longer spans. The
 * admitter's batches and a visitor's own admission both take their slots in the admission
 * transaction, on condition that `rateSlotAt` is still what they read: the store is the authority,
 * as it is for seats. Pure functions: the scale model and the tests run the same code.
 */
import type { Room } from '../model.js';

/** Unused slots older than this are forgotten: the largest burst after a quiet spell (the admitter runs every second or two while seats are free). */
export const RATE_BURST_MS = 5_000;
/** The highest limit a room takes (a thousand admissions a second: beyond, seats are the only sensible limit). */
export const MAX_NEW_VISITORS_PER_MINUTE = 60_000;

/** What the rate limit allows now: how many admissions, and the slot clock after `n` of them. */
export interface RateAllowance {
  /** Admissions allowed now (Infinity without a limit). */
  allowed: number;
  /** The room's `rateSlotAt` as read (the transaction's condition). */
  expectSlotAt: number | undefined;
  /** rateSlotAt after n admissions now (n ≤ allowed). */
  slotAtAfter(n: number): number;
}

export const slotIntervalMs = (limitPerMinute: number): number => 60_000 / limitPerMinute;

/** The allowance of `room` at `now`: unlimited without newVisitorsPerMinute. */
export function rateAllowance(room: Pick<Room, 'newVisitorsPerMinute' | 'rateSlotAt'>, now: number): RateAllowance {
  const limit = room.newVisitorsPerMinute;
  if (limit === undefined) return { allowed: Number.POSITIVE_INFINITY, expectSlotAt: room.rateSlotAt, slotAtAfter: () => room.rateSlotAt ?? 0 };
  const interval = slotIntervalMs(limit);
  const base = Math.max(room.rateSlotAt ?? 0, now - RATE_BURST_MS);
  const allowed = base > now ? 0 : Math.floor((now - base) / interval) + 1;
  return { allowed, expectSlotAt: room.rateSlotAt, slotAtAfter: (n) => base + n * interval };
}

/** When the rate limit next allows an admission (now when it already does). */
export function nextSlotAt(room: Pick<Room, 'newVisitorsPerMinute' | 'rateSlotAt'>, now: number): number {
  if (room.newVisitorsPerMinute === undefined || room.rateSlotAt === undefined) return now;
  return Math.max(now, room.rateSlotAt);
}

/** The admissions a second the rate limit lets through (Infinity without one): the estimate takes whichever of seats and rate binds. */
export const rateLimitPerSecond = (room: Pick<Room, 'newVisitorsPerMinute'>): number =>
  room.newVisitorsPerMinute === undefined ? Number.POSITIVE_INFINITY : room.newVisitorsPerMinute / 60;

/** Why a limit cannot be taken, or undefined. */
export function rateLimitProblem(limit: number): string | undefined {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_NEW_VISITORS_PER_MINUTE) {
    return `newVisitorsPerMinute must be a whole number from 1 to ${MAX_NEW_VISITORS_PER_MINUTE} (or null for no limit)`;
  }
  return undefined;
}
