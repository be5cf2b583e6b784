/**
 * The store as one Lambda environment sees it: every call goes to the shared FastStore and is
 * recorded as the DynamoDB operations the adapter makes for it (lambdas/adapters/dynamo-store.ts,
 * as being rewritten for the sharded design), with their table or index, partition key and
 * capacity units; it takes its modelled latency on the environment's clock; and the token
 * table's changes go to the stream model.
 *
 * Operations per store method, as lambdas/adapters/dynamo-store.ts and dynamo-token-ops.ts make
 * them (units: a write unit per KB written, a read unit per 4 KB read strongly, half that
 * eventually; transactions count double; a failed condition still costs its write; a line-index
 * write costs one unit on the shard's partition):
 *   getRoom          BatchGetItem, strongly consistent: the room item and its ticket counter item
 *   listRooms        Scan of the rooms table (consistent)
 *   upsertRoom       UpdateItem room, and GetItem of the counter alongside
 *   reserveTickets   UpdateItem (ADD) on `<roomId>#tickets`
 *   putToken         PutItem token, plus the index entry on `<roomId>#<shard>`
 *   getToken         GetItem (strong 1 unit, eventual 0.5)
 *   getTokens        BatchGetItem, eventual, 100 keys a request (a missing key still reads)
 *   touchToken       UpdateItem token
 *   listLine         Query of one shard's index partition (eventual)
 *   lineEntry        Query of one shard's index partition for one ticket, Limit 1 (eventual)
 *   acquireAdmitter  UpdateItem room, and GetItem of the counter alongside (sent either way)
 *   releaseAdmitter  UpdateItem room; when woken (refused, wakeSeq moved), GetItem of the counter
 *   admitTokens      TransactWriteItems of the tokens and the room, plus an index delete per token
 *   removeToken      admitted or eviction: TransactWriteItems (token, room) (+ index delete if it
 *                    was waiting); a waiting token's leave: DeleteItem + index delete
 *   advanceCheck     UpdateItem token
 *
 * Parallel calls count their latency once: a call notes the clock when it starts and moves it
 * forward only when it resolves, so calls started together (readHead's Promise.all over the
 * shards) all start at the same time and the clock ends at the slowest. On DynamoDB Local
 * (`serialCalls`) they are answered one after the other: the clock moves by each one's latency.
 *
 * What other environments would have seen while an invocation ran (transaction spans, the
 * admitter lease, the room items in time) is kept by ./store-in-time.ts.
 */
import {
  lineShardOf,
  type AdmitBatchOutcome,
  type AdmitBatchRequest,
  type LeasePurpose,
  type LineQuery,
  type ReleaseOutcome,
  type ReleaseRequest,
  type RemoveOutcome,
  type RemoveRequest,
  type Room,
  type RoomUpsert,
  type Token,
  type TokenState,
  type TouchOutcome,
  type TouchRequest,
  type WaitingEntry,
  type WaitingRoomStore,
} from '../../lambdas/domain/index.js';
import { LATENCY_MS, SIZE } from './assumptions.js';
import { tokenIdOf, type FastStore } from './fast-store.js';
import type { DynamoUnits, Meter } from './meter.js';
import type { EnvClock } from './simulation.js';
import { ADMITTER_HELD_MS, ADMITTER_LEASES, type AdmitterLeases, type RoomHistory, type TransactionSpans } from './store-in-time.js';
import type { StreamRecord } from './token-stream.js';

export const TABLE = { rooms: 'rooms', tokens: 'tokens', line: 'line-index', stats: 'stats' } as const;

export const readUnits = (bytes: number, consistent: boolean): number => Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);
export const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));
const TOKEN_WRITE = writeUnits(SIZE.tokenItem);
const ROOM_WRITE = writeUnits(SIZE.roomItem);
const BATCH_GET_KEYS = 100;
const TOKEN_READ_EVENTUAL = readUnits(SIZE.tokenItem, false);

export interface StoreInfrastructure {
  readonly store: FastStore;
  readonly meter: Meter;
  readonly transactions: TransactionSpans;
  readonly leases: AdmitterLeases;
  readonly roomHistory: RoomHistory;
  /** DynamoDB's modelled latencies are multiplied by this (DynamoDB Local is slower). */
  readonly latencyScale: number;
  /** Calls sent together are answered one after the other (DynamoDB Local), not side by side. */
  readonly serialCalls: boolean;
  /** The token table's stream. */
  publish(record: StreamRecord, at: number): void;
  /** A token was removed (its state at removal): who it was, for attributing later messages about it. */
  removed(tokenId: string, state: TokenState): void;
}

