/**
 * The check loop (DESIGN §2 step 3, §5.3-5.5, §8 "Heartbeat against eviction", "One loop per token").
 *
 * Every token has one live check message on the delay queue. The first is due checkDelaySeconds
 * after the join; each later one at the token's deadline, lastSeenAt + its silence limit (the
 * heartbeat timeout, or far back the keep-place timeout), hopping through SQS's 900 s at most. A
 * message that arrives less than a second early waits out the rest in the checker, so a silent
 * seat is freed right at its deadline.
 *
 * The checker acts only when the message's `seq` equals the token's `checkSeq`: a silent token is
 * removed (conditional on the lastSeenAt and checkSeq it read, so a signal that lands first wins);
 * a live one has its checkSeq advanced by a conditional update that records the delivery id, and
 * only then is the next message sent. A duplicate loses the conditional update and is dropped. A
 * redelivery of the message that advanced the sequence (its send failed) recognises itself by
 * `checkBy` and sends the successor again, so a failed send never ends the loop.
 *
 * Reads are eventually consistent where a conditional write protects the decision; a read that
 * looks stale (the token missing, or its sequence behind the message's) is repeated strongly.
 */
import { Admissions } from '../admission/admission.js';
import { REARM_PREFIX } from '../admission/admission-batch.js';
import { realSleep, type DomainDeps } from '../deps.js';
import { ContentionError } from '../errors.js';
import type { CheckMessage, Token } from '../model.js';
import type { CheckQueue } from '../ports.js';
import { StallWatch } from './stall-watch.js';
import { MAX_CHECK_DELAY_SECONDS, silenceLimitMs } from '../timings.js';

export type CheckOutcome =
  | 'gone' // the token no longer exists
  | 'stale' // a duplicate, or a message an earlier loop step made obsolete
  | 'evicted' // silent for its limit or longer: removed
  | 'deferred' // silent, but just after a stall of the system: checked again once every visitor could be heard (stall-watch.ts)
  | 'rescheduled' // alive: the next check is on the queue
  | 'resent'; // this delivery had advanced the loop before, and now sent the next check again

const MAX_ROUNDS = 4;
/**
 * How late SQS and the checker's event source mapping may deliver a check after it becomes
 * visible: the mapping's batching window (whole seconds; lib/constructs/check-loop.ts uses this
 * constant). Checks are scheduled this much early, and wait out the rest in the checker.
 */
export const CHECK_DELIVERY_SLACK_MS = 1_000;
/** A deadline closer than this is waited for in the checker rather than on the queue. */
const WAIT_IN_CHECKER_MS = 2 * CHECK_DELIVERY_SLACK_MS;
/**
 * What a check needs after its wait (a read, a removal or a step, a fill): the wait is taken only
 * when the invocation has this much left beyond it, or the check goes back on the queue instead.
 */
const AFTER_WAIT_MS = CHECK_DELIVERY_SLACK_MS;
/**
 * A delivery waits in the checker this long at most, however often the visitor is heard during its
 * waits and its deadline comes near again (a heartbeat timeout shorter than the waiting range,
 * or late heartbeats): then its check goes back on the queue.
 */
const MAX_WAIT_PER_DELIVERY_MS = 2 * WAIT_IN_CHECKER_MS;
/** The first far-back hop is spread over this range, so a crowd that joined in one minute is not checked in one minute, every 900 s. */
const FIRST_FAR_HOP_MIN_SECONDS = 60;
/** The checker offers free seats at most this often per room and environment, on behalf of a live waiting token. */
const SAFETY_FILL_INTERVAL_MS = 1_000;

export class CheckLoop {
  private readonly admissions: Admissions;
  private readonly lastSafetyFill = new Map<string, number>();
  /** This environment's memory of stalls: no eviction right after one. */
  private readonly stalls: StallWatch;

  constructor(
    private readonly deps: DomainDeps,
    private readonly checks: CheckQueue,
  ) {
    // Admissions made here re-arm check loops through the same queue.
    this.admissions = new Admissions(deps, checks);
    this.stalls = new StallWatch(deps.clock, deps.timings.heartbeatTimeoutSeconds * 1000);
  }

