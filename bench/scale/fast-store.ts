/**
 * The test suite's in-memory store (DynamoDB's semantics: each call one atomic step, the line an
 * index that holds exactly the waiting tokens), made fast enough for a million tokens.
 *
 * The rules of every conditional write stay in InMemoryStore: admissions, removals and the
 * admitter lease are its own methods. What changes is how the hot paths copy and search: the
 * parent clones with structuredClone on every call and reads the line by scanning every waiting
 * token, which is minutes per second of simulated drop. Here a read returns a snapshot (a copy) of
 * the token, made once and kept until the token is next written (the head of a line is read by
 * every admitter and every visitor asking who is ahead, thousands of times between two writes),
 * and each shard of the line is a sorted array of tickets, searched by bisection, with deleted
 * entries compacted lazily.
 */
import { lineShardOf, type AdmitBatchOutcome, type AdmitBatchRequest, type LineQuery, type RemoveOutcome, type RemoveRequest, type Room, type Token, type TouchOutcome, type TouchRequest, type WaitingEntry } from '../../lambdas/domain/index.js';
import { InMemoryStore } from '../../test/helpers/in-memory-store.js';

/** One shard of a room's line: waiting tickets in order; a removed entry keeps its slot (id '') until the shard is compacted. */
class ShardLine {
  private tickets: number[] = [];
  private ids: string[] = [];
  private first = 0;
  private dead = 0;

  insert(ticket: number, tokenId: string): void {
    const n = this.tickets.length;
    if (n === 0 || ticket > this.tickets[n - 1]!) {
      this.tickets.push(ticket);
      this.ids.push(tokenId);
      return;
    }
    const at = this.lowerBound(ticket);
    this.tickets.splice(at, 0, ticket);
    this.ids.splice(at, 0, tokenId);
  }

  remove(ticket: number): void {
    const at = this.lowerBound(ticket);
    if (this.tickets[at] !== ticket || this.ids[at] === '') return;
    this.ids[at] = '';
    this.dead += 1;
    while (this.first < this.ids.length && this.ids[this.first] === '') this.first += 1;
    if (this.dead > 256 && this.dead * 2 > this.tickets.length) this.compact();
  }

  query(afterTicket: number | undefined, beforeTicket: number | undefined, limit: number): WaitingEntry[] {
    const out: WaitingEntry[] = [];
    let i = afterTicket === undefined ? this.first : Math.max(this.first, this.lowerBound(afterTicket + 1));
    for (; i < this.tickets.length && out.length < limit; i++) {
      const ticket = this.tickets[i]!;
      if (beforeTicket !== undefined && ticket >= beforeTicket) break;
      const tokenId = this.ids[i]!;
      if (tokenId !== '') out.push({ tokenId, ticket });
    }
    return out;
  }

  private lowerBound(ticket: number): number {
    let lo = 0;
    let hi = this.tickets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tickets[mid]! < ticket) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private compact(): void {
    const tickets: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < this.tickets.length; i++) {
      if (this.ids[i] !== '') {
        tickets.push(this.tickets[i]!);
        ids.push(this.ids[i]!);
      }
    }
    this.tickets = tickets;
    this.ids = ids;
    this.first = 0;
    this.dead = 0;
  }
}

export class FastStore extends InMemoryStore {
  private readonly lines = new Map<string, ShardLine[]>();
  /** Copies of tokens as last written, shared by every read until a write drops them (the domain never changes what it reads). */
  private readonly snapshots = new Map<string, Token>();

  private snapshot(token: Token): Token {
    let copy = this.snapshots.get(token.tokenId);
    if (!copy) {
      copy = { ...token };
      this.snapshots.set(token.tokenId, copy);
    }
    return copy;
  }

  override async getRoom(roomId: string): Promise<Room | undefined> {
    this.forgetCalls();
    return super.getRoom(roomId);
  }

  override async reserveTickets(roomId: string, count: number): Promise<number> {
    this.forgetCalls();
    return super.reserveTickets(roomId, count);
  }

  override async putToken(token: Token, lineShards: number): Promise<void> {
    if (token.tokenId === '' || token.roomId === '') throw new Error('an empty string is not a valid key');
    if (this.tokens.has(token.tokenId)) throw new Error(`duplicate token id ${token.tokenId}`);
    this.tokens.set(token.tokenId, { ...token });
    this.snapshots.delete(token.tokenId);
    if (token.state === 'WAITING') this.shard(token.roomId, lineShardOf(token.ticket, lineShards), lineShards).insert(token.ticket, token.tokenId);
  }

