/**
 * Admission (DESIGN §5.1-5.3, §8 "Who is next", "Admissions at spike rate").
 *
 * Seats are filled by one admitter per room at a time: whoever frees seats (a leave, an eviction, a
 * capacity change) or the checker takes the room's admitter lease, reads the head of the line and
 * admits the next live visitors in batches: one transaction moves up to MAX_ADMIT_BATCH tokens to
 * ADMITTED and the room's counts once, on condition that each token is still a live waiting token
 * and the seats are free. Admitters never herd on the head of the line: without the lease there is
 * nothing to do but leave a wake-up (the freeing transaction bumps the room's wakeSeq), which the
 * holder finds when it gives the lease back, and admits again.
 *
 * A visitor's own request (a join, a heartbeat) admits at most itself, and only when a seat is free
 * and nobody live is ahead of it: a bounded amount of work.
 *
 * In the random mode the admitter draws the visitors at random among the live waiting ones instead
 * of reading the head of the line (random-draw.ts); a visitor's request admits itself only when there
 * is nobody to draw among (every ticket that may be waiting fits in the seats free now).
 */
import { rateAllowance } from './admission-rate.js';
import type { DomainDeps } from './deps.js';
import { realSleep } from './deps.js';
import { ContentionError } from './errors.js';
import { eventHoldsAdmissions } from './events.js';
import { isLive, readHead } from './line.js';
import type { Room, Token } from './model.js';
import type { AdmitEntry, CheckQueue, HeardBefore } from './ports.js';
import { lineFacts, placeOf, rolledRate } from './positions.js';
import { admitsUncapped, drawsAtRandom, everyoneInFront } from './queue-modes.js';
import { drawLive, lineLengthBound } from './random-draw.js';

/** TransactWriteItems takes 100 items: up to 99 tokens and the room. */
export const MAX_ADMIT_BATCH = 99;
/** Attempts at one batch when transactions conflict or the room moved under it. */
export const MAX_ADMIT_ATTEMPTS = 8;
/** The lease outlives the admitter's time budget by this much, so a crashed admitter blocks the room only briefly. */
const LEASE_MARGIN_MS = 5_000;
/**
 * A signal this long before a filler took its lease is in what the filler reads (the line index and
 * the eventually consistent token reads settle within a fraction of a second on DynamoDB).
 */
export const SEEN_BY_FILLER_MS = 1_000;
/** A visitor that found someone live ahead spares later tickets of this environment the same question for this long. */
const AHEAD_MEMORY_MS = 1_000;
/** checkBy of a check loop an admission re-armed (the checker recognises it: lambdas/domain/check-loop.ts). */
export const REARM_PREFIX = 'rearm:';

export interface FillOptions {
  /** Batches at most. */
  maxRounds?: number;
  /** Stop starting new batches after this long. */
  budgetMs?: number;
}

export interface FillResult {
  admitted: string[];
  /** Another admitter held the lease: it will see the wake-up left by whoever freed the seats. */
  busy: boolean;
}

type BatchResult = { room: Room; admitted: string[] } | { stop: true; room?: Room };

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

/**
 * Whether a free seat in `room`, as seen, is a filler's to give to the visitor heard `before` as it
 * is now: a fill's lease is held, and the visitor was live since before the filler's reads began
 * (so the filler either admits it or gives the seats to live visitors ahead). Only where a seat can
 * come free without waking the filler is it not: a rate limit's slots and an event's start come with
 * time, not with a write.
 */
