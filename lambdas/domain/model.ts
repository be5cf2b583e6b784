/**
 * The waiting room's data model. Times are epoch milliseconds unless a name says otherwise.
 * A types-only module with no imports: the browser imports its API shapes from here.
 */

export const ROOM_STATES = ['open', 'paused', 'closed'] as const;
/** open: joins and admissions · paused: joins, no admissions · closed: no joins, no admissions. */
export type RoomState = (typeof ROOM_STATES)[number];

/**
 * How a room lets visitors in (lambdas/domain/line/queue-modes.ts): fifo: in ticket order (the default) ·
 * passthrough: everyone admitted at once, seats and rate not applied, but counted (to measure
 * demand before turning the room on) · reject: no new tickets (a sold-out answer), the visitors
 * already in line go on in ticket order · random: each free seat goes to a visitor drawn at random
 * among the live waiting ones (lambdas/domain/line/random-draw.ts), whatever their ticket.
 */
export const QUEUE_MODES = ['fifo', 'passthrough', 'reject', 'random'] as const;
export type QueueMode = (typeof QUEUE_MODES)[number];

/** What a scheduled event does to its room at `end`: close it, or let everyone through (passthrough). */
export const EVENT_END_ACTIONS = ['close', 'passthrough'] as const;
export type EventEndAction = (typeof EVENT_END_ACTIONS)[number];

/**
 * Where a scheduled event stands (lambdas/domain/events/events.ts): scheduled: before prequeueStart, the
 * room as configured · prequeue: arrivals take tickets and wait, nobody is admitted · drawing: from
 * start until the lottery has ordered the pre-queue (no admissions; arrivals join behind it) · live:
 * admissions in the drawn order, then arrival order · ended: past `end`.
 */
export const EVENT_PHASES = ['scheduled', 'prequeue', 'drawing', 'live', 'ended'] as const;
export type EventPhase = (typeof EVENT_PHASES)[number];

/** The lottery's draw of an event, as recorded on the room once the pre-queue was ordered. */
export interface EventDraw {
  /** When the draw was recorded (epoch ms). */
  at: number;
  /** The last ticket reserved before `start`: tickets up to it that were waiting took part. */
  boundary: number;
  /** Entries in the draw (pre-queued visitors still waiting at the draw). */
  entries: number;
  /** listDigestOf(the published entries, sorted): lambdas/domain/events/lottery.ts. */
  listDigest: string;
}

/**
 * A scheduled event with a verifiable lottery (issue 12, item 2; lambdas/domain/events/events.ts). The
 * seed is secret until the draw: it is never in a view, a status or an admin answer before it.
 */
export interface RoomEvent {
  eventId: string;
  /** When the pre-queue opens (epoch ms): from then on nobody is admitted until the draw. */
  prequeueStart: number;
  /** When the pre-queue closes and the lottery orders it (epoch ms). */
  start: number;
  /** When the event ends (epoch ms), if it does: then the room closes or lets everyone through (atEnd). */
  end?: number;
  atEnd: EventEndAction;
  /** SHA-256 of the seed's bytes (lottery.ts commitmentOf): public from the moment the event is set. */
  commitment: string;
  /** 64 hex digits; secret until the draw. */
  seed: string;
  draw?: EventDraw;
  /** When `end` was applied to the room (epoch ms). */
  endedAt?: number;
}

/** An event as visitors and operators see it: never the seed before the draw. */
export interface PublicEvent {
  eventId: string;
  phase: EventPhase;
  prequeueStart: number;
  start: number;
  end?: number;
  atEnd: EventEndAction;
  commitment: string;
  /** Revealed once the draw is recorded. */
  seed?: string;
  /** When the draw was recorded, and how many entries it ordered. */
  drawnAt?: number;
  entries?: number;
}

export const TOKEN_STATES = ['WAITING', 'ADMITTED'] as const;
export type TokenState = (typeof TOKEN_STATES)[number];

/**
 * The kind of the last signal a token's visitor sent (DESIGN §2 step 2). A `heartbeat` comes every
 * few seconds from a visitor in the front zone or admitted, who is removed after the heartbeat
 * timeout of silence and may be admitted; a `keep-place` comes minutes apart from a visitor far
 * from the front, who is removed only after the much longer keep-place timeout and is never
 * admitted before it heartbeats again.
 */
export const SIGNALS = ['heartbeat', 'keep-place'] as const;
export type Signal = (typeof SIGNALS)[number];

