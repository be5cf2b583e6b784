/**
 * The waiting room's data model. Times are epoch milliseconds unless a name says otherwise.
 */

export const ROOM_STATES = ['open', 'paused', 'closed'] as const;
/** open: joins and admissions · paused: joins, no admissions · closed: no joins, no admissions. */
export type RoomState = (typeof ROOM_STATES)[number];

export const TOKEN_STATES = ['WAITING', 'ADMITTED'] as const;
export type TokenState = (typeof TOKEN_STATES)[number];

/** Two samples of the room's admission counter, used to measure the admission rate. */
export interface AdmissionRateSamples {
  prevAt: number;
  prevTotal: number;
  curAt: number;
  curTotal: number;
}

export interface Room {
  roomId: string;
  capacity: number;
  state: RoomState;
  /** The last ticket issued (0 before the first join). */
  nextTicket: number;
  /** Seats taken: the authoritative count for the capacity invariant. */
  activeCount: number;
  /** The highest ticket admitted so far; only grows. */
  lastAdmittedTicket: number;
  admittedTotal: number;
  /** Visitors removed by the checker after going silent (not counting those who left). */
  evictedTotal: number;
  rate: AdmissionRateSamples;
  createdAt: number;
  updatedAt: number;
}

export interface Token {
  tokenId: string;
  roomId: string;
  ticket: number;
  /** SHA-256 of the visitor's secret, base64url. The secret itself is never stored. */
  secretHash: string;
  state: TokenState;
  issuedAt: number;
  lastSeenAt: number;
  admittedAt?: number;
  /** Sequence number of the token's one live check loop. */
  checkSeq: number;
  /** Delivery id of the check message that last advanced `checkSeq`. */
  checkBy?: string;
  /** Safety-net expiry, epoch seconds (DynamoDB TTL). */
  expiresAtSeconds: number;
}

/** An entry of the line: a waiting token as the index of waiting tokens holds it. */
export interface WaitingEntry {
  tokenId: string;
  ticket: number;
}

/** The body of a check message on the delay queue. */
export interface CheckMessage {
  tokenId: string;
  roomId: string;
  seq: number;
}

export interface AdmissionPass {
  pass: string;
  expiresAt: number;
}

/** What a visitor sees (DESIGN §3). */
export interface TokenView {
  roomId: string;
  tokenId: string;
  ticket: number;
  state: 'waiting' | 'admitted';
  /** Tickets ahead not yet admitted, plus one; 0 once admitted. Only goes down. */
  position: number;
  estimatedWaitSeconds: number;
  heartbeatIntervalSeconds: number;
  /** The admission pass (a JWT), once admitted. */
  pass?: string;
  /** When the pass expires, epoch milliseconds. */
  passExpiresAt?: number;
}

export interface RoomStatus {
  roomId: string;
  state: RoomState;
  capacity: number;
  active: number;
  waiting: number;
  lastAdmittedTicket: number;
  estimatedWaitSeconds: number;
}
