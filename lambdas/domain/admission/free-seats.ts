/**
 * Free seats (DESIGN §5.1): whether a room may admit someone now, and how many, from its item as
 * read. The admission transaction's conditions are the authority; these only decide whether to try.
 */
import { rateAllowance } from './admission-rate.js';
import { eventHoldsAdmissions } from '../events/events.js';
import type { Room } from '../model.js';
import { admitsUncapped } from '../line/queue-modes.js';

/** TransactWriteItems takes 100 items: up to 99 tokens and the room. */
export const MAX_ADMIT_BATCH = 99;

/** Whether the room may admit someone now: open, no event holding admissions, a seat free (passthrough: always) and, under a rate limit, a slot due. */
export function hasFreeSeat(room: Room | undefined, now?: number): room is Room {
  if (room === undefined || room.state !== 'open') return false;
  if (now !== undefined && eventHoldsAdmissions(room, now)) return false;
  if (admitsUncapped(room)) return true;
  return room.activeCount < room.capacity && (now === undefined || rateAllowance(room, now).allowed >= 1);
}

/** How many visitors the room may admit now: free seats (passthrough: a batch's worth), within the rate limit. */
export function admissionsAllowed(room: Room, now: number): number {
  if (room.state !== 'open' || eventHoldsAdmissions(room, now)) return 0;
  if (admitsUncapped(room)) return MAX_ADMIT_BATCH;
  return Math.max(0, Math.min(room.capacity - room.activeCount, rateAllowance(room, now).allowed));
}
