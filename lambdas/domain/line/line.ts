/**
 * Reading the head of the line (DESIGN §8 "Who is next"). The line index is sharded (a waiting
 * token's entry lives in shard ticket mod lineShards) so that no index partition takes every join;
 * the head of the line is a merge of the shards' heads, in ticket order.
 *
 * Each shard is read in ticket order, a page at a time. The merged order is exact up to the
 * frontier: the lowest last-read ticket among the shards that may hold more. Entries up to the
 * frontier are then read (eventually consistently) to keep only the live ones: waiting,
 * heartbeating, heard from within the heartbeat timeout. The index, like those reads, only
 * proposes: the admission transaction's conditions decide.
 */
import type { Token, WaitingEntry } from '../model.js';
import type { WaitingRoomStore } from '../ports.js';

/** The shard of the line index a ticket's entry lives in. */
export function lineShardOf(ticket: number, lineShards: number): number {
  return ((ticket % lineShards) + lineShards) % lineShards;
}

/**
 * A token that may be admitted now: waiting, heartbeating, heard from since `liveSince`, and heard
 * from at all since its join (so its visitor holds the secret: never an orphan of a lost answer).
 */
export function isLive(token: Pick<Token, 'state' | 'signal' | 'lastSeenAt' | 'heard'>, liveSince: number): boolean {
  return token.state === 'WAITING' && token.signal === 'heartbeat' && token.heard && token.lastSeenAt >= liveSince;
}

export interface HeadQuery {
  roomId: string;
  lineShards: number;
  /** How many live tokens are wanted. */
  want: number;
  liveSince: number;
  /** Read at most about this many entries in all (ghosts at the head cost reads; this bounds the work). */
  maxEntries: number;
  /** Only tickets below this one (a visitor asking whether anyone live is ahead of it). */
  beforeTicket?: number;
  /** Only tickets above this one (the random mode's draw reading on from a random ticket). */
  afterTicket?: number;
}

export interface Head {
  /** Live tokens in ticket order, at most `want`. */
  live: Token[];
  /** Entries read up to the frontier that were not live (ghosts, far-back visitors, tokens gone meanwhile). */
  notLive: number;
  /** The highest ticket of any entry read (0 when none). */
  lastTicketRead: number;
  /** True when every shard was read to its end (below `beforeTicket`). */
  exhausted: boolean;
}

interface ShardCursor {
  shard: number;
  /** The last ticket read from this shard. */
  after: number;
  /** Entries read but not yet placed in the merged order. */
  buffered: WaitingEntry[];
  done: boolean;
}

type LineStore = Pick<WaitingRoomStore, 'listLine' | 'getTokens'>;

/** Most tokens one read of the tokens fetches (BatchGetItem takes 100 keys). */
const TOKEN_READ_BATCH = 100;

export async function readHead(store: LineStore, query: HeadQuery): Promise<Head> {
  const { roomId, lineShards, want, liveSince } = query;
  const pageSize = Math.max(2, Math.ceil(want / lineShards) + 2);
  const cursors: ShardCursor[] = Array.from({ length: lineShards }, (_, shard) => ({ shard, after: Math.max(0, query.afterTicket ?? 0), buffered: [], done: false }));
  const live: Token[] = [];
  let notLive = 0;
  let read = 0;
  let lastTicketRead = 0;

  for (;;) {
    const readBefore = read;
    // One more page from every shard whose entries were all placed.
    await Promise.all(
      cursors
        .filter((c) => !c.done && c.buffered.length === 0)
        .map(async (cursor) => {
          const page = await store.listLine({
            roomId,
            shard: cursor.shard,
            ...(cursor.after > 0 ? { afterTicket: cursor.after } : {}),
            ...(query.beforeTicket !== undefined ? { beforeTicket: query.beforeTicket } : {}),
            limit: pageSize,
          });
          read += page.length;
          cursor.buffered = page;
          if (page.length < pageSize) cursor.done = true;
          if (page.length > 0) {
            cursor.after = page[page.length - 1]!.ticket;
            lastTicketRead = Math.max(lastTicketRead, cursor.after);
          }
        }),
    );
    // Everything at or below the frontier is in order: no shard that may hold more has a lower ticket left.
    const frontier = Math.min(Number.POSITIVE_INFINITY, ...cursors.filter((c) => !c.done).map((c) => c.after));
    const ready: WaitingEntry[] = [];
    for (const cursor of cursors) {
      while (cursor.buffered.length > 0 && cursor.buffered[0]!.ticket <= frontier) ready.push(cursor.buffered.shift()!);
    }
    ready.sort((a, b) => a.ticket - b.ticket);

    for (let i = 0; i < ready.length && live.length < want; i += TOKEN_READ_BATCH) {
      const chunk = ready.slice(i, i + TOKEN_READ_BATCH);
      const tokens = new Map((await store.getTokens(chunk.map((e) => e.tokenId))).map((t) => [t.tokenId, t]));
      for (const entry of chunk) {
        const token = tokens.get(entry.tokenId);
        if (token && token.roomId === roomId && isLive(token, liveSince)) {
          if (live.length < want) live.push(token);
        } else {
          notLive += 1;
        }
      }
    }
    const exhausted = cursors.every((c) => c.done && c.buffered.length === 0);
    // (Without progress, reading on would read nothing new: a guard, never reached when the frontier is right.)
    const stuck = read === readBefore && ready.length === 0;
    if (live.length >= want || exhausted || read >= query.maxEntries || stuck) return { live, notLive, lastTicketRead, exhausted };
  }
}
