/**
 * The ports the domain needs. Adapters implement them with AWS SDKs; tests and the scale model
 * implement them in memory.
 */
import type { AdmissionPass, AdmissionRateSamples, CheckMessage, EventDraw, EventEndAction, QueueMode, Room, RoomEvent, RoomState, Signal, Token, WaitingEntry } from './model.js';
import type { LotteryPublication } from './events/lottery.js';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * A token to admit. `rearm` moves its check loop on (checkSeq + 1) to a check due soon: a visitor
 * whose last check was scheduled while it kept its place far back would otherwise hold its seat,
 * silent, until that far check.
 */
export interface AdmitEntry extends WaitingEntry {
  /**
   * The token's checkSeq as the admitter read it: the token is refused if its check loop moved on
   * since. Whether the loop needed re-arming was decided on that read's next check; a check that
   * moved the loop meanwhile may have scheduled the next one too late for an admitted visitor (a
   * keep-place check minutes away), or a re-armed check would go out with a stale sequence.
   */
  checkSeq: number;
  rearm?: { checkBy: string; checkDueAt: number };
}

/** One transaction that admits several waiting tokens and moves the room's counts once (DESIGN §5.1). */
export interface AdmitBatchRequest {
  roomId: string;
  /** In ticket order (in the random mode, in the order drawn); at most MAX_ADMIT_BATCH. */
  tokens: readonly AdmitEntry[];
  /** The room's capacity as the admitter saw it: the room must still have at least this much, and activeCount + tokens.length within it. */
  capacity: number;
  /** Passthrough: the seats are not a condition (the room must still be in passthrough mode); the counts move as usual. */
  uncapped?: boolean;
  /**
   * Under a rate limit: the room's rateSlotAt must still be `expect` (undefined: never set), and
   * becomes `next` (lambdas/domain/admission/admission-rate.ts).
   */
  rateSlot?: { expect: number | undefined; next: number };
  /** Raise the room's lastAdmittedTicket to the batch's highest ticket, on condition it is lower. */
  raiseLastAdmittedTo?: number;
  /** The admitter's lease (omitted by a visitor admitting only itself). */
  owner?: string;
  /** Each token must have been heard from with a heartbeat at or after this time (a ghost never takes a seat). */
  liveSince: number;
  /**
   * The room's epoch as the admitter saw it: the room must still be in it (an emergency stop that
   * committed meanwhile refuses the batch), and the tokens are admitted in it (admittedEpoch).
   */
  epoch: number;
  now: number;
}

/**
 * admitted: every token and the room changed together · tokens-refused: these tokens are no longer
 * live waiting tokens of the room (left, admitted, silent, keeping their place) · room-refused: the
 * room is not open, too full or smaller now, lastAdmittedTicket or the epoch moved, or the lease is lost ·
 * conflict: a concurrent transaction touched the same items; retry.
 */
export type AdmitBatchOutcome =
  | { kind: 'admitted' }
  | { kind: 'tokens-refused'; tokenIds: string[] }
  | { kind: 'room-refused' }
  | { kind: 'conflict' };

export interface RemoveRequest {
  token: Pick<Token, 'tokenId' | 'roomId' | 'state'>;
  /** Remove only if the token still shows these values (the checker's view of a silent token). */
  expect?: { lastSeenAt: number; checkSeq: number };
  now: number;
}

/**
 * removed: gone, and its seat (if admitted) freed in the same transaction, which also wakes the
 * room's admitter; a removal with `expect` (the checker's) also counts in the room's evictedTotal ·
 * changed: it was not as expected · conflict: retry.
 */
export type RemoveOutcome = 'removed' | 'changed' | 'conflict';

export interface TouchRequest {
  tokenId: string;
  roomId: string;
  secretHash: string;
  /** What the visitor sent; an admitted token always records a heartbeat. */
  signal: Signal;
  now: number;
  expiresAtSeconds: number;
}

/** What a token had heard before a signal: whether, and since when, it was live. */
export type HeardBefore = Pick<Token, 'signal' | 'lastSeenAt' | 'heard'>;

/** touched: the token as it now is, and as it was heard before · mismatch: another secret or room (the stored token) · not-found. */
export type TouchOutcome = { kind: 'touched'; token: Token; before: HeardBefore } | { kind: 'mismatch'; token: Token } | { kind: 'not-found' };

/** A lease taken to fill seats records when (Room.fillingSince); any other (an event's draw) does not. */
export interface LeasePurpose {
  fills?: boolean;
}