export function leftToFiller(room: Room, before: HeardBefore | undefined, now: number, liveSince: number): boolean {
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

/** The room as its filler leaves it: the lease given back. */
function withoutLease(room: Room): Room {
  const { admitter: _admitter, admitterUntil: _until, fillingSince: _since, ...rest } = room;
  return rest;
}

export class Admissions {
  /** Per room: a live ticket this environment recently found waiting (see admitSelf). */
  private readonly aheadSeen = new Map<string, { ticket: number; at: number }>();
  /** Per room: this environment's live visitors asking now whether they are first, by ticket, with when they will know (see admitSelf). */
  private readonly asking = new Map<string, Map<number, Promise<unknown>>>();

  constructor(
    private readonly deps: DomainDeps,
    /** Where re-armed checks go (see admitBatch); without one, tokens that need it are left to an admitter that has one. */
    private readonly checks: CheckQueue | undefined = deps.checks,
  ) {}

  /** Fills the room's free seats with the next live visitors, in ticket order, as its one admitter. */
  async fill(roomId: string, options: FillOptions = {}): Promise<FillResult> {
    const { store, clock, ids, timings } = this.deps;
    const maxRounds = options.maxRounds ?? 10;
    const budgetMs = options.budgetMs ?? 3_000;
    const started = clock.now();
    const owner = ids.tokenId();
    const acquired = await store.acquireAdmitter(roomId, owner, started, started + budgetMs + LEASE_MARGIN_MS, { fills: true });
    if (acquired === 'not-found') return { admitted: [], busy: false };
    if (acquired === 'busy') return { admitted: [], busy: true };
    this.deps.views.offer(roomId, acquired, started);

    let room = acquired;
    const admitted: string[] = [];
    let frontFloor: number | undefined;
    let rounds = 0;
    /** The last round admitted someone and left line unread: there may be more live visitors behind them. */
    let moreMayWait = false;
    for (;;) {
      while (rounds < maxRounds && clock.now() - started < budgetMs && hasFreeSeat(room, clock.now())) {
        rounds += 1;
        moreMayWait = false;
        const want = Math.min(admissionsAllowed(room, clock.now()), MAX_ADMIT_BATCH);
        const liveSince = clock.now() - timings.heartbeatTimeoutSeconds * 1000;
        let candidates: Token[];
        /** Whether the line may hold more than this round read. */
        let lineLeft = true;
        if (drawsAtRandom(room)) {
          // Random: live visitors drawn among the whole line (everyone is in the front zone already).
          const random = this.deps.random ?? Math.random;
          candidates = (await drawLive(store, { roomId, lineShards: room.lineShards, want, liveSince, lastTicket: room.nextTicket, random })).live;
        } else {
          const head = await readHead(store, {
            roomId,
            lineShards: room.lineShards,
            want,
            liveSince,
            maxEntries: 4 * want + 4 * room.lineShards,
          });
          // Free seats and too few live visitors: bring the next ones in line into the front zone, so
          // they start heartbeating and can be admitted.
          if (head.live.length < want && head.notLive > 0 && head.lastTicketRead > room.frontFloor) {
            frontFloor = Math.max(frontFloor ?? 0, head.lastTicketRead);
          }
          candidates = head.live;
          lineLeft = !head.exhausted;
        }
        if (candidates.length === 0) break;
        const result = await this.admitBatch(room, candidates, liveSince, { owner });
        if ('stop' in result) {
          if (result.room) room = result.room;
          break;
        }
        room = result.room;
        admitted.push(...result.admitted);
        // (A head read stops at maxEntries: ghosts or a lagging index may leave it short of `want` with more live visitors behind.)
        moreMayWait = result.admitted.length > 0 && lineLeft;
      }
      // The front zone only grows: store where it reaches now, so a slower line later does not send
      // visitors who started heartbeating back to keeping their place.
      // (Not while everyone is in front: that zone is the mode's, not the line's, and ends with it.)
      const reach = lineFacts(room, clock.now(), timings).frontZoneTicket;
      if (reach > room.frontFloor && !everyoneInFront(room)) frontFloor = Math.max(frontFloor ?? 0, reach);
      const released = await store.releaseAdmitter({
        roomId,
        owner,
        wakeSeq: room.wakeSeq,
        ...(frontFloor !== undefined ? { frontFloor } : {}),
        ...(admitted.length > 0 ? rolledRateOption(room, clock.now()) : {}),
        now: clock.now(),
      });
      if (released.kind !== 'woken') break;
      // More work came in while we held the lease: carry on, within the budget, or hand it over.
      room = released.room;
      frontFloor = undefined;
      if (clock.now() - started >= budgetMs) {
        await store.releaseAdmitter({ roomId, owner, wakeSeq: room.wakeSeq, now: clock.now() });
        moreMayWait = true;
        break;
      }
      // A wake-up always gets its round, whatever maxRounds says: whoever freed the seat found the
      // lease taken and left the seat to this holder, and stopping here would hand it to nobody (a
      // leave's fill, of two rounds, did: seats freed in a burst of leaves stayed free until a
      // checker's safety fill, measured 8 and 12 at once).
      rounds = Math.min(rounds, maxRounds - 1);
    }
    // The lease's room (read when it was taken) with this admitter's own changes, the lease given
    // back: a view showing it held would keep visitors from asking for seats it left free.
    this.deps.views.offer(roomId, withoutLease(room), started);
    if (moreMayWait && hasFreeSeat(room, clock.now())) await this.handOver(roomId);
    return { admitted, busy: false };
  }

  /**
   * Stopped on its limits with seats still free and live visitors maybe left: a checker goes on at
   * once (check-loop.ts fill). Without it the seats would wait for a checker's safety fill, which
   * comes with a front-zone visitor's check: after a capacity raise, whose checks come in waves, none
   * came for ten seconds and more (measured: thousands of live visitors beside free seats). A send
   * that fails leaves them to those safety fills.
   */
  private async handOver(roomId: string): Promise<void> {
    if (!this.checks?.handOver) return;
    try {
      await this.checks.handOver(roomId);
    } catch (error) {
      this.deps.events?.admissionDeferred?.({ roomId, error });
    }
  }

  /** fill for a follow-up whose cause already succeeded: a failure is reported, not thrown. */
  async fillSafely(roomId: string, options?: FillOptions): Promise<FillResult> {
    try {
      return await this.fill(roomId, options);
    } catch (error) {
      this.deps.events?.admissionDeferred?.({ roomId, error });
      return { admitted: [], busy: false };
    }
  }

  /**
   * A visitor's own admission, for joins and heartbeats: admits `token` when it is live, in the front
   * zone, first of the live visitors in line, and a seat is free. Never admits anyone else: filling
   * many seats is the admitter's job (at spike rate, thousands of visitors admitting themselves one
   * seat at a time would herd on the room item).
   */
  async admitSelf(token: Token, room: Room | undefined, before?: HeardBefore): Promise<boolean> {
    const { clock, timings } = this.deps;
    const now = clock.now();
    const liveSince = now - timings.heartbeatTimeoutSeconds * 1000;
    if (!room || token.roomId !== room.roomId || !isLive(token, liveSince)) return false;
    if (!hasFreeSeat(room, now)) return false;
    // Passthrough: everyone goes in at once, whoever is ahead.
    if (admitsUncapped(room)) {
      const result = await this.admitBatch(room, [token], liveSince, {});
      return !('stop' in result) && result.admitted.includes(token.tokenId);
    }
    if (drawsAtRandom(room)) return this.admitSelfUndrawn(token, room, liveSince);
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
        return this.admitSelf(token, await this.deps.views.get(room.roomId), before);
      }
    } else this.asking.set(room.roomId, (asking = new Map()));
    const answer = this.admitSelfFirst(token, room, liveSince, now);
    asking.set(token.ticket, answer);
    try {
      return await answer;
    } finally {
      asking.delete(token.ticket);
      if (asking.size === 0) this.asking.delete(room.roomId);
    }
  }

  /** admitSelf once the cheap answers are out: reads the line ahead of `token`, and admits it when nobody live is there. */
  private async admitSelfFirst(token: Token, room: Room, liveSince: number, now: number): Promise<boolean> {
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
    const result = await this.admitBatch(room, [token], liveSince, {});
    return !('stop' in result) && result.admitted.includes(token.tokenId);
  }

  /**
   * A visitor of a random room admits itself only when there is nobody to draw among: every ticket
   * that may be waiting (random-draw.ts lineLengthBound: issued, not admitted) fits in the seats the
   * room may fill now, as its fresh item says. Else only the admitter draws: on a seat freed, and
   * on the checker's safety net, about once a second per room while front-zone checks come (a
   * visitor beside free seats whose check is far off has its check brought forward: checkSoon).
   * The cached view rules out a crowd first, so a crowd's heartbeats cost no read.
   */
  private async admitSelfUndrawn(token: Token, cached: Room, liveSince: number): Promise<boolean> {
    const fits = (room: Room) => lineLengthBound(room) <= admissionsAllowed(room, this.deps.clock.now());
    if (!fits(cached)) {
      if (cached.activeCount < cached.capacity) await this.checkSoon(token);
      return false;
    }
    const room = await this.deps.store.getRoom(cached.roomId);
    if (!room || !drawsAtRandom(room) || room.epoch !== cached.epoch || !fits(room)) return false;
    const result = await this.admitBatch(room, [token], liveSince, {});
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
  async admitSelfSafely(token: Token, room: Room | undefined, before?: HeardBefore): Promise<boolean> {
    try {
      return await this.admitSelf(token, room, before);
    } catch (error) {
      this.deps.events?.admissionDeferred?.({ roomId: token.roomId, error });
      return false;
    }
  }

  /**
   * One batch, retried on conflicts with jittered backoff: tokens that are no longer live waiting
   * tokens drop out, a room that moved is read again. `room` is the caller's latest view.
   *
   * A token whose next check is due later than an admitted visitor's timeout (it was scheduled while
   * the visitor kept its place far back) has its check loop re-armed in the same transaction, and
   * the new check is sent once it committed; without a check queue (a visitor's own request) such a
   * token is left to the admitter.
   */
  private async admitBatch(room: Room, candidates: readonly Token[], liveSince: number, as: { owner?: string }): Promise<BatchResult> {
    const { owner } = as;
    const { store, clock, timings } = this.deps;
    const checks = this.checks;
    const sleep = this.deps.sleep ?? realSleep;
    const random = this.deps.random ?? Math.random;
    const timeoutMs = timings.heartbeatTimeoutSeconds * 1000;
    const now = clock.now();
    const entries: AdmitEntry[] = [];
    for (const token of candidates) {
      const deadline = token.lastSeenAt + timeoutMs;
      if (!(token.checkDueAt > deadline)) entries.push({ tokenId: token.tokenId, ticket: token.ticket, checkSeq: token.checkSeq });
      else if (checks) {
        // Due at the deadline, never after it (a deadline less than a second away: visible at once,
        // DelaySeconds 0): the check may still arrive up to CHECK_DELIVERY_SLACK_MS late, and the seat
        // must be freed at most 21 s after the last heartbeat (DESIGN §5.3).
        const rearm = { checkBy: `${REARM_PREFIX}${owner ?? 'self'}`, checkDueAt: Math.max(now, deadline) };
        entries.push({ tokenId: token.tokenId, ticket: token.ticket, checkSeq: token.checkSeq, rearm });
      }
    }
    let view = room;
    let batch = entries.slice(0, Math.min(MAX_ADMIT_BATCH, admissionsAllowed(view, now)));
    for (let attempt = 0; attempt < MAX_ADMIT_ATTEMPTS && batch.length > 0; attempt++) {
      const highest = Math.max(...batch.map((t) => t.ticket));
      // Under a rate limit the batch takes its slots, on condition nobody took them meanwhile.
      const allowance = view.newVisitorsPerMinute !== undefined && !admitsUncapped(view) ? rateAllowance(view, clock.now()) : undefined;
      if (allowance && allowance.allowed < batch.length) batch = batch.slice(0, allowance.allowed);
      if (batch.length === 0) break;
      const outcome = await store.admitTokens({
        roomId: view.roomId,
        tokens: batch,
        capacity: view.capacity,
        ...(admitsUncapped(view) ? { uncapped: true } : {}),
        ...(allowance ? { rateSlot: { expect: allowance.expectSlotAt, next: allowance.slotAtAfter(batch.length) } } : {}),
        ...(highest > view.lastAdmittedTicket ? { raiseLastAdmittedTo: highest } : {}),
        ...(owner !== undefined ? { owner } : {}),
        liveSince,
        // An emergency stop that commits meanwhile refuses the batch: the fresh room, read below, has the new epoch.
        epoch: view.epoch,
        now: clock.now(),
      });
      switch (outcome.kind) {
        case 'admitted': {
          const rateSlotAt = allowance ? { rateSlotAt: allowance.slotAtAfter(batch.length) } : {};
          this.deps.views.patch(view.roomId, (cached) => ({
            ...cached,
            activeCount: cached.activeCount + batch.length,
            admittedTotal: cached.admittedTotal + batch.length,
            lastAdmittedTicket: Math.max(cached.lastAdmittedTicket, highest),
            ...rateSlotAt,
          }));
          // The re-armed checks first: they keep the new seats from being held silently (a reporter that throws must not cost them).
          await this.sendRearmed(view.roomId, batch);
          for (const token of batch) this.deps.events?.admitted?.({ roomId: view.roomId, tokenId: token.tokenId, ticket: token.ticket });
          return {
            admitted: batch.map((t) => t.tokenId),
            room: {
              ...view,
              activeCount: view.activeCount + batch.length,
              admittedTotal: view.admittedTotal + batch.length,
              lastAdmittedTicket: Math.max(view.lastAdmittedTicket, highest),
              ...rateSlotAt,
              updatedAt: clock.now(),
            },
          };
        }
        case 'tokens-refused': {
          const refused = new Set(outcome.tokenIds);
          batch = batch.filter((t) => !refused.has(t.tokenId));
          break;
        }
        case 'room-refused': {
          // A visitor's own admission does not retry: its view of the room and the line is out of date.
          // (In passthrough there is no line to be out of date about: it tries again on the fresh room.)
          if (owner === undefined && !admitsUncapped(view)) return { stop: true };
          // Full, not open, smaller, lastAdmittedTicket, the epoch or the rate slots moved, or the lease lost: the fresh room tells which.
          const fresh = await store.getRoom(view.roomId);
          if (!hasFreeSeat(fresh, clock.now()) || (owner !== undefined && fresh.admitter !== owner)) return { stop: true, ...(fresh ? { room: fresh } : {}) };
          view = fresh;
          batch = batch.slice(0, admissionsAllowed(fresh, clock.now()));
          break;
        }
        case 'conflict':
          await sleep(Math.round(random() * Math.min(1000, 10 * 2 ** attempt)));
          break;
      }
    }
    if (batch.length === 0) return { room: view, admitted: [] };
    throw new ContentionError(view.roomId);
  }

  /**
   * The checks of re-armed loops, once their admission committed. A failed send is reported, not
   * thrown: the loop's earlier check is still on its way and resends (check-loop.ts).
   */
  private async sendRearmed(roomId: string, batch: readonly AdmitEntry[]): Promise<void> {
    const { clock } = this.deps;
    const checks = this.checks;
    const rearmed = batch.filter((e) => e.rearm);
    if (!checks || rearmed.length === 0) return;
    await Promise.all(
      rearmed.map(async (entry) => {
        // Rounded down, so never later than its due time; 0 (visible at once) when that is less than a second away.
        const delay = Math.max(0, Math.floor((entry.rearm!.checkDueAt - clock.now()) / 1000));
        try {
          // The transaction moved the loop from the sequence read (its condition) to the next one.
          await checks.schedule({ tokenId: entry.tokenId, roomId, seq: entry.checkSeq + 1 }, delay);
        } catch (error) {
          this.deps.events?.admissionDeferred?.({ roomId, error });
        }
      }),
    );
  }
}

function rolledRateOption(room: Room, now: number) {
  const rate = rolledRate(room, now);
  return rate ? { rate } : {};
}
