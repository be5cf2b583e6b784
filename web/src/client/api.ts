/**
 * The API's shapes as the client sees them (DESIGN §3), and the client's names for its answers.
 * The token view and the room status are the domain's own types (a types-only file with no Node
 * imports); the rest is web-only: what a visitor keeps, the client's states, and the error that
 * carries a failure.
 */
import { ROOM_STATES, type EventPhase, type PublicEvent, type RoomState, type RoomStatus, type TokenView, type Zone } from '../../../lambdas/domain/model.js';
import { isRecord } from './json.js';

export type { EventPhase, PublicEvent, RoomState, RoomStatus, TokenView, Zone };

/** A token's state as the API spells it (the domain's stored TokenState is upper-case). */
export type TokenState = TokenView['state'];

/** What a visitor keeps: enough to speak for its token, and its lottery receipt when its join was an entry in an event's draw. */
export interface Credential {
  roomId: string;
  tokenId: string;
  secret: string;
  /** The signed lottery receipt (a JWT) of a join in an event's pre-queue, to check against the published draw (/lottery.html). */
  lotteryReceipt?: string;
  /** The event whose draw the join was an entry in. */
  lotteryEventId?: string;
}

/** A visitor's entry in an event's lottery, as its credential keeps it. */
export interface LotteryEntry {
  eventId: string;
  /** Absent when the room signs no receipts (no pass keys): the entry is still in the draw. */
  receipt?: string;
}

export type ClientMode = 'wait' | 'keep-alive';

/**
 * idle: not started (or stopped) · joining: resuming or taking a ticket · waiting, admitted: live
 * (heartbeating, or far from the front reading the room status) · evicted: the token is gone (404) ·
 * closed: the room turned the visitor away (a 409, or its status is gone; `ClosedReason` says why) ·
 * left: the visitor left, here or in another tab · failed: an error that retrying later may fix
 * (see `retry`).
 */
export type ClientState = 'idle' | 'joining' | 'waiting' | 'admitted' | 'evicted' | 'closed' | 'left' | 'failed';

/**
 * Why the state is `closed`: closed: the room is closed (409 ROOM_CLOSED, or its status is 404) ·
 * not-accepting: the room is open to the visitors already in line but takes no new ones (its
 * `reject` mode: 409 ROOM_NOT_ACCEPTING on the join, a sold-out answer; the room's message, in its
 * status, says why). Either way the client sends nothing more until `retry()`.
 */
export type ClosedReason = 'closed' | 'not-accepting';

/** The error code of the 409 that refuses a join in reject mode (lambdas/domain/errors.ts RoomNotAcceptingError). */
export const NOT_ACCEPTING_CODE = 'ROOM_NOT_ACCEPTING';

/** Why a 409 turned the visitor away: by its error code (anything but ROOM_NOT_ACCEPTING counts as closed, as before). */
export function closedReasonOf(error: Pick<WaitingRoomError, 'code'>): ClosedReason {
  return error.code === NOT_ACCEPTING_CODE ? 'not-accepting' : 'closed';
}

/** An API or network failure. `status` is 0 when no HTTP response arrived. */
export class WaitingRoomError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'WaitingRoomError';
  }

  /** Network errors, timeouts, 429 and 5xx are worth retrying; the rest are answers. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }

  /** The token is gone (evicted, left) or the secret does not match: it no longer holds a place. */
  get tokenLost(): boolean {
    return (this.status === 404 && this.code !== 'ROOM_NOT_FOUND') || this.status === 410 || this.status === 401;
  }
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isRoomState = (value: unknown): value is RoomState => (ROOM_STATES as readonly unknown[]).includes(value);

/** Whether an API answer (or another tab's message) has the shape of a token view. */
export function isTokenView(value: unknown): value is TokenView {
  return (
    isRecord(value) &&
    typeof value.roomId === 'string' &&
    typeof value.tokenId === 'string' &&
    isCount(value.ticket) &&
    (value.state === 'waiting' || value.state === 'admitted') &&
    isCount(value.position) &&
    isCount(value.estimatedWaitSeconds) &&
    isRoomState(value.roomState) &&
    (value.zone === 'front' || value.zone === 'far') &&
    isCount(value.heartbeatIntervalSeconds) &&
    isCount(value.keepPlaceIntervalSeconds) &&
    (value.pass === undefined || typeof value.pass === 'string') &&
    (value.passExpiresAt === undefined || typeof value.passExpiresAt === 'number') &&
    (value.message === undefined || typeof value.message === 'string') &&
    (value.lotteryReceipt === undefined || typeof value.lotteryReceipt === 'string') &&
    (value.lotteryEventId === undefined || typeof value.lotteryEventId === 'string')
  );
}

/** Whether an answer of `GET /rooms/{roomId}/status` has the shape of a room status. */
export function isRoomStatus(value: unknown): value is RoomStatus {
  return (
    isRecord(value) &&
    typeof value.roomId === 'string' &&
    isRoomState(value.state) &&
    isCount(value.capacity) &&
    isCount(value.active) &&
    isCount(value.waiting) &&
    isCount(value.lastAdmittedTicket) &&
    isCount(value.lastTicket) &&
    isCount(value.frontZoneTicket) &&
    isCount(value.ticketsPerSecond) &&
    typeof value.rateMeasured === 'boolean' &&
    isCount(value.estimatedWaitSeconds) &&
    isCount(value.heartbeatIntervalSeconds) &&
    isCount(value.keepPlaceIntervalSeconds) &&
    // (epoch is not used here, and a status cached from before it existed has none.)
    (value.message === undefined || typeof value.message === 'string')
  );
}
