/**
 * The check loop (DESIGN §2 step 3, §5.3-5.5, §8 "Heartbeat against eviction", "One loop per token").
 *
 * Every token has one live check message on the delay queue. The checker acts only when the
 * message's `seq` equals the token's `checkSeq`: a silent token is removed (conditional on the
 * lastSeenAt and checkSeq it read, so a heartbeat that lands first wins); a live one has its
 * checkSeq advanced by a conditional update that records the delivery id, and only then is the
 * next message sent. A duplicate delivery loses the conditional update and is dropped. A
 * redelivery of the message that advanced the sequence (its send failed) recognises itself by
 * `checkBy` and sends the successor again, so a failed send never ends the loop.
 */
import { Admissions } from './admission.js';
import type { DomainDeps } from './deps.js';
import { ContentionError } from './errors.js';
import type { CheckMessage, Token } from './model.js';
import type { CheckQueue } from './ports.js';

export type CheckOutcome =
  | 'gone' // the token no longer exists
  | 'stale' // a duplicate, or a message an earlier loop step made obsolete
  | 'evicted' // silent for the heartbeat timeout or longer: removed
  | 'rescheduled' // alive: the next check is on the queue
  | 'resent'; // this delivery had advanced the loop before, and now sent the next check again

const MAX_ROUNDS = 4;

export class CheckLoop {
  private readonly admissions: Admissions;

  constructor(
    private readonly deps: DomainDeps,
    private readonly checks: CheckQueue,
  ) {
    this.admissions = new Admissions(deps);
  }

  /** The first check of a new token (the enqueuer, on the token's INSERT in the stream). */
  async start(token: Pick<Token, 'tokenId' | 'roomId' | 'checkSeq'>): Promise<void> {
    await this.scheduleNext(token);
  }

  /** Processes one check message; `deliveryId` is the queue's id of the message (stable across redeliveries). */
  async check(message: CheckMessage, deliveryId: string): Promise<CheckOutcome> {
    const { store, clock, timings } = this.deps;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const token = await store.getToken(message.tokenId);
      if (!token) {
        // Removed meanwhile. If this message removed it and then failed before offering the seat,
        // the redelivery lands here: offer any free seat now.
        await this.admissions.admitNextSafely(message.roomId);
        return 'gone';
      }
      if (token.checkSeq === message.seq + 1 && token.checkBy === deliveryId) {
        await this.scheduleNext(token);
        return 'resent';
      }
      if (token.checkSeq !== message.seq) return 'stale';

      const now = clock.now();
      if (now - token.lastSeenAt >= timings.heartbeatTimeoutSeconds * 1000) {
        const removed = await store.removeToken({
          token,
          expect: { lastSeenAt: token.lastSeenAt, checkSeq: token.checkSeq },
          now,
        });
        if (removed === 'removed') {
          this.deps.events?.removed?.({
            roomId: token.roomId,
            tokenId: token.tokenId,
            ticket: token.ticket,
            state: token.state,
            reason: 'silent',
          });
          // An admitted token's seat goes to the next in line. A silent waiting token may have been
          // first in line for a seat nobody else would take: offer free seats either way (admitNext
          // reads the room first and stops there when no seat is free).
          await this.admissions.admitNextSafely(token.roomId);
          return 'evicted';
        }
        continue; // a heartbeat, an admission, a duplicate or a conflict got there first: look again
      }

      const advanced = await store.advanceCheck(token.tokenId, message.seq, deliveryId);
      if (advanced === 'changed') return 'stale';
      await this.scheduleNext({ ...token, checkSeq: message.seq + 1 });
      return 'rescheduled';
    }
    // Still undecided after several rounds: let the queue deliver this message again.
    throw new ContentionError(message.roomId);
  }

  /** Sends the check of the token's current checkSeq, delayed by the check delay. */
  private async scheduleNext(token: Pick<Token, 'tokenId' | 'roomId' | 'checkSeq'>): Promise<void> {
    await this.checks.schedule(
      { tokenId: token.tokenId, roomId: token.roomId, seq: token.checkSeq },
      this.deps.timings.checkDelaySeconds,
    );
  }
}
