/**
 * The fairness samples' writes and reads (lambdas/adapters/dynamo-fairness.ts) on AWS's DynamoDB
 * Local: the unit tests run them against a fake that evaluates the adapter's conditions, and this
 * checks that DynamoDB accepts the same expressions (size() of a map, nested SETs under names, the
 * version conditions) and agrees with the fake where writers race. Short on purpose (a few
 * seconds): the table is created from its key alone (STATS_KEY, the one definition the construct
 * reads too) rather than from a synthesized template.
 */
import '../../local/preamble.js';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoFairnessReports, DynamoFairnessSamples, sampleBucketKey } from '../../lambdas/adapters/dynamo-fairness.js';
import { fairnessReport } from '../../lambdas/domain/reporting/fairness.js';
import { SAMPLES_PER_BUCKET, SAMPLE_BUCKET_MS, keptAtLevel, type VisitorSample } from '../../lambdas/domain/reporting/fairness-samples.js';
import { STATS_KEY } from '../../lambdas/shared/schema.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/emulators.js';

const TABLE = 'stats-fairness';
const NOW = Date.UTC(2026, 0, 1, 12, 30, 15);
const MINUTE = Math.floor(NOW / SAMPLE_BUCKET_MS);

let dynamoDbLocal: DynamoDbLocal | undefined;
let raw: DynamoDBClient | undefined;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamoDbLocal = await startDynamoDbLocal();
  raw = new DynamoDBClient({ endpoint: dynamoDbLocal.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  await raw.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [{ AttributeName: STATS_KEY, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: STATS_KEY, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  documents = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
});

afterAll(async () => {
  raw?.destroy();
  await dynamoDbLocal?.stop();
});

const tokenId = (i: number) => `tk_${String(i).padStart(19, '0')}`;
const admitted = (i: number, at = NOW): VisitorSample => ({ tokenId: tokenId(i), ticket: i, issuedAt: at - 1000 * (i % 300), admittedAt: at, predictedWaitSeconds: 120 });

describe('fairness samples on DynamoDB Local', () => {
  it('keeps a busy minute to the cap under racing writers, idempotently, and reports what the domain computes', async () => {
    const store = new DynamoFairnessSamples(documents, TABLE);
    const all = Array.from({ length: 3 * SAMPLES_PER_BUCKET }, (_, i) => admitted(i));
    // A first batch creates the bucket; then four "shards" write interleaved batches at once (appends,
    // a level raise, conflicts); then the whole minute is delivered again.
    await store.record('shop', all.slice(0, 20));
    const rest = all.slice(20);
    await Promise.all([0, 1, 2, 3].map(async (shard) => {
      const mine = rest.filter((_, i) => i % 4 === shard);
      for (let start = 0; start < mine.length; start += 40) await store.record('shop', mine.slice(start, start + 40));
    }));
    const { Item } = await documents.send(new GetCommand({ TableName: TABLE, Key: { [STATS_KEY]: sampleBucketKey('shop', MINUTE) }, ConsistentRead: true }));
    const level = Item!.level as number;
    const kept = Object.keys(Item!.samples as object).sort();
    expect(kept.length).toBeLessThanOrEqual(SAMPLES_PER_BUCKET);
    expect(kept).toEqual(all.filter((s) => keptAtLevel(s.tokenId, level)).map((s) => s.tokenId).sort());
    expect(all.filter((s) => keptAtLevel(s.tokenId, level - 1)).length).toBeGreaterThan(SAMPLES_PER_BUCKET);

    await expect(store.record('shop', all)).resolves.toEqual({ kept: 0, dropped: 0 });
    const again = await documents.send(new GetCommand({ TableName: TABLE, Key: { [STATS_KEY]: sampleBucketKey('shop', MINUTE) }, ConsistentRead: true }));
    expect(again.Item!.version).toBe(Item!.version);

    const report = await new DynamoFairnessReports(documents, TABLE).report('shop', NOW);
    const expected = fairnessReport(
      all.filter((s) => keptAtLevel(s.tokenId, level)).map((s) => ({ ...s, weight: 2 ** level })),
      NOW - 3_600_000,
      NOW,
    );
    expect(report).toEqual(expected);
    expect(report).toMatchObject({ exact: false, admitted: kept.length * 2 ** level });
  });
});
