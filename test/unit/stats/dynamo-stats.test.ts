import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoStatsStore,
  MalformedStreamRecordError,
  ShardIdMissingError,
  StatsContentionError,
  shardIdOf,
  tokenChangeOf,
} from '../../../lambdas/adapters/dynamo-stats.js';
import { MARKER_RETENTION_MS, padSequenceNumber, type TokenChange } from '../../../lambdas/domain/reporting/stats.js';
import { FakeStatsTable } from './stats-table-fake.js';
import { TTL_IDENTITY, streamEvent, streamRecord } from './stream-records.js';

const ddb = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const NOW = Date.UTC(2026, 0, 1, 12);
let table: FakeStatsTable;

beforeEach(() => {
  table = new FakeStatsTable('stats').install(ddb);
});
afterEach(() => ddb.reset());

const store = (maxAttempts = 6) => new DynamoStatsStore(client, 'stats', { maxAttempts, sleep: async () => {}, random: () => 0 });

const join = (seq: string, roomId = 'shop'): TokenChange => ({ roomId, sequenceNumber: seq, after: 'WAITING', expired: false });
const admit = (seq: string, roomId = 'shop'): TokenChange => ({ roomId, sequenceNumber: seq, before: 'WAITING', after: 'ADMITTED', expired: false });
const leaveSeat = (seq: string, roomId = 'shop'): TokenChange => ({ roomId, sequenceNumber: seq, before: 'ADMITTED', expired: false });

function counts(roomId = 'shop') {
  const item = table.item(roomId) ?? {};
  return {
    waiting: item.waiting,
    active: item.active,
    issuedTotal: item.issuedTotal,
    admittedTotal: item.admittedTotal,
    removedTotal: item.removedTotal,
    expiredTotal: item.expiredTotal,
  };
}
const shards = (roomId = 'shop') => table.item(roomId)?.shards;
const updates = () => ddb.commandCalls(UpdateCommand).length;

