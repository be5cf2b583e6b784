/**
 * The fairness report's samples in the stats table (lambdas/domain/reporting/fairness-samples.ts): written by
 * the stats aggregator from the token stream, read back for a room's report
 * (lambdas/domain/reporting/fairness.ts).
 *
 * ## Item layout: a ring of minute buckets per room
 * The stats table has only a partition key and no TTL, so a room's buckets live in a ring of
 * SAMPLE_RING_SLOTS items, one per minute modulo the ring, which a new minute takes over:
 *
 *   roomId     `<roomId>#fairness#<minute mod 64>` (room ids never contain `#`: no clash with a room's
 *              stats item, and nothing scans the stats table)
 *   minute     the minute the bucket holds (epoch ms ÷ 60,000)
 *   level      its sampling level: it keeps the samples whose token hash is a multiple of 2^level
 *   version    + 1 at every write: a write that replaces the bucket whole is conditional on it
 *   samples    map token id → "kind,ticket,issuedAt,outcomeAt,predicted,low,high" (kind `a`dmitted or
 *              `l`eft; times epoch ms; the last three whole seconds, empty when unknown)
 *   expiresAt  epoch seconds, 70 minutes after the minute ends: unused while the table has no TTL
 *              (the ring bounds the storage: 64 items per room), and what a TTL on `expiresAt` would
 *              take to remove the ring of a room gone quiet
 *
 * 64 slots hold the 61 minutes an hour's report reads, with 3 to spare for records that arrive late;
 * a record older than its slot's minute is dropped (the `stale` merge).
 *
 * ## Size and cost bound
 * A sample entry is at most 22 (token id, TOKEN_ID_PATTERN) + 1 (map element overhead) + 79 (the
 * value: 1 + 16 (ticket, a safe integer) + 13 + 13 (epoch ms before the year 2286) + 3 × 10
 * (seconds below 10^10) + 6 commas) = 102 bytes. SAMPLES_PER_BUCKET = 250 entries: 25,500 bytes;
 * the key (6 + ≤ 64 + 10 + 2), four numbers (≤ 21 bytes each with their names) and the map's own
 * overhead add under 200: an item stays under 26 KB, about 6.5 % of DynamoDB's 400 KB.
 * A write costs the item's size in write units (≤ 26 WCU, about 20 on average: a bucket swings
 * between half full and full). A bucket is written only when a batch brings samples kept at its
 * level, at most once per batch of each shard (about one a second). Over a minute of N samples it
 * takes about cap + (cap / 2) × log2(N / cap) new samples (the cap at level 0, then half the cap at
 * each level), each a write at worst: for N = 60,000 (1,000 admissions and departures a second in
 * one room) some 1,250 writes, about 25,000 WCU a minute or 420 WCU/s on one item; for N = 10^6,
 * some 1,750 writes, 580 WCU/s. Within the 1,000 a partition takes, which a cap of 500 (twice the
 * writes, each twice the size) would not be. Each batch also reads its buckets (strongly
 * consistent, ≤ 7 RCU each). If that ever needs to shrink, split a minute into a few buckets by
 * the token hash's high bits: the same writes, each a fraction of the size.
 * A report reads 61 items, eventually consistent: at most 1.6 MB and about 200 read units.
 *
 * ## Under redelivery and concurrency
 * Recording is idempotent (the bucket is a function of the samples offered, fairness-samples.ts), so
 * it keeps no stream positions. For each bucket: read it (strongly consistent), merge, and write:
 *  - samples added at the same level: SET each new entry, on condition that the bucket still holds
 *    this minute at this level and has room for them (`size(samples) <= cap - n`): writers adding to
 *    one bucket from several shards do not block each other;
 *  - a new bucket, a new minute in the slot, a higher level, or many samples at once (an update
 *    expression is limited to 4 KB): SET the bucket whole, on condition that `version` is still the
 *    one read (absent for a new item);
 *  - a failed condition reads again (a few times, with jitter), then gives up: the room's records are
 *    reported failed and retried, which the counts skip and the samples take idempotently.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { realSleep } from '../domain/deps.js';
import {
  FAIRNESS_WINDOW_MS,
  fairnessReport,
  type FairnessReport,
  type FairnessReports,
} from '../domain/reporting/fairness.js';
import {
  SAMPLE_BUCKET_MS,
  SAMPLES_PER_BUCKET,
  mergeIntoBucket,
  sampleMinuteOf,
  sampleOutcomeOf,
  weightedSamples,
  type SampleBucket,
  type SampleRecordResult,
  type VisitorSample,
  type VisitorSampleStore,
} from '../domain/reporting/fairness-samples.js';
import { TOKEN_ID_PATTERN } from '../domain/id-patterns.js';
import type { ImageState } from '../domain/reporting/stats.js';
import { STATS_KEY, TOKENS_KEY } from '../shared/schema.js';
import { batchGetAll, isNamed } from './dynamo-items.js';

type Item = Record<string, unknown>;

/** Slots of a room's ring of buckets (see the top of this file). */
export const SAMPLE_RING_SLOTS = 64;