/**
 * How a point estimate becomes the range a visitor is shown: [point × lowFactor, point × highFactor]
 * (lambdas/domain/reporting/fairness.ts estimateRange), measured from the room's last hour (p10 and p90 of
 * actual ÷ estimated wait) once enough visitors were admitted, else derived from abandonment.
 */
export interface EstimateCalibration {
  lowFactor: number;
  highFactor: number;
  /** Admitted visitors behind the factors; under 30 (MIN_CALIBRATION_SAMPLES), the factors are the defaults derived from abandonment. */
  samples: number;
}

/** Where a waiting ticket stands: about to be admitted (front) or far from it. */
export type Zone = 'front' | 'far';

/**
 * Two samples of the room's admission counters, used to measure how fast the line moves: admissions
 * per second, and tickets per second (how fast lastAdmittedTicket advances, gaps and visitors who
 * left included), which is what positions and the front zone are measured in.
 */
export interface AdmissionRateSamples {
  prevAt: number;
  prevTotal: number;
  prevTicket: number;
  curAt: number;
  curTotal: number;
  curTicket: number;
}

export interface Room {
  roomId: string;
  capacity: number;
  state: RoomState;
  /** The last ticket issued or reserved in a block (0 before the first join); gaps are allowed. */
  nextTicket: number;
  /** Seats taken: the authoritative count for the capacity invariant. */
  activeCount: number;
  /** The highest ticket admitted so far; only grows. */
  lastAdmittedTicket: number;
  admittedTotal: number;
  /** Visitors removed by the checker after going silent (not counting those who left). */
  evictedTotal: number;
  rate: AdmissionRateSamples;
  /** How visitors are let in (QUEUE_MODES); rooms stored before modes existed are fifo. */
  mode: QueueMode;
  /**
   * At most this many admissions a minute, besides the seats (lambdas/domain/admission/admission-rate.ts);
   * undefined: seats alone decide.
   */
  newVisitorsPerMinute?: number;
  /** The rate limit's clock: when its next admission slot falls (epoch ms; undefined before the first admission under a limit). */
  rateSlotAt?: number;
  /** Partitions of the line index this room's tickets are spread over (fixed when the room is created). */
  lineShards: number;
  /**
   * The front zone reaches at least this ticket: raised by the admitter when it found free seats
   * but too few live visitors, so that the next visitors in line start heartbeating.
   */
  frontFloor: number;
  /** Bumped by every change that may need an admission (a seat freed, capacity raised, reopened). */
  wakeSeq: number;
  /**
   * Bumped by every emergency stop (`revokePasses`): a visitor admitted in an earlier epoch has its
   * admission revoked (lambdas/domain/revocation.ts). 0 before the first stop.
   */
  epoch: number;
  /** The operator's message to the line (plain text, lambdas/domain/rooms/room-message.ts), when one is set. */
  message?: string;
  /** The estimate's calibration and when it was measured (lambdas/domain/line/estimate-calibration.ts); none before the first. */
  calibration?: EstimateCalibration & { at: number };
  /** The room's scheduled event, when one is set (lambdas/domain/events/events.ts). */
  event?: RoomEvent;
  /** The one admitter at work on this room, and until when its lease runs. */
  admitter?: string;
  admitterUntil?: number;
  /**
   * When the lease was taken, if it was taken to fill seats (an event's draw takes it and admits
   * nobody): visitors live before then are the filler's to admit (see Admissions.admitSelf).
   */
  fillingSince?: number;
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
  /** The kind of the last signal heard; decides the token's timeout and whether it may be admitted. */
  signal: Signal;
  issuedAt: number;
  lastSeenAt: number;
  /**
   * Whether the visitor has used its secret since the join (a heartbeat or a keep-place signal).
   * Until then the token may be an orphan, whose visitor never received the join's answer: it is
   * never admitted, and its check removes it once its timeout passes (issue 10, item 4).
   */
  heard: boolean;
  admittedAt?: number;
  /** The estimated wait the join's answer showed (seconds): the fairness report compares it with the real wait. */
  joinEstimateSeconds?: number;
  /** The range of waits the join's answer showed (seconds), for the report's share of waits within it. */
  joinEstimateLowSeconds?: number;
  joinEstimateHighSeconds?: number;
  /** The room's epoch the token was admitted in (set with ADMITTED; tokens admitted before epochs existed read 0). */
  admittedEpoch?: number;
  /** Sequence number of the token's one live check loop. */
  checkSeq: number;
  /** Delivery id of the check message that last advanced `checkSeq` (or `rearm:…` when an admission re-armed the loop). */
  checkBy?: string;
  /** When the token's live check message is due (epoch ms); an admission re-arms a loop that is due too late for an admitted visitor. */
  checkDueAt: number;
  /** Safety-net expiry, epoch seconds (DynamoDB TTL). */
  expiresAtSeconds: number;
}

