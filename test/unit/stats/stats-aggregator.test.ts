import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sampleBucketKey } from '../../../lambdas/adapters/dynamo-fairness.js';
import { ShardIdMissingError, type TokenStreamEvent } from '../../../lambdas/adapters/dynamo-stats.js';
import { SAMPLE_BUCKET_MS } from '../../../lambdas/domain/reporting/fairness-samples.js';
import type { StatsBatchResponse } from '../../../lambdas/handlers/stats-aggregator.js';
import { HANDLER_ENV, useHandlerEnv } from '../../helpers/env.js';
import { lambdaContext } from '../../helpers/events.js';
import { FakeStatsTable } from './stats-table-fake.js';
import { streamEvent, streamRecord } from './stream-records.js';

const ddb = mockClient(DynamoDBDocumentClient);
let aggregate: (event: TokenStreamEvent, context: Context) => Promise<StatsBatchResponse>;
let table: FakeStatsTable;

beforeAll(async () => {
  useHandlerEnv();
  aggregate = (await import('../../../lambdas/handlers/stats-aggregator.js')).handler;
});
beforeEach(() => {
  table = new FakeStatsTable(HANDLER_ENV.STATS_TABLE).install(ddb);
});
afterEach(() => ddb.reset());

function counts(roomId: string) {
  const item = table.item(roomId) ?? {};
  return [item.waiting, item.active, item.issuedTotal, item.admittedTotal, item.removedTotal, item.expiredTotal];
}
const updatesOf = (roomId: string) => table.updates.filter((u) => (u.Key as { roomId: string }).roomId === roomId).length;

describe('stats aggregator (token stream → stats table)', () => {
  it('counts every kind of record, with one write per room, and answers with an empty window state', async () => {
    const result = await aggregate(
      streamEvent('shard-1', [
        streamRecord({ seq: '100', tokenId: 'a', after: 'WAITING' }),
        streamRecord({ seq: '101', tokenId: 'b', after: 'WAITING' }),
        streamRecord({ seq: '102', tokenId: 'c', after: 'WAITING', roomId: 'bar' }),
        streamRecord({ seq: '103', tokenId: 'a', before: 'WAITING', after: 'WAITING' }),
        streamRecord({ seq: '104', tokenId: 'a', before: 'WAITING', after: 'ADMITTED' }),
        streamRecord({ seq: '105', tokenId: 'b', before: 'WAITING' }),
        streamRecord({ seq: '106', tokenId: 'a', before: 'ADMITTED', userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } }),
        streamRecord({ seq: '107', tokenId: 'c', before: 'WAITING', after: 'ADMITTED', roomId: 'bar' }),
      ]),
      lambdaContext,
    );
    expect(result).toEqual({ batchItemFailures: [], state: {} });
    // waiting, active, issued, admitted, removed, expired
    expect(counts('shop')).toEqual([0, 0, 2, 1, 2, 1]);
    expect(counts('bar')).toEqual([0, 1, 1, 1, 0, 0]);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(2);
  });

  it('reports a failed room from its earliest record on, and the retry counts the rest exactly once', async () => {
    table.failNextUpdate('bar', new Error('DynamoDB unavailable'));
    const batch = [
      streamRecord({ seq: '100', tokenId: 'a', after: 'WAITING' }),
      streamRecord({ seq: '101', tokenId: 'c', after: 'WAITING', roomId: 'bar' }),
      streamRecord({ seq: '102', tokenId: 'a', before: 'WAITING', after: 'WAITING' }),
      streamRecord({ seq: '103', tokenId: 'a', before: 'WAITING', after: 'ADMITTED' }),
      streamRecord({ seq: '104', tokenId: 'c', before: 'WAITING', after: 'ADMITTED', roomId: 'bar' }),
      streamRecord({ seq: '105', tokenId: 'b', after: 'WAITING' }),
    ];
    const first = await aggregate(streamEvent('shard-1', batch), lambdaContext);
    expect(first.batchItemFailures).toEqual(['101', '102', '103', '104', '105'].map((itemIdentifier) => ({ itemIdentifier })));
    expect(counts('shop')).toEqual([1, 1, 2, 1, 0, 0]);
    expect(table.item('bar')).toBeUndefined();

    // Lambda checkpoints before 101 and retries from it, with a record that arrived meanwhile.
    const retry = await aggregate(
      streamEvent('shard-1', [...batch.slice(1), streamRecord({ seq: '106', tokenId: 'd', after: 'WAITING', roomId: 'bar' })]),
      lambdaContext,
    );
    expect(retry.batchItemFailures).toEqual([]);
    expect(counts('shop')).toEqual([1, 1, 2, 1, 0, 0]);
    expect(counts('bar')).toEqual([1, 1, 2, 1, 0, 0]);
    expect(updatesOf('shop')).toBe(1);
  });

  it('changes nothing when the whole batch is delivered again', async () => {
    const event = streamEvent('shard-1', [
      streamRecord({ seq: '100', tokenId: 'a', after: 'WAITING' }),
      streamRecord({ seq: '101', tokenId: 'a', before: 'WAITING', after: 'ADMITTED' }),
    ]);
    await aggregate(event, lambdaContext);
    const before = structuredClone(table.item('shop'));
    await expect(aggregate(event, lambdaContext)).resolves.toEqual({ batchItemFailures: [], state: {} });
    expect(table.item('shop')).toEqual(before);
    expect(updatesOf('shop')).toBe(1);
  });

  it('counts two shards on one room', async () => {
    await aggregate(streamEvent('shard-1', [streamRecord({ seq: '500', tokenId: 'a', after: 'WAITING' })]), lambdaContext);
    // Sequence numbers of another shard say nothing about this one: 20 is below 500 and still counts.
    await aggregate(streamEvent('shard-2', [streamRecord({ seq: '20', tokenId: 'b', after: 'WAITING' })]), lambdaContext);
    expect(counts('shop')).toEqual([2, 0, 2, 0, 0, 0]);
    expect(Object.keys(table.item('shop')?.shards as object).sort()).toEqual(['shard-1', 'shard-2']);
  });

  it('writes nothing for a batch of heartbeats', async () => {
    const result = await aggregate(
      streamEvent('shard-1', [
        streamRecord({ seq: '100', tokenId: 'a', before: 'WAITING', after: 'WAITING' }),
        streamRecord({ seq: '101', tokenId: 'b', before: 'ADMITTED', after: 'ADMITTED' }),
      ]),
      lambdaContext,
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('reports an unreadable record and every later one, after counting the ones before it', async () => {
    const unreadable = streamRecord({ seq: '101', tokenId: 'b', before: 'WAITING', after: 'ADMITTED' });
    delete unreadable.dynamodb!.OldImage;
    const result = await aggregate(
      streamEvent('shard-1', [streamRecord({ seq: '100', tokenId: 'a', after: 'WAITING' }), unreadable, streamRecord({ seq: '102', tokenId: 'c', after: 'WAITING' })]),
      lambdaContext,
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '101' }, { itemIdentifier: '102' }]);
    expect(counts('shop')).toEqual([1, 0, 1, 0, 0, 0]);
  });

  it('refuses a batch whose shard it cannot tell', async () => {
    await expect(aggregate(streamEvent(undefined, [streamRecord({ seq: '100', after: 'WAITING' })]), lambdaContext)).rejects.toBeInstanceOf(
      ShardIdMissingError,
    );
    expect(ddb.calls()).toHaveLength(0);
  });

  it("answers the window's final invocation, which has no records", async () => {
    await expect(aggregate({ ...streamEvent('shard-1', []), isFinalInvokeForWindow: true }, lambdaContext)).resolves.toEqual({
      batchItemFailures: [],
      state: {},
    });
  });
});