/** Attribute names of a bucket item. */
export const BUCKET_ATTRIBUTE = {
  minute: 'minute',
  level: 'level',
  version: 'version',
  samples: 'samples',
  expiresAt: 'expiresAt',
} as const;

/**
 * The token item's attributes a sample reads besides ticket, issuedAt and admittedAt: the estimate the
 * join showed (seconds), and the range it showed, when it showed one.
 */
export const TOKEN_ESTIMATE_ATTRIBUTE = {
  point: 'joinEstimateSeconds',
  low: 'joinEstimateLowSeconds',
  high: 'joinEstimateHighSeconds',
} as const;

/** Entries one conditional append may set (an update expression is at most 4 KB; each takes about 17 characters). */
const APPEND_LIMIT = 100;
/** The key of a room's bucket for `minute`. */
export const sampleBucketKey = (roomId: string, minute: number): string => `${roomId}#fairness#${((minute % SAMPLE_RING_SLOTS) + SAMPLE_RING_SLOTS) % SAMPLE_RING_SLOTS}`;

/** Epoch seconds at which a bucket of `minute` is of no more use: 70 minutes after it ends. */
export const bucketExpiresAt = (minute: number): number => ((minute + 1) * SAMPLE_BUCKET_MS + 70 * 60_000) / 1000;

export class FairnessSampleContentionError extends Error {
  override name = 'FairnessSampleContentionError';
  constructor(
    readonly roomId: string,
    minute: number,
    attempts: number,
  ) {
    super(`fairness samples of room ${roomId}, minute ${minute}, kept changing under ${attempts} attempts to write them`);
  }
}

export interface DynamoFairnessOptions {
  /** Attempts at a bucket's conditional write, or at a report's unprocessed keys. @default 6 */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

// ---------------------------------------------------------------------------------------------
// Samples from the token stream.

const LARGEST_SECONDS = 9_999_999_999;
const LARGEST_EPOCH_MS = 9_999_999_999_999;

const safeCount = (value: unknown): number | undefined => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined);
const epochMs = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= LARGEST_EPOCH_MS ? Math.round(value) : undefined;
const seconds = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= LARGEST_SECONDS ? Math.round(value) : undefined;

/**
 * The sample a stream record gives, if any (sampleOutcomeOf): the ticket, join time and estimates
 * from the WAITING image, the admission time from the ADMITTED one, and for a removal the record's
 * own time (ApproximateCreationDateTime, whole seconds). Every figure comes from the record, so a
 * record delivered again gives the same sample in the same bucket. A record lacking one of them, or
 * made by the table's TTL, gives none.
 */
export function visitorSampleOf(
  record: DynamoDBRecord,
  before: Item | undefined,
  after: Item | undefined,
  states: { before?: ImageState; after?: ImageState; expired: boolean },
): VisitorSample | undefined {
  const outcome = sampleOutcomeOf(states.before, states.after);
  if (!outcome || states.expired || !before) return undefined;
  const tokenId = before[TOKENS_KEY];
  const ticket = safeCount(before.ticket);
  const issuedAt = epochMs(before.issuedAt);
  if (typeof tokenId !== 'string' || !TOKEN_ID_PATTERN.test(tokenId) || ticket === undefined || issuedAt === undefined) return undefined;
  const sample: VisitorSample = { tokenId, ticket, issuedAt };
  if (outcome === 'admitted') {
    const admittedAt = epochMs(after?.admittedAt);
    if (admittedAt === undefined) return undefined;
    sample.admittedAt = admittedAt;
  } else {
    const createdSeconds = record.dynamodb?.ApproximateCreationDateTime;
    const leftWaitingAt = epochMs(typeof createdSeconds === 'number' ? createdSeconds * 1000 : undefined);
    if (leftWaitingAt === undefined) return undefined;
    sample.leftWaitingAt = leftWaitingAt;
  }
  const predicted = seconds(before[TOKEN_ESTIMATE_ATTRIBUTE.point]);
  if (predicted !== undefined) sample.predictedWaitSeconds = predicted;
  const low = seconds(before[TOKEN_ESTIMATE_ATTRIBUTE.low]);
  const high = seconds(before[TOKEN_ESTIMATE_ATTRIBUTE.high]);
  if (low !== undefined && high !== undefined && low <= high) sample.shownRange = { lowSeconds: low, highSeconds: high };
  return sample;
}

// ---------------------------------------------------------------------------------------------
// The bucket item.