export class MeteredStore implements WaitingRoomStore {
  /** Until this time this environment reads rooms as they are now: a condition on the room failed (./store-in-time.ts, RoomHistory). */
  private readsCurrentUntil = Number.NEGATIVE_INFINITY;
  /** The next acquire goes on a woken holder's lease (AdmitterLeases): its failed release was counted already, not a new UpdateItem. */
  private continuing = false;

  constructor(
    private readonly infra: StoreInfrastructure,
    private readonly clock: EnvClock,
  ) {}

  private get inner(): FastStore {
    return this.infra.store;
  }

  /** Runs one call: records its units at its start, applies it, and moves the clock when it resolves. */
  private async call<R>(command: string, latencyMs: number, units: (at: number) => readonly DynamoUnits[], body: () => Promise<R>): Promise<R> {
    const start = this.clock.time;
    const result = await body();
    const used = units(start);
    this.infra.meter.dynamo(command, start, used);
    const latency = latencyMs * this.infra.latencyScale;
    this.clock.time = this.infra.serialCalls ? this.clock.time + latency : Math.max(this.clock.time, start + latency);
    for (const roomId of new Set(used.filter((u) => u.table === TABLE.rooms && u.write > 0).map((u) => u.key.split('#')[0]!))) {
      this.infra.roomHistory.record(roomId, this.clock.time, await this.inner.getRoom(roomId));
    }
    return result;
  }

  getRoom(roomId: string): Promise<Room | undefined> {
    const at = this.clock.time;
    return this.call(
      'BatchGetItem',
      LATENCY_MS.batchGetItem,
      () => [
        { table: TABLE.rooms, key: roomId, read: readUnits(SIZE.roomItem, true), write: 0 },
        { table: TABLE.rooms, key: `${roomId}#tickets`, read: readUnits(100, true), write: 0 },
      ],
      async () => {
        const past = at < this.readsCurrentUntil ? 'current' : this.infra.roomHistory.at(roomId, at);
        return past === 'current' ? this.inner.getRoom(roomId) : past && structuredClone(past);
      },
    );
  }

  /** A condition on the room failed: this environment has seen the room as it is now. */
  private sawCurrentRoom(): void {
    this.readsCurrentUntil = this.clock.time + 1_000;
  }

  listRooms(): Promise<Room[]> {
    return this.call(
      'Scan',
      LATENCY_MS.scan,
      () => [{ table: TABLE.rooms, key: '(scan)', read: readUnits(this.inner.rooms.size * (SIZE.roomItem + 100), true), write: 0 }],
      () => this.inner.listRooms(),
    );
  }

  upsertRoom(input: RoomUpsert): Promise<Room | undefined> {
    this.readCounter(input.roomId);
    return this.call('UpdateItem', LATENCY_MS.updateItem, () => [{ table: TABLE.rooms, key: input.roomId, read: 0, write: ROOM_WRITE }], () => this.inner.upsertRoom(input));
  }

  /** The adapter's strongly consistent GetItem of a room's ticket counter, sent alongside another call. */
  private readCounter(roomId: string): void {
    this.infra.meter.dynamo('GetItem', this.clock.time, [{ table: TABLE.rooms, key: `${roomId}#tickets`, read: readUnits(100, true), write: 0 }]);
  }

  reserveTickets(roomId: string, count: number): Promise<number> {
    this.infra.meter.tally.add('tickets.reserved', count);
    return this.call(
      'UpdateItem',
      LATENCY_MS.updateItem,
      () => [{ table: TABLE.rooms, key: `${roomId}#tickets`, read: 0, write: 1 }],
      () => this.inner.reserveTickets(roomId, count),
    );
  }

  async putToken(token: Token, lineShards: number): Promise<void> {
    const units: DynamoUnits[] = [{ table: TABLE.tokens, key: token.tokenId, read: 0, write: TOKEN_WRITE }];
    if (token.state === 'WAITING') units.push({ table: TABLE.line, key: `${token.roomId}#${lineShardOf(token.ticket, lineShards)}`, read: 0, write: 1 });
    await this.call('PutItem', LATENCY_MS.putItem, () => units, () => this.inner.putToken(token, lineShards));
    this.infra.meter.tally.add('tickets.used');
    this.infra.publish({ eventName: 'INSERT', tokenId: token.tokenId, roomId: token.roomId, after: token.state }, this.clock.time);
  }

  getToken(tokenId: string, consistent = true): Promise<Token | undefined> {
    return this.call(
      'GetItem',
      LATENCY_MS.getItem,
      () => [{ table: TABLE.tokens, key: tokenId, read: readUnits(SIZE.tokenItem, consistent), write: 0 }],
      () => this.inner.getToken(tokenId),
    );
  }

