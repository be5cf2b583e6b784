/**
 * A visitor's own admission (DESIGN §5.2), for joins and heartbeats: at most itself, and only when
 * a seat is free, it is live and in the front zone, and nobody live is ahead of it; a bounded
 * amount of work. Filling many seats is the admitter's (admission.ts). In the random mode a
 * visitor admits itself only when there is nobody to draw among.
 */
import type { AdmissionBatch } from './admission-batch.js';
import { REARM_PREFIX } from './admission-batch.js';
import type { DomainDeps } from '../deps.js';
import { admissionsAllowed, hasFreeSeat } from './free-seats.js';
import { isLive, readHead } from '../line/line.js';
import type { Room, Token } from '../model.js';
import type { CheckQueue, HeardBefore } from '../ports.js';
import { lineFacts, placeOf } from '../line/positions.js';
import { admitsUncapped, drawsAtRandom } from '../line/queue-modes.js';
import { lineLengthBound } from '../line/random-draw.js';

/**
 * A signal this long before a filler took its lease is in what the filler reads (the line index and
 * the eventually consistent token reads settle within a fraction of a second on DynamoDB).
 */
export const SEEN_BY_FILLER_MS = 1_000;
/** A visitor that found someone live ahead spares later tickets of this environment the same question for this long. */
const AHEAD_MEMORY_MS = 1_000;

/**
 * Whether a free seat in `room`, as seen, is a filler's to give to the visitor heard `before` as it
 * is now: a fill's lease is held, and the visitor was live since before the filler's reads began
 * (so the filler either admits it or gives the seats to live visitors ahead). Only where a seat can
 * come free without waking the filler is it not: a rate limit's slots and an event's start come with
 * time, not with a write.
 */
function leftToFiller(room: Room, before: HeardBefore | undefined, now: number, liveSince: number): boolean {
  if (room.admitter === undefined || room.fillingSince === undefined || (room.admitterUntil ?? 0) < now) return false;
  if (room.newVisitorsPerMinute !== undefined || room.event !== undefined) return false;
  return (
    before !== undefined &&
    before.heard &&
    before.signal === 'heartbeat' &&
    before.lastSeenAt >= liveSince &&
    before.lastSeenAt <= room.fillingSince - SEEN_BY_FILLER_MS
  );
}

export class SelfAdmission {
  /** Per room: a live ticket this environment recently found waiting (see admit). */
  private readonly aheadSeen = new Map<string, { ticket: number; at: number }>();
  /** Per room: this environment's live visitors asking now whether they are first, by ticket, with when they will know (see admit). */
  private readonly asking = new Map<string, Map<number, Promise<unknown>>>();

  constructor(
    private readonly deps: DomainDeps,
    /** Where a brought-forward check goes (see checkSoon). */
    private readonly checks: CheckQueue | undefined,
    private readonly batches: AdmissionBatch,
  ) {}

  /**
   * A visitor's own admission, for joins and heartbeats: admits `token` when it is live, in the front
   * zone, first of the live visitors in line, and a seat is free. Never admits anyone else: filling
   * many seats is the admitter's job (at spike rate, thousands of visitors admitting themselves one
   * seat at a time would herd on the room item).
   */
  async admit(token: Token, room: Room | undefined, before?: HeardBefore): Promise<boolean> {
    const { clock, timings } = this.deps;
    const now = clock.now();
    const liveSince = now - timings.heartbeatTimeoutSeconds * 1000;
    if (!room || token.roomId !== room.roomId || !isLive(token, liveSince)) return false;
    if (!hasFreeSeat(room, now)) return false;
    // Passthrough: everyone goes in at once, whoever is ahead.
    if (admitsUncapped(room)) return this.alone(token, room, liveSince);
    if (drawsAtRandom(room)) return this.undrawn(token, room, liveSince);
    if (placeOf(token.ticket, lineFacts(room, now, timings)).zone !== 'front') return false;
    // A filler at work that knew this visitor live: the free seat is its to give, and asking would
    // cost a read of every shard of the line that mostly finds the visitors it is taking still
    // waiting (measured in the calibration: 1.1-3 line Queries a visitor, 0-0.5 without them).
    if (leftToFiller(room, before, now, liveSince)) return false;
    const ahead = this.aheadSeen.get(room.roomId);
    if (ahead && now - ahead.at < AHEAD_MEMORY_MS && ahead.ticket < token.ticket) return false;
    // An environment that takes several requests at once (the local runtime; Lambda takes one at a
    // time): a live visitor with an earlier ticket asking now is someone live ahead. This one asks
    // once they know, with the view their answers left (a seat they took is no longer free), as it
    // would had the environment taken their requests one at a time.
    let asking = this.asking.get(room.roomId);
    if (asking) {
      const earlier = [...asking].filter(([ticket]) => ticket < token.ticket).map(([, answer]) => answer);
      if (earlier.length > 0) {
        await Promise.allSettled(earlier);
        return this.admit(token, await this.deps.views.get(room.roomId), before);
      }
    } else this.asking.set(room.roomId, (asking = new Map()));
    const answer = this.first(token, room, liveSince, now);
    asking.set(token.ticket, answer);
    try {
      return await answer;
    } finally {
      asking.delete(token.ticket);
      if (asking.size === 0) this.asking.delete(room.roomId);
    }
  }

