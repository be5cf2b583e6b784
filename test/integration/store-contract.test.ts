/**
 * The contract of the WaitingRoomStore port (lambdas/domain/ports.ts), written once and run twice:
 * against the in-memory model that the domain unit tests, the property test and the scale model rely
 * on (test/helpers/in-memory-store.ts), and against the DynamoDB adapter (lambdas/adapters/dynamo-store.ts)
 * on AWS's DynamoDB Local, with the tables created from the synthesized CDK template. Whatever the
 * in-memory model proves about the domain holds on DynamoDB only as far as these tests agree.
 *
 * Earlier runs of this suite found disagreements (empty ids, a dropped checkBy, Query Limit 0,
 * removals booked to a room other than the token's, inclusive BETWEEN bounds); both stores agree on each.
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
  environmentOf,
  lineShardOf,
  randomIds,
  type AdmissionRateSamples,
  type AdmitBatchOutcome,
  type AdmitBatchRequest,
  type DomainDeps,
  type RemoveOutcome,
  type Room,
  type RoomState,
  type Token,
  type AdmitEntry,
  type WaitingEntry,
  type WaitingRoomStore,
  type EventStore,
  type RoomEvent,
} from '../../lambdas/domain/index.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/emulators.js';
import { createTableInput } from '../../local/provision.js';
import { resourcesOfType, synthesizeTemplate } from '../../local/template.js';
import { FakeClock, InMemoryCheckQueue, InMemoryStore } from '../helpers/in-memory-store.js';
import { arrive } from '../helpers/domain-fixture.js';

type Kind = 'memory' | 'dynamo';

let dynamoDbLocal: DynamoDbLocal | undefined;
let dynamoClient: DynamoDBClient | undefined;
let dynamoStore: DynamoStore | undefined;

beforeAll(async () => {
  const template = await synthesizeTemplate({ adminEmail: 'a@b.co' });
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
/** Line shards of the rooms these tests create (a small number, so that tests can fill every shard). */
const SHARDS = 4;
/** Heard from at T0 or later: live (the admission condition is lastSeenAt >= liveSince). */
const LIVE_SINCE = T0;

function newToken(roomId: string, ticket: number, overrides: Partial<Token> = {}): Token {
  return {
    tokenId: uid('tok'),
    roomId,
    ticket,
    secretHash: `hash-${ticket}`,
    state: 'WAITING',
    signal: 'heartbeat',
    issuedAt: T0,
    lastSeenAt: T0,
    heard: true,
    checkSeq: 0,
    checkDueAt: T0 + 10_000,
    expiresAtSeconds: T0 / 1000 + 86_400,
    ...overrides,
  };
}

function expectedNewRoom(roomId: string, capacity: number, state: RoomState = 'open', now = T0, lineShards = SHARDS): Room {
  return {
    roomId,
    capacity,
    state,
    mode: 'fifo',
    nextTicket: 0,
    activeCount: 0,
    lastAdmittedTicket: 0,
    admittedTotal: 0,
    evictedTotal: 0,
    rate: { prevAt: now, prevTotal: 0, prevTicket: 0, curAt: now, curTotal: 0, curTicket: 0 },
    lineShards,
    frontFloor: 0,
    wakeSeq: 1,
    epoch: 0,
    createdAt: now,
    updatedAt: now,
  };
}

const entryOf = (token: Pick<Token, 'tokenId' | 'ticket'>): WaitingEntry => ({ tokenId: token.tokenId, ticket: token.ticket });
/** A token to admit, as read: its check loop's sequence is part of the admission's condition. */
const admitEntryOf = (token: Pick<Token, 'tokenId' | 'ticket' | 'checkSeq'>): AdmitEntry => ({ ...entryOf(token), checkSeq: token.checkSeq });
const count = <T>(values: T[], value: T) => values.filter((v) => v === value).length;

/** The whole line of a room: every shard, merged in ticket order. */
async function wholeLine(store: WaitingRoomStore, roomId: string, shards = SHARDS): Promise<WaitingEntry[]> {
  const pages = await Promise.all(Array.from({ length: shards }, (_, shard) => store.listLine({ roomId, shard, limit: 1_000 })));
  return pages.flat().sort((a, b) => a.ticket - b.ticket);
}

/** Everything a test may want to compare before and after a call. */
async function snapshot(store: WaitingRoomStore, roomId: string, tokenIds: string[]) {
  return {
    room: await store.getRoom(roomId),
    tokens: await Promise.all(tokenIds.map((id) => store.getToken(id))),
    line: await wholeLine(store, roomId),
  };
}