  override async getToken(tokenId: string): Promise<Token | undefined> {
    const token = this.tokens.get(tokenId);
    return token && this.snapshot(token);
  }

  override async getTokens(tokenIds: readonly string[]): Promise<Token[]> {
    const found: Token[] = [];
    for (const id of tokenIds) {
      const token = this.tokens.get(id);
      if (token) found.push(this.snapshot(token));
    }
    return found;
  }

  override async touchToken(request: TouchRequest): Promise<TouchOutcome> {
    const token = this.tokens.get(request.tokenId);
    if (!token) return { kind: 'not-found' };
    if (token.secretHash !== request.secretHash || token.roomId !== request.roomId) return { kind: 'mismatch', token: this.snapshot(token) };
    const before = { signal: token.signal, lastSeenAt: token.lastSeenAt, heard: token.heard };
    token.lastSeenAt = request.now;
    token.signal = request.signal;
    token.heard = true;
    token.expiresAtSeconds = request.expiresAtSeconds;
    this.snapshots.delete(token.tokenId);
    return { kind: 'touched', token: this.snapshot(token), before };
  }

  override async advanceCheck(...args: Parameters<InMemoryStore['advanceCheck']>): Promise<'advanced' | 'changed'> {
    this.snapshots.delete(tokenIdOf(args[0]));
    return super.advanceCheck(...args);
  }

  override async listLine(query: LineQuery): Promise<WaitingEntry[]> {
    if (query.limit < 1) return [];
    const shard = this.lines.get(query.roomId)?.[query.shard];
    return shard ? shard.query(query.afterTicket, query.beforeTicket, query.limit) : [];
  }

  override async lineEntry(roomId: string, shard: number, ticket: number): Promise<WaitingEntry | undefined> {
    // Strictly between ticket - 1 and ticket + 1: the ticket itself (tickets are whole numbers).
    return this.lines.get(roomId)?.[shard]?.query(ticket - 1, ticket + 1, 1)[0];
  }

  override async admitTokens(request: AdmitBatchRequest): Promise<AdmitBatchOutcome> {
    for (const entry of request.tokens) this.snapshots.delete(entry.tokenId);
    const outcome = await super.admitTokens(request);
    if (outcome.kind === 'admitted') {
      const shards = this.rooms.get(request.roomId)!.lineShards;
      for (const entry of request.tokens) this.shard(request.roomId, lineShardOf(entry.ticket, shards), shards).remove(entry.ticket);
    }
    this.forgetCalls();
    return outcome;
  }

  override async removeToken(request: RemoveRequest): Promise<RemoveOutcome> {
    const before = this.tokens.get(request.token.tokenId);
    this.snapshots.delete(request.token.tokenId);
    const outcome = await super.removeToken(request);
    if (outcome === 'removed' && before?.state === 'WAITING') {
      const shards = this.rooms.get(before.roomId)?.lineShards ?? 1;
      this.shard(before.roomId, lineShardOf(before.ticket, shards), shards).remove(before.ticket);
    }
    this.forgetCalls();
    return outcome;
  }

  /** Seats held by visitors outside the model (a ceiling run starts from a full room). */
  seedActive(roomId: string, activeCount: number): void {
    const room = this.rooms.get(roomId);
    if (!room) throw new Error(`no room ${roomId}`);
    room.activeCount = activeCount;
  }

  private shard(roomId: string, shard: number, lineShards: number): ShardLine {
    let shards = this.lines.get(roomId);
    if (!shards) {
      shards = Array.from({ length: lineShards }, () => new ShardLine());
      this.lines.set(roomId, shards);
    }
    return shards[shard]!;
  }

  /** The parent records every call by name for tests; a drop makes millions. */
  private forgetCalls(): void {
    if (this.calls.length > 10_000) this.calls.length = 0;
  }
}

/** The token id of a store call's first argument: the id itself, or a request naming it (the port takes either shape as it evolves). */
export function tokenIdOf(first: unknown): string {
  return typeof first === 'string' ? first : (first as { tokenId: string }).tokenId;
}
