/**
 * An in-memory WaitingRoomStore with DynamoDB's semantics: every call is one atomic step
 * (a conditional write either applies whole or not at all), and the line is a sharded index that
 * holds exactly the waiting tokens. Used by domain tests, the property test and the scale model.
 */
import {
  MAX_ADMIT_BATCH,
  type AdvanceCheckRequest,
  isLive,
  lineShardOf,
  type AdmitBatchOutcome,
  type AdmitBatchRequest,
  type CheckMessage,
  type CheckQueue,
  type Clock,
  type LeasePurpose,
  type LineQuery,
  type ReleaseOutcome,
  type ReleaseRequest,
  type RemoveOutcome,
  type RemoveRequest,
  type Room,
  type RoomUpsert,
  type Token,
  type TouchOutcome,
  type TouchRequest,
  type WaitingEntry,
  type WaitingRoomStore,
  type EventDraw,
  type EventEndAction,
  type EventStore,
  type LotteryDraws,
  type StoredDraw,
  type TicketMove,
} from '../../lambdas/domain/index.js';

const clone = <T>(value: T): T => structuredClone(value);

/** DynamoDB refuses an empty string as a key attribute (ValidationException). */
function assertKey(...keys: string[]): void {
  if (keys.some((k) => k === '')) {
    throw Object.assign(new Error('One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value.'), {
      name: 'ValidationException',
    });
  }
}

export class InMemoryStore implements WaitingRoomStore, EventStore {
  readonly rooms = new Map<string, Room>();
  readonly tokens = new Map<string, Token>();
  /** The line index: shard of each waiting token. */
  readonly lineShard = new Map<string, number>();
  /** Calls made, by method name: lets tests assert what was (not) written. */
  readonly calls: string[] = [];
  /** Makes the next calls of a method answer 'conflict' (transactions) a number of times. */
  readonly conflicts = new Map<'admitTokens' | 'removeToken', number>();
  private readonly counters = new Map<string, number>();
  /** Event boundaries by room, then by boundary key (as the ticket counter item holds them). */
  readonly boundaries = new Map<string, Map<string, number>>();

  async getRoom(roomId: string): Promise<Room | undefined> {
    this.calls.push('getRoom');
    assertKey(roomId);
    return this.roomCopy(roomId);
  }

  async listRooms(): Promise<Room[]> {
    this.calls.push('listRooms');
    return [...this.rooms.keys()].map((id) => this.roomCopy(id)!);
  }

  async upsertRoom(input: RoomUpsert): Promise<Room | undefined> {
    this.calls.push('upsertRoom');
    assertKey(input.roomId);
    const existing = this.rooms.get(input.roomId);
    if (!existing) {
      if (input.capacity === undefined) return undefined;
      this.rooms.set(input.roomId, {
        roomId: input.roomId,
        capacity: input.capacity,
        state: input.state ?? 'open',
        nextTicket: 0,
        activeCount: 0,
        lastAdmittedTicket: 0,
        admittedTotal: 0,
        evictedTotal: 0,
        rate: { prevAt: input.now, prevTotal: 0, prevTicket: 0, curAt: input.now, curTotal: 0, curTicket: 0 },
        lineShards: input.lineShards,
        frontFloor: 0,
        wakeSeq: 1,
        epoch: input.bumpEpoch ? 1 : 0,
        mode: input.mode ?? 'fifo',
        ...(typeof input.message === 'string' ? { message: input.message } : {}),
        ...(typeof input.newVisitorsPerMinute === 'number' ? { newVisitorsPerMinute: input.newVisitorsPerMinute } : {}),
        ...(input.event ? { event: clone(input.event) } : {}),
        createdAt: input.now,
        updatedAt: input.now,
      });
      return this.roomCopy(input.roomId);
    }
    if (input.capacity !== undefined) existing.capacity = input.capacity;
    if (input.state !== undefined) existing.state = input.state;
    if (typeof input.message === 'string') existing.message = input.message;
    else if (input.message === null) delete existing.message;
    if (input.bumpEpoch) existing.epoch += 1;
    if (input.mode !== undefined) existing.mode = input.mode;
    if (typeof input.newVisitorsPerMinute === 'number') existing.newVisitorsPerMinute = input.newVisitorsPerMinute;
    else if (input.newVisitorsPerMinute === null) delete existing.newVisitorsPerMinute;
    if (input.event) existing.event = clone(input.event);
    else if (input.event === null) delete existing.event;
    existing.wakeSeq += 1;
    existing.updatedAt = input.now;
    return this.roomCopy(input.roomId);
  }