/** A store that delegates to another, with a hook before removeToken (to interleave a heartbeat). */
function withRemoveHook(store: WaitingRoomStore, hook: () => Promise<void>, outcomes: RemoveOutcome[]): WaitingRoomStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'removeToken') {
        return async (...args: Parameters<WaitingRoomStore['removeToken']>) => {
          await hook();
          const outcome = await target.removeToken(...args);
          outcomes.push(outcome);
          return outcome;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The domain over `store`, with a fake clock, an in-memory check queue, fresh room views and random (unique) ids. */
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
    ...environmentOf(store, clock, { roomViewMaxAgeMs: 0 }),
  };
  const visitors = new Visitors(deps);
  return { clock, checks, events, deps, visitors, arrive: (roomId: string) => arrive(visitors, roomId), checkLoop: new CheckLoop(deps, checks), rooms: new Rooms(deps, SHARDS) };
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
    await store.upsertRoom({ roomId, capacity, ...(state ? { state } : {}), lineShards: SHARDS, now: T0 });
    return roomId;
  }

  /** reserveTickets + putToken, as a join does (one ticket per block). */
  async function join(roomId: string, overrides: Partial<Token> = {}): Promise<Token> {
    const ticket = await store.reserveTickets(roomId, 1, overrides.issuedAt ?? T0);
    const token = newToken(roomId, ticket, overrides);
    await store.putToken(token, SHARDS);
    return token;
  }

  async function joinMany(roomId: string, n: number, overrides: Partial<Token> = {}): Promise<Token[]> {
    const tokens: Token[] = [];
    for (let i = 0; i < n; i++) tokens.push(await join(roomId, overrides));
    return tokens;
  }

  function admit(roomId: string, tokens: readonly Token[], options: Partial<Omit<AdmitBatchRequest, 'roomId' | 'tokens'>> = {}): Promise<AdmitBatchOutcome> {
    return store.admitTokens({ roomId, tokens: tokens.map(admitEntryOf), capacity: 1, liveSince: LIVE_SINCE, epoch: 0, now: T0 + 100, ...options });
  }

  describe('rooms: upsertRoom, getRoom, listRooms', () => {
    it('creates a room with the counters at zero, wakeSeq 1 and its line shards, and reads it back the same', async () => {
      const roomId = uid('room');
      const created = await store.upsertRoom({ roomId, capacity: 3, lineShards: 8, now: T0 });
      expect(created).toEqual(expectedNewRoom(roomId, 3, 'open', T0, 8));
      expect(await store.getRoom(roomId)).toEqual(expectedNewRoom(roomId, 3, 'open', T0, 8));
    });

    it('creates a room in the state asked for', async () => {
      const roomId = uid('room');
      expect(await store.upsertRoom({ roomId, capacity: 2, state: 'paused', lineShards: SHARDS, now: T0 })).toEqual(expectedNewRoom(roomId, 2, 'paused'));
    });

    it('answers undefined, and creates nothing, for a change without capacity to a missing room', async () => {
      const roomId = uid('room');
      expect(await store.upsertRoom({ roomId, state: 'closed', lineShards: SHARDS, now: T0 })).toBeUndefined();
      expect(await store.upsertRoom({ roomId, lineShards: SHARDS, now: T0 })).toBeUndefined();
      expect(await store.getRoom(roomId)).toBeUndefined();
      expect((await store.listRooms()).map((r) => r.roomId)).not.toContain(roomId);
    });

    it('sets, keeps and removes the message to the line, and moves the room to its next epoch on an emergency stop only', async () => {
      const roomId = uid('room');
      const created = await store.upsertRoom({ roomId, capacity: 2, message: 'Saturday is sold out', bumpEpoch: true, lineShards: SHARDS, now: T0 });
      expect(created).toEqual({ ...expectedNewRoom(roomId, 2), epoch: 1, message: 'Saturday is sold out' });
      expect(await store.upsertRoom({ roomId, state: 'paused', lineShards: SHARDS, now: T0 + 1 })).toMatchObject({ epoch: 1, message: 'Saturday is sold out', wakeSeq: 2 });
      const stopped = await store.upsertRoom({ roomId, message: 'Sunday too', bumpEpoch: true, lineShards: SHARDS, now: T0 + 2 });
      expect(stopped).toMatchObject({ epoch: 2, message: 'Sunday too', state: 'paused', wakeSeq: 3 });
      const cleared = await store.upsertRoom({ roomId, message: null, lineShards: SHARDS, now: T0 + 3 });
      expect(cleared).toEqual({ ...stopped, wakeSeq: 4, updatedAt: T0 + 3, message: undefined });
      expect(await store.getRoom(roomId)).not.toHaveProperty('message');
      expect(await store.getRoom(roomId)).toMatchObject({ epoch: 2 });
    });

    it('changes capacity and state, bumps wakeSeq on every call, and keeps the counters, line shards, createdAt and rate samples', async () => {
      const roomId = await openRoom(2);
      const [a] = await joinMany(roomId, 2);
      expect(await admit(roomId, [a!], { capacity: 2, raiseLastAdmittedTo: 1, now: T0 + 30 })).toEqual({ kind: 'admitted' });
      const before = (await store.getRoom(roomId))!;
      expect(before).toMatchObject({ nextTicket: 2, activeCount: 1, admittedTotal: 1, lastAdmittedTicket: 1, wakeSeq: 1, updatedAt: T0 + 30 });

      // The line shards are fixed at creation: a later upsert's value is ignored.
      const changed = await store.upsertRoom({ roomId, capacity: 5, state: 'paused', lineShards: 16, now: T0 + 40 });
      expect(changed).toEqual({ ...before, capacity: 5, state: 'paused', wakeSeq: 2, updatedAt: T0 + 40 });
      // Only the state: capacity kept. Only the capacity: state kept. Nothing: still a wake-up.
      expect(await store.upsertRoom({ roomId, state: 'closed', lineShards: SHARDS, now: T0 + 50 })).toEqual({ ...changed, state: 'closed', wakeSeq: 3, updatedAt: T0 + 50 });
      expect(await store.upsertRoom({ roomId, capacity: 1, lineShards: SHARDS, now: T0 + 60 })).toEqual({ ...changed, capacity: 1, state: 'closed', wakeSeq: 4, updatedAt: T0 + 60 });
      expect(await store.upsertRoom({ roomId, lineShards: SHARDS, now: T0 + 70 })).toEqual({ ...changed, capacity: 1, state: 'closed', wakeSeq: 5, updatedAt: T0 + 70 });
      expect(await store.getRoom(roomId)).toEqual({ ...changed, capacity: 1, state: 'closed', wakeSeq: 5, updatedAt: T0 + 70 });
    });

    it('reads a missing room as undefined and lists the rooms it has, with their tickets and without the counters', async () => {
      expect(await store.getRoom(uid('room'))).toBeUndefined();
      const a = await openRoom(1);
      const b = await openRoom(7, 'closed');
      await store.reserveTickets(a, 3, T0);
      // A counter without a room (a join that raced the room's creation) is no room either.
      const orphanCounter = uid('room');
      await store.reserveTickets(orphanCounter, 1, T0);
      const listed = await store.listRooms();
      expect(listed).toEqual(expect.arrayContaining([{ ...expectedNewRoom(a, 1), nextTicket: 3 }, expectedNewRoom(b, 7, 'closed')]));
      const ids = listed.map((r) => r.roomId);
      expect(ids.filter((id) => id.includes('#'))).toEqual([]);
      expect(ids).not.toContain(orphanCounter);
      expect(new Set(ids).size).toBe(ids.length);
      expect(await store.getRoom(orphanCounter)).toBeUndefined();
    });

    // DynamoDB refuses an empty string as a key attribute (ValidationException); the adapter refuses
    // it too where the room id is only part of a key (the ticket counter, the line shard). (The HTTP
    // edge validates ids anyway.)
    it('refuses empty ids, as DynamoDB does', async () => {
      await expect(store.getRoom('')).rejects.toThrow(/empty string/i);
      await expect(store.upsertRoom({ roomId: '', capacity: 1, lineShards: SHARDS, now: T0 })).rejects.toThrow(/empty string/i);
      await expect(store.reserveTickets('', 1, T0)).rejects.toThrow(/empty string/i);
      await expect(store.getToken('')).rejects.toThrow(/empty string/i);
      await expect(store.getTokens([''])).rejects.toThrow(/empty string/i);
      await expect(store.putToken(newToken('', 1), SHARDS)).rejects.toThrow(/empty string/i);
    });
  });

  describe('reserveTickets', () => {
    it('adds each block to the counter and answers the last ticket of the block, which getRoom shows', async () => {
      const roomId = await openRoom(1);
      expect(await store.reserveTickets(roomId, 1, T0)).toBe(1);
      expect(await store.reserveTickets(roomId, 5, T0 + 1)).toBe(6);
      expect(await store.reserveTickets(roomId, 10, T0 + 2)).toBe(16);
      expect(await store.getRoom(roomId)).toEqual({ ...expectedNewRoom(roomId, 1), nextTicket: 16 });
      // Each room counts its own tickets.
      const other = await openRoom(1);
      expect(await store.reserveTickets(other, 2, T0)).toBe(2);
      expect(await store.getRoom(roomId)).toMatchObject({ nextTicket: 16 });
    });

    it('reserves in a paused or closed room too (the domain decides who may join)', async () => {
      const roomId = await openRoom(1, 'closed');
      expect(await store.reserveTickets(roomId, 2, T0)).toBe(2);
      expect(await store.getRoom(roomId)).toEqual({ ...expectedNewRoom(roomId, 1, 'closed'), nextTicket: 2 });
    });
  });

  describe('putToken, getToken, getTokens', () => {
    it('writes tokens and reads them back unchanged, strongly or eventually; a missing token reads as undefined', async () => {
      const roomId = await openRoom(1);
      const waiting = newToken(roomId, 1, { signal: 'keep-place' });
      const admitted = newToken(roomId, 2, { state: 'ADMITTED', admittedAt: T0 + 9, checkSeq: 4, lastSeenAt: T0 + 8 });
      await store.putToken(waiting, SHARDS);
      await store.putToken(admitted, SHARDS);
      expect(await store.getToken(waiting.tokenId)).toEqual(waiting);
      expect(await store.getToken(waiting.tokenId, false)).toEqual(waiting);
      expect(await store.getToken(admitted.tokenId)).toEqual(admitted);
      expect(await store.getToken(uid('tok'))).toBeUndefined();
      expect(await store.getToken(uid('tok'), false)).toBeUndefined();
      // Only the waiting one is in the line (keeping its place or not).
      expect(await wholeLine(store, roomId)).toEqual([entryOf(waiting)]);
    });

    it('files a waiting token in the line shard of its ticket', async () => {
      const roomId = await openRoom(1);
      const tokens = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((ticket) => newToken(roomId, ticket));
      for (const t of tokens) await store.putToken(t, SHARDS);
      for (let shard = 0; shard < SHARDS; shard++) {
        expect(await store.listLine({ roomId, shard, limit: 100 })).toEqual(tokens.filter((t) => lineShardOf(t.ticket, SHARDS) === shard).map(entryOf));
      }
    });

    it('refuses a second token with the same id and keeps the first', async () => {
      const roomId = await openRoom(1);
      const first = newToken(roomId, 1);
      await store.putToken(first, SHARDS);
      await expect(store.putToken({ ...first, ticket: 2, secretHash: 'other' }, SHARDS)).rejects.toThrow();
      expect(await store.getToken(first.tokenId)).toEqual(first);
      expect(await wholeLine(store, roomId)).toEqual([entryOf(first)]);
    });

    it('keeps every field of a token it writes, checkBy included', async () => {
      const roomId = await openRoom(1);
      const token = newToken(roomId, 1, { checkSeq: 3, checkBy: 'msg-7', signal: 'keep-place' });
      await store.putToken(token, SHARDS);
      expect(await store.getToken(token.tokenId)).toEqual(token);
    });

    it('getTokens answers the tokens asked for in the order asked, leaving out missing ones', async () => {
      const roomId = await openRoom(1);
      const [a, b, c] = await joinMany(roomId, 3);
      expect(await store.getTokens([c!.tokenId, uid('tok'), a!.tokenId, b!.tokenId, uid('tok')])).toEqual([c, a, b]);
      expect(await store.getTokens([uid('tok')])).toEqual([]);
      expect(await store.getTokens([])).toEqual([]);
    });

    it('getTokens reads more than 100 tokens (the BatchGetItem limit) in one call', async () => {
      const roomId = await openRoom(1);
      const tokens = Array.from({ length: 230 }, (_, i) => newToken(roomId, i + 1));
      await Promise.all(tokens.map((t) => store.putToken(t, SHARDS)));
      const missing = Array.from({ length: 20 }, () => uid('tok'));
      const asked = [...tokens.map((t) => t.tokenId), ...missing].reverse();
      expect(await store.getTokens(asked)).toEqual([...tokens].reverse());
    });
  });

  describe('touchToken', () => {
    const touch = (token: Token, now: number, changes: { secretHash?: string; roomId?: string; tokenId?: string; signal?: Token['signal'] } = {}) =>
      store.touchToken({
        tokenId: changes.tokenId ?? token.tokenId,
        roomId: changes.roomId ?? token.roomId,
        secretHash: changes.secretHash ?? token.secretHash,
        signal: changes.signal ?? 'heartbeat',
        now,
        expiresAtSeconds: Math.ceil(now / 1000) + 86_400,
      });

    it('touched: records lastSeenAt, the signal and the expiry, and answers the token as it now is', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId, { signal: 'keep-place' });
      await store.advanceCheck({ tokenId: token.tokenId, fromSeq: 0, by: 'msg-1', dueAt: T0 + 600_000, expect: token });
      const now = T0 + 5_000;
      const expected: Token = {
        ...token,
        signal: 'heartbeat',
        lastSeenAt: now,
        expiresAtSeconds: Math.ceil(now / 1000) + 86_400,
        checkSeq: 1,
        checkBy: 'msg-1',
        checkDueAt: T0 + 600_000,
      };
      // ... and as it was heard before (how long it had been live).
      const joined = { signal: 'keep-place', lastSeenAt: token.lastSeenAt, heard: token.heard };
      expect(await touch(token, now)).toEqual({ kind: 'touched', token: expected, before: joined });
      expect(await store.getToken(token.tokenId)).toEqual(expected);
      const kept = { ...expected, signal: 'keep-place' as const, lastSeenAt: now + 1, expiresAtSeconds: Math.ceil((now + 1) / 1000) + 86_400 };
      expect(await touch(token, now + 1, { signal: 'keep-place' })).toEqual({ kind: 'touched', token: kept, before: { signal: 'heartbeat', lastSeenAt: now, heard: true } });
      expect(await store.getToken(token.tokenId)).toEqual(kept);
      // Keeping its place does not take a waiting token out of the line.
      expect(await wholeLine(store, roomId)).toEqual([entryOf(token)]);
    });

    it('records every signal: no minimum interval between two', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId);
      expect(await touch(token, T0 + 1_000)).toMatchObject({ kind: 'touched', token: { lastSeenAt: T0 + 1_000 } });
      expect(await touch(token, T0 + 1_001)).toMatchObject({ kind: 'touched', token: { lastSeenAt: T0 + 1_001 } });
      expect(await touch(token, T0 + 1_001)).toMatchObject({ kind: 'touched', token: { lastSeenAt: T0 + 1_001 } });
    });

    it('touches an admitted token the same way (its state is not a condition)', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId);
      expect(await admit(roomId, [token], { now: T0 + 1 })).toEqual({ kind: 'admitted' });
      expect(await touch(token, T0 + 2_000)).toEqual({
        kind: 'touched',
        token: { ...token, state: 'ADMITTED', admittedAt: T0 + 1, admittedEpoch: 0, lastSeenAt: T0 + 2_000, expiresAtSeconds: Math.ceil((T0 + 2_000) / 1000) + 86_400 },
        before: { signal: token.signal, lastSeenAt: token.lastSeenAt, heard: token.heard },
      });
    });

    it('mismatch: another secret hash or another room answers the stored token and writes nothing', async () => {
      const roomId = await openRoom(1);
      const other = await openRoom(1);
      const token = await join(roomId);
      expect(await touch(token, T0 + 5_000, { secretHash: 'wrong' })).toEqual({ kind: 'mismatch', token });
      expect(await touch(token, T0 + 5_000, { roomId: other })).toEqual({ kind: 'mismatch', token });
      expect(await touch(token, T0 + 5_000, { roomId: other, secretHash: 'wrong', signal: 'keep-place' })).toEqual({ kind: 'mismatch', token });
      expect(await store.getToken(token.tokenId)).toEqual(token);
    });

    it('not-found for a missing token, and creates nothing', async () => {
      const roomId = await openRoom(1);
      const ghost = newToken(roomId, 1);
      expect(await touch(ghost, T0 + 5_000)).toEqual({ kind: 'not-found' });
      expect(await store.getToken(ghost.tokenId)).toBeUndefined();
    });
  });

  describe('listLine', () => {
    /** A room whose shard 1 (of 4) holds tickets 1, 5, 9, 13, 17, written out of order, with tokens in its other shards and in another room. */
    async function lineFixture() {
      const roomId = await openRoom(1);
      const other = await openRoom(1);
      const tickets = [13, 5, 17, 1, 9, 2, 3, 4, 8];
      const tokens = tickets.map((ticket) => newToken(roomId, ticket));
      for (const t of tokens) await store.putToken(t, SHARDS);
      await store.putToken(newToken(other, 5), SHARDS);
      const entry = (ticket: number) => entryOf(tokens.find((t) => t.ticket === ticket)!);
      return { roomId, other, entry };
    }

    it('answers one shard of one room in ticket order, up to limit', async () => {
      const { roomId, other, entry } = await lineFixture();
      expect(await store.listLine({ roomId, shard: 1, limit: 10 })).toEqual([1, 5, 9, 13, 17].map(entry));
      expect(await store.listLine({ roomId, shard: 1, limit: 2 })).toEqual([1, 5].map(entry));
      expect(await store.listLine({ roomId, shard: 0, limit: 10 })).toEqual([4, 8].map(entry));
      expect(await store.listLine({ roomId, shard: 3, limit: 10 })).toEqual([3].map(entry));
      expect(await store.listLine({ roomId: other, shard: 1, limit: 10 })).toHaveLength(1);
      expect(await store.listLine({ roomId: uid('room'), shard: 1, limit: 10 })).toEqual([]);
    });

    it('answers only tickets strictly after afterTicket and strictly before beforeTicket', async () => {
      const { roomId, entry } = await lineFixture();
      const shard = 1;
      expect(await store.listLine({ roomId, shard, afterTicket: 5, limit: 10 })).toEqual([9, 13, 17].map(entry));
      expect(await store.listLine({ roomId, shard, afterTicket: 4, limit: 10 })).toEqual([5, 9, 13, 17].map(entry));
      expect(await store.listLine({ roomId, shard, afterTicket: 5, limit: 1 })).toEqual([9].map(entry));
      expect(await store.listLine({ roomId, shard, beforeTicket: 13, limit: 10 })).toEqual([1, 5, 9].map(entry));
      expect(await store.listLine({ roomId, shard, beforeTicket: 14, limit: 10 })).toEqual([1, 5, 9, 13].map(entry));
      expect(await store.listLine({ roomId, shard, beforeTicket: 1, limit: 10 })).toEqual([]);
      // Both bounds, exclusive (DynamoDB's BETWEEN is inclusive).
      expect(await store.listLine({ roomId, shard, afterTicket: 5, beforeTicket: 17, limit: 10 })).toEqual([9, 13].map(entry));
      expect(await store.listLine({ roomId, shard, afterTicket: 1, beforeTicket: 9, limit: 10 })).toEqual([5].map(entry));
      expect(await store.listLine({ roomId, shard, afterTicket: 0, beforeTicket: 100, limit: 2 })).toEqual([1, 5].map(entry));
      expect(await store.listLine({ roomId, shard, afterTicket: 5, beforeTicket: 9, limit: 10 })).toEqual([]);
      expect(await store.listLine({ roomId, shard, afterTicket: 5, beforeTicket: 6, limit: 10 })).toEqual([]);
      expect(await store.listLine({ roomId, shard, afterTicket: 5, beforeTicket: 5, limit: 10 })).toEqual([]);
      expect(await store.listLine({ roomId, shard, afterTicket: 9, beforeTicket: 5, limit: 10 })).toEqual([]);
    });

    it('answers no one for a limit below 1 (DynamoDB would refuse the Query)', async () => {
      const { roomId } = await lineFixture();
      expect(await store.listLine({ roomId, shard: 1, limit: 0 })).toEqual([]);
      expect(await store.listLine({ roomId, shard: 1, limit: -1 })).toEqual([]);
    });

    it('loses admitted and removed tokens from the line', async () => {
      const roomId = await openRoom(5);
      const [a, b, c, d] = (await joinMany(roomId, 4)) as [Token, Token, Token, Token];
      expect(await admit(roomId, [b], { capacity: 5 })).toEqual({ kind: 'admitted' });
      expect(await store.removeToken({ token: c, now: T0 + 2 })).toBe('removed');
      expect(await wholeLine(store, roomId)).toEqual([entryOf(a), entryOf(d)]);
      expect(await store.removeToken({ token: { ...b, state: 'ADMITTED' }, now: T0 + 3 })).toBe('removed');
      expect(await wholeLine(store, roomId)).toEqual([entryOf(a), entryOf(d)]);
    });
  });

  describe('lineEntry', () => {
    it('answers the entry of exactly one ticket in its shard, only while a waiting token of that room holds it', async () => {
      const roomId = await openRoom(5);
      const other = await openRoom(5);
      const [a, b, c] = (await joinMany(roomId, 3)) as [Token, Token, Token];
      await store.putToken(newToken(other, 9), SHARDS);
      const shard = (t: number) => lineShardOf(t, SHARDS);
      expect(await store.lineEntry(roomId, shard(b.ticket), b.ticket)).toEqual(entryOf(b));
      expect(await store.lineEntry(roomId, shard(a.ticket), a.ticket)).toEqual(entryOf(a));
      // Not in another shard, another room, or at a ticket nobody holds.
      expect(await store.lineEntry(roomId, shard(b.ticket + 1), b.ticket)).toBeUndefined();
      expect(await store.lineEntry(other, shard(a.ticket), a.ticket)).toBeUndefined();
      expect(await store.lineEntry(roomId, shard(9), 9)).toBeUndefined();
      expect(await store.lineEntry(uid('room'), shard(a.ticket), a.ticket)).toBeUndefined();
      // Admitted or removed: out of the line.
      expect(await admit(roomId, [b], { capacity: 5 })).toEqual({ kind: 'admitted' });
      expect(await store.removeToken({ token: c, now: T0 + 2 })).toBe('removed');
      expect(await store.lineEntry(roomId, shard(b.ticket), b.ticket)).toBeUndefined();
      expect(await store.lineEntry(roomId, shard(c.ticket), c.ticket)).toBeUndefined();
      expect(await store.lineEntry(roomId, shard(a.ticket), a.ticket)).toEqual(entryOf(a));
    });
  });

  describe('acquireAdmitter and releaseAdmitter', () => {
    const rate: AdmissionRateSamples = { prevAt: T0 + 1, prevTotal: 2, prevTicket: 3, curAt: T0 + 4, curTotal: 5, curTicket: 6 };

    it('not-found for a missing room, and creates nothing', async () => {
      const roomId = uid('room');
      expect(await store.acquireAdmitter(roomId, 'a', T0, T0 + 10)).toBe('not-found');
      expect(await store.getRoom(roomId)).toBeUndefined();
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 1, now: T0 })).toEqual({ kind: 'lost' });
      expect(await store.getRoom(roomId)).toBeUndefined();
    });

    it('takes a free lease and answers the room as of now (tickets included); the lease shows on the room', async () => {
      const roomId = await openRoom(2);
      await store.reserveTickets(roomId, 4, T0);
      const expected: Room = { ...expectedNewRoom(roomId, 2), nextTicket: 4, admitter: 'a', admitterUntil: T0 + 10 };
      expect(await store.acquireAdmitter(roomId, 'a', T0, T0 + 10)).toEqual(expected);
      expect(await store.getRoom(roomId)).toEqual(expected);
    });

    it('a lease taken to fill seats shows since when; another (an event draw) does not, and a release takes it away', async () => {
      const roomId = await openRoom(2);
      expect(await store.acquireAdmitter(roomId, 'a', T0, T0 + 10, { fills: true })).toMatchObject({ admitter: 'a', fillingSince: T0 });
      expect(await store.getRoom(roomId)).toMatchObject({ fillingSince: T0 });
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 1, now: T0 + 1 })).toEqual({ kind: 'released' });
      expect(await store.getRoom(roomId)).not.toHaveProperty('fillingSince');
      // A lease taken over from a filler that died is no fill unless the new holder says so.
      await store.acquireAdmitter(roomId, 'b', T0 + 2, T0 + 5, { fills: true });
      expect(await store.acquireAdmitter(roomId, 'c', T0 + 6, T0 + 20)).not.toHaveProperty('fillingSince');
      expect(await store.getRoom(roomId)).toMatchObject({ admitter: 'c' });
      expect(await store.getRoom(roomId)).not.toHaveProperty('fillingSince');
    });

    it('busy while the lease runs (to its last millisecond), for another owner or the same; taken over once it ran out', async () => {
      const roomId = await openRoom(2);
      expect(await store.acquireAdmitter(roomId, 'a', T0, T0 + 10)).toMatchObject({ admitter: 'a' });
      expect(await store.acquireAdmitter(roomId, 'b', T0 + 5, T0 + 15)).toBe('busy');
      expect(await store.acquireAdmitter(roomId, 'a', T0 + 5, T0 + 15)).toBe('busy');
      expect(await store.acquireAdmitter(roomId, 'b', T0 + 10, T0 + 20)).toBe('busy');
      expect(await store.getRoom(roomId)).toMatchObject({ admitter: 'a', admitterUntil: T0 + 10 });
      expect(await store.acquireAdmitter(roomId, 'b', T0 + 11, T0 + 21)).toMatchObject({ admitter: 'b', admitterUntil: T0 + 21 });
      // The first owner's lease is gone: it cannot release the second's.
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 1, now: T0 + 12 })).toEqual({ kind: 'lost' });
      expect(await store.getRoom(roomId)).toMatchObject({ admitter: 'b', admitterUntil: T0 + 21 });
    });

    it('released: the lease is free again, and the front floor and rate samples are stored when given', async () => {
      const roomId = await openRoom(2);
      const before = (await store.getRoom(roomId))!;
      await store.acquireAdmitter(roomId, 'a', T0, T0 + 10);
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 1, now: T0 + 1 })).toEqual({ kind: 'released' });
      expect(await store.getRoom(roomId)).toEqual(before);

      await store.acquireAdmitter(roomId, 'b', T0 + 2, T0 + 10);
      expect(await store.releaseAdmitter({ roomId, owner: 'b', wakeSeq: 1, frontFloor: 42, rate, now: T0 + 3 })).toEqual({ kind: 'released' });
      expect(await store.getRoom(roomId)).toEqual({ ...before, frontFloor: 42, rate });

      await store.acquireAdmitter(roomId, 'c', T0 + 4, T0 + 10);
      expect(await store.releaseAdmitter({ roomId, owner: 'c', wakeSeq: 1, frontFloor: 50, now: T0 + 5 })).toEqual({ kind: 'released' });
      expect(await store.getRoom(roomId)).toEqual({ ...before, frontFloor: 50, rate });
      expect(await store.acquireAdmitter(roomId, 'd', T0 + 6, T0 + 10)).toMatchObject({ admitter: 'd' });
    });

    it('woken: not released when wakeSeq moved (a room change, a seat freed); answers the room as it is now', async () => {
      const roomId = await openRoom(2);
      const seated = await join(roomId);
      expect(await admit(roomId, [seated], { capacity: 2, now: T0 + 1 })).toEqual({ kind: 'admitted' });
      const acquired = await store.acquireAdmitter(roomId, 'a', T0 + 2, T0 + 10);
      expect(acquired).toMatchObject({ wakeSeq: 1, admitter: 'a', activeCount: 1, nextTicket: 1 });

      await store.upsertRoom({ roomId, capacity: 3, lineShards: SHARDS, now: T0 + 3 });
      const woken = { ...(acquired as Room), capacity: 3, wakeSeq: 2, updatedAt: T0 + 3 };
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 1, frontFloor: 9, rate, now: T0 + 4 })).toEqual({ kind: 'woken', room: woken });
      // Nothing was written: the lease is still held, frontFloor and the rate unchanged.
      expect(await store.getRoom(roomId)).toEqual(woken);
      expect(await store.acquireAdmitter(roomId, 'b', T0 + 5, T0 + 20)).toBe('busy');

      expect(await store.removeToken({ token: { ...seated, state: 'ADMITTED' }, now: T0 + 6 })).toBe('removed');
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 2, now: T0 + 7 })).toEqual({
        kind: 'woken',
        room: { ...woken, activeCount: 0, wakeSeq: 3, updatedAt: T0 + 6 },
      });
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 3, now: T0 + 8 })).toEqual({ kind: 'released' });
      expect(await store.getRoom(roomId)).not.toHaveProperty('admitter');
    });

    it('lost: a release by another owner, or with no lease held, changes nothing (even with wakeSeq moved)', async () => {
      const roomId = await openRoom(2);
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 1, now: T0 })).toEqual({ kind: 'lost' });
      await store.acquireAdmitter(roomId, 'a', T0, T0 + 10);
      const held = await store.getRoom(roomId);
      expect(await store.releaseAdmitter({ roomId, owner: 'b', wakeSeq: 1, frontFloor: 3, rate, now: T0 + 1 })).toEqual({ kind: 'lost' });
      expect(await store.releaseAdmitter({ roomId, owner: 'b', wakeSeq: 7, now: T0 + 1 })).toEqual({ kind: 'lost' });
      expect(await store.getRoom(roomId)).toEqual(held);
    });
  });

  describe('admitTokens', () => {
    it('admitted: every token ADMITTED with admittedAt and out of the line, the room counts moved once, lastAdmittedTicket raised', async () => {
      const roomId = await openRoom(5);
      const [a, b, c, d] = (await joinMany(roomId, 4)) as [Token, Token, Token, Token];
      const before = (await store.getRoom(roomId))!;
      expect(await admit(roomId, [a, b, c], { capacity: 5, raiseLastAdmittedTo: 3, now: T0 + 100 })).toEqual({ kind: 'admitted' });
      expect(await store.getTokens([a.tokenId, b.tokenId, c.tokenId])).toEqual([a, b, c].map((t) => ({ ...t, state: 'ADMITTED', admittedAt: T0 + 100, admittedEpoch: 0 })));
      expect(await store.getRoom(roomId)).toEqual({ ...before, activeCount: 3, admittedTotal: 3, lastAdmittedTicket: 3, updatedAt: T0 + 100 });
      expect(await wholeLine(store, roomId)).toEqual([entryOf(d)]);
      // Neither the wake-up nor the lease moves.
      expect((await store.getRoom(roomId))!.wakeSeq).toBe(before.wakeSeq);
    });

    it('admitted without raising lastAdmittedTicket (a ticket below it), up to exactly the capacity', async () => {
      const roomId = await openRoom(3);
      const [a, b, c] = (await joinMany(roomId, 3)) as [Token, Token, Token];
      expect(await admit(roomId, [c], { capacity: 3, raiseLastAdmittedTo: 3, now: T0 + 100 })).toEqual({ kind: 'admitted' });
      expect(await admit(roomId, [a, b], { capacity: 3, now: T0 + 200 })).toEqual({ kind: 'admitted' });
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 3, admittedTotal: 3, lastAdmittedTicket: 3, updatedAt: T0 + 200 });
      expect(await store.getToken(a.tokenId)).toEqual({ ...a, state: 'ADMITTED', admittedAt: T0 + 200, admittedEpoch: 0 });
      expect(await wholeLine(store, roomId)).toEqual([]);
    });

    it('admitted under the lease of its owner', async () => {
      const roomId = await openRoom(2);
      const [a] = await joinMany(roomId, 1);
      await store.acquireAdmitter(roomId, 'owner-1', T0, T0 + 10_000);
      expect(await admit(roomId, [a!], { capacity: 2, owner: 'owner-1', raiseLastAdmittedTo: 1 })).toEqual({ kind: 'admitted' });
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 1, admitter: 'owner-1' });
    });

    it('re-arms the check loop of the tokens that ask for it, in the same transaction', async () => {
      const roomId = await openRoom(3);
      const [far, near] = (await joinMany(roomId, 2, { checkDueAt: T0 + 900_000, checkSeq: 2, checkBy: 'msg-old' })) as [Token, Token];
      const outcome = await store.admitTokens({
        roomId,
        tokens: [{ ...admitEntryOf(far), rearm: { checkBy: 'rearm:owner-1', checkDueAt: T0 + 20_100 } }, admitEntryOf(near)],
        capacity: 3,
        raiseLastAdmittedTo: near.ticket,
        liveSince: LIVE_SINCE,
        epoch: 0,
        now: T0 + 100,
      });
      expect(outcome).toEqual({ kind: 'admitted' });
      expect(await store.getToken(far.tokenId)).toEqual({ ...far, state: 'ADMITTED', admittedAt: T0 + 100, admittedEpoch: 0, checkSeq: 3, checkBy: 'rearm:owner-1', checkDueAt: T0 + 20_100 });
      expect(await store.getToken(near.tokenId)).toEqual({ ...near, state: 'ADMITTED', admittedAt: T0 + 100, admittedEpoch: 0 });
    });

    it('re-arms nothing when the batch is refused', async () => {
      const roomId = await openRoom(2);
      const [far] = (await joinMany(roomId, 1, { checkDueAt: T0 + 900_000 })) as [Token];
      const rearmed = { ...admitEntryOf(far), rearm: { checkBy: 'rearm:x', checkDueAt: T0 + 20_000 } };
      const missing = newToken(roomId, 9);
      expect(await store.admitTokens({ roomId, tokens: [rearmed, admitEntryOf(missing)], capacity: 1, liveSince: LIVE_SINCE, epoch: 0, now: T0 + 1 })).toEqual({ kind: 'room-refused' });
      expect(await store.admitTokens({ roomId, tokens: [rearmed], capacity: 0, liveSince: LIVE_SINCE, epoch: 0, now: T0 + 1 })).toEqual({ kind: 'room-refused' });
      await store.putToken(missing, SHARDS);
      await store.touchToken({ tokenId: missing.tokenId, roomId, secretHash: missing.secretHash, signal: 'keep-place', now: T0 + 2, expiresAtSeconds: missing.expiresAtSeconds });
      expect(await store.admitTokens({ roomId, tokens: [rearmed, admitEntryOf(missing)], capacity: 2, liveSince: LIVE_SINCE, epoch: 0, now: T0 + 3 })).toEqual({
        kind: 'tokens-refused',
        tokenIds: [missing.tokenId],
      });
      expect(await store.getToken(far.tokenId)).toEqual(far);
    });

    it('refuses a token whose check loop moved on since it was read, and admits the others', async () => {
      const roomId = await openRoom(2);
      const [moved, still] = (await joinMany(roomId, 2)) as [Token, Token];
      // A check moved the first token's loop on (as a keep-place check would, minutes ahead) after the admitter read it.
      expect(await store.advanceCheck({ tokenId: moved.tokenId, fromSeq: 0, by: 'msg-1', dueAt: T0 + 900_000, expect: { state: 'WAITING', signal: 'heartbeat' } })).toBe('advanced');
      const request = { roomId, capacity: 2, liveSince: LIVE_SINCE, epoch: 0, now: T0 + 100 };
      expect(await store.admitTokens({ ...request, tokens: [admitEntryOf(moved), admitEntryOf(still)] })).toEqual({ kind: 'tokens-refused', tokenIds: [moved.tokenId] });
      expect(await store.getToken(still.tokenId)).toMatchObject({ state: 'WAITING' });
      // Read again, it is admitted (re-armed, as its check is now far away).
      const fresh = (await store.getToken(moved.tokenId))!;
      expect(fresh.checkSeq).toBe(1);
      const rearm = { checkBy: 'rearm:x', checkDueAt: T0 + 20_000 };
      expect(await store.admitTokens({ ...request, tokens: [{ ...admitEntryOf(fresh), rearm }, admitEntryOf(still)] })).toEqual({ kind: 'admitted' });
      expect(await store.getToken(moved.tokenId)).toMatchObject({ state: 'ADMITTED', checkSeq: 2, checkBy: 'rearm:x' });
    });

    it('a token heard from exactly at liveSince is live', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId, { lastSeenAt: T0 + 50 });
      expect(await admit(roomId, [token], { liveSince: T0 + 50 })).toEqual({ kind: 'admitted' });
    });

    it('tokens-refused: names exactly the tokens that are not live waiting tokens of the room, and nothing changes', async () => {
      const roomId = await openRoom(10);
      const other = await openRoom(10);
      const [live1, admitted, keepingPlace, silent, live2] = [
        await join(roomId),
        await join(roomId),
        await join(roomId, { signal: 'keep-place' }),
        await join(roomId, { lastSeenAt: T0 - 1 }),
        await join(roomId),
      ] as [Token, Token, Token, Token, Token];
      const elsewhere = await join(other);
      expect(await admit(roomId, [admitted], { capacity: 10 })).toEqual({ kind: 'admitted' });
      const missing = newToken(roomId, 99);
      const batch = [live1, admitted, keepingPlace, silent, missing, elsewhere, live2];
      const ids = batch.map((t) => t.tokenId);
      const before = await snapshot(store, roomId, ids);
      const otherBefore = await snapshot(store, other, ids);
      expect(await admit(roomId, batch, { capacity: 10, raiseLastAdmittedTo: 99 })).toEqual({
        kind: 'tokens-refused',
        tokenIds: [admitted, keepingPlace, silent, missing, elsewhere].map((t) => t.tokenId),
      });
      expect(await snapshot(store, roomId, ids)).toEqual(before);
      expect(await snapshot(store, other, ids)).toEqual(otherBefore);
      // Without them, the others go in.
      expect(await admit(roomId, [live1, live2], { capacity: 10, raiseLastAdmittedTo: live2.ticket })).toEqual({ kind: 'admitted' });
    });

    const refusals: [string, (roomId: string) => Promise<void>, Partial<AdmitBatchRequest>][] = [
      // One seat taken of 2: a batch of two would make 3.
      ['the seats are too few for the batch', async () => {}, { capacity: 2 }],
      ['the room is smaller than the admitter saw', async (roomId) => void (await store.upsertRoom({ roomId, capacity: 2, lineShards: SHARDS, now: T0 + 3 })), { capacity: 5 }],
      ['the room is paused', async (roomId) => void (await store.upsertRoom({ roomId, state: 'paused', lineShards: SHARDS, now: T0 + 3 })), {}],
      ['the room is closed', async (roomId) => void (await store.upsertRoom({ roomId, state: 'closed', lineShards: SHARDS, now: T0 + 3 })), {}],
      ['lastAdmittedTicket equals the raise', async () => {}, { raiseLastAdmittedTo: 1 }],
      ['lastAdmittedTicket is above the raise', async () => {}, { raiseLastAdmittedTo: 0 }],
      ['the lease is held by another owner', async (roomId) => void (await store.acquireAdmitter(roomId, 'someone-else', T0, T0 + 60_000)), { owner: 'me' }],
      ['no lease is held', async () => {}, { owner: 'me' }],
      // An emergency stop committed after the admitter read the room (epoch 0).
      ['the room moved to its next epoch', async (roomId) => void (await store.upsertRoom({ roomId, bumpEpoch: true, lineShards: SHARDS, now: T0 + 3 })), {}],
      ['the admitter saw an epoch the room is not in', async () => {}, { epoch: 1 }],
    ];
    it.each(refusals)('room-refused when %s, and nothing changes', async (_name, prepare, request) => {
      const roomId = await openRoom(5);
      const [first, second, third] = (await joinMany(roomId, 3)) as [Token, Token, Token];
      expect(await admit(roomId, [first], { capacity: 5, raiseLastAdmittedTo: 1 })).toEqual({ kind: 'admitted' }); // lastAdmittedTicket 1, activeCount 1
      await prepare(roomId);
      const ids = [first.tokenId, second.tokenId, third.tokenId];
      const before = await snapshot(store, roomId, ids);
      const outcome = await admit(roomId, [second, third], { capacity: 5, raiseLastAdmittedTo: 3, now: T0 + 60, ...request });
      expect(outcome).toEqual({ kind: 'room-refused' });
      expect(await snapshot(store, roomId, ids)).toEqual(before);
      expect(before.tokens[1]).toEqual(second);
    });

    it('admitted in the epoch the room is in: the tokens carry it', async () => {
      const roomId = await openRoom(3);
      await store.upsertRoom({ roomId, bumpEpoch: true, lineShards: SHARDS, now: T0 + 1 });
      await store.upsertRoom({ roomId, bumpEpoch: true, lineShards: SHARDS, now: T0 + 2 });
      const [a] = (await joinMany(roomId, 1)) as [Token];
      expect(await admit(roomId, [a], { capacity: 3, epoch: 2 })).toEqual({ kind: 'admitted' });
      expect(await store.getToken(a.tokenId)).toMatchObject({ state: 'ADMITTED', admittedEpoch: 2 });
    });

    it('room-refused for a missing room, which is not created', async () => {
      const roomId = uid('room');
      const token = newToken(roomId, 1);
      await store.putToken(token, SHARDS);
      expect(await admit(roomId, [token], { raiseLastAdmittedTo: 1 })).toEqual({ kind: 'room-refused' });
      expect(await store.getRoom(roomId)).toBeUndefined();
      expect(await store.getToken(token.tokenId)).toEqual(token);
    });

    it('room-refused takes precedence over refused tokens', async () => {
      const roomId = await openRoom(0);
      const token = await join(roomId);
      expect(await admit(roomId, [token, newToken(roomId, 9)], { capacity: 0 })).toEqual({ kind: 'room-refused' });
      const open = await openRoom(5, 'paused');
      expect(await admit(open, [newToken(open, 9)], { capacity: 5 })).toEqual({ kind: 'room-refused' });
    });
  });

  describe('removeToken', () => {
    it('removes a waiting token without touching the room', async () => {
      const roomId = await openRoom(1);
      const [a, b] = (await joinMany(roomId, 2)) as [Token, Token];
      expect(await admit(roomId, [a])).toEqual({ kind: 'admitted' });
      const room = await store.getRoom(roomId);
      expect(await store.removeToken({ token: b, now: T0 + 99 })).toBe('removed');
      expect(await store.getToken(b.tokenId)).toBeUndefined();
      expect(await store.getRoom(roomId)).toEqual(room);
      expect(await wholeLine(store, roomId)).toEqual([]);
    });

    it('removes an admitted token, frees its seat and wakes the admitter in the same step', async () => {
      const roomId = await openRoom(2);
      const a = await join(roomId);
      expect(await admit(roomId, [a], { capacity: 2, now: T0 + 5 })).toEqual({ kind: 'admitted' });
      const room = (await store.getRoom(roomId))!;
      expect(await store.removeToken({ token: { ...a, state: 'ADMITTED' }, now: T0 + 99 })).toBe('removed');
      expect(await store.getToken(a.tokenId)).toBeUndefined();
      // admittedTotal and lastAdmittedTicket are history, and a removal without `expect` (a leave) is not an eviction.
      expect(await store.getRoom(roomId)).toEqual({ ...room, activeCount: 0, wakeSeq: room.wakeSeq + 1, updatedAt: T0 + 99 });
    });

    it('removes with expect (an eviction) when lastSeenAt and checkSeq still match, counting it in evictedTotal', async () => {
      const roomId = await openRoom(2);
      const a = await join(roomId, { lastSeenAt: T0 + 7 });
      const b = await join(roomId, { lastSeenAt: T0 + 8 });
      expect(await admit(roomId, [a], { capacity: 2, now: T0 + 9 })).toEqual({ kind: 'admitted' });
      expect(await store.advanceCheck({ tokenId: b.tokenId, fromSeq: 0, by: 'm', dueAt: T0 + 30_000, expect: b })).toBe('advanced');
      const room = (await store.getRoom(roomId))!;
      // A waiting token: the seats and the wake-up stay, the eviction is counted.
      expect(await store.removeToken({ token: b, expect: { lastSeenAt: T0 + 8, checkSeq: 1 }, now: T0 + 20 })).toBe('removed');
      expect(await store.getRoom(roomId)).toEqual({ ...room, evictedTotal: 1, updatedAt: T0 + 20 });
      // An admitted token: the seat is freed, the admitter woken and the eviction counted, together.
      expect(await store.removeToken({ token: { ...a, state: 'ADMITTED' }, expect: { lastSeenAt: T0 + 7, checkSeq: 0 }, now: T0 + 21 })).toBe('removed');
      expect(await store.getRoom(roomId)).toEqual({ ...room, activeCount: 0, evictedTotal: 2, wakeSeq: room.wakeSeq + 1, updatedAt: T0 + 21 });
      expect(await snapshot(store, roomId, [a.tokenId, b.tokenId])).toMatchObject({ tokens: [undefined, undefined], line: [] });
    });

    const mismatches: [string, { lastSeenAt: number; checkSeq: number }][] = [
      ['lastSeenAt moved (a signal)', { lastSeenAt: T0 - 1, checkSeq: 0 }],
      ['checkSeq moved (another check step)', { lastSeenAt: T0, checkSeq: 1 }],
    ];
    it.each(mismatches)('changed when %s: nothing deleted, the room unchanged, for both states', async (_name, expected) => {
      const roomId = await openRoom(2);
      const [a, b] = (await joinMany(roomId, 2)) as [Token, Token];
      expect(await admit(roomId, [a], { capacity: 2 })).toEqual({ kind: 'admitted' });
      const before = await snapshot(store, roomId, [a.tokenId, b.tokenId]);
      expect(await store.removeToken({ token: { ...a, state: 'ADMITTED' }, expect: expected, now: T0 + 30 })).toBe('changed');
      expect(await store.removeToken({ token: b, expect: expected, now: T0 + 30 })).toBe('changed');
      expect(await snapshot(store, roomId, [a.tokenId, b.tokenId])).toEqual(before);
    });

    it('changed when the token is in another state than the caller read, or gone', async () => {
      const roomId = await openRoom(2);
      const [a, b] = (await joinMany(roomId, 2)) as [Token, Token];
      expect(await admit(roomId, [a], { capacity: 2 })).toEqual({ kind: 'admitted' });
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
      expect(await admit(roomId, [a], { capacity: 2 })).toEqual({ kind: 'admitted' });
      expect(await store.removeToken({ token: { tokenId: a.tokenId, roomId: wrongRoom, state: 'ADMITTED' }, now: T0 + 40 })).toBe('changed');
      expect(await store.getToken(a.tokenId)).toMatchObject({ state: 'ADMITTED' });
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 1, wakeSeq: 1 });
      expect(await store.getRoom(wrongRoom)).toMatchObject({ activeCount: 0, wakeSeq: 1 });

      // A token whose room item is gone is deleted without inventing a room.
      const missingRoom = uid('room');
      const orphan = newToken(missingRoom, 1, { state: 'ADMITTED', admittedAt: T0 });
      await store.putToken(orphan, SHARDS);
      expect(await store.removeToken({ token: orphan, expect: { lastSeenAt: T0, checkSeq: 0 }, now: T0 + 41 })).toBe('removed');
      expect(await store.getToken(orphan.tokenId)).toBeUndefined();
      expect(await store.getRoom(missingRoom)).toBeUndefined();
      expect((await store.listRooms()).map((r) => r.roomId)).not.toContain(missingRoom);
    });
  });

  describe('advanceCheck', () => {
    it('advanced: checkSeq + 1, checkBy and checkDueAt recorded; changed from a stale seq or for a missing token', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId);
      const advance = (fromSeq: number, by: string, dueAt: number, expect: Pick<Token, 'state' | 'signal'> = token, tokenId = token.tokenId) =>
        store.advanceCheck({ tokenId, fromSeq, by, dueAt, expect });
      expect(await advance(0, 'msg-a', T0 + 20_000)).toBe('advanced');
      expect(await store.getToken(token.tokenId)).toEqual({ ...token, checkSeq: 1, checkBy: 'msg-a', checkDueAt: T0 + 20_000 });
      expect(await advance(0, 'msg-b', T0 + 30_000)).toBe('changed');
      expect(await advance(2, 'msg-b', T0 + 30_000)).toBe('changed');
      expect(await store.getToken(token.tokenId)).toEqual({ ...token, checkSeq: 1, checkBy: 'msg-a', checkDueAt: T0 + 20_000 });
      expect(await advance(1, 'msg-c', T0 + 900_000)).toBe('advanced');
      expect(await store.getToken(token.tokenId)).toEqual({ ...token, checkSeq: 2, checkBy: 'msg-c', checkDueAt: T0 + 900_000 });
      const ghost = uid('tok');
      expect(await advance(0, 'msg-d', T0, token, ghost)).toBe('changed');
      expect(await store.getToken(ghost)).toBeUndefined();
    });

    it('changed when the token is no longer in the state or signal its due time was computed from', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId);
      expect(await store.advanceCheck({ tokenId: token.tokenId, fromSeq: 0, by: 'm1', dueAt: T0 + 900_000, expect: { state: 'WAITING', signal: 'keep-place' } })).toBe('changed');
      expect(await store.advanceCheck({ tokenId: token.tokenId, fromSeq: 0, by: 'm2', dueAt: T0 + 20_000, expect: { state: 'ADMITTED', signal: 'heartbeat' } })).toBe('changed');
      expect((await store.getToken(token.tokenId))?.checkSeq).toBe(0);
      expect(await store.advanceCheck({ tokenId: token.tokenId, fromSeq: 0, by: 'm3', dueAt: T0 + 20_000, expect: { state: 'WAITING', signal: 'heartbeat' } })).toBe('advanced');
    });
  });

  describe('concurrency', () => {
    it('reserves disjoint blocks for 20 concurrent reservations', async () => {
      const roomId = await openRoom(1);
      const sizes = Array.from({ length: 20 }, (_, i) => 1 + (i % 4));
      const lasts = await Promise.all(sizes.map((size, i) => store.reserveTickets(roomId, size, T0 + i)));
      const tickets = lasts.flatMap((last, i) => Array.from({ length: sizes[i]! }, (_, k) => last - k)).sort((a, b) => a - b);
      const total = sizes.reduce((a, b) => a + b, 0);
      expect(tickets).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(await store.getRoom(roomId)).toMatchObject({ nextTicket: total });
    });

    it('gives the lease to exactly one of 10 concurrent admitters', async () => {
      const roomId = await openRoom(1);
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => store.acquireAdmitter(roomId, `owner-${i}`, T0, T0 + 10_000)));
      const winners = outcomes.filter((o): o is Room => typeof o === 'object');
      expect(winners).toHaveLength(1);
      expect(count(outcomes, 'busy')).toBe(9);
      expect(await store.getRoom(roomId)).toMatchObject({ admitter: winners[0]!.admitter });
    });

    /** Runs the admissions, retrying the ones that conflicted (as the domain does), and answers the final outcome of each. */
    async function admitConcurrently(roomId: string, batches: Token[][], capacity: number) {
      const first = await Promise.all(batches.map((batch) => admit(roomId, batch, { capacity, now: T0 + 100 })));
      const outcomes = [...first];
      for (let round = 0; round < 50 && outcomes.some((o) => o.kind === 'conflict'); round++) {
        const again = await Promise.all(batches.map((batch, i) => (outcomes[i]!.kind === 'conflict' ? admit(roomId, batch, { capacity, now: T0 + 200 }) : outcomes[i]!)));
        again.forEach((o, i) => (outcomes[i] = o));
      }
      return { first: first.map((o) => o.kind), outcomes: outcomes.map((o) => o.kind) };
    }

    it('admits exactly as many of 20 concurrent single admissions as there are free seats (5)', async () => {
      const roomId = await openRoom(5);
      const tokens = await joinMany(roomId, 20);
      // No raise of lastAdmittedTicket: only the seats decide (with it, a higher ticket admitted first refuses the lower ones).
      const { first, outcomes } = await admitConcurrently(roomId, tokens.map((t) => [t]), 5);
      if (kind === 'memory') {
        // Each in-memory call runs to completion before the next starts (no await inside it), so
        // the calls are serialized in call order and never conflict: the first five take the seats.
        expect(first).toEqual([...Array<string>(5).fill('admitted'), ...Array<string>(15).fill('room-refused')]);
      } else {
        // DynamoDB serializes the transactions on the room item, but one that overlaps another is
        // cancelled with TransactionConflict instead of waiting. So a single round admits at most 5;
        // 'room-refused' means the condition saw a full room, which needs 5 admitted.
        expect(first.every((o) => o === 'admitted' || o === 'room-refused' || o === 'conflict')).toBe(true);
        expect(count(first, 'admitted')).toBeLessThanOrEqual(5);
        if (count(first, 'room-refused') > 0) expect(count(first, 'admitted')).toBe(5);
        console.log(`[store-contract] 20 concurrent admissions, first round: ${JSON.stringify({ admitted: count(first, 'admitted'), refused: count(first, 'room-refused'), conflict: count(first, 'conflict') })}`);
      }
      expect(count(outcomes, 'admitted')).toBe(5);
      expect(count(outcomes, 'room-refused')).toBe(15);
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 5, admittedTotal: 5, capacity: 5 });
      const states = (await Promise.all(tokens.map((t) => store.getToken(t.tokenId)))).map((t) => t?.state);
      expect(states.filter((s, i) => (s === 'ADMITTED') !== (outcomes[i] === 'admitted'))).toEqual([]);
      expect(await wholeLine(store, roomId)).toHaveLength(15);
    });

    it('admits exactly one of 4 concurrent batches of 5 into 8 free seats', async () => {
      const roomId = await openRoom(8);
      const tokens = await joinMany(roomId, 20);
      const batches = [0, 1, 2, 3].map((i) => tokens.slice(i * 5, i * 5 + 5));
      const { outcomes } = await admitConcurrently(roomId, batches, 8);
      expect(count(outcomes, 'admitted')).toBe(1);
      expect(count(outcomes, 'room-refused')).toBe(3);
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 5, admittedTotal: 5 });
      const admittedBatch = batches[outcomes.indexOf('admitted')]!;
      expect((await store.getTokens(admittedBatch.map((t) => t.tokenId))).map((t) => t.state)).toEqual(Array(5).fill('ADMITTED'));
      expect(await wholeLine(store, roomId)).toHaveLength(15);
    });

    it('removes an admitted token once under 10 concurrent removals, freeing one seat', async () => {
      const roomId = await openRoom(3);
      const [a, b] = (await joinMany(roomId, 2)) as [Token, Token];
      expect(await admit(roomId, [a, b], { capacity: 3 })).toEqual({ kind: 'admitted' });
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.removeToken({ token: { ...a, state: 'ADMITTED' }, expect: { lastSeenAt: T0, checkSeq: 0 }, now: T0 + 50 + i })),
      );
      expect(count(outcomes, 'removed')).toBe(1);
      if (kind === 'memory') expect(count(outcomes, 'changed')).toBe(9);
      // On DynamoDB a loser either saw the token gone ('changed') or overlapped the winner ('conflict').
      else expect(count(outcomes, 'changed') + count(outcomes, 'conflict')).toBe(9);
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 1, evictedTotal: 1, wakeSeq: 2 });
      expect(await store.getToken(a.tokenId)).toBeUndefined();
      expect(await store.getToken(b.tokenId)).toMatchObject({ state: 'ADMITTED' });
    });

    it('advances the check sequence once under 10 concurrent advances from the same seq', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId);
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => store.advanceCheck({ tokenId: token.tokenId, fromSeq: 0, by: `msg-${i}`, dueAt: T0 + i, expect: token })));
      expect(count(outcomes, 'advanced')).toBe(1);
      expect(count(outcomes, 'changed')).toBe(9);
      const winner = outcomes.indexOf('advanced');
      expect(await store.getToken(token.tokenId)).toEqual({ ...token, checkSeq: 1, checkBy: `msg-${winner}`, checkDueAt: T0 + winner });
    });
  });

  describe('domain scenarios end to end', () => {
    it('makes joins beyond capacity wait, in ticket order', async () => {
      const d = domainOn(store);
      const roomId = uid('room');
      await d.rooms.configure(roomId, { capacity: 2 });
      const views = [];
      for (let i = 0; i < 5; i++) views.push((await d.arrive(roomId)).view);
      expect(views.map((v) => [v.ticket, v.state, v.position, v.zone])).toEqual([
        [1, 'admitted', 0, 'front'],
        [2, 'admitted', 0, 'front'],
        [3, 'waiting', 1, 'front'],
        [4, 'waiting', 2, 'front'],
        [5, 'waiting', 3, 'front'],
      ]);
      expect(await wholeLine(store, roomId)).toEqual(views.slice(2).map((v) => ({ tokenId: v.tokenId, ticket: v.ticket })));
      const room = (await store.getRoom(roomId))!;
      expect(room).toMatchObject({ activeCount: 2, lastAdmittedTicket: 2, lineShards: SHARDS });
      // Tickets come in blocks (gaps allowed): at least the five handed out are reserved.
      expect(room.nextTicket).toBeGreaterThanOrEqual(5);
      expect(d.events).toMatchObject({ admitted: [1, 2], deferred: [] });
    });

    it('admits the next in line when an admitted visitor leaves', async () => {
      const d = domainOn(store);
      const roomId = uid('room');
      await d.rooms.configure(roomId, { capacity: 1 });
      const [a, b, c] = [await d.arrive(roomId), await d.arrive(roomId), await d.arrive(roomId)];
      d.clock.advance(2_000);
      await d.visitors.leave(roomId, a.view.tokenId, a.secret);
      expect(await store.getToken(a.view.tokenId)).toBeUndefined();
      expect(await d.visitors.read(roomId, b.view.tokenId, b.secret)).toMatchObject({ state: 'admitted', position: 0 });
      expect(await d.visitors.read(roomId, c.view.tokenId, c.secret)).toMatchObject({ state: 'waiting', position: 1 });
      const room = await store.getRoom(roomId);
      expect(room).toMatchObject({ activeCount: 1, admittedTotal: 2, lastAdmittedTicket: 2, evictedTotal: 0 });
      // The admitter gave its lease back.
      expect(room).not.toHaveProperty('admitter');
      expect(d.events).toMatchObject({ admitted: [1, 2], removed: [{ ticket: 1, reason: 'left' }], deferred: [] });
    });

    it('fills the seats a capacity raise frees with one batch, in ticket order', async () => {
      const d = domainOn(store);
      const roomId = uid('room');
      await d.rooms.configure(roomId, { capacity: 1 });
      const joined = [];
      for (let i = 0; i < 7; i++) joined.push(await d.arrive(roomId));
      d.clock.advance(1_000);
      const { room } = await d.rooms.configure(roomId, { capacity: 5 });
      expect(room).toMatchObject({ capacity: 5, activeCount: 5, lastAdmittedTicket: 5, admittedTotal: 5 });
      expect(room).not.toHaveProperty('admitter');
      expect(d.events.admitted).toEqual([1, 2, 3, 4, 5]);
      const states = await Promise.all(joined.map((j) => d.visitors.read(roomId, j.view.tokenId, j.secret)));
      expect(states.map((s) => s.state)).toEqual(['admitted', 'admitted', 'admitted', 'admitted', 'admitted', 'waiting', 'waiting']);
      expect(await wholeLine(store, roomId)).toEqual(joined.slice(5).map((j) => ({ tokenId: j.view.tokenId, ticket: j.view.ticket })));
    });

    it('fills the seats of a random room with live visitors drawn from the whole line', async () => {
      const d = domainOn(store);
      let state = 7;
      d.deps.random = () => ((state = (state * 48_271) % 2_147_483_647) - 1) / 2_147_483_646; // a seeded Lehmer PRNG
      const roomId = uid('room');
      await d.rooms.configure(roomId, { capacity: 0, mode: 'random' });
      const joined = [];
      for (let i = 0; i < 8; i++) joined.push(await d.arrive(roomId));
      const silent = await d.visitors.join(roomId); // never heard from: never drawn
      d.clock.advance(1_000);
      const { room } = await d.rooms.configure(roomId, { capacity: 3 });
      expect(room).toMatchObject({ capacity: 3, activeCount: 3, admittedTotal: 3, mode: 'random' });
      expect(d.events.admitted).toHaveLength(3);
      expect(room.lastAdmittedTicket).toBe(Math.max(...d.events.admitted));
      expect(d.events.admitted).not.toContain(silent.view.ticket);
      const line = await wholeLine(store, roomId);
      expect(line).toHaveLength(6);
      for (const ticket of d.events.admitted) expect(line.map((e) => e.ticket)).not.toContain(ticket);
    });

    it('evicts a silent visitor with the checker and admits the next in line', async () => {
      const d = domainOn(store);
      const roomId = uid('room');
      await d.rooms.configure(roomId, { capacity: 1 });
      const a = await d.arrive(roomId);
      await d.checkLoop.start((await store.getToken(a.view.tokenId))!);
      const b = await d.arrive(roomId);
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

    it("keeps a visitor whose heartbeat lands between the checker's read and its removal", async () => {
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
      const checker = new CheckLoop({ ...base.deps, store: racing, ...environmentOf(racing, base.clock, { roomViewMaxAgeMs: 0 }) }, base.checks);
      expect(await checker.check(due!.message, due!.id)).toBe('rescheduled');
      expect(removals).toEqual(['changed']);
      expect(await store.getToken(a.view.tokenId)).toMatchObject({ state: 'ADMITTED', lastSeenAt: T0 + 25_000, checkSeq: 1, checkBy: due!.id });
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 1, evictedTotal: 0 });
      expect(base.checks.pendingFor(a.view.tokenId).map((m) => m.message.seq)).toEqual([1]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Scheduled events (EventStore): both stores implement it.
// ---------------------------------------------------------------------------------------------

const eventImplementations: { name: string; store: () => WaitingRoomStore & EventStore }[] = [
  { name: 'InMemoryStore', store: () => memoryStore },
  { name: 'DynamoStore on DynamoDB Local', store: () => dynamoStore! },
];

describe.each(eventImplementations)('EventStore contract: $name', ({ store: storeOf }) => {
  let store: WaitingRoomStore & EventStore;
  beforeAll(() => {
    store = storeOf();
  });
  const roomEvent = (eventId: string): RoomEvent => ({ eventId, prequeueStart: T0, start: T0 + 60_000, atEnd: 'close', commitment: 'a'.repeat(64), seed: 'b'.repeat(64) });

  it('keeps the event on the room, and removes it with null', async () => {
    const roomId = uid('room');
    await store.upsertRoom({ roomId, capacity: 2, event: roomEvent('e1'), lineShards: SHARDS, now: T0 });
    expect((await store.getRoom(roomId))!.event).toEqual(roomEvent('e1'));
    await store.upsertRoom({ roomId, capacity: 3, lineShards: SHARDS, now: T0 + 1 });
    expect((await store.getRoom(roomId))!.event).toEqual(roomEvent('e1'));
    await store.upsertRoom({ roomId, event: null, lineShards: SHARDS, now: T0 + 2 });
    expect((await store.getRoom(roomId))!.event).toBeUndefined();
  });

  it('fixes a boundary once, at the counter before the first reservation that asks (0 for a room never joined)', async () => {
    const roomId = uid('room');
    await store.upsertRoom({ roomId, capacity: 2, lineShards: SHARDS, now: T0 });
    expect(await store.fixBoundary(roomId, 'never_1')).toBe(0);
    await store.reserveTickets(roomId, 5, T0);
    expect(await store.reserveTickets(roomId, 3, T0, 'b_1')).toBe(8);
    expect(await store.reserveTickets(roomId, 2, T0, 'b_1')).toBe(10);
    expect(await store.fixBoundary(roomId, 'b_1')).toBe(5);
    expect(await store.fixBoundary(roomId, 'b_2')).toBe(10);
    expect(await store.fixBoundary(roomId, 'never_1')).toBe(0);
    // A boundary asked of a counter never written creates it at 0, and the next join starts at 1.
    const fresh = uid('room');
    await store.upsertRoom({ roomId: fresh, capacity: 1, lineShards: SHARDS, now: T0 });
    expect(await store.reserveTickets(fresh, 1, T0, 'b_3')).toBe(1);
    expect(await store.fixBoundary(fresh, 'b_3')).toBe(0);
  });

  it('moves a waiting token and its line entry to another ticket, only from the ticket it has', async () => {
    const roomId = uid('room');
    await store.upsertRoom({ roomId, capacity: 2, lineShards: SHARDS, now: T0 });
    const token = newToken(roomId, 3);
    await store.putToken(token, SHARDS);
    expect(await store.moveTicket({ tokenId: token.tokenId, roomId, from: 3, to: 6, lineShards: SHARDS })).toBe('moved');
    expect((await store.getToken(token.tokenId))!.ticket).toBe(6);
    expect(await wholeLine(store, roomId)).toEqual([{ tokenId: token.tokenId, ticket: 6 }]);
    expect(await store.lineEntry(roomId, 6 % SHARDS, 6)).toEqual({ tokenId: token.tokenId, ticket: 6 });
    expect(await store.moveTicket({ tokenId: token.tokenId, roomId, from: 3, to: 7, lineShards: SHARDS })).toBe('changed');
    expect(await store.moveTicket({ tokenId: uid('tok'), roomId, from: 3, to: 7, lineShards: SHARDS })).toBe('changed');
    expect(await store.moveTicket({ tokenId: token.tokenId, roomId: uid('room'), from: 6, to: 7, lineShards: SHARDS })).toBe('changed');
  });

  it('records a draw once, for the event with its commitment, and wakes the admitter', async () => {
    const roomId = uid('room');
    await store.upsertRoom({ roomId, capacity: 2, event: roomEvent('e1'), lineShards: SHARDS, now: T0 });
    const draw = { at: T0 + 61_000, boundary: 4, entries: 3, listDigest: 'c'.repeat(64) };
    const before = (await store.getRoom(roomId))!;
    expect(await store.recordDraw(roomId, 'e2', 'a'.repeat(64), draw, T0 + 61_000)).toBe('changed');
    expect(await store.recordDraw(roomId, 'e1', 'f'.repeat(64), draw, T0 + 61_000)).toBe('changed');
    expect(await store.recordDraw(roomId, 'e1', 'a'.repeat(64), draw, T0 + 61_000)).toBe('recorded');
    expect(await store.recordDraw(roomId, 'e1', 'a'.repeat(64), { ...draw, entries: 9 }, T0 + 62_000)).toBe('changed');
    const after = (await store.getRoom(roomId))!;
    expect(after.event!.draw).toEqual(draw);
    expect(after.wakeSeq).toBe(before.wakeSeq + 1);
  });

  it('applies an end once: closed, or passthrough', async () => {
    for (const atEnd of ['close', 'passthrough'] as const) {
      const roomId = uid('room');
      await store.upsertRoom({ roomId, capacity: 2, event: { ...roomEvent('e1'), atEnd }, lineShards: SHARDS, now: T0 });
      expect(await store.endEvent(roomId, 'e9', atEnd, T0 + 5)).toBe('changed');
      expect(await store.endEvent(roomId, 'e1', atEnd, T0 + 5)).toBe('ended');
      expect(await store.endEvent(roomId, 'e1', atEnd, T0 + 6)).toBe('changed');
      const room = (await store.getRoom(roomId))!;
      expect(room.event!.endedAt).toBe(T0 + 5);
      expect(atEnd === 'close' ? room.state : room.mode).toBe(atEnd === 'close' ? 'closed' : 'passthrough');
    }
  });
});