  async getTokens(tokenIds: readonly string[]): Promise<Token[]> {
    // One BatchGetItem per 100 keys, sent together.
    const start = this.clock.time;
    for (let i = 0; i < tokenIds.length; i += BATCH_GET_KEYS) {
      this.infra.meter.dynamoEach('BatchGetItem', start, TABLE.tokens, tokenIds.slice(i, i + BATCH_GET_KEYS), TOKEN_READ_EVENTUAL, 0);
    }
    const tokens = await this.inner.getTokens(tokenIds);
    this.clock.time = Math.max(this.clock.time, start + LATENCY_MS.batchGetItem * this.infra.latencyScale);
    return tokens;
  }

  async touchToken(request: TouchRequest): Promise<TouchOutcome> {
    const outcome = await this.call(
      'UpdateItem',
      LATENCY_MS.updateItem,
      () => [{ table: TABLE.tokens, key: request.tokenId, read: 0, write: TOKEN_WRITE }],
      () => this.inner.touchToken(request),
    );
    if (outcome.kind === 'touched') this.modified(outcome.token);
    return outcome;
  }

  listLine(query: LineQuery): Promise<WaitingEntry[]> {
    let entries: WaitingEntry[] = [];
    return this.call(
      'Query',
      LATENCY_MS.query,
      () => [{ table: TABLE.line, key: `${query.roomId}#${query.shard}`, read: readUnits(entries.length * SIZE.lineEntry, false), write: 0 }],
      async () => (entries = await this.inner.listLine(query)),
    );
  }

  lineEntry(roomId: string, shard: number, ticket: number): Promise<WaitingEntry | undefined> {
    let entry: WaitingEntry | undefined;
    return this.call(
      'Query',
      LATENCY_MS.query,
      () => [{ table: TABLE.line, key: `${roomId}#${shard}`, read: readUnits(entry ? SIZE.lineEntry : 0, false), write: 0 }],
      async () => (entry = await this.inner.lineEntry(roomId, shard, ticket)),
    );
  }

  /** The next acquire continues a woken holder's lease: counted as the holder's refused release (an UpdateItem already counted) and its read of the counter. */
  continueAsHolder(): void {
    this.continuing = true;
  }

  async acquireAdmitter(roomId: string, owner: string, now: number, until: number, purpose?: LeasePurpose): Promise<Room | 'busy' | 'not-found'> {
    this.readCounter(roomId);
    const at = this.clock.time;
    if (this.continuing) {
      this.continuing = false;
      const room = await this.inner.acquireAdmitter(roomId, owner, now, until, purpose);
      if (typeof room === 'object') this.infra.leases.acquired(roomId, owner, at, this.infra.meter.running);
      this.clock.time += LATENCY_MS.getItem * this.infra.latencyScale;
      return room;
    }
    const outcome = await this.call(
      'UpdateItem',
      LATENCY_MS.updateItem,
      () => [{ table: TABLE.rooms, key: roomId, read: 0, write: ROOM_WRITE }],
      async () => (this.infra.leases.refuses(roomId, at) ? 'busy' : this.inner.acquireAdmitter(roomId, owner, now, until, purpose)),
    );
    if (typeof outcome === 'object') {
      this.infra.leases.acquired(roomId, owner, at, this.infra.meter.running);
      this.infra.meter.tally.add(ADMITTER_LEASES);
    }
    this.infra.meter.tally.add(outcome === 'busy' ? 'admitter.refused' : 'admitter.acquired');
    return outcome;
  }

  async releaseAdmitter(request: ReleaseRequest): Promise<ReleaseOutcome> {
    const outcome = await this.call(
      'UpdateItem',
      LATENCY_MS.updateItem,
      () => [{ table: TABLE.rooms, key: request.roomId, read: 0, write: ROOM_WRITE }],
      () => this.inner.releaseAdmitter(request),
    );
    if (outcome.kind === 'woken') {
      this.readCounter(request.roomId);
      this.clock.time += LATENCY_MS.getItem * this.infra.latencyScale;
    } else {
      const heldMs = this.infra.leases.released(request.roomId, request.owner, this.clock.time);
      if (heldMs !== undefined) this.infra.meter.tally.add(ADMITTER_HELD_MS, heldMs);
    }
    return outcome;
  }

