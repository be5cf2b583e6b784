/**
 * The contract of the WaitingRoomStore port (lambdas/domain/ports.ts), written once and run twice:
 * against the in-memory model that the domain unit tests and the property test rely on
 * (test/helpers/in-memory-store.ts), and against the DynamoDB adapter (lambdas/adapters/dynamo-store.ts)
 * on AWS's DynamoDB Local, with the tables created from the synthesized CDK template. Whatever the
 * in-memory model proves about the domain holds on DynamoDB only as far as these tests agree.
 *
 * The first run of this suite found four disagreements (empty ids, a dropped checkBy, Query
 * Limit 0, and removals booked to a room other than the token's); both stores now agree on each.
 */
import '../../local/preamble.js';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../lambdas/adapters/dynamo-store.js';
import {
  CheckLoop,
  DEFAULT_TIMINGS,
  Rooms,
  Visitors,
  randomIds,
  type AdmitOutcome,
  type DomainDeps,
  type RemoveOutcome,
  type Room,
  type RoomState,
  type Token,
  type WaitingRoomStore,
} from '../../lambdas/domain/index.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/emulators.js';
import { createTableInput } from '../../local/provision.js';
import { resourcesOfType, synthesizeTemplate } from '../../local/template.js';
import { FakeClock, InMemoryCheckQueue, InMemoryStore } from '../helpers/in-memory-store.js';

type Kind = 'memory' | 'dynamo';

let dynamoDbLocal: DynamoDbLocal | undefined;
let dynamoClient: DynamoDBClient | undefined;
let dynamoStore: DynamoStore | undefined;

