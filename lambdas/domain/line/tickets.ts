/**
 * Tickets at spike rate (DESIGN §8 "Tickets at spike rate", invariant 2).
 *
 * One counter item per room would cap joins near 1,000 a second. Instead each function environment
 * reserves a block of tickets with one atomic addition and hands them out itself. A block serves
 * for at most `blockMs` after its reservation was sent; numbers left when it runs out of time are
 * gaps (positions stay upper bounds). The ordering bound follows:
 *
 *   two tickets handed out more than blockMs apart are always in order,
 *
 * as long as a reservation takes less than blockMs (DynamoDB answers in milliseconds). When the
 * store is so slow that a join's reservations keep expiring before they answer, the join takes a
 * number after MAX_RESERVATIONS_PER_JOIN of them rather than wait forever, and the bound widens
 * to the reservation's latency for that ticket.
 *
 * Proof: let ticket a be handed out at time i1 from block A and ticket b at i2 > i1 + blockMs from
 * block B (another block: within one block numbers go up). B's reservation was sent at r2 ≥ i2 -
 * blockMs > i1, so its addition took effect after i1; A's took effect before i1 (a was handed out
 * from it). The counter only grows, so every number of B is above every number of A.
 *
 * The block size follows the environment's own demand (see nextSize): a quiet room reserves one
 * ticket per join and leaves no gaps, while a busy environment reserves about what one block
 * lifetime needs.
 */
import type { Clock } from '../ports.js';

/** How long a reserved block serves: the ordering bound (README "Tickets and their order"). */
export const TICKET_BLOCK_MS = 500;
/** The largest block one environment reserves at once. */
export const MAX_TICKET_BLOCK = 1_000;
/** Reservations a join waits for before it takes a number from a block older than its lifetime. */
export const MAX_RESERVATIONS_PER_JOIN = 2;

export interface TicketCounter {
  /**
   * Adds `count` to the room's ticket counter; returns its new value (the last ticket of the block).
   * With `boundaryOf` (an event's boundary key, events.ts): also fixes that boundary, if not yet
   * fixed, at the counter's value before this addition.
   */
  reserveTickets(roomId: string, count: number, now: number, boundaryOf?: string): Promise<number>;
}

/**
 * A scheduled event's cut in the ticket sequence (events.ts): a block reserved before `at` is not
 * used at or after `at`, and a reservation at or after `at` fixes the boundary `boundaryOf`. So
 * every ticket handed out after `at` is above every ticket reserved before it (up to the clock
 * skew between function environments, milliseconds).
 */
export interface TicketCut {
  at: number;
  boundaryOf: string;
}

interface Block {
  next: number;
  last: number;
  reservedAt: number;
  size: number;
  /** Tickets handed out from this block. */
  used: number;
}

interface RoomTickets {
  block?: Block;
  reserving?: Promise<void>;
}

export class TicketDispenser {
  private readonly rooms = new Map<string, RoomTickets>();

  constructor(
    private readonly counter: TicketCounter,
    private readonly clock: Clock,
    readonly blockMs: number = TICKET_BLOCK_MS,
  ) {}

  /** The next ticket for a join into `roomId`, after the event's `cut` when there is one. */
  async take(roomId: string, cut?: TicketCut): Promise<number> {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = {};
      this.rooms.set(roomId, room);
    }
    for (let waited = 0; ; waited++) {
      const block = room.block;
      // Checked when the ticket is handed out, after any wait: that is what the bound is about. A
      // join that already waited for MAX_RESERVATIONS_PER_JOIN reservations (each slower than a
      // block's lifetime: the store is struggling) takes a number anyway, so it cannot starve.
      const now = this.clock.now();
      const fresh = block !== undefined && now - block.reservedAt < this.blockMs;
      // A block from before the event's cut never serves after it, however long the store takes.
      const beforeCut = block !== undefined && cut !== undefined && block.reservedAt < cut.at && now >= cut.at;
      if (block && block.next <= block.last && !beforeCut && (fresh || waited >= MAX_RESERVATIONS_PER_JOIN)) {
        block.used += 1;
        return block.next++;
      }
      room.reserving ??= this.reserve(roomId, room, cut).finally(() => {
        room.reserving = undefined;
      });
      await room.reserving;
    }
  }

  private async reserve(roomId: string, room: RoomTickets, cut: TicketCut | undefined): Promise<void> {
    const now = this.clock.now();
    const size = this.nextSize(room.block, now);
    const last = cut && now >= cut.at ? await this.counter.reserveTickets(roomId, size, now, cut.boundaryOf) : await this.counter.reserveTickets(roomId, size, now);
    room.block = { next: last - size + 1, last, reservedAt: now, size, used: 0 };
  }

  /**
   * The next block's size, from how the last one went: one that ran out before its time is sized
   * for the rate it ran out at (at most four times bigger), one that ran out of time for what it
   * served; after an idle spell, one ticket. So a quiet room leaves no gaps, and a busy environment
   * soon reserves about what one lifetime needs.
   */
  private nextSize(previous: Block | undefined, now: number): number {
    if (!previous || now - previous.reservedAt > 2 * this.blockMs) return 1;
    const elapsed = Math.max(1, now - previous.reservedAt);
    const exhausted = previous.used >= previous.size && elapsed < this.blockMs;
    const size = exhausted ? Math.min(4 * previous.size, Math.ceil((previous.used * this.blockMs) / elapsed)) : previous.used;
    return Math.max(1, Math.min(MAX_TICKET_BLOCK, size));
  }
}
