import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoFairnessReports,
  DynamoFairnessSamples,
  FairnessSampleContentionError,
  SAMPLE_RING_SLOTS,
  bucketExpiresAt,
  decodeSample,
  encodeSample,
  sampleBucketKey,
} from '../../../lambdas/adapters/dynamo-fairness.js';
import { tokenChangeOf } from '../../../lambdas/adapters/dynamo-stats.js';
import { SAMPLES_PER_BUCKET, SAMPLE_BUCKET_MS, keptAtLevel, type VisitorSample } from '../../../lambdas/domain/reporting/fairness-samples.js';
import { FakeStatsTable } from './stats-table-fake.js';
import { TTL_IDENTITY, streamRecord } from './stream-records.js';

const ddb = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const NOW = Date.UTC(2026, 0, 1, 12, 30, 15);
const MINUTE = Math.floor(NOW / SAMPLE_BUCKET_MS);
let table: FakeStatsTable;

beforeEach(() => {
  table = new FakeStatsTable('stats').install(ddb);
});
afterEach(() => ddb.reset());

const options = { sleep: async () => {}, random: () => 0 };
const samples = () => new DynamoFairnessSamples(client, 'stats', options);
const reports = () => new DynamoFairnessReports(client, 'stats', options);

/** A token id of the real shape (22 base64url characters). */
const tokenId = (i: number) => `tok${String(i).padStart(19, '0')}`;
const admitted = (i: number, at = NOW, extra: Partial<VisitorSample> = {}): VisitorSample => ({
  tokenId: tokenId(i),
  ticket: i,
  issuedAt: at - 60_000,
  admittedAt: at,
  ...extra,
});
const bucketOf = (minute = MINUTE, roomId = 'shop') => table.item(sampleBucketKey(roomId, minute));
const entries = (minute = MINUTE) => Object.keys((bucketOf(minute)?.samples as object) ?? {}).sort();

describe('fairness samples from the token stream', () => {
  const id = tokenId(7);

  it('takes an admission from its images: ticket, join time and estimates before, admission time after', () => {
    const change = tokenChangeOf(
      streamRecord({
        seq: '10',
        tokenId: id,
        before: 'WAITING',
        after: 'ADMITTED',
        oldImage: { ticket: 42, issuedAt: NOW - 90_000, joinEstimateSeconds: 120, joinEstimateLowSeconds: 60, joinEstimateHighSeconds: 120 },
        newImage: { ticket: 42, issuedAt: NOW - 90_000, admittedAt: NOW },
      }),
    );
    expect(change.sample).toEqual({
      tokenId: id,
      ticket: 42,
      issuedAt: NOW - 90_000,
      admittedAt: NOW,
      predictedWaitSeconds: 120,
      shownRange: { lowSeconds: 60, highSeconds: 120 },
    });
  });

  it("takes a departure from the line at the record's own time", () => {
    const change = tokenChangeOf(
      streamRecord({ seq: '11', tokenId: id, before: 'WAITING', oldImage: { ticket: 43, issuedAt: NOW - 30_000 }, createdSeconds: Math.floor(NOW / 1000) }),
    );
    expect(change.sample).toEqual({ tokenId: id, ticket: 43, issuedAt: NOW - 30_000, leftWaitingAt: Math.floor(NOW / 1000) * 1000 });
  });

  it.each([
    ['a join', { seq: '1', tokenId: id, after: 'WAITING', createdSeconds: 1 }],
    ['a removal of an admitted visitor', { seq: '2', tokenId: id, before: 'ADMITTED', createdSeconds: 1 }],
    ['a removal by the TTL', { seq: '3', tokenId: id, before: 'WAITING', createdSeconds: 1, userIdentity: TTL_IDENTITY }],
    ['a removal without a record time', { seq: '4', tokenId: id, before: 'WAITING' }],
    ['an admission without an admission time', { seq: '5', tokenId: id, before: 'WAITING', after: 'ADMITTED' }],
    ['a token id of another shape', { seq: '6', tokenId: 'a', before: 'WAITING', after: 'ADMITTED', newImage: { admittedAt: NOW } }],
  ] as const)('takes no sample from %s', (_name, spec) => {
    expect(tokenChangeOf(streamRecord(spec)).sample).toBeUndefined();
  });

  it('leaves out an estimate that is not a number of seconds, and a range that is upside down', () => {
    const change = tokenChangeOf(
      streamRecord({
        seq: '12',
        tokenId: id,
        before: 'WAITING',
        after: 'ADMITTED',
        oldImage: { joinEstimateSeconds: -1, joinEstimateLowSeconds: 90, joinEstimateHighSeconds: 30 },
        newImage: { admittedAt: NOW },
      }),
    );
    expect(change.sample).toEqual({ tokenId: id, ticket: 1, issuedAt: 0, admittedAt: NOW });
  });
});