const field = (value: number | undefined): string => (value === undefined ? '' : String(value));

/** A sample as its bucket entry holds it (see the layout at the top of this file). */
export function encodeSample(sample: VisitorSample): string {
  const admitted = sample.admittedAt !== undefined;
  return [
    admitted ? 'a' : 'l',
    sample.ticket,
    sample.issuedAt,
    admitted ? sample.admittedAt : sample.leftWaitingAt,
    field(sample.predictedWaitSeconds),
    field(sample.shownRange?.lowSeconds),
    field(sample.shownRange?.highSeconds),
  ].join(',');
}

const ENTRY = /^([al]),(\d{1,16}),(\d{1,13}),(\d{1,13}),(\d{0,10}),(\d{0,10}),(\d{0,10})$/;

/** The sample of a bucket entry; undefined for an entry this code cannot read. */
export function decodeSample(tokenId: string, entry: unknown): VisitorSample | undefined {
  const m = typeof entry === 'string' ? ENTRY.exec(entry) : null;
  if (!m) return undefined;
  const sample: VisitorSample = { tokenId, ticket: Number(m[2]), issuedAt: Number(m[3]) };
  if (m[1] === 'a') sample.admittedAt = Number(m[4]);
  else sample.leftWaitingAt = Number(m[4]);
  if (m[5]) sample.predictedWaitSeconds = Number(m[5]);
  if (m[6] && m[7]) sample.shownRange = { lowSeconds: Number(m[6]), highSeconds: Number(m[7]) };
  return sample;
}

interface StoredBucket extends SampleBucket {
  version: number | undefined;
}

/** A bucket item read back; undefined for none, or for one too damaged to use (it is then replaced). */
export function bucketFromItem(item: Item | undefined): StoredBucket | undefined {
  if (!item) return undefined;
  const minute = item[BUCKET_ATTRIBUTE.minute];
  const level = item[BUCKET_ATTRIBUTE.level];
  const version = item[BUCKET_ATTRIBUTE.version];
  const raw = item[BUCKET_ATTRIBUTE.samples];
  if (typeof minute !== 'number' || typeof level !== 'number' || typeof raw !== 'object' || raw === null) {
    return typeof version === 'number' ? { minute: -Infinity, level: 0, samples: new Map(), version } : undefined;
  }
  const samples = new Map<string, VisitorSample>();
  for (const [tokenId, entry] of Object.entries(raw as Item)) {
    const sample = decodeSample(tokenId, entry);
    if (sample) samples.set(tokenId, sample);
  }
  return { minute, level, samples, version: typeof version === 'number' ? version : undefined };
}

/** The UpdateItem that writes `bucket` whole, conditional on the version read. */
export function replaceBucketInput(table: string, roomId: string, bucket: SampleBucket, readVersion: number | undefined): ConstructorParameters<typeof UpdateCommand>[0] {
  const samples: Record<string, string> = {};
  for (const [tokenId, sample] of bucket.samples) samples[tokenId] = encodeSample(sample);
  const values: Item = { ':minute': bucket.minute, ':level': bucket.level, ':samples': samples, ':expires': bucketExpiresAt(bucket.minute), ':one': 1 };
  if (readVersion !== undefined) values[':version'] = readVersion;
  return {
    TableName: table,
    Key: { [STATS_KEY]: sampleBucketKey(roomId, bucket.minute) },
    UpdateExpression: 'SET #minute = :minute, #level = :level, #samples = :samples, #expires = :expires ADD #version :one',
    ConditionExpression: readVersion === undefined ? 'attribute_not_exists(#version)' : '#version = :version',
    ExpressionAttributeNames: {
      '#minute': BUCKET_ATTRIBUTE.minute,
      '#level': BUCKET_ATTRIBUTE.level,
      '#samples': BUCKET_ATTRIBUTE.samples,
      '#expires': BUCKET_ATTRIBUTE.expiresAt,
      '#version': BUCKET_ATTRIBUTE.version,
    },
    ExpressionAttributeValues: values,
  };
}