describe('DynamoStatsStore.applyChanges', () => {
  it("creates a room's stats with one conditional UpdateItem: counters, the shard's marker, and the map on condition it is absent", async () => {
    const result = await store().applyChanges('shop', 'shard-A', [join('100'), join('101'), admit('102')], NOW);
    expect(result).toEqual({ applied: 3, skipped: 0 });
    expect(table.updates).toHaveLength(1);
    expect(table.updates[0]).toEqual({
      TableName: 'stats',
      Key: { roomId: 'shop' },
      UpdateExpression:
        'SET #updatedAt = :now, #shards = :shards ADD #waiting :waiting, #active :active, #issuedTotal :issuedTotal, #admittedTotal :admittedTotal, #removedTotal :removedTotal, #expiredTotal :expiredTotal',
      ConditionExpression: 'attribute_not_exists(#shards)',
      ExpressionAttributeNames: {
        '#shards': 'shards',
        '#updatedAt': 'updatedAt',
        '#waiting': 'waiting',
        '#active': 'active',
        '#issuedTotal': 'issuedTotal',
        '#admittedTotal': 'admittedTotal',
        '#removedTotal': 'removedTotal',
        '#expiredTotal': 'expiredTotal',
      },
      ExpressionAttributeValues: {
        ':now': NOW,
        ':waiting': 1,
        ':active': 1,
        ':issuedTotal': 2,
        ':admittedTotal': 1,
        ':removedTotal': 0,
        ':expiredTotal': 0,
        ':shards': { 'shard-A': { seq: padSequenceNumber('102'), at: NOW } },
      },
    });
    expect(table.item('shop')).toEqual({
      roomId: 'shop',
      updatedAt: NOW,
      shards: { 'shard-A': { seq: padSequenceNumber('102'), at: NOW } },
      waiting: 1,
      active: 1,
      issuedTotal: 2,
      admittedTotal: 1,
      removedTotal: 0,
      expiredTotal: 0,
    });
  });

  it("moves the shard's marker on condition it is still the one read", async () => {
    await store().applyChanges('shop', 'shard-A', [join('100')], NOW);
    await store().applyChanges('shop', 'shard-A', [admit('105')], NOW + 1000);
    expect(table.updates[1]).toMatchObject({
      UpdateExpression: expect.stringMatching(/^SET #updatedAt = :now, #shards\.#lane = :marker ADD /),
      ConditionExpression: '#shards.#lane.#seq = :previous',
      ExpressionAttributeNames: expect.objectContaining({ '#lane': 'shard-A', '#seq': 'seq' }),
      ExpressionAttributeValues: expect.objectContaining({
        ':previous': padSequenceNumber('100'),
        ':marker': { seq: padSequenceNumber('105'), at: NOW + 1000 },
      }),
    });
    expect(counts()).toEqual({ waiting: 0, active: 1, issuedTotal: 1, admittedTotal: 1, removedTotal: 0, expiredTotal: 0 });
  });

  it('changes nothing when a batch is delivered again', async () => {
    const batch = [join('100'), join('101'), admit('102')];
    await store().applyChanges('shop', 'shard-A', batch, NOW);
    const before = structuredClone(table.item('shop'));
    const again = await store().applyChanges('shop', 'shard-A', batch, NOW + 5000);
    expect(again).toEqual({ applied: 0, skipped: 3 });
    expect(updates()).toBe(1);
    expect(table.item('shop')).toEqual(before);
  });

  it('counts the rest of a batch retried from its middle exactly once', async () => {
    await store().applyChanges('shop', 'shard-A', [join('100'), join('101'), admit('102')], NOW);
    // Lambda retries from the record reported failed (101): 101 and 102 come back, with new ones.
    const retry = await store().applyChanges('shop', 'shard-A', [join('101'), admit('102'), admit('103'), leaveSeat('104')], NOW + 1000);
    expect(retry).toEqual({ applied: 2, skipped: 2 });
    expect(counts()).toEqual({ waiting: 0, active: 1, issuedTotal: 2, admittedTotal: 2, removedTotal: 1, expiredTotal: 0 });
  });

  it('counts nothing twice when a written batch comes back bisected in two halves', async () => {
    const batch = ['100', '101', '102', '103', '104', '105'].map((seq) => join(seq));
    await store().applyChanges('shop', 'shard-A', batch, NOW);
    await store().applyChanges('shop', 'shard-A', batch.slice(0, 3), NOW + 1);
    await store().applyChanges('shop', 'shard-A', batch.slice(3), NOW + 2);
    expect(updates()).toBe(1);
    expect(counts()).toMatchObject({ waiting: 6, issuedTotal: 6 });
  });

  it('counts both of two shards that write one room at the same time, the second creator re-reading', async () => {
    const a = store();
    const b = store();
    // A reads (no item), then B reads and writes before A's write lands.
    table.beforeNextUpdate(async () => {
      await b.applyChanges('shop', 'shard-B', [join('900'), join('901')], NOW);
    });
    const resultA = await a.applyChanges('shop', 'shard-A', [join('100'), admit('101')], NOW);
    expect(resultA).toEqual({ applied: 2, skipped: 0 });
    expect(table.updates.map((u) => u.ConditionExpression)).toEqual([
      'attribute_not_exists(#shards)', // B creates the map
      'attribute_not_exists(#shards)', // A's first try: refused
      'attribute_not_exists(#shards.#lane)', // A's second try, after reading B's map
    ]);
    expect(counts()).toEqual({ waiting: 2, active: 1, issuedTotal: 3, admittedTotal: 1, removedTotal: 0, expiredTotal: 0 });
    expect(shards()).toEqual({
      'shard-A': { seq: padSequenceNumber('101'), at: NOW },
      'shard-B': { seq: padSequenceNumber('901'), at: NOW },
    });
  });

  it('lets two shards write one existing room concurrently without retrying either', async () => {
    await store().applyChanges('shop', 'shard-A', [join('100')], NOW);
    await store().applyChanges('shop', 'shard-B', [join('900')], NOW);
    table.beforeNextUpdate(async () => {
      await store().applyChanges('shop', 'shard-B', [admit('901')], NOW + 1);
    });
    await store().applyChanges('shop', 'shard-A', [admit('101')], NOW + 1);
    expect(updates()).toBe(4);
    expect(counts()).toEqual({ waiting: 0, active: 2, issuedTotal: 2, admittedTotal: 2, removedTotal: 0, expiredTotal: 0 });
  });

  it('counts once when the same shard writes twice at once (a timed-out invocation and its retry)', async () => {
    const batch = [join('100'), admit('101')];
    await store().applyChanges('shop', 'shard-A', [join('99')], NOW);
    table.beforeNextUpdate(async () => {
      await store().applyChanges('shop', 'shard-A', batch, NOW + 1);
    });
    const late = await store().applyChanges('shop', 'shard-A', batch, NOW + 1);
    expect(late).toEqual({ applied: 0, skipped: 2 });
    expect(counts()).toMatchObject({ waiting: 1, active: 1, issuedTotal: 2, admittedTotal: 1 });
  });

  it("prunes other shards' markers older than 48 h in the same write, on condition they did not move", async () => {
    const old = NOW - MARKER_RETENTION_MS - 1;
    table.items.set('shop', {
      roomId: 'shop',
      waiting: 0,
      shards: {
        'shard-old': { seq: padSequenceNumber('5'), at: old },
        'shard-recent': { seq: padSequenceNumber('6'), at: NOW - 60_000 },
      },
    });
    await store().applyChanges('shop', 'shard-A', [join('100')], NOW);
    expect(table.updates[0]).toMatchObject({
      UpdateExpression: expect.stringMatching(/ REMOVE #shards\.#old0$/),
      ConditionExpression: 'attribute_not_exists(#shards.#lane) AND #shards.#old0.#seq = :old0',
      ExpressionAttributeNames: expect.objectContaining({ '#old0': 'shard-old' }),
      ExpressionAttributeValues: expect.objectContaining({ ':old0': padSequenceNumber('5') }),
    });
    expect(shards()).toEqual({
      'shard-recent': { seq: padSequenceNumber('6'), at: NOW - 60_000 },
      'shard-A': { seq: padSequenceNumber('100'), at: NOW },
    });
  });

  it('keeps a marker that its shard moved between the read and the write', async () => {
    const old = NOW - MARKER_RETENTION_MS - 1;
    table.items.set('shop', { roomId: 'shop', shards: { 'shard-old': { seq: padSequenceNumber('5'), at: old } } });
    table.beforeNextUpdate(async () => {
      await store().applyChanges('shop', 'shard-old', [join('6')], NOW);
    });
    await store().applyChanges('shop', 'shard-A', [join('100')], NOW);
    expect(shards()).toEqual({
      'shard-old': { seq: padSequenceNumber('6'), at: NOW },
      'shard-A': { seq: padSequenceNumber('100'), at: NOW },
    });
    expect(counts()).toMatchObject({ waiting: 2, issuedTotal: 2 });
  });

  it('gives up after its attempts when the condition keeps failing', async () => {
    for (let i = 0; i < 3; i++) table.failNextUpdate('shop', new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await expect(store(3).applyChanges('shop', 'shard-A', [join('100')], NOW)).rejects.toBeInstanceOf(StatsContentionError);
    expect(updates()).toBe(3);
    expect(table.item('shop')).toBeUndefined();
  });

  it('rethrows any other error at once', async () => {
    const throttled = Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
    table.failNextUpdate('shop', throttled);
    await expect(store().applyChanges('shop', 'shard-A', [join('100')], NOW)).rejects.toThrow('slow down');
    expect(updates()).toBe(1);
  });
});

describe('DynamoStatsStore.getStats', () => {
  it('reads rooms 100 keys at a time, strongly consistent, retrying unprocessed keys', async () => {
    for (let i = 0; i < 150; i++) table.items.set(`room-${i}`, { roomId: `room-${i}`, waiting: i, active: 1 });
    table.items.set('room-7', {
      roomId: 'room-7',
      waiting: 7,
      active: 2,
      admittedTotal: 40,
      removedTotal: 30,
      updatedAt: NOW,
      publishedAt: NOW - 10_000,
      publishedAdmittedTotal: 35,
      publishedEvictedTotal: 28,
    });
    table.leaveUnprocessedOnce('room-3');
    const ids = Array.from({ length: 150 }, (_, i) => `room-${i}`);
    const stats = await store().getStats([...ids, 'room-without-stats']);
    const calls = ddb.commandCalls(BatchGetCommand);
    expect(calls.map((c) => c.args[0].input.RequestItems!.stats!.Keys!.length)).toEqual([100, 1, 51]);
    expect(calls[0]!.args[0].input.RequestItems!.stats!.ConsistentRead).toBe(true);
    expect(stats.size).toBe(150);
    expect(stats.get('room-3')?.waiting).toBe(3);
    expect(stats.get('room-7')).toEqual({
      roomId: 'room-7',
      waiting: 7,
      active: 2,
      issuedTotal: 0,
      admittedTotal: 40,
      removedTotal: 30,
      expiredTotal: 0,
      updatedAt: NOW,
      published: { at: NOW - 10_000, admittedTotal: 35, evictedTotal: 28 },
    });
    expect(stats.has('room-without-stats')).toBe(false);
  });
});

describe('DynamoStatsStore.claimPublication', () => {
  it("records the first run's counters on condition that no run did", async () => {
    await expect(store().claimPublication('shop', undefined, { at: NOW, admittedTotal: 5, evictedTotal: 2 })).resolves.toBe(true);
    expect(table.updates[0]?.ConditionExpression).toBe('attribute_not_exists(#at)');
    expect(table.item('shop')).toEqual({ roomId: 'shop', publishedAt: NOW, publishedAdmittedTotal: 5, publishedEvictedTotal: 2 });
    await expect(store().claimPublication('shop', undefined, { at: NOW + 1, admittedTotal: 5, evictedTotal: 2 })).resolves.toBe(false);
  });

  it('claims the interval only from the previous run it read', async () => {
    await store().claimPublication('shop', undefined, { at: NOW, admittedTotal: 5, evictedTotal: 2 });
    await expect(store().claimPublication('shop', NOW, { at: NOW + 10_000, admittedTotal: 9, evictedTotal: 3 })).resolves.toBe(true);
    // A concurrent run that read the same previous run loses.
    await expect(store().claimPublication('shop', NOW, { at: NOW + 10_001, admittedTotal: 9, evictedTotal: 3 })).resolves.toBe(false);
    expect(table.item('shop')).toMatchObject({ publishedAt: NOW + 10_000, publishedAdmittedTotal: 9, publishedEvictedTotal: 3 });
  });

  it('records that a run found the room idle, and forgets it when the next run does not', async () => {
    await store().claimPublication('shop', undefined, { at: NOW, admittedTotal: 5, evictedTotal: 2, idle: true });
    expect(table.item('shop')).toEqual({ roomId: 'shop', publishedAt: NOW, publishedAdmittedTotal: 5, publishedEvictedTotal: 2, publishedIdle: true });
    expect((await store().getStats(['shop'])).get('shop')?.published).toEqual({ at: NOW, admittedTotal: 5, evictedTotal: 2, idle: true });
    await store().claimPublication('shop', NOW, { at: NOW + 10_000, admittedTotal: 6, evictedTotal: 2 });
    expect(table.item('shop')).toEqual({ roomId: 'shop', publishedAt: NOW + 10_000, publishedAdmittedTotal: 6, publishedEvictedTotal: 2 });
    expect((await store().getStats(['shop'])).get('shop')?.published).toEqual({ at: NOW + 10_000, admittedTotal: 6, evictedTotal: 2 });
  });
});

describe('reading the token stream', () => {
  it.each<[string, Parameters<typeof streamRecord>[0], Partial<TokenChange>]>([
    ['a join (INSERT)', { seq: '1', after: 'WAITING' }, { after: 'WAITING' }],
    ['an admission (MODIFY)', { seq: '2', before: 'WAITING', after: 'ADMITTED' }, { before: 'WAITING', after: 'ADMITTED' }],
    ['a heartbeat (MODIFY, same state)', { seq: '3', before: 'ADMITTED', after: 'ADMITTED' }, { before: 'ADMITTED', after: 'ADMITTED' }],
    ['a leave (REMOVE)', { seq: '4', before: 'WAITING' }, { before: 'WAITING' }],
  ])('reads %s', (_name, spec, expected) => {
    expect(tokenChangeOf(streamRecord(spec))).toEqual({ roomId: 'shop', sequenceNumber: spec.seq, expired: false, ...expected });
  });

  it('marks a removal by the TTL process as expired', () => {
    expect(tokenChangeOf(streamRecord({ seq: '5', before: 'ADMITTED', userIdentity: TTL_IDENTITY }))).toEqual({
      roomId: 'shop',
      sequenceNumber: '5',
      before: 'ADMITTED',
      expired: true,
    });
  });

  it("reads DynamoDB Local's TTL deletion (no eventName, old image only) as a removal", () => {
    expect(tokenChangeOf(streamRecord({ seq: '6', before: 'WAITING', eventName: null }))).toEqual({
      roomId: 'shop',
      sequenceNumber: '6',
      before: 'WAITING',
      expired: false,
    });
  });

  it('refuses records it cannot count', () => {
    const modifyWithoutOld = streamRecord({ seq: '7', before: 'WAITING', after: 'ADMITTED' });
    delete modifyWithoutOld.dynamodb!.OldImage;
    expect(() => tokenChangeOf(modifyWithoutOld)).toThrow(MalformedStreamRecordError);
    const keysOnly = streamRecord({ seq: '8', after: 'WAITING' });
    delete keysOnly.dynamodb!.NewImage;
    expect(() => tokenChangeOf(keysOnly)).toThrow(/NEW_AND_OLD_IMAGES/);
    const noSequence = streamRecord({ seq: '9', after: 'WAITING' });
    delete noSequence.dynamodb!.SequenceNumber;
    expect(() => tokenChangeOf(noSequence)).toThrow(/sequence number/);
  });

  it('takes the shard from the event, and refuses an event without one', () => {
    expect(shardIdOf(streamEvent('shardId-0001', []))).toBe('shardId-0001');
    expect(() => shardIdOf(streamEvent(undefined, []))).toThrow(ShardIdMissingError);
  });
});
