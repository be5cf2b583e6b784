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
 * One transaction is admission-batch.ts. A visitor's own request (a join, a heartbeat) admits at
 * most itself, and only when a seat is free and nobody live is ahead of it: a bounded amount of
 * work (self-admission.ts).
 *
 * In the random mode the admitter draws the visitors at random among the live waiting ones instead
 * of reading the head of the line (random-draw.ts); a visitor's request admits itself only when there
 * is nobody to draw among (every ticket that may be waiting fits in the seats free now).
 */
import { AdmissionBatch } from './admission-batch.js';
import type { DomainDeps } from '../deps.js';
import { MAX_ADMIT_BATCH, admissionsAllowed, hasFreeSeat } from './free-seats.js';
import { readHead } from '../line/line.js';
import type { Room, Token } from '../model.js';
import type { CheckQueue, HeardBefore } from '../ports.js';
import { lineFacts, rolledRate } from '../line/positions.js';
import { drawsAtRandom, everyoneInFront } from '../line/queue-modes.js';
import { drawLive } from '../line/random-draw.js';
import { SelfAdmission } from './self-admission.js';

/** The lease outlives the admitter's time budget by this much, so a crashed admitter blocks the room only briefly. */
const LEASE_MARGIN_MS = 5_000;

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

/** The room as its filler leaves it: the lease given back. */
function withoutLease(room: Room): Room {
  const { admitter: _admitter, admitterUntil: _until, fillingSince: _since, ...rest } = room;
  return rest;
}

export class Admissions {
  private readonly batches: AdmissionBatch;
  private readonly self: SelfAdmission;

  constructor(
    private readonly deps: DomainDeps,
    /** Where re-armed checks go (see AdmissionBatch); without one, tokens that need it are left to an admitter that has one. */
    private readonly checks: CheckQueue | undefined = deps.checks,
  ) {
    this.batches = new AdmissionBatch(deps, checks);
    this.self = new SelfAdmission(deps, checks, this.batches);
  }

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
        const result = await this.batches.admit(room, candidates, liveSince, { owner });
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
   * A visitor's own admission, for joins and heartbeats (self-admission.ts): admits `token` when it
   * is live, in the front zone, first of the live visitors in line, and a seat is free; `before`,
   * how the token was heard before this signal, tells whether a filler at work knew it live.
   */
  admitSelf(token: Token, room: Room | undefined, before?: HeardBefore): Promise<boolean> {
    return this.self.admit(token, room, before);
  }

  async admitSelfSafely(token: Token, room: Room | undefined, before?: HeardBefore): Promise<boolean> {
    try {
      return await this.admitSelf(token, room, before);
    } catch (error) {
      this.deps.events?.admissionDeferred?.({ roomId: token.roomId, error });
      return false;
    }
  }
}

function rolledRateOption(room: Room, now: number) {
  const rate = rolledRate(room, now);
  return rate ? { rate } : {};
}
