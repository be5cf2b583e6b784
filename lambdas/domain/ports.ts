/**
 * The ports the domain needs. Adapters implement them with AWS SDKs; tests implement them in memory.
 */
import type { AdmissionPass, CheckMessage, Room, RoomState, Token, WaitingEntry } from './model.js';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export type IssueTicketOutcome =
  | { kind: 'issued'; room: Room }
  | { kind: 'room-not-found' }
  | { kind: 'room-closed' };

export interface AdmitRequest {
  roomId: string;
  tokenId: string;
  ticket: number;
  now: number;
  /** Also raise the room's lastAdmittedTicket to `ticket`, on condition it is lower. */
  raiseLastAdmitted: boolean;
}

/**
 * admitted: token and room changed together · token-not-waiting: the token left, was removed or
 * was admitted by someone else · room-refused: the room is full, not open, or lastAdmittedTicket
 * moved · conflict: a concurrent transaction touched the same items; retry.
 */
export type AdmitOutcome = 'admitted' | 'token-not-waiting' | 'room-refused' | 'conflict';

export interface RemoveRequest {
  token: Pick<Token, 'tokenId' | 'roomId' | 'state'>;
  /** Remove only if the token still shows these values (the checker's view of a silent token). */
  expect?: { lastSeenAt: number; checkSeq: number };
  now: number;
}

/**
 * removed: gone, and its seat (if admitted) freed in the same transaction; a removal with `expect`
 * (the checker's) also counts in the room's evictedTotal · changed: it was not as expected.
 */
export type RemoveOutcome = 'removed' | 'changed' | 'conflict';

export interface TouchRequest {
  tokenId: string;
  roomId: string;
  secretHash: string;
  now: number;
  expiresAtSeconds: number;
  minIntervalMs: number;
}

/** touched/recent: the token as it now is · mismatch: another secret or room (the stored token) · not-found. */
export type TouchOutcome =
  | { kind: 'touched' | 'recent'; token: Token }
  | { kind: 'mismatch'; token: Token }
  | { kind: 'not-found' };

export interface RoomUpsert {
  roomId: string;
  capacity?: number;
  state?: RoomState;
  now: number;
}

export interface WaitingRoomStore {
  /** Strongly consistent read of a room. */
  getRoom(roomId: string): Promise<Room | undefined>;
  listRooms(): Promise<Room[]>;
  /** Creates the room (capacity required) or changes capacity and state; counters are kept. */
  upsertRoom(input: RoomUpsert): Promise<Room | undefined>;
  /** Atomically takes the next ticket, unless the room is missing or closed. */
  issueTicket(roomId: string, now: number): Promise<IssueTicketOutcome>;
  /** Writes a new token; fails if the id exists. */
  putToken(token: Token): Promise<void>;
  /** Strongly consistent read of a token. */
  getToken(tokenId: string): Promise<Token | undefined>;
  /**
   * Records a heartbeat in one conditional write: only if the token exists, belongs to `roomId`,
   * has `secretHash`, and was not seen within `minIntervalMs` (then it answers 'recent', unwritten).
   */
  touchToken(request: TouchRequest): Promise<TouchOutcome>;
  /** The first waiting tokens of a room in ticket order, optionally only tickets below `beforeTicket`. */
  listWaiting(roomId: string, limit: number, beforeTicket?: number): Promise<WaitingEntry[]>;
  /** One transaction: token WAITING → ADMITTED and room activeCount + 1, on condition of a free seat. */
  admitToken(request: AdmitRequest): Promise<AdmitOutcome>;
  /** Deletes a token; for an admitted one, activeCount - 1 in the same transaction. */
  removeToken(request: RemoveRequest): Promise<RemoveOutcome>;
  /** checkSeq fromSeq → fromSeq + 1 and checkBy = by, on condition checkSeq = fromSeq. */
  advanceCheck(tokenId: string, fromSeq: number, by: string): Promise<'advanced' | 'changed'>;
  /** Moves the admission-rate samples forward if the current one is at least `minAgeMs` old. */
  rollAdmissionRate(roomId: string, now: number, minAgeMs: number): Promise<void>;
}

export interface CheckQueue {
  /** Sends a check message that becomes visible after `delaySeconds` (0-900). */
  schedule(message: CheckMessage, delaySeconds: number): Promise<void>;
}

export interface PassIssuer {
  issue(claims: { roomId: string; tokenId: string; ticket: number }, now: number): Promise<AdmissionPass>;
}

export interface IdSource {
  tokenId(): string;
  secret(): string;
}

/** Domain events, for logs and the local runtime's console. */
export interface WaitingRoomEvents {
  admitted?(event: { roomId: string; tokenId: string; ticket: number }): void;
  removed?(event: {
    roomId: string;
    tokenId: string;
    ticket: number;
    state: Token['state'];
    reason: 'left' | 'silent';
  }): void;
  /** A follow-up admission failed after its cause (join, leave, eviction) succeeded; a later trigger retries it. */
  admissionDeferred?(event: { roomId: string; error: unknown }): void;
}