  async reserveTickets(roomId: string, count: number, _now?: number, boundaryOf?: string): Promise<number> {
    this.calls.push('reserveTickets');
    assertKey(roomId);
    if (boundaryOf !== undefined) this.boundaryIn(roomId, boundaryOf);
    const last = (this.counters.get(roomId) ?? 0) + count;
    this.counters.set(roomId, last);
    return last;
  }

  async putToken(token: Token, lineShards: number): Promise<void> {
    this.calls.push('putToken');
    assertKey(token.tokenId, ...(token.state === 'WAITING' ? [token.roomId] : []));
    if (this.tokens.has(token.tokenId)) throw new Error(`duplicate token id ${token.tokenId}`);
    this.tokens.set(token.tokenId, clone(token));
    if (token.state === 'WAITING') this.lineShard.set(token.tokenId, lineShardOf(token.ticket, lineShards));
  }

  async getToken(tokenId: string, _consistent?: boolean): Promise<Token | undefined> {
    this.calls.push('getToken');
    assertKey(tokenId);
    const token = this.tokens.get(tokenId);
    return token && clone(token);
  }

  async getTokens(tokenIds: readonly string[]): Promise<Token[]> {
    this.calls.push('getTokens');
    tokenIds.forEach((id) => assertKey(id));
    return tokenIds.flatMap((id) => {
      const token = this.tokens.get(id);
      return token ? [clone(token)] : [];
    });
  }

  async touchToken(request: TouchRequest): Promise<TouchOutcome> {
    this.calls.push('touchToken');
    const token = this.tokens.get(request.tokenId);
    if (!token) return { kind: 'not-found' };
    if (token.secretHash !== request.secretHash || token.roomId !== request.roomId) return { kind: 'mismatch', token: clone(token) };
    const before = { signal: token.signal, lastSeenAt: token.lastSeenAt, heard: token.heard };
    token.lastSeenAt = request.now;
    token.signal = request.signal;
    token.heard = true;
    token.expiresAtSeconds = request.expiresAtSeconds;
    return { kind: 'touched', token: clone(token), before };
  }

  async listLine(query: LineQuery): Promise<WaitingEntry[]> {
    this.calls.push('listLine');
    if (query.limit < 1) return [];
    const entries: WaitingEntry[] = [];
    for (const [tokenId, shard] of this.lineShard) {
      const token = this.tokens.get(tokenId);
      // (A test may delete a token from the map directly: its index entry goes with it, as in DynamoDB.)
      if (!token || shard !== query.shard || token.roomId !== query.roomId) continue;
      if (query.afterTicket !== undefined && !(token.ticket > query.afterTicket)) continue;
      if (query.beforeTicket !== undefined && !(token.ticket < query.beforeTicket)) continue;
      entries.push({ tokenId, ticket: token.ticket });
    }
    return entries.sort((a, b) => a.ticket - b.ticket).slice(0, query.limit);
  }

  async lineEntry(roomId: string, shard: number, ticket: number): Promise<WaitingEntry | undefined> {
    this.calls.push('lineEntry');
    for (const [tokenId, entryShard] of this.lineShard) {
      const token = this.tokens.get(tokenId);
      if (token && entryShard === shard && token.roomId === roomId && token.ticket === ticket) return { tokenId, ticket };
    }
    return undefined;
  }

  async acquireAdmitter(roomId: string, owner: string, now: number, until: number, purpose: LeasePurpose = {}): Promise<Room | 'busy' | 'not-found'> {
    this.calls.push('acquireAdmitter');
    const room = this.rooms.get(roomId);
    if (!room) return 'not-found';
    if (room.admitter !== undefined && !((room.admitterUntil ?? 0) < now)) return 'busy';
    room.admitter = owner;
    room.admitterUntil = until;
    if (purpose.fills) room.fillingSince = now;
    else delete room.fillingSince;
    return this.roomCopy(roomId)!;
  }

  async releaseAdmitter(request: ReleaseRequest): Promise<ReleaseOutcome> {
    this.calls.push('releaseAdmitter');
    const room = this.rooms.get(request.roomId);
    if (!room || room.admitter !== request.owner) return { kind: 'lost' };
    if (room.wakeSeq !== request.wakeSeq) return { kind: 'woken', room: this.roomCopy(request.roomId)! };
    delete room.admitter;
    delete room.admitterUntil;
    delete room.fillingSince;
    if (request.frontFloor !== undefined) room.frontFloor = request.frontFloor;
    if (request.rate) room.rate = { ...request.rate };
    return { kind: 'released' };
  }