  /** The first check of a new token (the enqueuer, on the token's INSERT in the stream). */
  async start(token: Pick<Token, 'tokenId' | 'roomId' | 'checkSeq'>): Promise<void> {
    await this.checks.schedule({ tokenId: token.tokenId, roomId: token.roomId, seq: token.checkSeq }, this.deps.timings.checkDelaySeconds);
  }

  /**
   * A hand-over (FillMessage: an admitter stopped on its limits with seats free and live visitors
   * left): fills the room, as a safety fill does, and counts as this environment's safety fill.
   */
  async fill(roomId: string): Promise<void> {
    this.lastSafetyFill.set(roomId, this.deps.clock.now());
    await this.admissions.fillSafely(roomId);
  }

  /**
   * Processes one check message; `deliveryId` is the queue's id of the message (stable across
   * redeliveries); `timeLeftMs`, when known, is what remains of the invocation.
   *
   * A check waits in the checker only with time to act after the wait, and for at most
   * MAX_WAIT_PER_DELIVERY_MS in all; waits are not contention rounds. A visitor heard during the
   * wait whose new deadline is near again is waited for again while both allow, and otherwise goes
   * back on the queue (a second away): a check never outlives its invocation to come back only
   * after the visibility timeout, and never runs out of rounds for want of a silence.
   */
  async check(message: CheckMessage, deliveryId: string, timeLeftMs?: () => number): Promise<CheckOutcome> {
    const { store, clock, timings } = this.deps;
    const sleep = this.deps.sleep ?? realSleep;
    let consistent = false;
    let waitedMs = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const token = await this.stalls.timed(() => store.getToken(message.tokenId, consistent));
      if (!token || token.checkSeq < message.seq) {
        if (!consistent) {
          consistent = true; // not there yet, or an old copy: ask again, strongly
          round -= 1;
          continue;
        }
        if (token) return 'stale'; // a message from a loop that was never recorded: not ours
        // Removed meanwhile. If this message removed it and then failed before offering the seat,
        // the redelivery lands here: offer a seat that still looks free.
        const room = await this.deps.views.get(message.roomId);
        if (room && room.state === 'open' && room.activeCount < room.capacity) await this.admissions.fillSafely(message.roomId);
        return 'gone';
      }
      // This delivery advanced the loop before and its send failed; or an admission re-armed the loop
      // and its send may have failed: send the current check (at worst a duplicate, which the next
      // step drops).
      if (token.checkSeq === message.seq + 1 && (token.checkBy === deliveryId || token.checkBy?.startsWith(REARM_PREFIX))) {
        const delay = delayUntil(token.checkDueAt, clock.now());
        await this.checks.schedule({ tokenId: token.tokenId, roomId: token.roomId, seq: token.checkSeq }, delay);
        return 'resent';
      }
      if (token.checkSeq !== message.seq) return 'stale';

      const now = clock.now();
      const deadline = token.lastSeenAt + silenceLimitMs(token, timings);
      const remaining = deadline - now;
      if (remaining <= 0) {
        const evictAt = this.stalls.evictAt(deadline, now);
        if (evictAt > now) {
          // Silent, but the system itself stalled moments ago: hear the visitor out first.
          const delay = delayUntil(evictAt, now);
          if ((await this.advance(token, message, deliveryId, now, delay)) === 'changed') {
            consistent = true;
            continue;
          }
          this.deps.events?.evictionDeferred?.({ roomId: token.roomId, tokenId: token.tokenId, ticket: token.ticket, silentMs: now - token.lastSeenAt, untilMs: evictAt });
          return 'deferred';
        }
        const removed = await store.removeToken({ token, expect: { lastSeenAt: token.lastSeenAt, checkSeq: token.checkSeq }, now });
        if (removed === 'removed') {
          this.deps.events?.removed?.({ roomId: token.roomId, tokenId: token.tokenId, ticket: token.ticket, state: token.state, reason: 'silent' });
          if (token.state === 'ADMITTED') await this.admissions.fillSafely(token.roomId);
          else await this.offerFreeSeats(token);
          return 'evicted';
        }
        consistent = true; // a signal, an admission, a duplicate or a conflict got there first: look again
        continue;
      }
      if (
        remaining < WAIT_IN_CHECKER_MS &&
        waitedMs + remaining <= MAX_WAIT_PER_DELIVERY_MS &&
        (timeLeftMs === undefined || timeLeftMs() >= remaining + AFTER_WAIT_MS)
      ) {
        await sleep(remaining);
        waitedMs += remaining;
        consistent = true;
        round -= 1; // a wait is not a contention round
        continue;
      }

      await this.offerFreeSeats(token);
      const later = clock.now();
      let delay = nextDelaySeconds(token.lastSeenAt + silenceLimitMs(token, timings) - later);
      if (message.seq === 0 && delay === MAX_CHECK_DELAY_SECONDS) {
        // A far-back token's first hop: anywhere in the hop's range (its deadline is further still).
        const random = this.deps.random ?? Math.random;
        delay = FIRST_FAR_HOP_MIN_SECONDS + Math.floor(random() * (MAX_CHECK_DELAY_SECONDS - FIRST_FAR_HOP_MIN_SECONDS + 1));
      }
      if ((await this.advance(token, message, deliveryId, later, delay)) === 'changed') {
        // A duplicate took this step (stale), or the token was admitted or changed its signal since it
        // was read, which changes its deadline: look again.
        consistent = true;
        continue;
      }
      return 'rescheduled';
    }
    // Still undecided after several rounds: let the queue deliver this message again.
    throw new ContentionError(message.roomId);
  }

  /**
   * Takes the loop's next step: advances checkSeq (on condition that the token still has the state
   * and signal the delay was computed from) and sends the next check `delay` seconds from `now`.
   */
  private async advance(token: Token, message: CheckMessage, deliveryId: string, now: number, delay: number): Promise<'advanced' | 'changed'> {
    const advanced = await this.deps.store.advanceCheck({
      tokenId: token.tokenId,
      fromSeq: message.seq,
      by: deliveryId,
      dueAt: now + delay * 1000,
      expect: { state: token.state, signal: token.signal },
    });
    if (advanced === 'advanced') await this.checks.schedule({ tokenId: token.tokenId, roomId: token.roomId, seq: message.seq + 1 }, delay);
    return advanced;
  }

  /**
   * The checker's part in filling seats: a waiting token of the front zone whose room shows a free
   * seat starts an admission, at most once a second per room. For a live token it is the safety net
   * for a wake-up that found the admitter busy; for a ghost or an orphan at the head of the line
   * (silent, or never heard from since its join) it is what moves the line on: the admitter, finding
   * too few live visitors, brings the next tickets into the front zone (frontFloor), and nobody
   * else would, since nobody behind them heartbeats yet.
   */
  private async offerFreeSeats(token: Token): Promise<void> {
    const { clock, views } = this.deps;
    const now = clock.now();
    if (token.state !== 'WAITING' || token.signal !== 'heartbeat') return;
    const room = await views.get(token.roomId);
    if (!room || room.state !== 'open' || room.activeCount >= room.capacity) return;
    if (now - (this.lastSafetyFill.get(token.roomId) ?? -Infinity) < SAFETY_FILL_INTERVAL_MS) return;
    this.lastSafetyFill.set(token.roomId, now);
    await this.admissions.fillSafely(token.roomId);
  }
}

/** A queue delay (whole seconds, 1-900) that makes a check due at `at`, or as soon as SQS allows. */
function delayUntil(at: number, now: number): number {
  return Math.min(MAX_CHECK_DELAY_SECONDS, Math.max(1, Math.ceil((at - now) / 1000)));
}

/**
 * The delay of the next check, `remaining` ms before the deadline: whole seconds, rounded down,
 * and CHECK_DELIVERY_SLACK_MS early (a check that arrives early waits the rest in the checker), 1-900.
 */
export function nextDelaySeconds(remaining: number): number {
  return Math.min(MAX_CHECK_DELAY_SECONDS, Math.max(1, Math.floor((remaining - CHECK_DELIVERY_SLACK_MS) / 1000)));
}