describe('fairness bucket entries', () => {
  it('read back what they hold', () => {
    const sampleArb = fc.record(
      {
        ticket: fc.maxSafeNat(),
        issuedAt: fc.integer({ min: 0, max: 9_999_999_999_999 }),
        outcomeAt: fc.integer({ min: 0, max: 9_999_999_999_999 }),
        admitted: fc.boolean(),
        predictedWaitSeconds: fc.integer({ min: 0, max: 9_999_999_999 }),
        range: fc.tuple(fc.integer({ min: 0, max: 9_999_999_999 }), fc.integer({ min: 0, max: 9_999_999_999 })),
      },
      { requiredKeys: ['ticket', 'issuedAt', 'outcomeAt', 'admitted'] },
    );
    fc.assert(
      fc.property(sampleArb, (s) => {
        const sample: VisitorSample = { tokenId: tokenId(1), ticket: s.ticket, issuedAt: s.issuedAt };
        if (s.admitted) sample.admittedAt = s.outcomeAt;
        else sample.leftWaitingAt = s.outcomeAt;
        if (s.predictedWaitSeconds !== undefined) sample.predictedWaitSeconds = s.predictedWaitSeconds;
        if (s.range) sample.shownRange = { lowSeconds: Math.min(...s.range), highSeconds: Math.max(...s.range) };
        const entry = encodeSample(sample);
        expect(entry.length).toBeLessThanOrEqual(79);
        expect(decodeSample(sample.tokenId, entry)).toEqual(sample);
      }),
    );
    expect(decodeSample('x', 'z,1,2,3,,,')).toBeUndefined();
    expect(decodeSample('x', 42)).toBeUndefined();
  });

  it('keep the largest bucket far below the 400 KB item limit', () => {
    const worst = encodeSample({
      tokenId: tokenId(0),
      ticket: Number.MAX_SAFE_INTEGER,
      issuedAt: 9_999_999_999_999,
      admittedAt: 9_999_999_999_999,
      predictedWaitSeconds: 9_999_999_999,
      shownRange: { lowSeconds: 9_999_999_999, highSeconds: 9_999_999_999 },
    });
    expect(worst).toHaveLength(79);
    const map = Object.fromEntries(Array.from({ length: SAMPLES_PER_BUCKET }, (_, i) => [tokenId(i), worst]));
    const item = { roomId: sampleBucketKey('r'.repeat(64), MINUTE), minute: MINUTE, level: 32, version: 1e15, samples: map, expiresAt: bucketExpiresAt(MINUTE) };
    // The marshalled JSON is larger than DynamoDB's own count (type tags, quotes): an upper bound.
    expect(JSON.stringify(marshall(item)).length).toBeLessThan(40_000);
  });
});