  async admitTokens(request: AdmitBatchRequest): Promise<AdmitBatchOutcome> {
    this.calls.push('admitTokens');
    // As the adapter: TransactWriteItems takes 100 items, and an item once.
    if (request.tokens.length > MAX_ADMIT_BATCH) throw new Error(`at most ${MAX_ADMIT_BATCH} tokens per admission`);
    if (new Set(request.tokens.map((t) => t.tokenId)).size !== request.tokens.length) throw new Error('a token appears twice in one admission');
    if (this.takeConflict('admitTokens')) return { kind: 'conflict' };
    const room = this.rooms.get(request.roomId);
    const n = request.tokens.length;
    const roomOk =
      room !== undefined &&
      room.state === 'open' &&
      (request.uncapped ? room.mode === 'passthrough' : room.capacity >= request.capacity && room.activeCount <= request.capacity - n) &&
      (request.rateSlot === undefined || room.rateSlotAt === request.rateSlot.expect) &&
      room.epoch === request.epoch &&
      (request.raiseLastAdmittedTo === undefined || room.lastAdmittedTicket < request.raiseLastAdmittedTo) &&
      (request.owner === undefined || room.admitter === request.owner);
    if (!roomOk) return { kind: 'room-refused' };
    const refused = request.tokens
      .filter((entry) => {
        const token = this.tokens.get(entry.tokenId);
        return !token || token.roomId !== request.roomId || !isLive(token, request.liveSince) || token.checkSeq !== entry.checkSeq;
      })
      .map((entry) => entry.tokenId);
    if (refused.length > 0) return { kind: 'tokens-refused', tokenIds: refused };
    for (const entry of request.tokens) {
      const token = this.tokens.get(entry.tokenId)!;
      token.state = 'ADMITTED';
      token.admittedAt = request.now;
      token.admittedEpoch = request.epoch;
      if (entry.rearm) {
        token.checkSeq += 1;
        token.checkBy = entry.rearm.checkBy;
        token.checkDueAt = entry.rearm.checkDueAt;
      }
      this.lineShard.delete(entry.tokenId);
    }
    room.activeCount += n;
    room.admittedTotal += n;
    if (request.raiseLastAdmittedTo !== undefined) room.lastAdmittedTicket = request.raiseLastAdmittedTo;
    if (request.rateSlot !== undefined) room.rateSlotAt = request.rateSlot.next;
    room.updatedAt = request.now;
    return { kind: 'admitted' };
  }

  async removeToken(request: RemoveRequest): Promise<RemoveOutcome> {
    this.calls.push('removeToken');
    if (this.takeConflict('removeToken')) return 'conflict';
    const token = this.tokens.get(request.token.tokenId);
    if (!token || token.state !== request.token.state || token.roomId !== request.token.roomId) return 'changed';
    if (request.expect && (token.lastSeenAt !== request.expect.lastSeenAt || token.checkSeq !== request.expect.checkSeq)) {
      return 'changed';
    }
    this.tokens.delete(token.tokenId);
    this.lineShard.delete(token.tokenId);
    const room = this.rooms.get(token.roomId);
    if (room && (token.state === 'ADMITTED' || request.expect)) {
      if (token.state === 'ADMITTED') {
        room.activeCount -= 1;
        room.wakeSeq += 1;
      }
      if (request.expect) room.evictedTotal += 1;
      room.updatedAt = request.now;
    }
    return 'removed';
  }

  async advanceCheck(request: AdvanceCheckRequest): Promise<'advanced' | 'changed'> {
    this.calls.push('advanceCheck');
    const token = this.tokens.get(request.tokenId);
    if (!token || token.checkSeq !== request.fromSeq || token.state !== request.expect.state || token.signal !== request.expect.signal) return 'changed';
    token.checkSeq = request.fromSeq + 1;
    token.checkBy = request.by;
    token.checkDueAt = request.dueAt;
    return 'advanced';
  }

  async fixBoundary(roomId: string, boundaryOf: string): Promise<number> {
    this.calls.push('fixBoundary');
    return this.boundaryIn(roomId, boundaryOf);
  }

  async moveTicket(move: TicketMove): Promise<'moved' | 'changed'> {
    this.calls.push('moveTicket');
    const token = this.tokens.get(move.tokenId);
    if (!token || token.roomId !== move.roomId || token.state !== 'WAITING' || token.ticket !== move.from) return 'changed';
    token.ticket = move.to;
    this.lineShard.set(move.tokenId, lineShardOf(move.to, move.lineShards));
    return 'moved';
  }

  async recordDraw(roomId: string, eventId: string, commitment: string, draw: EventDraw, now: number): Promise<'recorded' | 'changed'> {
    this.calls.push('recordDraw');
    const room = this.rooms.get(roomId);
    if (!room?.event || room.event.eventId !== eventId || room.event.commitment !== commitment || room.event.draw) return 'changed';
    room.event.draw = { ...draw };
    room.wakeSeq += 1;
    room.updatedAt = now;
    return 'recorded';
  }