export interface RoomUpsert {
  roomId: string;
  capacity?: number;
  state?: RoomState;
  /** The operator's message to the line: a text sets it, null removes it, undefined leaves it as it is. */
  message?: string | null;
  /** Moves the room to the next epoch (an emergency stop: every earlier admission is revoked). */
  bumpEpoch?: boolean;
  /** The queueing mode (a new room without one is fifo). */
  mode?: QueueMode;
  /** The rate limit: a number sets it, null removes it, undefined leaves it as it is. */
  newVisitorsPerMinute?: number | null;
  /** The scheduled event: an event sets it (with its seed and commitment), null removes it, undefined leaves it as it is. */
  event?: RoomEvent | null;
  /** Shards of the line index, set when the room is created (never changed afterwards). */
  lineShards: number;
  now: number;
}

export interface LineQuery {
  roomId: string;
  shard: number;
  /** Only tickets above this one. */
  afterTicket?: number;
  /** Only tickets below this one. */
  beforeTicket?: number;
  limit: number;
}

export interface ReleaseRequest {
  roomId: string;
  owner: string;
  /** The room's wakeSeq the admitter last saw: a newer one means more work came in meanwhile. */
  wakeSeq: number;
  /** Raise the room's frontFloor to this ticket (never lowers it). */
  frontFloor?: number;
  /** New admission-rate samples to store. */
  rate?: AdmissionRateSamples;
  now: number;
}

/** released · woken: not released, because wakeSeq moved (the room as it is now) · lost: the lease was not ours. */
export type ReleaseOutcome = { kind: 'released' } | { kind: 'woken'; room: Room } | { kind: 'lost' };

export interface WaitingRoomStore {
  /** Strongly consistent read of a room (nextTicket included). */
  getRoom(roomId: string): Promise<Room | undefined>;
  listRooms(): Promise<Room[]>;
  /** Creates the room (capacity required) or changes capacity, state, message, mode, rate limit and epoch; counters are kept; a change wakes the admitter. */
  upsertRoom(input: RoomUpsert): Promise<Room | undefined>;
  /**
   * Reserves `count` tickets in one atomic addition; returns the last of them (the block is last -
   * count + 1 … last). With `boundaryOf`, also fixes that event boundary if not yet fixed (EventStore).
   */
  reserveTickets(roomId: string, count: number, now: number, boundaryOf?: string): Promise<number>;
  /** Writes a new token (and, while WAITING, its entry in the line index, shard ticket mod lineShards); fails if the id exists. */
  putToken(token: Token, lineShards: number): Promise<void>;
  /** A token; strongly consistent unless `consistent` is false. */
  getToken(tokenId: string, consistent?: boolean): Promise<Token | undefined>;
  /** Several tokens at once, eventually consistent; missing ones are left out. */
  getTokens(tokenIds: readonly string[]): Promise<Token[]>;
  /** Records a signal in one conditional write: only if the token exists, belongs to `roomId` and has `secretHash`. */
  touchToken(request: TouchRequest): Promise<TouchOutcome>;
  /** Waiting tokens of one shard of a room's line, in ticket order (eventually consistent, like an index). */
  listLine(query: LineQuery): Promise<WaitingEntry[]>;
  /**
   * The entry of exactly this ticket in one shard of a room's line, if a waiting token holds it
   * (eventually consistent, like an index): the random mode's draw looks tickets up one by one.
   */
  lineEntry(roomId: string, shard: number, ticket: number): Promise<WaitingEntry | undefined>;
  /** Takes the room's admitter lease until `until` if nobody holds it (or it ran out): the room as of now, or why not. */
  acquireAdmitter(roomId: string, owner: string, now: number, until: number, purpose?: LeasePurpose): Promise<Room | 'busy' | 'not-found'>;
  /** Gives the lease back, unless more work came in (wakeSeq moved); may store the front floor and rate samples on the way. */
  releaseAdmitter(request: ReleaseRequest): Promise<ReleaseOutcome>;
  /** One transaction: the tokens WAITING → ADMITTED and the room's counts, on condition of free seats and live tokens. */
  admitTokens(request: AdmitBatchRequest): Promise<AdmitBatchOutcome>;
  /** Deletes a token; for an admitted one, activeCount - 1 in the same transaction. */
  removeToken(request: RemoveRequest): Promise<RemoveOutcome>;
  /**
   * checkSeq fromSeq → fromSeq + 1, checkBy = by and checkDueAt = dueAt, on condition checkSeq =
   * fromSeq and the token still has the state and signal the due time was computed from.
   */
  advanceCheck(request: AdvanceCheckRequest): Promise<'advanced' | 'changed'>;
}

