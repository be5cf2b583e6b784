/**
 * An in-memory WaitingRoomStore with DynamoDB's semantics: every call is one atomic step
 * (a conditional write either applies whole or not at all), reads are strongly consistent, and
 * the line is the sparse index of waiting tokens. Used by domain tests and the property test.
 */
import type {
  AdmitOutcome,
  AdmitRequest,
  CheckMessage,
  CheckQueue,
  Clock,
  IssueTicketOutcome,
  RemoveOutcome,
  RemoveRequest,
  Room,
  RoomUpsert,
  Token,
  TouchOutcome,
  TouchRequest,
  WaitingEntry,
  WaitingRoomStore,
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

export class InMemoryStore implements WaitingRoomStore {
  readonly rooms = new Map<string, Room>();
  readonly tokens = new Map<string, Token>();
  /** Calls made, by method name: lets tests assert what was (not) written. */
  readonly calls: string[] = [];
  /** Makes the next calls of a method answer 'conflict' (transactions) a number of times. */
  readonly conflicts = new Map<'admitToken' | 'removeToken', number>();

  async getRoom(roomId: string): Promise<Room | undefined> {
    this.calls.push('getRoom');
    assertKey(roomId);
    const room = this.rooms.get(roomId);
    return room && clone(room);
  }

  async listRooms(): Promise<Room[]> {
    this.calls.push('listRooms');
    return [...this.rooms.values()].map(clone);
  }

  async upsertRoom(input: RoomUpsert): Promise<Room | undefined> {
    this.calls.push('upsertRoom');
    assertKey(input.roomId);
    const existing = this.rooms.get(input.roomId);
    if (!existing) {
      if (input.capacity === undefined) return undefined;
      const room: Room = {
        roomId: input.roomId,
        capacity: input.capacity,
        state: input.state ?? 'open',
        nextTicket: 0,
        activeCount: 0,
        lastAdmittedTicket: 0,
        admittedTotal: 0,
        evictedTotal: 0,
        rate: { prevAt: input.now, prevTotal: 0, curAt: input.now, curTotal: 0 },
        createdAt: input.now,
        updatedAt: input.now,
      };
      this.rooms.set(room.roomId, room);
      return clone(room);
    }
    if (input.capacity !== undefined) existing.capacity = input.capacity;
    if (input.state !== undefined) existing.state = input.state;
    existing.updatedAt = input.now;
    return clone(existing);
  }

  async issueTicket(roomId: string, now: number): Promise<IssueTicketOutcome> {
    this.calls.push('issueTicket');
    const room = this.rooms.get(roomId);
    if (!room) return { kind: 'room-not-found' };
    if (room.state === 'closed') return { kind: 'room-closed' };
    room.nextTicket += 1;
    room.updatedAt = now;
    return { kind: 'issued', room: clone(room) };
  }

  async putToken(token: Token): Promise<void> {
    this.calls.push('putToken');
    assertKey(token.tokenId, ...(token.state === 'WAITING' ? [token.roomId] : []));
    if (this.tokens.has(token.tokenId)) throw new Error(`duplicate token id ${token.tokenId}`);
    this.tokens.set(token.tokenId, clone(token));
  }

  async getToken(tokenId: string): Promise<Token | undefined> {
    this.calls.push('getToken');
    assertKey(tokenId);
    const token = this.tokens.get(tokenId);
    return token && clone(token);
  }

  async touchToken(request: TouchRequest): Promise<TouchOutcome> {
    this.calls.push('touchToken');
    const token = this.tokens.get(request.tokenId);
    if (!token) return { kind: 'not-found' };
    if (token.secretHash !== request.secretHash || token.roomId !== request.roomId) return { kind: 'mismatch', token: clone(token) };
    if (!(token.lastSeenAt <= request.now - request.minIntervalMs)) return { kind: 'recent', token: clone(token) };
    token.lastSeenAt = request.now;
    token.expiresAtSeconds = request.expiresAtSeconds;
    return { kind: 'touched', token: clone(token) };
  }

  async listWaiting(roomId: string, limit: number, beforeTicket?: number): Promise<WaitingEntry[]> {
    this.calls.push('listWaiting');
    return [...this.tokens.values()]
      .filter((t) => t.roomId === roomId && t.state === 'WAITING')
      .filter((t) => beforeTicket === undefined || t.ticket < beforeTicket)
      .sort((a, b) => a.ticket - b.ticket)
      .slice(0, limit)
      .map((t) => ({ tokenId: t.tokenId, ticket: t.ticket }));
  }

  async admitToken(request: AdmitRequest): Promise<AdmitOutcome> {
    this.calls.push('admitToken');
    if (this.takeConflict('admitToken')) return 'conflict';
    const token = this.tokens.get(request.tokenId);
    const room = this.rooms.get(request.roomId);
    if (!token || token.state !== 'WAITING') return 'token-not-waiting';
    if (!room || room.state !== 'open' || !(room.activeCount < room.capacity)) return 'room-refused';
    if (request.raiseLastAdmitted && !(room.lastAdmittedTicket < request.ticket)) return 'room-refused';
    token.state = 'ADMITTED';
    token.admittedAt = request.now;
    room.activeCount += 1;
    room.admittedTotal += 1;
    if (request.raiseLastAdmitted) room.lastAdmittedTicket = request.ticket;
    room.updatedAt = request.now;
    return 'admitted';
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
    const room = this.rooms.get(token.roomId);
    if (room && (token.state === 'ADMITTED' || request.expect)) {
      if (token.state === 'ADMITTED') room.activeCount -= 1;
      if (request.expect) room.evictedTotal += 1;
      room.updatedAt = request.now;
    }
    return 'removed';
  }

  async advanceCheck(tokenId: string, fromSeq: number, by: string): Promise<'advanced' | 'changed'> {
    this.calls.push('advanceCheck');
    const token = this.tokens.get(tokenId);
    if (!token || token.checkSeq !== fromSeq) return 'changed';
    token.checkSeq = fromSeq + 1;
    token.checkBy = by;
    return 'advanced';
  }

  async rollAdmissionRate(roomId: string, now: number, minAgeMs: number): Promise<void> {
    this.calls.push('rollAdmissionRate');
    const room = this.rooms.get(roomId);
    if (!room || now - room.rate.curAt < minAgeMs) return;
    room.rate = { prevAt: room.rate.curAt, prevTotal: room.rate.curTotal, curAt: now, curTotal: room.admittedTotal };
  }

  admittedIn(roomId: string): Token[] {
    return [...this.tokens.values()].filter((t) => t.roomId === roomId && t.state === 'ADMITTED');
  }

  waitingIn(roomId: string): Token[] {
    return [...this.tokens.values()].filter((t) => t.roomId === roomId && t.state === 'WAITING').sort((a, b) => a.ticket - b.ticket);
  }

  private takeConflict(method: 'admitToken' | 'removeToken'): boolean {
    const left = this.conflicts.get(method) ?? 0;
    if (left <= 0) return false;
    this.conflicts.set(method, left - 1);
    return true;
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

  /** Removes and returns the messages visible now, oldest first. */
  takeDue(): QueuedCheck[] {
    const now = this.clock.now();
    const due = this.pending.filter((m) => m.visibleAt <= now).sort((a, b) => a.visibleAt - b.visibleAt);
    for (const m of due) this.pending.splice(this.pending.indexOf(m), 1);
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
}
