/**
 * The random queueing mode (issue 12 item 3: "random: each admission draws among live waiting
 * visitors"): the admitter's draw for each batch of free seats, and a waiting visitor's place.
 *
 * Who may be drawn. Every waiting visitor of a random room is in the front zone (queue-modes.ts,
 * everyoneInFront): they all heartbeat, so they are all live and can be drawn; a visitor that is
 * silent, or still keeping its place (it was far back when the room switched to random, and its
 * page has not heard yet), is never drawn. The cost is the original design's: every waiting visitor
 * heartbeats every few seconds, one write each (a line of 100,000 makes 20,000 writes a second, and
 * as many checks on the queue). For very large crowds an event lottery (a verifiable draw of a
 * pre-queue, lottery.ts) is the scalable way to randomize.
 *
 * The draw. Each seat goes to a live waiting token chosen uniformly, by rejection sampling on
 * tickets: a ticket t uniform in [floor, lastTicket], looked up exactly in the line index (lineEntry:
 * one Query, Limit 1, on the shard of t), its token read, kept if live and not drawn already, else
 * drawn again. Every live waiting ticket in the range has the same chance at every attempt, so the
 * tokens kept, in the order drawn, are a uniform sample without replacement (and so is any prefix
 * of them: a batch cut short by the rate limit or a smaller room stays fair).
 *
 * - lastTicket is the room's nextTicket as the admitter read it: who joins during the draw waits for
 *   the next one.
 * - floor is the lowest ticket at the heads of the line's shards (one Query, Limit 1, per shard, in
 *   parallel: about what fifo's first read of the head costs), read afresh for every draw. Nothing
 *   lower is waiting, except a token whose index entry has not landed yet, which the next draw sees.
 *   A floor kept on the room item would cost a write to keep up, and once wrong (a join that landed
 *   below it) would leave a visitor out of every draw; the heads cannot be wrong for longer than the
 *   index takes to catch up.
 *
 * Attempts are bounded: drawAttempts(want) tickets at most (8 per seat wanted, plus 32), looked up
 * in rounds of parallel Queries sized from the hit rate seen so far. Seats still unfilled after them
 * (a sparse line: the gaps of ticket blocks, visitors admitted, gone or silent) are filled from the
 * line read in ticket order from a random ticket on, wrapping round to the floor. That tail is the
 * draw's only bias: a live ticket right after a long run of tickets that are not live is likelier to
 * be read first. It also makes sure that a free seat never stays empty while the head of the line
 * (as far as fifo would read it) holds a live visitor.
 *
 * The place. A waiting visitor's position is not a distance in tickets: it is the number of visitors
 * in line (each free seat is its with a chance of 1 in that), and its estimate the mean wait, line
 * length ÷ admission rate. Both can go up as others join. The line's length comes from the room
 * item alone (lineLengthBound), or from the counted waiting visitors where the caller has them.
 */
import type { Room, Token } from '../model.js';
import { isLive, lineShardOf, readHead } from './line.js';
import type { WaitingRoomStore } from '../ports.js';
import { estimateWaitSeconds, lineRate, type Place } from './positions.js';
import type { Timings } from '../timings.js';

/** Tickets a draw looks up at most before it reads the line in order instead. */
export const drawAttempts = (want: number): number => 8 * want + 32;
/** Lookups sent together at most (one Query each). */
export const MAX_LOOKUPS_PER_ROUND = 100;

export interface DrawQuery {
  roomId: string;
  lineShards: number;
  /** How many live tokens are wanted. */
  want: number;
  liveSince: number;
  /** The last ticket issued (the room's nextTicket): no waiting ticket is above it. */
  lastTicket: number;
  /** Uniform in [0, 1). */
  random: () => number;
}

export interface Draw {
  /** Live waiting tokens, at most `want`: first those the sampling drew, in the order drawn, then those of the tail read. */
  live: Token[];
  /** How many of `live` the sampling drew (the rest come from the tail read). */
  sampled: number;
  /** Tickets drawn and looked at. */
  attempts: number;
  /** The lowest ticket found at the heads of the shards (0 when the line is empty). */
  floor: number;
}

type DrawStore = Pick<WaitingRoomStore, 'listLine' | 'lineEntry' | 'getTokens'>;

