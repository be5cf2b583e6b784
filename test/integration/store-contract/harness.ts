/**
 * What the store contract's parts share (store-contract.test.ts runs them once per store): fresh
 * ids, tokens and rooms as the contract expects them, the whole line, and the domain over a store.
 * Both stores keep their data for the whole run, so every test uses fresh ids.
 */
import {
  CheckLoop,
  DEFAULT_TIMINGS,
  Rooms,
  Visitors,
  environmentOf,
  randomIds,
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
} from '../../../lambdas/domain/index.js';
import { FakeClock, InMemoryCheckQueue } from '../../helpers/in-memory-store.js';
import { arrive } from '../../helpers/domain-fixture.js';

export type Kind = 'memory' | 'dynamo';

// Helpers. Both implementations keep their data for the whole run, so every test uses fresh ids.
// ---------------------------------------------------------------------------------------------

export const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
export const RUN = Date.now().toString(36);
let counter = 0;
export const uid = (prefix: string) => `${prefix}-${RUN}-${++counter}`;
/** Line shards of the rooms these tests create (a small number, so that tests can fill every shard). */
export const SHARDS = 4;
/** Heard from at T0 or later: live (the admission condition is lastSeenAt >= liveSince). */
export const LIVE_SINCE = T0;

export function newToken(roomId: string, ticket: number, overrides: Partial<Token> = {}): Token {
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

export function expectedNewRoom(roomId: string, capacity: number, state: RoomState = 'open', now = T0, lineShards = SHARDS): Room {
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

export const entryOf = (token: Pick<Token, 'tokenId' | 'ticket'>): WaitingEntry => ({ tokenId: token.tokenId, ticket: token.ticket });
/** A token to admit, as read: its check loop's sequence is part of the admission's condition. */
export const admitEntryOf = (token: Pick<Token, 'tokenId' | 'ticket' | 'checkSeq'>): AdmitEntry => ({ ...entryOf(token), checkSeq: token.checkSeq });
export const count = <T>(values: T[], value: T) => values.filter((v) => v === value).length;

/** The whole line of a room: every shard, merged in ticket order. */
export async function wholeLine(store: WaitingRoomStore, roomId: string, shards = SHARDS): Promise<WaitingEntry[]> {
  const pages = await Promise.all(Array.from({ length: shards }, (_, shard) => store.listLine({ roomId, shard, limit: 1_000 })));
  return pages.flat().sort((a, b) => a.ticket - b.ticket);
}

/** Everything a test may want to compare before and after a call. */
export async function snapshot(store: WaitingRoomStore, roomId: string, tokenIds: string[]) {
  return {
    room: await store.getRoom(roomId),
    tokens: await Promise.all(tokenIds.map((id) => store.getToken(id))),
    line: await wholeLine(store, roomId),
  };
}

/** A store that delegates to another, with a hook before removeToken (to interleave a heartbeat). */
export function withRemoveHook(store: WaitingRoomStore, hook: () => Promise<void>, outcomes: RemoveOutcome[]): WaitingRoomStore {
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
export function domainOn(store: WaitingRoomStore) {
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

/** One store under contract, with the calls its tests make again and again. */
export interface Contract {
  kind: Kind;
  /** The store, forwarding to the one set up for this run (the emulator starts before the tests, after they are declared). */
  store: WaitingRoomStore;
  openRoom(capacity: number, state?: RoomState): Promise<string>;
  join(roomId: string, overrides?: Partial<Token>): Promise<Token>;
  joinMany(roomId: string, n: number, overrides?: Partial<Token>): Promise<Token[]>;
  admit(roomId: string, tokens: readonly Token[], options?: Partial<Omit<AdmitBatchRequest, 'roomId' | 'tokens'>>): Promise<AdmitBatchOutcome>;
}

/** The contract's view of the store `storeOf` gives once the run has set it up. */
export function contractOn<S extends WaitingRoomStore>(kind: Kind, storeOf: () => S): Contract & { store: S } {
  const store = new Proxy({} as S, {
    get(_, property) {
      const target = storeOf();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
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

  return { kind, store, openRoom, join, joinMany, admit };
}