beforeAll(async () => {
  const template = synthesizeTemplate({ adminEmail: 'a@b.co' });
  const tables = resourcesOfType(template, 'AWS::DynamoDB::Table');
  const logicalId = (prefix: string) => {
    const found = tables.filter(([id]) => id.startsWith(prefix));
    if (found.length !== 1) throw new Error(`expected one table ${prefix}*, found ${found.map(([id]) => id).join(', ') || 'none'}`);
    return found[0]!;
  };
  const rooms = logicalId('WaitingRoomTablesRooms');
  const tokens = logicalId('WaitingRoomTablesTokens');

  dynamoDbLocal = await startDynamoDbLocal();
  dynamoClient = new DynamoDBClient({
    endpoint: dynamoDbLocal.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  for (const [id, resource] of [rooms, tokens]) {
    await dynamoClient.send(new CreateTableCommand(createTableInput(id, resource.Properties ?? {})));
  }
  const documents = DynamoDBDocumentClient.from(dynamoClient, { marshallOptions: { removeUndefinedValues: true } });
  dynamoStore = new DynamoStore(documents, { rooms: rooms[0], tokens: tokens[0] });
});

afterAll(async () => {
  dynamoClient?.destroy();
  await dynamoDbLocal?.stop();
});

// ---------------------------------------------------------------------------------------------
// Helpers. Both implementations keep their data for the whole run, so every test uses fresh ids.
// ---------------------------------------------------------------------------------------------

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const RUN = Date.now().toString(36);
let counter = 0;
const uid = (prefix: string) => `${prefix}-${RUN}-${++counter}`;

function newToken(roomId: string, ticket: number, overrides: Partial<Token> = {}): Token {
  return {
    tokenId: uid('tok'),
    roomId,
    ticket,
    secretHash: `hash-${ticket}`,
    state: 'WAITING',
    issuedAt: T0,
    lastSeenAt: T0,
    checkSeq: 0,
    expiresAtSeconds: T0 / 1000 + 86_400,
    ...overrides,
  };
}

function expectedNewRoom(roomId: string, capacity: number, state: RoomState = 'open', now = T0): Room {
  return {
    roomId,
    capacity,
    state,
    nextTicket: 0,
    activeCount: 0,
    lastAdmittedTicket: 0,
    admittedTotal: 0,
    evictedTotal: 0,
    rate: { prevAt: now, prevTotal: 0, curAt: now, curTotal: 0 },
    createdAt: now,
    updatedAt: now,
  };
}

/** Everything a test may want to compare before and after a call. */
async function snapshot(store: WaitingRoomStore, roomId: string, tokenIds: string[]) {
  return {
    room: await store.getRoom(roomId),
    tokens: await Promise.all(tokenIds.map((id) => store.getToken(id))),
    line: await store.listWaiting(roomId, 100),
  };
}

const count = <T>(values: T[], value: T) => values.filter((v) => v === value).length;

/** A store that delegates to another, with a hook before removeToken (to interleave a heartbeat). */
function withRemoveHook(store: WaitingRoomStore, hook: () => Promise<void>, outcomes: RemoveOutcome[]): WaitingRoomStore {
  return {
    getRoom: (...a) => store.getRoom(...a),
    listRooms: (...a) => store.listRooms(...a),
    upsertRoom: (...a) => store.upsertRoom(...a),
    issueTicket: (...a) => store.issueTicket(...a),
    putToken: (...a) => store.putToken(...a),
    getToken: (...a) => store.getToken(...a),
    touchToken: (...a) => store.touchToken(...a),
    listWaiting: (...a) => store.listWaiting(...a),
    admitToken: (...a) => store.admitToken(...a),
    removeToken: async (...a) => {
      await hook();
      const outcome = await store.removeToken(...a);
      outcomes.push(outcome);
      return outcome;
    },
    advanceCheck: (...a) => store.advanceCheck(...a),
    rollAdmissionRate: (...a) => store.rollAdmissionRate(...a),
  };
}

/** The domain over `store`, with a fake clock, an in-memory check queue and random (unique) ids. */
function domainOn(store: WaitingRoomStore) {
  const clock = new FakeClock(T0);
  const checks = new InMemoryCheckQueue(clock);
  const events = { admitted: [] as number[], removed: [] as { ticket: number; reason: string }[], deferred: [] as unknown[] };
  const deps: DomainDeps = {
    store,
    clock,
    timings: { ...DEFAULT_TIMINGS },
    ids: randomIds,
    events: {
      admitted: (e) => events.admitted.push(e.ticket),
      removed: (e) => events.removed.push({ ticket: e.ticket, reason: e.reason }),
      admissionDeferred: (e) => events.deferred.push(e.error),
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => 0.5,
  };
  return { clock, checks, events, visitors: new Visitors(deps), checkLoop: new CheckLoop(deps, checks), rooms: new Rooms(deps) };
}

// ---------------------------------------------------------------------------------------------
// The contract, once per implementation.
// ---------------------------------------------------------------------------------------------

const memoryStore = new InMemoryStore();
const implementations: { name: string; kind: Kind; store: () => WaitingRoomStore }[] = [
  { name: 'InMemoryStore', kind: 'memory', store: () => memoryStore },
  { name: 'DynamoStore on DynamoDB Local', kind: 'dynamo', store: () => dynamoStore! },
];

describe.each(implementations)('WaitingRoomStore contract: $name', ({ kind, store: storeOf }) => {
  let store: WaitingRoomStore;
  beforeAll(() => {
    store = storeOf();
  });

  async function openRoom(capacity: number, state?: RoomState): Promise<string> {
    const roomId = uid('room');
    await store.upsertRoom({ roomId, capacity, ...(state ? { state } : {}), now: T0 });
    return roomId;
  }

  /** issueTicket + putToken, as a join does. */
  async function join(roomId: string, now = T0, overrides: Partial<Token> = {}): Promise<Token> {
    const issued = await store.issueTicket(roomId, now);
    if (issued.kind !== 'issued') throw new Error(`no ticket: ${issued.kind}`);
    const token = newToken(roomId, issued.room.nextTicket, { issuedAt: now, lastSeenAt: now, ...overrides });
    await store.putToken(token);
    return token;
  }

  async function admit(token: Token, now = T0 + 1, raiseLastAdmitted = true): Promise<AdmitOutcome> {
    return store.admitToken({ roomId: token.roomId, tokenId: token.tokenId, ticket: token.ticket, now, raiseLastAdmitted });
  }

  describe('rooms: upsertRoom, getRoom, listRooms', () => {
    it('creates a room with the counters at zero and reads it back the same', async () => {
      const roomId = uid('room');
      const created = await store.upsertRoom({ roomId, capacity: 3, now: T0 });
      expect(created).toEqual(expectedNewRoom(roomId, 3));
      expect(await store.getRoom(roomId)).toEqual(expectedNewRoom(roomId, 3));
    });

    it('creates a room in the state asked for', async () => {
      const roomId = uid('room');
      expect(await store.upsertRoom({ roomId, capacity: 2, state: 'paused', now: T0 })).toEqual(expectedNewRoom(roomId, 2, 'paused'));
    });

    it('answers undefined, and creates nothing, for a change without capacity to a missing room', async () => {
      const roomId = uid('room');
      expect(await store.upsertRoom({ roomId, state: 'closed', now: T0 })).toBeUndefined();
      expect(await store.upsertRoom({ roomId, now: T0 })).toBeUndefined();
      expect(await store.getRoom(roomId)).toBeUndefined();
      expect((await store.listRooms()).map((r) => r.roomId)).not.toContain(roomId);
    });

    it('changes capacity and state and keeps the counters, createdAt and the rate samples', async () => {
      const roomId = await openRoom(2);
      const a = await join(roomId, T0 + 10);
      await join(roomId, T0 + 20);
      expect(await admit(a, T0 + 30)).toBe('admitted');
      const before = (await store.getRoom(roomId))!;

      const changed = await store.upsertRoom({ roomId, capacity: 5, state: 'paused', now: T0 + 40 });
      expect(changed).toEqual({ ...before, capacity: 5, state: 'paused', updatedAt: T0 + 40 });
      expect(changed).toMatchObject({ nextTicket: 2, activeCount: 1, admittedTotal: 1, lastAdmittedTicket: 1, createdAt: T0 });

      // Only the state: capacity kept. Only the capacity: state kept.
      expect(await store.upsertRoom({ roomId, state: 'closed', now: T0 + 50 })).toEqual({ ...changed, state: 'closed', updatedAt: T0 + 50 });
      expect(await store.upsertRoom({ roomId, capacity: 1, now: T0 + 60 })).toEqual({ ...changed, capacity: 1, state: 'closed', updatedAt: T0 + 60 });
      expect(await store.getRoom(roomId)).toEqual({ ...changed, capacity: 1, state: 'closed', updatedAt: T0 + 60 });
    });

    it('reads a missing room as undefined and lists the rooms it has', async () => {
      expect(await store.getRoom(uid('room'))).toBeUndefined();
      const a = await openRoom(1);
      const b = await openRoom(7, 'closed');
      const listed = await store.listRooms();
      expect(listed).toEqual(expect.arrayContaining([expectedNewRoom(a, 1), expectedNewRoom(b, 7, 'closed')]));
    });

    // DynamoDB refuses an empty string as a key attribute (ValidationException), for the tables'
    // keys and for the waiting index's partition key (a WAITING token's roomId). (The HTTP edge
    // validates ids anyway.)
    it('refuses empty ids, as DynamoDB does', async () => {
      await expect(store.getRoom('')).rejects.toThrow(/empty string/i);
      await expect(store.upsertRoom({ roomId: '', capacity: 1, now: T0 })).rejects.toThrow(/empty string/i);
      await expect(store.getToken('')).rejects.toThrow(/empty string/i);
      await expect(store.putToken(newToken('', 1))).rejects.toThrow(/empty string/i);
    });
  });

  describe('issueTicket', () => {
    it('answers room-not-found for a missing room, and does not create it', async () => {
      const roomId = uid('room');
      expect(await store.issueTicket(roomId, T0)).toEqual({ kind: 'room-not-found' });
      expect(await store.getRoom(roomId)).toBeUndefined();
    });

    it('answers room-closed for a closed room and takes no ticket', async () => {
      const roomId = await openRoom(1, 'closed');
      expect(await store.issueTicket(roomId, T0 + 5)).toEqual({ kind: 'room-closed' });
      expect(await store.getRoom(roomId)).toEqual(expectedNewRoom(roomId, 1, 'closed'));
    });

    it('issues tickets one by one in an open or paused room, answering the room after the increment', async () => {
      const roomId = await openRoom(1);
      for (const ticket of [1, 2, 3]) {
        const outcome = await store.issueTicket(roomId, T0 + ticket);
        expect(outcome).toEqual({ kind: 'issued', room: { ...expectedNewRoom(roomId, 1), nextTicket: ticket, updatedAt: T0 + ticket } });
      }
      await store.upsertRoom({ roomId, state: 'paused', now: T0 + 10 });
      expect(await store.issueTicket(roomId, T0 + 11)).toMatchObject({ kind: 'issued', room: { nextTicket: 4, state: 'paused' } });
      expect(await store.getRoom(roomId)).toMatchObject({ nextTicket: 4, updatedAt: T0 + 11 });
    });
  });

  describe('putToken and getToken', () => {
    it('writes a token and reads it back unchanged; a missing token reads as undefined', async () => {
      const roomId = await openRoom(1);
      const waiting = newToken(roomId, 1);
      const admitted = newToken(roomId, 2, { state: 'ADMITTED', admittedAt: T0 + 9, checkSeq: 4, lastSeenAt: T0 + 8 });
      await store.putToken(waiting);
      await store.putToken(admitted);
      expect(await store.getToken(waiting.tokenId)).toEqual(waiting);
      expect(await store.getToken(admitted.tokenId)).toEqual(admitted);
      expect(await store.getToken(uid('tok'))).toBeUndefined();
      // Only the waiting one is in the line.
      expect(await store.listWaiting(roomId, 10)).toEqual([{ tokenId: waiting.tokenId, ticket: 1 }]);
    });

    it('refuses a second token with the same id and keeps the first', async () => {
      const roomId = await openRoom(1);
      const first = newToken(roomId, 1);
      await store.putToken(first);
      await expect(store.putToken({ ...first, ticket: 2, secretHash: 'other' })).rejects.toThrow();
      expect(await store.getToken(first.tokenId)).toEqual(first);
    });

    it('keeps every field of a token it writes, checkBy included', async () => {
      const roomId = await openRoom(1);
      const token = newToken(roomId, 1, { checkSeq: 3, checkBy: 'msg-7' });
      await store.putToken(token);
      expect(await store.getToken(token.tokenId)).toEqual(token);
    });
  });

  describe('touchToken', () => {
    const touch = (token: Token, now: number, changes: { secretHash?: string; roomId?: string; tokenId?: string } = {}) =>
      store.touchToken({
        tokenId: changes.tokenId ?? token.tokenId,
        roomId: changes.roomId ?? token.roomId,
        secretHash: changes.secretHash ?? token.secretHash,
        now,
        expiresAtSeconds: Math.ceil(now / 1000) + 86_400,
        minIntervalMs: 1_000,
      });

    it('touched: records lastSeenAt and the expiry, and answers the token as it now is', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId);
      await store.advanceCheck(token.tokenId, 0, 'msg-1');
      const now = T0 + 5_000;
      const expected = { ...token, lastSeenAt: now, expiresAtSeconds: Math.ceil(now / 1000) + 86_400, checkSeq: 1, checkBy: 'msg-1' };
      expect(await touch(token, now)).toEqual({ kind: 'touched', token: expected });
      expect(await store.getToken(token.tokenId)).toEqual(expected);
      // An admitted token is touched the same way (its state is not a condition).
      expect(await admit(token, now + 1)).toBe('admitted');
      expect(await touch(token, now + 2_000)).toEqual({
        kind: 'touched',
        token: { ...expected, state: 'ADMITTED', admittedAt: now + 1, lastSeenAt: now + 2_000, expiresAtSeconds: Math.ceil((now + 2_000) / 1000) + 86_400 },
      });
    });

    it('touches at exactly minIntervalMs after the last one, answers recent (unwritten) within it', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId);
      expect((await touch(token, T0 + 1_000)).kind).toBe('touched');
      const stored = await store.getToken(token.tokenId);
      expect(await touch(token, T0 + 1_999)).toEqual({ kind: 'recent', token: stored });
      expect(await store.getToken(token.tokenId)).toEqual(stored);
      expect(await touch(token, T0 + 2_000)).toMatchObject({ kind: 'touched', token: { lastSeenAt: T0 + 2_000 } });
    });

    it('mismatch: another secret hash or another room answers the stored token and writes nothing', async () => {
      const roomId = await openRoom(1);
      const other = await openRoom(1);
      const token = await join(roomId);
      expect(await touch(token, T0 + 5_000, { secretHash: 'wrong' })).toEqual({ kind: 'mismatch', token });
      expect(await touch(token, T0 + 5_000, { roomId: other })).toEqual({ kind: 'mismatch', token });
      // A mismatch is told even within minIntervalMs (it is not 'recent').
      expect(await touch(token, T0 + 10, { secretHash: 'wrong' })).toEqual({ kind: 'mismatch', token });
      expect(await store.getToken(token.tokenId)).toEqual(token);
    });

    it('not-found for a missing token, and creates nothing', async () => {
      const roomId = await openRoom(1);
      const ghost = newToken(roomId, 1);
      expect(await touch(ghost, T0 + 5_000)).toEqual({ kind: 'not-found' });
      expect(await store.getToken(ghost.tokenId)).toBeUndefined();
    });
  });

  describe('listWaiting', () => {
    it('answers the waiting tokens of one room in ticket order, up to limit, below beforeTicket', async () => {
      const roomId = await openRoom(1);
      const other = await openRoom(1);
      // Written out of ticket order: the order comes from the ticket, not the write.
      const tokens = [5, 2, 9, 1, 7].map((ticket) => newToken(roomId, ticket));
      for (const t of tokens) await store.putToken(t);
      await store.putToken(newToken(other, 3));
      const entry = (ticket: number) => ({ tokenId: tokens.find((t) => t.ticket === ticket)!.tokenId, ticket });

      expect(await store.listWaiting(roomId, 10)).toEqual([1, 2, 5, 7, 9].map(entry));
      expect(await store.listWaiting(roomId, 2)).toEqual([1, 2].map(entry));
      expect(await store.listWaiting(roomId, 10, 7)).toEqual([1, 2, 5].map(entry));
      expect(await store.listWaiting(roomId, 1, 5)).toEqual([entry(1)]);
      expect(await store.listWaiting(roomId, 10, 1)).toEqual([]);
      expect(await store.listWaiting(uid('room'), 10)).toEqual([]);
    });

    it('loses admitted and removed tokens from the line', async () => {
      const roomId = await openRoom(5);
      const [a, b, c, d] = [await join(roomId), await join(roomId), await join(roomId), await join(roomId)] as [Token, Token, Token, Token];
      expect(await admit(b)).toBe('admitted');
      expect(await store.removeToken({ token: c, now: T0 + 2 })).toBe('removed');
      expect(await store.listWaiting(roomId, 10)).toEqual([
        { tokenId: a.tokenId, ticket: 1 },
        { tokenId: d.tokenId, ticket: 4 },
      ]);
      expect(await store.removeToken({ token: { ...b, state: 'ADMITTED' }, now: T0 + 3 })).toBe('removed');
      expect(await store.listWaiting(roomId, 10, 4)).toEqual([{ tokenId: a.tokenId, ticket: 1 }]);
    });

    it('answers no one for a limit of 0 (DynamoDB would refuse the Query)', async () => {
      const roomId = await openRoom(1);
      await join(roomId);
      expect(await store.listWaiting(roomId, 0)).toEqual([]);
    });
  });

  describe('admitToken', () => {
    it('admitted: token ADMITTED with admittedAt and out of the line, room counters moved together', async () => {
      const roomId = await openRoom(2);
      const a = await join(roomId);
      const b = await join(roomId);
      const before = (await store.getRoom(roomId))!;

      expect(await admit(b, T0 + 100, true)).toBe('admitted');
      expect(await store.getToken(b.tokenId)).toEqual({ ...b, state: 'ADMITTED', admittedAt: T0 + 100 });
      expect(await store.getRoom(roomId)).toEqual({ ...before, activeCount: 1, admittedTotal: 1, lastAdmittedTicket: 2, updatedAt: T0 + 100 });
      expect(await store.listWaiting(roomId, 10)).toEqual([{ tokenId: a.tokenId, ticket: 1 }]);

      // Without raiseLastAdmitted, lastAdmittedTicket stays (a ticket below it may still be admitted).
      expect(await admit(a, T0 + 200, false)).toBe('admitted');
      expect(await store.getToken(a.tokenId)).toEqual({ ...a, state: 'ADMITTED', admittedAt: T0 + 200 });
      expect(await store.getRoom(roomId)).toEqual({ ...before, activeCount: 2, admittedTotal: 2, lastAdmittedTicket: 2, updatedAt: T0 + 200 });
      expect(await store.listWaiting(roomId, 10)).toEqual([]);
    });

    it('token-not-waiting: a missing token or one already admitted, and nothing changes', async () => {
      const roomId = await openRoom(3);
      const a = await join(roomId);
      expect(await admit(a)).toBe('admitted');
      const ghost = newToken(roomId, 99);
      const before = await snapshot(store, roomId, [a.tokenId, ghost.tokenId]);
      expect(await admit(a, T0 + 50)).toBe('token-not-waiting');
      expect(await admit(ghost, T0 + 50)).toBe('token-not-waiting');
      expect(await snapshot(store, roomId, [a.tokenId, ghost.tokenId])).toEqual(before);
    });

    it('token-not-waiting wins over a refusing room', async () => {
      const roomId = await openRoom(0);
      expect(await admit(newToken(roomId, 1))).toBe('token-not-waiting');
    });

    const refusals: [string, (roomId: string, token: Token) => Promise<Token>, (roomId: string) => Promise<void>][] = [
      ['the room is full', async (_r, t) => t, async () => {}],
      ['the room is paused', async (_r, t) => t, async (roomId) => void (await store.upsertRoom({ roomId, state: 'paused', capacity: 5, now: T0 + 3 }))],
      ['the room is closed', async (_r, t) => t, async (roomId) => void (await store.upsertRoom({ roomId, state: 'closed', capacity: 5, now: T0 + 3 }))],
      // lastAdmittedTicket is 1 after the first admission: raising it to 1 again is refused.
      ['lastAdmittedTicket equals the ticket', async (_r, t) => ({ ...t, ticket: 1 }), async (roomId) => void (await store.upsertRoom({ roomId, capacity: 5, now: T0 + 3 }))],
      ['lastAdmittedTicket is above the ticket', async (_r, t) => ({ ...t, ticket: 0 }), async (roomId) => void (await store.upsertRoom({ roomId, capacity: 5, now: T0 + 3 }))],
    ];
    it.each(refusals)('room-refused when %s, and neither item changes', async (_name, ticketOf, prepare) => {
      const roomId = await openRoom(1);
      const first = await join(roomId);
      const second = await join(roomId);
      expect(await admit(first)).toBe('admitted'); // lastAdmittedTicket 1, activeCount 1 = capacity
      await prepare(roomId);
      const candidate = await ticketOf(roomId, second);
      const before = await snapshot(store, roomId, [first.tokenId, second.tokenId]);
      expect(await admit(candidate, T0 + 60, true)).toBe('room-refused');
      expect(await snapshot(store, roomId, [first.tokenId, second.tokenId])).toEqual(before);
      expect(before.tokens[1]).toEqual(second);
    });

    it('room-refused for a missing room, and the room is not created', async () => {
      const roomId = uid('room');
      const token = newToken(roomId, 1);
      await store.putToken(token);
      expect(await admit(token)).toBe('room-refused');
      expect(await store.getRoom(roomId)).toBeUndefined();
      expect(await store.getToken(token.tokenId)).toEqual(token);
    });
  });

  describe('removeToken', () => {
    it('removes a waiting token without touching the seats', async () => {
      const roomId = await openRoom(1);
      const a = await join(roomId);
      const b = await join(roomId);
      expect(await admit(a)).toBe('admitted');
      const room = await store.getRoom(roomId);
      expect(await store.removeToken({ token: b, now: T0 + 99 })).toBe('removed');
      expect(await store.getToken(b.tokenId)).toBeUndefined();
      expect(await store.getRoom(roomId)).toEqual(room);
      expect(await store.listWaiting(roomId, 10)).toEqual([]);
    });

    it('removes an admitted token and frees its seat in the same step', async () => {
      const roomId = await openRoom(2);
      const a = await join(roomId);
      expect(await admit(a, T0 + 5)).toBe('admitted');
      const room = (await store.getRoom(roomId))!;
      expect(await store.removeToken({ token: { ...a, state: 'ADMITTED' }, now: T0 + 99 })).toBe('removed');
      expect(await store.getToken(a.tokenId)).toBeUndefined();
      // Only activeCount and updatedAt move: admittedTotal and lastAdmittedTicket are history, and a
      // removal without `expect` (a leave) is not an eviction.
      expect(await store.getRoom(roomId)).toEqual({ ...room, activeCount: 0, evictedTotal: 0, updatedAt: T0 + 99 });
    });

    it('removes with expect (an eviction) when lastSeenAt and checkSeq still match, counting it in evictedTotal', async () => {
      const roomId = await openRoom(2);
      const a = await join(roomId, T0 + 7);
      const b = await join(roomId, T0 + 8);
      expect(await admit(a, T0 + 9)).toBe('admitted');
      expect(await store.advanceCheck(b.tokenId, 0, 'm')).toBe('advanced');
      const room = (await store.getRoom(roomId))!;
      // A waiting token: the seats stay, the eviction is counted.
      expect(await store.removeToken({ token: b, expect: { lastSeenAt: T0 + 8, checkSeq: 1 }, now: T0 + 20 })).toBe('removed');
      expect(await store.getRoom(roomId)).toEqual({ ...room, evictedTotal: 1, updatedAt: T0 + 20 });
      // An admitted token: the seat is freed and the eviction counted, together.
      expect(await store.removeToken({ token: { ...a, state: 'ADMITTED' }, expect: { lastSeenAt: T0 + 7, checkSeq: 0 }, now: T0 + 21 })).toBe('removed');
      expect(await store.getRoom(roomId)).toEqual({ ...room, activeCount: 0, evictedTotal: 2, updatedAt: T0 + 21 });
      expect(await snapshot(store, roomId, [a.tokenId, b.tokenId])).toMatchObject({ tokens: [undefined, undefined], line: [] });
    });

    const mismatches: [string, { lastSeenAt: number; checkSeq: number }][] = [
      ['lastSeenAt moved (a heartbeat)', { lastSeenAt: T0 - 1, checkSeq: 0 }],
      ['checkSeq moved (another check step)', { lastSeenAt: T0, checkSeq: 1 }],
    ];
    it.each(mismatches)('changed when %s: nothing deleted, activeCount and evictedTotal unchanged, for both states', async (_name, expected) => {
      const roomId = await openRoom(2);
      const a = await join(roomId);
      const b = await join(roomId);
      expect(await admit(a)).toBe('admitted');
      const before = await snapshot(store, roomId, [a.tokenId, b.tokenId]);
      expect(await store.removeToken({ token: { ...a, state: 'ADMITTED' }, expect: expected, now: T0 + 30 })).toBe('changed');
      expect(await store.removeToken({ token: b, expect: expected, now: T0 + 30 })).toBe('changed');
      expect(await snapshot(store, roomId, [a.tokenId, b.tokenId])).toEqual(before);
    });

    it('changed when the token is in another state than the caller read, or gone', async () => {
      const roomId = await openRoom(2);
      const a = await join(roomId);
      const b = await join(roomId);
      expect(await admit(a)).toBe('admitted');
      const before = await snapshot(store, roomId, [a.tokenId, b.tokenId]);
      // Read as waiting, admitted since (the leave race): the seat must not be lost.
      expect(await store.removeToken({ token: { ...a, state: 'WAITING' }, now: T0 + 30 })).toBe('changed');
      // Read as admitted, still waiting: activeCount must not drop.
      expect(await store.removeToken({ token: { ...b, state: 'ADMITTED' }, now: T0 + 30 })).toBe('changed');
      expect(await snapshot(store, roomId, [a.tokenId, b.tokenId])).toEqual(before);
      expect(await store.removeToken({ token: newToken(roomId, 9), now: T0 + 30 })).toBe('changed');
      expect(await store.removeToken({ token: newToken(roomId, 9, { state: 'ADMITTED' }), now: T0 + 30 })).toBe('changed');
      expect(await store.getRoom(roomId)).toEqual(before.room);
    });

    it('refuses a removal booked to another room, and never creates a room item', async () => {
      const roomId = await openRoom(2);
      const wrongRoom = await openRoom(2);
      const a = await join(roomId);
      expect(await admit(a)).toBe('admitted');
      expect(await store.removeToken({ token: { tokenId: a.tokenId, roomId: wrongRoom, state: 'ADMITTED' }, now: T0 + 40 })).toBe('changed');
      expect(await store.getToken(a.tokenId)).toMatchObject({ state: 'ADMITTED' });
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 1 });
      expect(await store.getRoom(wrongRoom)).toMatchObject({ activeCount: 0 });

      // A token whose room item is gone is deleted without inventing a room.
      const missingRoom = uid('room');
      const orphan = newToken(missingRoom, 1, { state: 'ADMITTED', admittedAt: T0 });
      await store.putToken(orphan);
      expect(await store.removeToken({ token: orphan, expect: { lastSeenAt: T0, checkSeq: 0 }, now: T0 + 41 })).toBe('removed');
      expect(await store.getToken(orphan.tokenId)).toBeUndefined();
      expect(await store.getRoom(missingRoom)).toBeUndefined();
      expect((await store.listRooms()).map((r) => r.roomId)).not.toContain(missingRoom);
    });
  });

  describe('advanceCheck', () => {
    it('advanced: checkSeq + 1 and checkBy recorded; changed from a stale seq or for a missing token', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId);
      expect(await store.advanceCheck(token.tokenId, 0, 'msg-a')).toBe('advanced');
      expect(await store.getToken(token.tokenId)).toEqual({ ...token, checkSeq: 1, checkBy: 'msg-a' });
      expect(await store.advanceCheck(token.tokenId, 0, 'msg-b')).toBe('changed');
      expect(await store.advanceCheck(token.tokenId, 2, 'msg-b')).toBe('changed');
      expect(await store.getToken(token.tokenId)).toEqual({ ...token, checkSeq: 1, checkBy: 'msg-a' });
      expect(await store.advanceCheck(token.tokenId, 1, 'msg-c')).toBe('advanced');
      expect(await store.getToken(token.tokenId)).toEqual({ ...token, checkSeq: 2, checkBy: 'msg-c' });
      const ghost = uid('tok');
      expect(await store.advanceCheck(ghost, 0, 'msg-d')).toBe('changed');
      expect(await store.getToken(ghost)).toBeUndefined();
    });
  });

  describe('rollAdmissionRate', () => {
    it('moves the samples forward only once the current one is minAgeMs old', async () => {
      const roomId = await openRoom(3);
      for (let i = 0; i < 2; i++) expect(await admit(await join(roomId))).toBe('admitted');
      const before = (await store.getRoom(roomId))!;
      expect(before.rate).toEqual({ prevAt: T0, prevTotal: 0, curAt: T0, curTotal: 0 });

      await store.rollAdmissionRate(roomId, T0 + 29_999, 30_000);
      expect(await store.getRoom(roomId)).toEqual(before);

      await store.rollAdmissionRate(roomId, T0 + 30_000, 30_000);
      const rolled = { ...before, rate: { prevAt: T0, prevTotal: 0, curAt: T0 + 30_000, curTotal: 2 } };
      expect(await store.getRoom(roomId)).toEqual(rolled);

      expect(await admit(await join(roomId), T0 + 40_000)).toBe('admitted');
      const third = (await store.getRoom(roomId))!;
      await store.rollAdmissionRate(roomId, T0 + 50_000, 30_000);
      expect(await store.getRoom(roomId)).toEqual(third);
      await store.rollAdmissionRate(roomId, T0 + 60_000, 30_000);
      expect(await store.getRoom(roomId)).toEqual({ ...third, rate: { prevAt: T0 + 30_000, prevTotal: 2, curAt: T0 + 60_000, curTotal: 3 } });
    });

    it('does nothing, and creates nothing, for a missing room', async () => {
      const roomId = uid('room');
      await expect(store.rollAdmissionRate(roomId, T0, 0)).resolves.toBeUndefined();
      expect(await store.getRoom(roomId)).toBeUndefined();
    });
  });

  describe('concurrency', () => {
    it('issues distinct consecutive tickets to 20 concurrent joins', async () => {
      const roomId = await openRoom(1);
      const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => store.issueTicket(roomId, T0 + i)));
      const tickets = outcomes.map((o) => (o.kind === 'issued' ? o.room.nextTicket : -1)).sort((a, b) => a - b);
      expect(tickets).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await store.getRoom(roomId)).toMatchObject({ nextTicket: 20 });
    });

    it('admits exactly as many of 20 concurrent admissions as there are free seats (5)', async () => {
      const roomId = await openRoom(5);
      const tokens: Token[] = [];
      for (let i = 0; i < 20; i++) tokens.push(await join(roomId));
      // raiseLastAdmitted false: only the seats decide (with it, a higher ticket admitted first refuses the lower ones).
      let pending = tokens;
      const first = await Promise.all(pending.map((t, i) => admit(t, T0 + 100 + i, false)));
      const all = new Map(tokens.map((t, i) => [t.tokenId, first[i]!]));
      if (kind === 'memory') {
        // Each in-memory call runs to completion before the next starts (no await inside it), so
        // the calls are serialized in call order and never conflict: the first five take the seats.
        expect(first).toEqual([...Array<AdmitOutcome>(5).fill('admitted'), ...Array<AdmitOutcome>(15).fill('room-refused')]);
      } else {
        // DynamoDB serializes the transactions on the room item, but one that overlaps another is
        // cancelled with TransactionConflict ('conflict') instead of waiting. So a single round admits
        // at most 5; it admits fewer only if the rest conflicted ('room-refused' means the condition
        // saw a full room, which needs 5 admitted). Retrying the conflicts, as the domain does, fills
        // exactly the 5 seats.
        expect(first.every((o) => o === 'admitted' || o === 'room-refused' || o === 'conflict')).toBe(true);
        expect(count(first, 'admitted')).toBeLessThanOrEqual(5);
        if (count(first, 'room-refused') > 0) expect(count(first, 'admitted')).toBe(5);
        for (let round = 0; round < 50 && pending.some((t) => all.get(t.tokenId) === 'conflict'); round++) {
          pending = pending.filter((t) => all.get(t.tokenId) === 'conflict');
          const again = await Promise.all(pending.map((t) => admit(t, T0 + 200, false)));
          pending.forEach((t, i) => all.set(t.tokenId, again[i]!));
        }
      }
      const outcomes = [...all.values()];
      expect(count(outcomes, 'admitted')).toBe(5);
      expect(count(outcomes, 'room-refused')).toBe(15);
      const room = await store.getRoom(roomId);
      expect(room).toMatchObject({ activeCount: 5, admittedTotal: 5, capacity: 5 });
      const states = await Promise.all(tokens.map(async (t) => (await store.getToken(t.tokenId))?.state));
      expect(count(states, 'ADMITTED')).toBe(5);
      expect(states.filter((s, i) => (s === 'ADMITTED') !== (all.get(tokens[i]!.tokenId) === 'admitted'))).toEqual([]);
      expect(await store.listWaiting(roomId, 100)).toHaveLength(15);
      // What DynamoDB Local actually answered in the first round, for the record.
      if (kind === 'dynamo') console.log(`[store-contract] 20 concurrent admits, first round: ${JSON.stringify({ admitted: count(first, 'admitted'), refused: count(first, 'room-refused'), conflict: count(first, 'conflict') })}`);
    });

    it('removes an admitted token once under 10 concurrent removals, freeing one seat', async () => {
      const roomId = await openRoom(3);
      const a = await join(roomId);
      const b = await join(roomId);
      expect(await admit(a)).toBe('admitted');
      expect(await admit(b)).toBe('admitted');
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.removeToken({ token: { ...a, state: 'ADMITTED' }, expect: { lastSeenAt: T0, checkSeq: 0 }, now: T0 + 50 + i })),
      );
      expect(count(outcomes, 'removed')).toBe(1);
      if (kind === 'memory') expect(count(outcomes, 'changed')).toBe(9);
      // On DynamoDB a loser either saw the token gone ('changed') or overlapped the winner ('conflict').
      else expect(count(outcomes, 'changed') + count(outcomes, 'conflict')).toBe(9);
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 1, evictedTotal: 1 });
      expect(await store.getToken(a.tokenId)).toBeUndefined();
      expect(await store.getToken(b.tokenId)).toMatchObject({ state: 'ADMITTED' });
    });

    it('advances the check sequence once under 10 concurrent advances from the same seq', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId);
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => store.advanceCheck(token.tokenId, 0, `msg-${i}`)));
      expect(count(outcomes, 'advanced')).toBe(1);
      expect(count(outcomes, 'changed')).toBe(9);
      const winner = outcomes.indexOf('advanced');
      expect(await store.getToken(token.tokenId)).toEqual({ ...token, checkSeq: 1, checkBy: `msg-${winner}` });
    });
  });

  describe('domain scenarios end to end', () => {
    it('makes joins beyond capacity wait, in ticket order', async () => {
      const d = domainOn(store);
      const roomId = uid('room');
      await d.rooms.configure(roomId, { capacity: 2 });
      const views = [];
      for (let i = 0; i < 5; i++) views.push((await d.visitors.join(roomId)).view);
      expect(views.map((v) => [v.ticket, v.state, v.position])).toEqual([
        [1, 'admitted', 0],
        [2, 'admitted', 0],
        [3, 'waiting', 1],
        [4, 'waiting', 2],
        [5, 'waiting', 3],
      ]);
      expect(await store.listWaiting(roomId, 10)).toEqual(views.slice(2).map((v) => ({ tokenId: v.tokenId, ticket: v.ticket })));
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 2, lastAdmittedTicket: 2, nextTicket: 5 });
      expect(d.events).toMatchObject({ admitted: [1, 2], deferred: [] });
    });

    it('admits the next in line when an admitted visitor leaves', async () => {
      const d = domainOn(store);
      const roomId = uid('room');
      await d.rooms.configure(roomId, { capacity: 1 });
      const [a, b, c] = [await d.visitors.join(roomId), await d.visitors.join(roomId), await d.visitors.join(roomId)];
      d.clock.advance(2_000);
      await d.visitors.leave(roomId, a.view.tokenId, a.secret);
      expect(await store.getToken(a.view.tokenId)).toBeUndefined();
      expect(await d.visitors.read(roomId, b.view.tokenId, b.secret)).toMatchObject({ state: 'admitted', position: 0 });
      expect(await d.visitors.read(roomId, c.view.tokenId, c.secret)).toMatchObject({ state: 'waiting', position: 1 });
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 1, admittedTotal: 2, lastAdmittedTicket: 2, evictedTotal: 0 });
      expect(d.events).toMatchObject({ admitted: [1, 2], removed: [{ ticket: 1, reason: 'left' }], deferred: [] });
    });

    it('evicts a silent visitor with the checker and admits the next in line', async () => {
      const d = domainOn(store);
      const roomId = uid('room');
      await d.rooms.configure(roomId, { capacity: 1 });
      const a = await d.visitors.join(roomId);
      await d.checkLoop.start((await store.getToken(a.view.tokenId))!);
      const b = await d.visitors.join(roomId);
      expect(b.view.state).toBe('waiting');

      d.clock.advance(10_000);
      let [due] = d.checks.takeDue();
      expect(await d.checkLoop.check(due!.message, due!.id)).toBe('rescheduled');
      d.clock.advance(10_000); // silent for exactly the 20 s timeout
      [due] = d.checks.takeDue();
      expect(await d.checkLoop.check(due!.message, due!.id)).toBe('evicted');

      expect(await store.getToken(a.view.tokenId)).toBeUndefined();
      expect(await store.getToken(b.view.tokenId)).toMatchObject({ state: 'ADMITTED', admittedAt: T0 + 20_000 });
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 1, admittedTotal: 2, evictedTotal: 1 });
      expect(d.events).toMatchObject({ admitted: [1, 2], removed: [{ ticket: 1, reason: 'silent' }], deferred: [] });
      await expect(d.visitors.heartbeat(roomId, a.view.tokenId, a.secret)).rejects.toThrow(/unknown, has left/);
    });

    it('keeps a visitor whose heartbeat lands between the checker\'s read and its removal', async () => {
      const base = domainOn(store);
      const roomId = uid('room');
      await base.rooms.configure(roomId, { capacity: 1 });
      const a = await base.visitors.join(roomId);
      await base.checkLoop.start((await store.getToken(a.view.tokenId))!);
      base.clock.advance(25_000);
      const [due] = base.checks.takeDue();

      // The checker runs over a store whose removeToken first lets the visitor's heartbeat land.
      let heartbeats = 0;
      const removals: RemoveOutcome[] = [];
      const racing = withRemoveHook(
        store,
        async () => {
          if (heartbeats++ === 0) await base.visitors.heartbeat(roomId, a.view.tokenId, a.secret);
        },
        removals,
      );
      const checker = new CheckLoop(
        { store: racing, clock: base.clock, timings: { ...DEFAULT_TIMINGS }, ids: randomIds, sleep: async () => {}, random: () => 0.5 },
        base.checks,
      );
      expect(await checker.check(due!.message, due!.id)).toBe('rescheduled');
      expect(removals).toEqual(['changed']);
      expect(await store.getToken(a.view.tokenId)).toMatchObject({ state: 'ADMITTED', lastSeenAt: T0 + 25_000, checkSeq: 1, checkBy: due!.id });
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 1, evictedTotal: 0 });
      expect(base.checks.pendingFor(a.view.tokenId).map((m) => m.message.seq)).toEqual([1]);
    });
  });
});