/** An entry of the line: a waiting token as the line index holds it. */
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

/**
 * The body of a hand-over on the check queue: an admitter stopped on its limits (rounds, budget)
 * with seats free and live visitors left, and asks a checker to go on filling the room.
 */
export interface FillMessage {
  roomId: string;
  fill: true;
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
  /** Tickets ahead not admitted yet, plus one (0 once admitted): an upper bound that only goes down. */
  position: number;
  estimatedWaitSeconds: number;
  /** The range of waits to show: the estimate (an upper bound) calibrated by the room's measured waits. */
  estimatedWaitLowSeconds: number;
  estimatedWaitHighSeconds: number;
  /** The room's state: a waiting visitor learns of a pause or a close. */
  roomState: RoomState;
  /** The room's queueing mode. */
  mode: QueueMode;
  /** front: heartbeat every heartbeatIntervalSeconds · far: poll the room status, keep-place every keepPlaceIntervalSeconds. */
  zone: Zone;
  heartbeatIntervalSeconds: number;
  keepPlaceIntervalSeconds: number;
  /**
   * Set on a join's answer when a seat looks free for this ticket: heartbeat at once to take it. A
   * join admits nobody, because only a signal with the secret shows that the answer arrived.
   */
  heartbeatNow?: true;
  /** The admission pass (a JWT), once admitted. */
  pass?: string;
  /** When the pass expires, epoch milliseconds. */
  passExpiresAt?: number;
  /** The operator's message to the line, when one is set: plain text, to be shown as text, never as HTML. */
  message?: string;
  /**
   * On a join's answer during an event's pre-queue: the visitor's signed lottery receipt (an ES256
   * JWT, lambdas/domain/events/lottery.ts), to keep and check against the published draw (/lottery.html).
   */
  lotteryReceipt?: string;
  /** The event the token joined in the pre-queue of (on a join's answer, with the receipt). */
  lotteryEventId?: string;
}

/**
 * The public status of a room (DESIGN §3): the same bytes for every visitor, cacheable for a second
 * or two, and everything a waiting page needs to work out its own place from its ticket.
 */
export interface RoomStatus {
  roomId: string;
  state: RoomState;
  mode: QueueMode;
  capacity: number;
  /** The room's admission rate limit, when it has one. */
  newVisitorsPerMinute?: number;
  /** Seats taken (authoritative). */
  active: number;
  /** Visitors in line, as counted from the token stream (converges to the truth). */
  waiting: number;
  lastAdmittedTicket: number;
  /** The last ticket issued or reserved. */
  lastTicket: number;
  /** Waiting tickets up to this one are in the front zone and heartbeat; the others keep their place. */
  frontZoneTicket: number;
  /** How fast lastAdmittedTicket advances, tickets per second (measured, or assumed before any admission). */
  ticketsPerSecond: number;
  /** Whether ticketsPerSecond was measured from recent admissions (else assumed from the capacity). */
  rateMeasured: boolean;
  /** Estimated wait of a visitor joining now. */
  estimatedWaitSeconds: number;
  /** The range of waits of a visitor joining now (estimateCalibration applied to estimatedWaitSeconds). */
  estimatedWaitLowSeconds: number;
  estimatedWaitHighSeconds: number;
  /** How a page turns its own estimate into a range: [estimate × lowFactor, estimate × highFactor]. */
  estimateCalibration: EstimateCalibration;
  heartbeatIntervalSeconds: number;
  keepPlaceIntervalSeconds: number;
  /** The room's epoch: passes of an earlier one were revoked by an emergency stop (an origin that reads this may refuse them at once). */
  epoch: number;
  /** The operator's message to the line, when one is set: plain text, to be shown as text, never as HTML. */
  message?: string;
  /** The room's scheduled event, when one is set: its phase and times (a page counts down to `start`). */
  event?: PublicEvent;
}