  async admitTokens(request: AdmitBatchRequest): Promise<AdmitBatchOutcome> {
    const start = this.clock.time;
    const latency = LATENCY_MS.transactBase + LATENCY_MS.transactPerItem * (request.tokens.length + 1);
    const span = latency * this.infra.latencyScale;
    const shards = this.inner.rooms.get(request.roomId)?.lineShards ?? 1;
    let outcome = { kind: 'conflict' } as AdmitBatchOutcome;
    // As the calibration's SDK counter counts them (bench/scale/sdk-counter.ts).
    this.infra.meter.tally.add(`admit.${this.infra.meter.running}.batches`);
    this.infra.meter.tally.add(`admit.${this.infra.meter.running}.tokens`, request.tokens.length);
    await this.call(
      'TransactWriteItems',
      latency,
      () => {
        const units: DynamoUnits[] = request.tokens.map((t) => ({ table: TABLE.tokens, key: t.tokenId, read: 0, write: 2 * TOKEN_WRITE }));
        units.push({ table: TABLE.rooms, key: request.roomId, read: 0, write: 2 * ROOM_WRITE });
        if (outcome.kind === 'admitted') {
          for (const t of request.tokens) units.push({ table: TABLE.line, key: `${request.roomId}#${lineShardOf(t.ticket, shards)}`, read: 0, write: 1 });
        }
        return units;
      },
      async () => {
        if (this.infra.transactions.claim(request.roomId, start, start + span)) outcome = await this.inner.admitTokens(request);
      },
    );
    if (outcome.kind === 'room-refused' || outcome.kind === 'conflict') this.sawCurrentRoom();
    if (outcome.kind === 'admitted') {
      // Who admitted: the room's admitter under its lease, or a visitor's own request.
      this.infra.meter.tally.add(request.owner !== undefined ? 'admissions.lease' : 'admissions.self', request.tokens.length);
      for (const t of request.tokens) this.infra.publish({ eventName: 'MODIFY', tokenId: t.tokenId, roomId: request.roomId, before: 'WAITING', after: 'ADMITTED' }, this.clock.time);
    }
    return outcome;
  }

  async removeToken(request: RemoveRequest): Promise<RemoveOutcome> {
    const start = this.clock.time;
    const before = this.inner.tokens.get(request.token.tokenId);
    const wasWaiting = before?.state === 'WAITING';
    const shards = before ? (this.inner.rooms.get(before.roomId)?.lineShards ?? 1) : 1;
    const transactional = request.token.state === 'ADMITTED' || request.expect !== undefined;
    const latency = transactional ? LATENCY_MS.transactBase + 2 * LATENCY_MS.transactPerItem : LATENCY_MS.deleteItem;
    const span = latency * this.infra.latencyScale;
    let outcome = 'conflict' as RemoveOutcome;
    await this.call(
      transactional ? 'TransactWriteItems' : 'DeleteItem',
      latency,
      () => {
        const units: DynamoUnits[] = [{ table: TABLE.tokens, key: request.token.tokenId, read: 0, write: (transactional ? 2 : 1) * TOKEN_WRITE }];
        if (transactional) units.push({ table: TABLE.rooms, key: request.token.roomId, read: 0, write: 2 * ROOM_WRITE });
        if (outcome === 'removed' && wasWaiting && before) {
          units.push({ table: TABLE.line, key: `${before.roomId}#${lineShardOf(before.ticket, shards)}`, read: 0, write: 1 });
        }
        return units;
      },
      async () => {
        if (!transactional || this.infra.transactions.claim(request.token.roomId, start, start + span)) outcome = await this.inner.removeToken(request);
      },
    );
    if (outcome !== 'removed') this.sawCurrentRoom();
    if (outcome === 'removed' && before) {
      // Freeing a seat moves wakeSeq (dynamo-token-ops.ts): an admitter at work meanwhile is woken.
      if (before.state === 'ADMITTED') this.infra.leases.bumped(before.roomId, this.clock.time);
      this.infra.removed(before.tokenId, before.state);
      this.infra.publish({ eventName: 'REMOVE', tokenId: before.tokenId, roomId: before.roomId, before: before.state }, this.clock.time);
    }
    return outcome;
  }

  async advanceCheck(...args: Parameters<WaitingRoomStore['advanceCheck']>): Promise<'advanced' | 'changed'> {
    const tokenId = tokenIdOf(args[0]);
    const outcome = await this.call(
      'UpdateItem',
      LATENCY_MS.updateItem,
      () => [{ table: TABLE.tokens, key: tokenId, read: 0, write: TOKEN_WRITE }],
      () => this.inner.advanceCheck(...args),
    );
    const token = this.inner.tokens.get(tokenId);
    if (outcome === 'advanced' && token) this.modified(token);
    return outcome;
  }

  /** A write that keeps the token's state: on the stream, filtered out by both consumers. */
  private modified(token: Pick<Token, 'tokenId' | 'roomId' | 'state'>): void {
    this.infra.publish({ eventName: 'MODIFY', tokenId: token.tokenId, roomId: token.roomId, before: token.state, after: token.state }, this.clock.time);
  }
}
