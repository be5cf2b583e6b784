/**
 * The draw of a scheduled event, and its end (events.ts), as the metrics run applies them to each
 * room once a few seconds after `start` (DRAW_SETTLE_MS) and once past `end`.
 *
 * The draw, under the room's admitter lease (nobody admits during it anyway):
 *  1. fixes the boundary, the last ticket reserved before `start` (if no join after it did already);
 *  2. reads every waiting ticket up to the boundary from the line index, with its token: the
 *     pre-queue, with those who were waiting before it opened;
 *  3. makes each one's entry and orders the entries by the seed (lottery.ts drawOrder); the k-th
 *     drawn gets the k-th lowest of those tickets, so the set of tickets, and the line's counts
 *     and gaps with it, do not change;
 *  4. keeps the publication (the sorted entries, the seed, the commitment) and the private plan
 *     (token, ticket before, ticket after) before moving anyone, so that a run that fails half way
 *     is finished by the next run with the same plan, never with a second draw;
 *  5. moves the tickets, each on condition that its token still waits with the ticket it had;
 *  6. records the draw on the room: the seed is public from then on, and admissions start in the
 *     drawn order.
 *
 * One run moves what it can in DRAW_BUDGET_MS (a few thousand tickets a second); a larger pre-queue
 * is finished by the following runs, each from the kept plan.
 */
import { boundaryKeyOf, eventPhase, DRAW_SETTLE_MS } from './events.js';
import { drawOrder, entryOf, listDigestOf, lotteryPublication } from './lottery.js';
import type { Room, RoomEvent, WaitingEntry } from '../model.js';
import type { Clock, DrawPlanEntry, EventStore, LotteryDraws, StoredDraw, WaitingRoomStore } from '../ports.js';

/** How long one run spends moving tickets before it leaves the rest to the next run. */
export const DRAW_BUDGET_MS = 15_000;
/** Ticket moves in flight at once. */
const MOVE_CONCURRENCY = 16;
/** Line entries read per query. */
const LINE_PAGE = 1_000;

export interface EventRunnerDeps {
  store: Pick<WaitingRoomStore, 'listLine' | 'acquireAdmitter' | 'releaseAdmitter'> & EventStore;
  draws: LotteryDraws;
  clock: Clock;
  /** A fresh lease owner id. */
  owner: () => string;
  budgetMs?: number;
  /**
   * Fills the room's free seats as its admitter (Admissions.fillSafely), once a recorded draw opened
   * the room and the lease is given back. The draw holds the admitter lease: a seat freed meanwhile
   * left its wake-up to the lease's holder, which cannot admit, so the runner hands the work on
   * here. Without it the next signal or check admits, within a heartbeat interval.
   */
  admit?: (roomId: string) => Promise<unknown>;
}

export type EventStep =
  | { kind: 'drawn'; entries: number; moved: number }
  | { kind: 'draw-partial'; moved: number; left: number }
  | { kind: 'ended' }
  | { kind: 'busy' };

export class EventRunner {
  constructor(private readonly deps: EventRunnerDeps) {}

  /** What the room's event needs now, done: the draw, or the end. Undefined when nothing was due. */
  async advance(room: Room): Promise<EventStep | undefined> {
    const event = room.event;
    if (!event) return undefined;
    const now = this.deps.clock.now();
    const phase = eventPhase(event, now);
    if (phase === 'ended' && event.endedAt === undefined) {
      await this.deps.store.endEvent(room.roomId, event.eventId, event.atEnd, now);
      return { kind: 'ended' };
    }
    if (phase === 'drawing' && now >= event.start + DRAW_SETTLE_MS) return this.draw(room, event);
    return undefined;
  }

  private async draw(room: Room, event: RoomEvent): Promise<EventStep> {
    const { store, clock } = this.deps;
    const owner = this.deps.owner();
    const budgetMs = this.deps.budgetMs ?? DRAW_BUDGET_MS;
    const started = clock.now();
    const lease = await store.acquireAdmitter(room.roomId, owner, started, started + budgetMs + 10_000);
    if (lease === 'busy' || lease === 'not-found') return { kind: 'busy' };
    let opened = false;
    try {
      const earlier = await this.deps.draws.get(room.roomId, event.eventId, event.commitment);
      const kept = earlier ? await keptOf(earlier) : await this.makeDraw(lease, event);
      let moved = 0;
      let next = 0;
      const moves = kept.stored.plan.filter((p) => p.from !== p.to);
      const worker = async () => {
        while (next < moves.length && clock.now() - started < budgetMs) {
          const move = moves[next++]!;
          if ((await store.moveTicket({ ...move, roomId: room.roomId, lineShards: lease.lineShards })) === 'moved') moved += 1;
        }
      };
      await Promise.all(Array.from({ length: MOVE_CONCURRENCY }, worker));
      if (next < moves.length) return { kind: 'draw-partial', moved, left: moves.length - next };
      await store.recordDraw(
        room.roomId,
        event.eventId,
        event.commitment,
        { at: clock.now(), boundary: kept.stored.boundary, entries: kept.stored.publication.entries.length, listDigest: kept.listDigest },
        clock.now(),
      );
      opened = true;
      return { kind: 'drawn', entries: kept.stored.publication.entries.length, moved };
    } finally {
      await this.release(room.roomId, owner, lease.wakeSeq);
      if (opened) await this.deps.admit?.(room.roomId);
    }
  }