/** A waiting token's move to another ticket by an event's draw (event-draw.ts). */
export interface TicketMove {
  tokenId: string;
  roomId: string;
  from: number;
  to: number;
  lineShards: number;
}

/** The store's part in scheduled events (events.ts, event-draw.ts). */
export interface EventStore {
  /**
   * The event's boundary (the last ticket reserved before its start), fixed now at the ticket
   * counter's value unless a reservation (reserveTickets with boundaryOf) or an earlier call fixed it.
   */
  fixBoundary(roomId: string, boundaryOf: string): Promise<number>;
  /** Gives a waiting token (and its line entry) another ticket, if it is still waiting with `from`. */
  moveTicket(move: TicketMove): Promise<'moved' | 'changed'>;
  /** Records the event's draw on the room (and wakes its admitter), if the room still has this event undrawn. */
  recordDraw(roomId: string, eventId: string, commitment: string, draw: EventDraw, now: number): Promise<'recorded' | 'changed'>;
  /** Applies the event's end once: closes the room or switches it to passthrough, if it still has this event not ended. */
  endEvent(roomId: string, eventId: string, atEnd: EventEndAction, now: number): Promise<'ended' | 'changed'>;
}

/** A draw's private plan: each drawn visitor's token and its ticket before and after (in draw order). */
export interface DrawPlanEntry {
  tokenId: string;
  from: number;
  to: number;
}

/** What the draw keeps: the publication anyone may read, and the plan only the draw reads. */
export interface StoredDraw {
  publication: LotteryPublication & { seed: string; closedAt: number };
  plan: DrawPlanEntry[];
  /** The event's boundary the draw read the line up to. */
  boundary: number;
}

/** Where draws are kept (the stats table on AWS: lambdas/adapters/dynamo-lottery.ts). */
export interface LotteryDraws {
  put(draw: StoredDraw): Promise<void>;
  /** The draw of the event with this commitment, if kept. */
  get(roomId: string, eventId: string, commitment: string): Promise<StoredDraw | undefined>;
}

export interface AdvanceCheckRequest {
  tokenId: string;
  fromSeq: number;
  /** The delivery id of the check message (checkBy). */
  by: string;
  dueAt: number;
  /** The token's state and signal as the checker read them: they decide its silence limit, hence dueAt. */
  expect: Pick<Token, 'state' | 'signal'>;
}

export interface CheckQueue {
  /** Sends a check message that becomes visible after `delaySeconds` (0-900). */
  schedule(message: CheckMessage, delaySeconds: number): Promise<void>;
  /**
   * Sends a hand-over (FillMessage), visible at once: a checker fills the room's free seats. A
   * queue without it leaves the rest to the checkers' safety fills.
   */
  handOver?(roomId: string): Promise<void>;
}

export interface PassIssuer {
  /** A pass for an admitted token; `epoch` is the room's epoch the token was admitted in (the `ep` claim). */
  issue(claims: { roomId: string; tokenId: string; ticket: number; epoch: number }, now: number): Promise<AdmissionPass>;
}

/** What a verified admission pass says. */
export interface VerifiedPass {
  roomId: string;
  tokenId: string;
  ticket: number;
  /** The room's epoch the visitor was admitted in (0 for a pass without an `ep` claim). */
  epoch: number;
}

export interface PassVerifier {
  /** The claims of a pass that is valid for `roomId` (signature, issuer, room, times); else throws InvalidPassError. */
  verify(pass: string, roomId: string, now: number): Promise<VerifiedPass>;
}

export interface IdSource {
  tokenId(): string;
  secret(): string;
}

/** The counted number of waiting visitors of a room (the stats table), when known. */
export interface WaitingCounts {
  waiting(roomId: string): Promise<number | undefined>;
}

/** Why a token was removed: left: the visitor said so · silent: evicted by the checker · revoked: admitted before an emergency stop · released: the origin freed the seat with the pass. */
export type RemovalReason = 'left' | 'silent' | 'revoked' | 'released';

/** Domain events, for logs and the local runtime's console. */
export interface WaitingRoomEvents {
  admitted?(event: { roomId: string; tokenId: string; ticket: number }): void;
  removed?(event: {
    roomId: string;
    tokenId: string;
    ticket: number;
    state: Token['state'];
    reason: RemovalReason;
  }): void;
  /** A follow-up admission failed after its cause (leave, eviction) succeeded; a later trigger retries it. */
  admissionDeferred?(event: { roomId: string; error: unknown }): void;
  /** A silent token was not removed because the system stalled moments ago; it is checked again at `untilMs`. */
  evictionDeferred?(event: { roomId: string; tokenId: string; ticket: number; silentMs: number; untilMs: number }): void;
}