  async endEvent(roomId: string, eventId: string, atEnd: EventEndAction, now: number): Promise<'ended' | 'changed'> {
    this.calls.push('endEvent');
    const room = this.rooms.get(roomId);
    if (!room?.event || room.event.eventId !== eventId || room.event.endedAt !== undefined) return 'changed';
    room.event.endedAt = now;
    if (atEnd === 'close') room.state = 'closed';
    else room.mode = 'passthrough';
    room.wakeSeq += 1;
    room.updatedAt = now;
    return 'ended';
  }

  private boundaryIn(roomId: string, boundaryOf: string): number {
    let fixed = this.boundaries.get(roomId);
    if (!fixed) this.boundaries.set(roomId, (fixed = new Map()));
    if (!fixed.has(boundaryOf)) fixed.set(boundaryOf, this.counters.get(roomId) ?? 0);
    return fixed.get(boundaryOf)!;
  }

  admittedIn(roomId: string): Token[] {
    return [...this.tokens.values()].filter((t) => t.roomId === roomId && t.state === 'ADMITTED');
  }

  waitingIn(roomId: string): Token[] {
    return [...this.tokens.values()].filter((t) => t.roomId === roomId && t.state === 'WAITING').sort((a, b) => a.ticket - b.ticket);
  }

  private roomCopy(roomId: string): Room | undefined {
    const room = this.rooms.get(roomId);
    return room && { ...clone(room), nextTicket: this.counters.get(roomId) ?? 0 };
  }

  private takeConflict(method: 'admitTokens' | 'removeToken'): boolean {
    const left = this.conflicts.get(method) ?? 0;
    if (left <= 0) return false;
    this.conflicts.set(method, left - 1);
    return true;
  }
}

/** Kept draws in memory (the stats table's items on AWS). */
export class InMemoryLotteryDraws implements LotteryDraws {
  readonly draws = new Map<string, StoredDraw>();

  async put(draw: StoredDraw): Promise<void> {
    this.draws.set(`${draw.publication.roomId}#${draw.publication.eventId}#${draw.publication.commitment}`, clone(draw));
  }

  async get(roomId: string, eventId: string, commitment: string): Promise<StoredDraw | undefined> {
    const draw = this.draws.get(`${roomId}#${eventId}#${commitment}`);
    return draw && clone(draw);
  }
}

export interface QueuedCheck {
  /** The queue's message id: a new one per send, kept by redeliveries and duplicates. */
  id: string;
  message: CheckMessage;
  visibleAt: number;
}

/** A delay queue in memory: sends are recorded with the time they become visible. */
export class InMemoryCheckQueue implements CheckQueue {
  readonly pending: QueuedCheck[] = [];
  /** Makes the next sends fail this many times. */
  failNextSends = 0;
  private counter = 0;

  constructor(private readonly clock: Clock) {}

  async schedule(message: CheckMessage, delaySeconds: number): Promise<void> {
    if (this.failNextSends > 0) {
      this.failNextSends -= 1;
      throw new Error('simulated SendMessage failure');
    }
    this.counter += 1;
    this.pending.push({ id: `msg-${this.counter}`, message: { ...message }, visibleAt: this.clock.now() + delaySeconds * 1000 });
  }

  /** Hand-overs sent (CheckQueue.handOver): the rooms, visible at once. */
  readonly handOvers: { roomId: string; visibleAt: number }[] = [];

  async handOver(roomId: string): Promise<void> {
    this.handOvers.push({ roomId, visibleAt: this.clock.now() });
  }

  /** Removes and returns the hand-overs visible now, oldest first. */
  takeDueHandOvers(): { roomId: string; visibleAt: number }[] {
    return this.takeVisible(this.handOvers);
  }

  /** Removes and returns the messages visible now, oldest first. */
  takeDue(): QueuedCheck[] {
    return this.takeVisible(this.pending);
  }

  private takeVisible<T extends { visibleAt: number }>(list: T[]): T[] {
    const now = this.clock.now();
    const due = list.filter((m) => m.visibleAt <= now).sort((a, b) => a.visibleAt - b.visibleAt);
    for (const m of due) list.splice(list.indexOf(m), 1);
    return due;
  }

  pendingFor(tokenId: string): QueuedCheck[] {
    return this.pending.filter((m) => m.message.tokenId === tokenId);
  }
}

export class FakeClock implements Clock {
  constructor(private time = Date.UTC(2026, 10, 23, 12, 0, 0)) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
  set(ms: number): void {
    this.time = ms;
  }
}