describe('stats aggregator: fairness samples', () => {
  const T = Date.UTC(2026, 0, 1, 12, 0, 30);
  const bucket = () => table.item(sampleBucketKey('shop', Math.floor(T / SAMPLE_BUCKET_MS)));
  const id = (name: string) => name.padEnd(22, '0');
  const batch = () => [
    streamRecord({ seq: '200', tokenId: id('a'), after: 'WAITING', newImage: { ticket: 1, issuedAt: T - 20_000 } }),
    streamRecord({
      seq: '201',
      tokenId: id('a'),
      before: 'WAITING',
      after: 'ADMITTED',
      oldImage: { ticket: 1, issuedAt: T - 20_000, joinEstimateSeconds: 30 },
      newImage: { ticket: 1, issuedAt: T - 20_000, admittedAt: T },
    }),
    streamRecord({ seq: '202', tokenId: id('b'), before: 'WAITING', oldImage: { ticket: 2, issuedAt: T - 10_000 }, createdSeconds: T / 1000 }),
  ];

  it('records a sample for each admission and each departure from the line, beside the counts', async () => {
    await expect(aggregate(streamEvent('shard-1', batch()), lambdaContext)).resolves.toEqual({ batchItemFailures: [], state: {} });
    expect(counts('shop')).toEqual([-1, 1, 1, 1, 1, 0]); // b joined before this batch
    expect(bucket()?.samples).toEqual({ [id('a')]: `a,1,${T - 20_000},${T},30,,`, [id('b')]: `l,2,${T - 10_000},${T},,,` });
  });

  it('changes neither counts nor samples when the batch is delivered again', async () => {
    await aggregate(streamEvent('shard-1', batch()), lambdaContext);
    const [stats, samples] = [structuredClone(table.item('shop')), structuredClone(bucket())];
    const writes = table.updates.length;
    await expect(aggregate(streamEvent('shard-1', batch()), lambdaContext)).resolves.toEqual({ batchItemFailures: [], state: {} });
    expect([table.item('shop'), bucket()]).toEqual([stats, samples]);
    expect(table.updates).toHaveLength(writes);
  });

  it("reports the room's records when its samples cannot be written, and the retry mends them without counting twice", async () => {
    table.failNextUpdate(sampleBucketKey('shop', Math.floor(T / SAMPLE_BUCKET_MS)), new Error('DynamoDB unavailable'));
    const first = await aggregate(streamEvent('shard-1', batch()), lambdaContext);
    expect(first.batchItemFailures).toEqual(['200', '201', '202'].map((itemIdentifier) => ({ itemIdentifier })));
    expect(counts('shop')).toEqual([-1, 1, 1, 1, 1, 0]); // b joined before this batch
    expect(bucket()).toBeUndefined();

    await expect(aggregate(streamEvent('shard-1', batch()), lambdaContext)).resolves.toEqual({ batchItemFailures: [], state: {} });
    expect(counts('shop')).toEqual([-1, 1, 1, 1, 1, 0]); // b joined before this batch
    expect(Object.keys(bucket()?.samples as object).sort()).toEqual([id('a'), id('b')]);
  });
});