/** The UpdateItem that adds samples to a bucket of the same minute and level, conditional on room for them. */
export function appendToBucketInput(
  table: string,
  roomId: string,
  bucket: Pick<SampleBucket, 'minute' | 'level'>,
  added: readonly VisitorSample[],
  cap: number = SAMPLES_PER_BUCKET,
): ConstructorParameters<typeof UpdateCommand>[0] {
  const names: Record<string, string> = {
    '#minute': BUCKET_ATTRIBUTE.minute,
    '#level': BUCKET_ATTRIBUTE.level,
    '#s': BUCKET_ATTRIBUTE.samples,
    '#version': BUCKET_ATTRIBUTE.version,
  };
  const values: Item = { ':minute': bucket.minute, ':level': bucket.level, ':room': cap - added.length, ':one': 1 };
  const sets = added.map((sample, i) => {
    names[`#k${i}`] = sample.tokenId;
    values[`:v${i}`] = encodeSample(sample);
    return `#s.#k${i} = :v${i}`;
  });
  return {
    TableName: table,
    Key: { [STATS_KEY]: sampleBucketKey(roomId, bucket.minute) },
    UpdateExpression: `SET ${sets.join(', ')} ADD #version :one`,
    ConditionExpression: '#minute = :minute AND #level = :level AND size(#s) <= :room',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

// ---------------------------------------------------------------------------------------------
// Writing and reading.

/** VisitorSampleStore on the stats table. */
export class DynamoFairnessSamples implements VisitorSampleStore {
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    options: DynamoFairnessOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 6;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
  }

  async record(roomId: string, samples: readonly VisitorSample[]): Promise<SampleRecordResult> {
    const byMinute = new Map<number, VisitorSample[]>();
    for (const sample of samples) {
      const minute = sampleMinuteOf(sample);
      const group = byMinute.get(minute);
      if (group) group.push(sample);
      else byMinute.set(minute, [sample]);
    }
    const result: SampleRecordResult = { kept: 0, dropped: 0 };
    // A batch spans a minute or two: its buckets one after another.
    for (const [minute, group] of byMinute) {
      const one = await this.recordBucket(roomId, minute, group);
      result.kept += one.kept;
      result.dropped += one.dropped;
    }
    return result;
  }

  private async recordBucket(roomId: string, minute: number, samples: readonly VisitorSample[]): Promise<SampleRecordResult> {
    const key = { [STATS_KEY]: sampleBucketKey(roomId, minute) };
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const { Item } = await this.client.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
      const stored = bucketFromItem(Item);
      const merge = mergeIntoBucket(stored, minute, samples);
      if (merge.kind === 'unchanged') return { kept: 0, dropped: 0 };
      if (merge.kind === 'stale') return { kept: 0, dropped: merge.dropped };
      const input =
        merge.kind === 'add' && merge.added.length <= APPEND_LIMIT
          ? appendToBucketInput(this.table, roomId, merge.bucket, merge.added)
          : replaceBucketInput(this.table, roomId, merge.bucket, stored?.version);
      try {
        await this.client.send(new UpdateCommand(input));
        return { kept: merge.added.length, dropped: 0 };
      } catch (error) {
        if (!isNamed(error, 'ConditionalCheckFailedException')) throw error;
        if (attempt < this.maxAttempts) await this.sleep(Math.floor(this.random() * 20 * attempt));
      }
    }
    throw new FairnessSampleContentionError(roomId, minute, this.maxAttempts);
  }
}

/** FairnessReports on the stats table: the last hour's buckets in one BatchGetItem, eventually consistent. */
export class DynamoFairnessReports implements FairnessReports {
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    options: DynamoFairnessOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 6;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
  }

  async report(roomId: string, now: number): Promise<FairnessReport> {
    const windowStart = now - FAIRNESS_WINDOW_MS;
    const buckets = await this.buckets(roomId, Math.floor(windowStart / SAMPLE_BUCKET_MS), Math.floor(now / SAMPLE_BUCKET_MS));
    return fairnessReport(weightedSamples(buckets), windowStart, now);
  }

  /** The room's buckets of minutes first..last (at most the ring's size), each only if its slot still holds that minute. */
  async buckets(roomId: string, first: number, last: number): Promise<SampleBucket[]> {
    if (last - first + 1 > SAMPLE_RING_SLOTS) throw new RangeError(`the ring holds ${SAMPLE_RING_SLOTS} minutes, not ${last - first + 1}`);
    const wanted = new Map<string, number>();
    for (let minute = first; minute <= last; minute++) wanted.set(sampleBucketKey(roomId, minute), minute);
    const found: SampleBucket[] = [];
    const names = { '#key': STATS_KEY, '#minute': BUCKET_ATTRIBUTE.minute, '#level': BUCKET_ATTRIBUTE.level, '#samples': BUCKET_ATTRIBUTE.samples };
    const items = await batchGetAll(
      this.client,
      this.table,
      [...wanted.keys()].map((id) => ({ [STATS_KEY]: id })),
      { projection: { expression: '#key, #minute, #level, #samples', names }, attempts: this.maxAttempts, backoffMs: (attempt) => Math.floor(this.random() * 50 * attempt), sleep: this.sleep, what: 'fairness buckets' },
    );
    for (const item of items) {
      const bucket = bucketFromItem(item);
      if (bucket && bucket.minute === wanted.get(String(item[STATS_KEY]))) found.push({ minute: bucket.minute, level: bucket.level, samples: bucket.samples });
    }
    return found.sort((a, b) => a.minute - b.minute);
  }
}