/** Draws up to `want` live waiting tokens uniformly at random (see the module's doc). */
export async function drawLive(store: DrawStore, query: DrawQuery): Promise<Draw> {
  const { roomId, lineShards, want, liveSince, lastTicket, random } = query;
  if (want < 1) return { live: [], sampled: 0, attempts: 0, floor: 0 };
  const heads = await Promise.all(Array.from({ length: lineShards }, (_, shard) => store.listLine({ roomId, shard, limit: 1 })));
  const floor = Math.min(Number.POSITIVE_INFINITY, ...heads.flat().map((e) => e.ticket));
  if (!Number.isFinite(floor)) return { live: [], sampled: 0, attempts: 0, floor: 0 };
  const top = Math.max(floor, lastTicket, ...heads.flat().map((e) => e.ticket));
  const span = top - floor + 1;
  const pick = () => Math.min(top, floor + Math.floor(random() * span));

  const live: Token[] = [];
  const taken = new Set<string>();
  /** Tickets looked at: the live token found there, or null (no entry, or not live). */
  const seen = new Map<number, Token | null>();
  const budget = drawAttempts(want);
  let attempts = 0;
  while (live.length < want && attempts < budget) {
    const need = want - live.length;
    // Sized from the hit rate so far (with a prior of one hit in two), so a dense line takes one round.
    const hitRate = (live.length + 1) / (attempts + 2);
    const size = Math.min(budget - attempts, MAX_LOOKUPS_PER_ROUND, Math.ceil(need / hitRate) + 1);
    const draws = Array.from({ length: size }, pick);
    await lookUp(store, roomId, lineShards, liveSince, [...new Set(draws.filter((t) => !seen.has(t)))], seen);
    // In the order drawn, as if one at a time: what a later draw of the round finds taken is drawn again.
    for (const ticket of draws) {
      if (live.length >= want) break;
      attempts += 1;
      const token = seen.get(ticket);
      if (token && !taken.has(token.tokenId)) {
        taken.add(token.tokenId);
        live.push(token);
      }
    }
  }
  const sampled = live.length;
  if (live.length < want) {
    // The tail: the line in ticket order from a random ticket on, then from the floor up to it.
    const start = pick();
    const ranges = [{ afterTicket: start - 1 }, ...(start > floor ? [{ beforeTicket: start }] : [])];
    for (const range of ranges) {
      if (live.length >= want) break;
      // Enough for the seats left even if every token drawn already is among those read.
      const more = want - live.length + taken.size;
      const head = await readHead(store, { roomId, lineShards, want: more, liveSince, maxEntries: 4 * more + 4 * lineShards, ...range });
      for (const token of head.live) {
        if (live.length >= want) break;
        if (taken.has(token.tokenId)) continue;
        taken.add(token.tokenId);
        live.push(token);
      }
    }
  }
  return { live, sampled, attempts, floor };
}

/** Looks tickets up in the line index, then reads the tokens found (one batch), recording in `seen` the live ones, null for the rest. */
async function lookUp(store: DrawStore, roomId: string, lineShards: number, liveSince: number, tickets: number[], seen: Map<number, Token | null>): Promise<void> {
  if (tickets.length === 0) return;
  const entries = await Promise.all(tickets.map((ticket) => store.lineEntry(roomId, lineShardOf(ticket, lineShards), ticket)));
  const found = entries.filter((e) => e !== undefined);
  const tokens = found.length > 0 ? new Map((await store.getTokens(found.map((e) => e.tokenId))).map((t) => [t.tokenId, t])) : new Map<string, Token>();
  tickets.forEach((ticket, i) => {
    const entry = entries[i];
    const token = entry && tokens.get(entry.tokenId);
    seen.set(ticket, token && token.roomId === roomId && token.ticket === ticket && isLive(token, liveSince) ? token : null);
  });
}

/**
 * Visitors in line, at most, from the room item alone: tickets issued minus tickets admitted (each
 * ticket is admitted at most once). Gaps of ticket blocks, and visitors who left or were evicted
 * while waiting, still count: an upper bound, which the counted waiting visitors (the stats table)
 * improve on where a caller has them.
 */
export function lineLengthBound(room: Pick<Room, 'nextTicket' | 'admittedTotal'>): number {
  return Math.max(0, room.nextTicket - room.admittedTotal);
}

/**
 * The place of a waiting visitor of a random room: position = the visitors in line (itself
 * included; its chance at each free seat is 1 in that), estimate = their mean wait, the line's
 * length at the admission rate. Always the front zone.
 */
export function randomPlace(
  room: Pick<Room, 'nextTicket' | 'admittedTotal' | 'lastAdmittedTicket' | 'capacity' | 'rate'> & Partial<Pick<Room, 'newVisitorsPerMinute'>>,
  now: number,
  timings: Pick<Timings, 'assumedVisitSeconds'>,
  lineLength: number = lineLengthBound(room),
): Place {
  const position = Math.max(1, lineLength);
  return { position, estimatedWaitSeconds: estimateWaitSeconds(position, lineRate(room, now, timings).admissionsPerSecond), zone: 'front' };
}
