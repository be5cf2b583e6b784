/**
 * Queueing modes (issue 12 item 3): what each mode changes, in one place. The admission rules of
 * admission.ts, the line facts of positions.ts and the join of visitors.ts ask here.
 *
 * - fifo (the default): tickets in arrival order; the front zone heartbeats, the rest keep their place.
 * - passthrough: every visitor is admitted at its first heartbeat, seats and rate limit not applied,
 *   but counted as usual (active, admitted, the metrics): what the room would have queued is there
 *   to read before it is turned on. Everyone is in the front zone. Each admission is a transaction
 *   on the room's item, as in fifo: a room lets a few hundred visitors a second through this way.
 * - reject: joins are refused without a ticket (409 ROOM_NOT_ACCEPTING, with the room's message: a
 *   sold-out answer); the visitors already in line go on being admitted in ticket order.
 * - random: each free seat goes to a visitor drawn uniformly among the live waiting ones, whatever
 *   their ticket (lambdas/domain/line/random-draw.ts); seats and rate limit apply as in fifo. Everyone is
 *   in the front zone, so every waiting visitor heartbeats (and can be drawn): the cost of the
 *   original design, one write per visitor every few seconds, for the whole line. For very large
 *   crowds an event lottery (a verifiable draw of a pre-queue, lottery.ts) is the scalable way to
 *   randomize. Only the admitter draws: a visitor's own heartbeat admits itself only when there is
 *   nobody to draw among (every ticket that may still wait fits in the seats free now).
 */
import type { QueueMode, Room } from '../model.js';
import { QUEUE_MODES } from '../model.js';

export const DEFAULT_QUEUE_MODE: QueueMode = 'fifo';

/** The mode of a stored value: rooms stored before modes existed (or with a value this version does not know) are fifo. */
export function queueModeOf(value: unknown): QueueMode {
  return typeof value === 'string' && (QUEUE_MODES as readonly string[]).includes(value) ? (value as QueueMode) : DEFAULT_QUEUE_MODE;
}

/** Seats and rate limit are not applied: everyone heard from goes in. */
export const admitsUncapped = (room: Pick<Room, 'mode'>): boolean => room.mode === 'passthrough';

/** New visitors get no ticket. */
export const refusesJoins = (room: Pick<Room, 'mode'>): boolean => room.mode === 'reject';

/** Every waiting visitor is in the front zone (heartbeats and may be admitted): nobody keeps a place far back. */
export const everyoneInFront = (room: Pick<Room, 'mode'>): boolean => room.mode === 'passthrough' || room.mode === 'random';

/** Seats go to visitors drawn at random among the live waiting ones, by the admitter alone: ticket order does not count. */
export const drawsAtRandom = (room: Pick<Room, 'mode'>): boolean => room.mode === 'random';