describe('DynamoFairnessSamples.record', () => {
  it('writes a new bucket whole, on condition that it does not exist yet', async () => {
    await expect(samples().record('shop', [admitted(1), admitted(2)])).resolves.toEqual({ kept: 2, dropped: 0 });
    expect(table.updates).toHaveLength(1);
    expect(table.updates[0]!.ConditionExpression).toBe('attribute_not_exists(#version)');
    expect(bucketOf()).toEqual({
      roomId: `shop#fairness#${MINUTE % SAMPLE_RING_SLOTS}`,
      minute: MINUTE,
      level: 0,
      version: 1,
      expiresAt: bucketExpiresAt(MINUTE),
      samples: { [tokenId(1)]: encodeSample(admitted(1)), [tokenId(2)]: encodeSample(admitted(2)) },
    });
  });

  it('adds to a bucket on condition of room for the new samples, and writes nothing for samples it holds', async () => {
    await samples().record('shop', [admitted(1)]);
    await expect(samples().record('shop', [admitted(1), admitted(2)])).resolves.toEqual({ kept: 1, dropped: 0 });
    expect(table.updates[1]).toMatchObject({
      UpdateExpression: 'SET #s.#k0 = :v0 ADD #version :one',
      ConditionExpression: '#minute = :minute AND #level = :level AND size(#s) <= :room',
      ExpressionAttributeValues: { ':room': SAMPLES_PER_BUCKET - 1 },
    });
    expect(entries()).toEqual([tokenId(1), tokenId(2)]);
    // Delivered again: read, nothing to write.
    await expect(samples().record('shop', [admitted(2), admitted(1)])).resolves.toEqual({ kept: 0, dropped: 0 });
    expect(table.updates).toHaveLength(2);
    expect(bucketOf()?.version).toBe(2);
  });

  it('puts each sample in the bucket of its minute', async () => {
    await samples().record('shop', [admitted(1, NOW), admitted(2, NOW + 60_000), { tokenId: tokenId(3), ticket: 3, issuedAt: NOW, leftWaitingAt: NOW + 60_000 }]);
    expect(entries(MINUTE)).toEqual([tokenId(1)]);
    expect(entries(MINUTE + 1)).toEqual([tokenId(2), tokenId(3)]);
  });

  it('keeps a busy minute to the cap by raising the level, and keeps the samples of that level', async () => {
    const all = Array.from({ length: 3 * SAMPLES_PER_BUCKET }, (_, i) => admitted(i));
    for (let start = 0; start < all.length; start += 90) await samples().record('shop', all.slice(start, start + 90));
    const bucket = bucketOf()!;
    const level = bucket.level as number;
    expect(level).toBeGreaterThanOrEqual(2);
    expect(entries()).toEqual(all.filter((s) => keptAtLevel(s.tokenId, level)).map((s) => s.tokenId).sort());
    expect(entries().length).toBeLessThanOrEqual(SAMPLES_PER_BUCKET);
  });

  it('reads again when another writer changed the bucket between its read and its write', async () => {
    await samples().record('shop', [admitted(1)]);
    table.beforeNextUpdate(async () => {
      await samples().record('shop', [admitted(2)]);
    });
    await samples().record('shop', [admitted(3)]);
    expect(entries()).toEqual([tokenId(1), tokenId(2), tokenId(3)]);
  });

  it('does not let concurrent appends overflow the cap', async () => {
    const cap = SAMPLES_PER_BUCKET;
    await samples().record('shop', Array.from({ length: cap - 1 }, (_, i) => admitted(i)));
    // Another shard fills the last place between this writer's read and its write.
    table.beforeNextUpdate(async () => {
      await samples().record('shop', [admitted(cap + 1000)]);
    });
    await samples().record('shop', [admitted(cap + 2000), admitted(cap + 3000)]);
    expect(entries().length).toBeLessThanOrEqual(cap);
    expect((bucketOf()!.level as number) >= 1).toBe(true);
  });

  it('gives up after its attempts, for the batch to be retried', async () => {
    await samples().record('shop', [admitted(1)]);
    const store = new DynamoFairnessSamples(client, 'stats', { ...options, maxAttempts: 2 });
    const lost = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    table.failNextUpdate(sampleBucketKey('shop', MINUTE), lost());
    table.failNextUpdate(sampleBucketKey('shop', MINUTE), lost());
    await expect(store.record('shop', [admitted(2)])).rejects.toBeInstanceOf(FairnessSampleContentionError);
  });

  it("takes over its slot from a minute a ring ago, and drops samples older than the slot's minute", async () => {
    await samples().record('shop', [admitted(1, NOW - SAMPLE_RING_SLOTS * 60_000)]);
    await samples().record('shop', [admitted(2)]);
    expect(bucketOf()).toMatchObject({ minute: MINUTE, level: 0, version: 2 });
    expect(entries()).toEqual([tokenId(2)]);
    await expect(samples().record('shop', [admitted(3, NOW - SAMPLE_RING_SLOTS * 60_000)])).resolves.toEqual({ kept: 0, dropped: 1 });
    expect(entries()).toEqual([tokenId(2)]);
  });
});