  /** admit once the cheap answers are out: reads the line ahead of `token`, and admits it when nobody live is there. */
  private async first(token: Token, room: Room, liveSince: number, now: number): Promise<boolean> {
    const { store } = this.deps;
    const head = await readHead(store, {
      roomId: room.roomId,
      lineShards: room.lineShards,
      want: 1,
      liveSince,
      maxEntries: 4 * room.lineShards + 8,
      beforeTicket: token.ticket,
    });
    if (head.live.length > 0) {
      // Someone live is ahead: later tickets of this environment need not ask again for a while.
      this.aheadSeen.set(room.roomId, { ticket: head.live[0]!.ticket, at: now });
      return false;
    }
    // Ghosts ahead beyond what was read: the admitter, not a visitor, sorts that out.
    if (!head.exhausted) return false;
    return this.alone(token, room, liveSince);
  }

  /**
   * A visitor of a random room admits itself only when there is nobody to draw among: every ticket
   * that may be waiting (random-draw.ts lineLengthBound: issued, not admitted) fits in the seats the
   * room may fill now, as its fresh item says. Else only the admitter draws: on a seat freed, and
   * on the checker's safety net, about once a second per room while front-zone checks come (a
   * visitor beside free seats whose check is far off has its check brought forward: checkSoon).
   * The cached view rules out a crowd first, so a crowd's heartbeats cost no read.
   */
  private async undrawn(token: Token, cached: Room, liveSince: number): Promise<boolean> {
    const fits = (room: Room) => lineLengthBound(room) <= admissionsAllowed(room, this.deps.clock.now());
    if (!fits(cached)) {
      if (cached.activeCount < cached.capacity) await this.checkSoon(token);
      return false;
    }
    const room = await this.deps.store.getRoom(cached.roomId);
    if (!room || !drawsAtRandom(room) || room.epoch !== cached.epoch || !fits(room)) return false;
    return this.alone(token, room, liveSince);
  }

  /** One admission of `token` alone, as a visitor's own request makes it: whether it went in. */
  private async alone(token: Token, room: Room, liveSince: number): Promise<boolean> {
    const result = await this.batches.admit(room, [token], liveSince, {});
    return !('stop' in result) && result.admitted.includes(token.tokenId);
  }

  /**
   * A live visitor of a random room beside free seats that are not its own to take, whose check is
   * due later than its deadline (it kept its place far back before the room turned random, and its
   * loop hops up to 15 minutes): its loop is re-armed to check at once, as an admission re-arms it.
   * The check offers the free seats (the checker's safety net draws, check-loop.ts), and the loop
   * goes on at the deadline's pace. Without it the seats would wait for the next seat freed, or for
   * a check minutes away, while this visitor waits beside them (the property test found it: a
   * visitor live beside a free seat for longer than its timeout).
   */
  private async checkSoon(token: Token): Promise<void> {
    const { store, clock, timings } = this.deps;
    const checks = this.checks;
    const now = clock.now();
    if (!checks || !(token.checkDueAt > token.lastSeenAt + timings.heartbeatTimeoutSeconds * 1000)) return;
    const advanced = await store.advanceCheck({
      tokenId: token.tokenId,
      fromSeq: token.checkSeq,
      by: `${REARM_PREFIX}heard`,
      dueAt: now,
      expect: { state: 'WAITING', signal: 'heartbeat' },
    });
    // (A send that fails is made good by the loop's old message: it finds the loop re-armed and sends the current check.)
    if (advanced === 'advanced') await checks.schedule({ tokenId: token.tokenId, roomId: token.roomId, seq: token.checkSeq + 1 }, 0);
  }

  /** admitSelf for a request whose own work already succeeded: a failure is reported, not thrown. */
}