  /** Steps 1-4: the boundary, the pre-queue, the order, the publication and plan kept. */
  private async makeDraw(room: Room, event: RoomEvent): Promise<KeptDraw> {
    const { store, draws } = this.deps;
    const boundary = await store.fixBoundary(room.roomId, boundaryKeyOf(event));
    const waiting = await this.prequeue(room, boundary);
    const entrants = await Promise.all(waiting.map(async (w) => ({ ...w, entry: await entryOf({ roomId: room.roomId, eventId: event.eventId, ticket: w.ticket, tokenId: w.tokenId }) })));
    const byEntry = new Map(entrants.map((e) => [e.entry, e]));
    const order = await drawOrder(event.seed, entrants.map((e) => e.entry));
    const tickets = waiting.map((w) => w.ticket).sort((a, b) => a - b);
    const plan: DrawPlanEntry[] = order.map((entry, k) => {
      const who = byEntry.get(entry)!;
      return { tokenId: who.tokenId, from: who.ticket, to: tickets[k]! };
    });
    const publication = lotteryPublication({ roomId: room.roomId, eventId: event.eventId, commitment: event.commitment, seed: event.seed, entries: order, closedAt: event.start });
    const stored: StoredDraw = { publication: { ...publication, seed: event.seed, closedAt: event.start }, plan, boundary };
    await draws.put(stored);
    return keptOf(stored);
  }

  /** Every waiting entry with a ticket up to the boundary, over every shard of the line. */
  private async prequeue(room: Room, boundary: number): Promise<WaitingEntry[]> {
    const shards = Array.from({ length: room.lineShards }, (_, shard) => shard);
    const perShard = await Promise.all(
      shards.map(async (shard) => {
        const found: WaitingEntry[] = [];
        let afterTicket: number | undefined;
        for (;;) {
          const page = await this.deps.store.listLine({ roomId: room.roomId, shard, beforeTicket: boundary + 1, ...(afterTicket !== undefined ? { afterTicket } : {}), limit: LINE_PAGE });
          found.push(...page);
          if (page.length < LINE_PAGE) return found;
          afterTicket = page[page.length - 1]!.ticket;
        }
      }),
    );
    // A token seen twice (an index read racing a move of an earlier run) counts once.
    const byToken = new Map(perShard.flat().map((e) => [e.tokenId, e]));
    return [...byToken.values()];
  }

  /** Gives the lease back, again with the newer wakeSeq when the draw's own record (or a freed seat) moved it. */
  private async release(roomId: string, owner: string, wakeSeq: number): Promise<void> {
    const { store, clock } = this.deps;
    for (let attempt = 0; attempt < 3; attempt++) {
      const released = await store.releaseAdmitter({ roomId, owner, wakeSeq, now: clock.now() });
      if (released.kind !== 'woken') return;
      wakeSeq = released.room.wakeSeq;
    }
  }
}

/** A kept draw, with the digest of its published list. */
interface KeptDraw {
  stored: StoredDraw;
  listDigest: string;
}

async function keptOf(stored: StoredDraw): Promise<KeptDraw> {
  return { stored, listDigest: await listDigestOf(stored.publication.entries) };
}

/**
 * The rooms of a metrics run, each room's event advanced on the way (the draw, the end): the run
 * lists the rooms anyway, so events cost no read of their own. A room whose step fails is reported
 * and listed as read; the next run tries again.
 */
export function advancingEvents(
  source: { listRooms(): Promise<Room[]> },
  runner: Pick<EventRunner, 'advance'>,
  report: (roomId: string, outcome: EventStep | { kind: 'failed'; error: unknown }) => void,
): { listRooms(): Promise<Room[]> } {
  return {
    async listRooms() {
      const rooms = await source.listRooms();
      await Promise.all(
        rooms
          .filter((room) => room.event)
          .map(async (room) => {
            try {
              const step = await runner.advance(room);
              if (step) report(room.roomId, step);
            } catch (error) {
              report(room.roomId, { kind: 'failed', error });
            }
          }),
      );
      return rooms;
    },
  };
}