describe('DynamoFairnessReports.report', () => {
  it("reads the last hour's buckets in one eventually consistent BatchGetItem and reports on them", async () => {
    await samples().record('shop', [
      admitted(1, NOW - 50 * 60_000, { predictedWaitSeconds: 100 }),
      admitted(2, NOW - 10 * 60_000),
      admitted(3, NOW - 10 * 60_000),
      { tokenId: tokenId(4), ticket: 4, issuedAt: NOW - 20 * 60_000, leftWaitingAt: NOW - 5 * 60_000 },
      // Over an hour ago: in the ring, not in the report.
      admitted(5, NOW - 61 * 60_000),
    ]);
    await samples().record('bar', [admitted(6)]);
    const report = await reports().report('shop', NOW);
    expect(report).toMatchObject({ windowStart: NOW - 3_600_000, windowEnd: NOW, admitted: 3, abandoned: 1, exact: true, orderGamma: 1, waitP50Seconds: 60 });
    // Tickets 2 and 3 admitted together: a tie, which tau-b keeps in its denominator.
    expect(report.kendallTau).toBeCloseTo(Math.sqrt(2 / 3), 12);
    expect(report.predicted.samples).toBe(1);
    const gets = ddb.commandCalls(BatchGetCommand);
    expect(gets).toHaveLength(1);
    const request = gets[0]!.args[0].input.RequestItems!.stats!;
    expect(request.Keys).toHaveLength(61);
    expect(request.ConsistentRead).toBeUndefined();
  });

  it('ignores a slot that holds another minute, and weighs a sampled minute', async () => {
    table.items.set(sampleBucketKey('shop', MINUTE - 1), {
      roomId: sampleBucketKey('shop', MINUTE - 1),
      minute: MINUTE - 1 - SAMPLE_RING_SLOTS,
      level: 0,
      version: 1,
      samples: { [tokenId(9)]: encodeSample(admitted(9, NOW - 60_000)) },
    });
    table.items.set(sampleBucketKey('shop', MINUTE), {
      roomId: sampleBucketKey('shop', MINUTE),
      minute: MINUTE,
      level: 2,
      version: 1,
      samples: { [tokenId(1)]: encodeSample(admitted(1)), [tokenId(2)]: 'not an entry' },
    });
    await expect(reports().report('shop', NOW)).resolves.toMatchObject({ admitted: 4, samples: 1, exact: false });
  });

  it('asks again for keys left unprocessed', async () => {
    await samples().record('shop', [admitted(1)]);
    table.leaveUnprocessedOnce(sampleBucketKey('shop', MINUTE));
    await expect(reports().report('shop', NOW)).resolves.toMatchObject({ admitted: 1 });
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(2);
  });

  it('reports nothing for a room without samples', async () => {
    await expect(reports().report('quiet', NOW)).resolves.toMatchObject({ admitted: 0, abandoned: 0, samples: 0, kendallTau: null });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});
