/**
 * Recording the fairness report's samples from the token stream (lambdas/domain/reporting/fairness.ts): one
 * sample per visitor who stopped waiting (admitted, or removed while WAITING), kept in one bucket
 * per room per minute of its outcome, at most SAMPLES_PER_BUCKET per bucket.
 *
 * ## Which visitors a busy minute keeps
 * Keeping the first ones of the minute would bias the report (the start of a minute is not like its
 * end, and the first records to arrive are those of the fastest shard). Instead a bucket has a
 * `level` L and keeps exactly the samples whose token id hashes to a multiple of 2^L; when the
 * bucket would overflow, L goes up by one and the samples that no longer qualify are dropped. Token
 * ids are random, so which visitors are kept says nothing about their ticket, wait or time; each
 * kept sample stands for 2^L visitors (its weight in the report). The bucket is a function of the
 * set of samples offered, whatever their order and however often each is offered: L ends as the
 * smallest level at which the minute's samples fit, and the bucket holds all of them that qualify
 * at L. So a record delivered again, or by a retried batch, changes nothing: the recording is
 * idempotent, and needs no stream position of its own.
 */
import type { FairnessSample } from './fairness.js';
import type { ImageState } from './stats.js';

/** A sample with the token it came from: a token gives at most one sample (it leaves WAITING once). */
export interface VisitorSample extends FairnessSample {
  tokenId: string;
}

/** One bucket's width: samples are bucketed by the minute of their outcome. */
export const SAMPLE_BUCKET_MS = 60_000;

/**
 * Samples one bucket keeps. 250 a minute is 15,000 an hour, plenty for percentiles, tau and the
 * calibration. The cap is small on purpose: each write of a bucket costs its whole size in write
 * units and a busy minute sees a few times the cap in writes, so a bucket's cost grows with the
 * square of the cap (see lambdas/adapters/dynamo-fairness.ts for the figures).
 */
export const SAMPLES_PER_BUCKET = 250;

/** Levels go no higher: 2^32 visitors in one minute is beyond any room. */
export const MAX_SAMPLE_LEVEL = 32;

/** What a change of a token's state means for the report, from its states before and after. */
export type SampleOutcome = 'admitted' | 'left';

/**
 * WAITING → ADMITTED is an admission; WAITING → absent a departure from the line (a leave or an
 * eviction). Nothing else gives a sample. A removal by the table's TTL is excluded by the caller:
 * it comes at a time unrelated to the visitor's (the checker removes silent visitors long before).
 */
export function sampleOutcomeOf(before: ImageState | undefined, after: ImageState | undefined): SampleOutcome | undefined {
  if (before !== 'WAITING') return undefined;
  if (after === 'ADMITTED') return 'admitted';
  if (after === undefined) return 'left';
  return undefined;
}

/** The minute (epoch ms ÷ 60,000) a sample is bucketed in. */
export function sampleMinuteOf(sample: FairnessSample): number {
  return Math.floor((sample.admittedAt ?? sample.leftWaitingAt ?? 0) / SAMPLE_BUCKET_MS);
}

/**
 * A 32-bit hash of a token id (FNV-1a, then the murmur3 finalizer, so every bit depends on every
 * character): the same everywhere and forever, which is what makes the sampling deterministic.
 */
export function sampleHash(tokenId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < tokenId.length; i++) {
    h ^= tokenId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Whether a bucket at `level` keeps the token's sample: its hash is a multiple of 2^level. */
export function keptAtLevel(tokenId: string, level: number): boolean {
  return level <= 0 || sampleHash(tokenId) % 2 ** level === 0;
}

/** A room's samples of one minute. */
export interface SampleBucket {
  minute: number;
  level: number;
  /** By token id. */
  samples: ReadonlyMap<string, VisitorSample>;
}

/** The weight of a bucket's samples: each stands for 2^level visitors. */
export const bucketWeight = (bucket: Pick<SampleBucket, 'level'>): number => 2 ** bucket.level;

/** How a bucket takes new samples. */
export type BucketMerge =
  /** Every sample offered is in the bucket already, or not kept at its level. */
  | { kind: 'unchanged' }
  /** The bucket holds a later minute (its slot was reused): the samples are too old to keep. */
  | { kind: 'stale'; dropped: number }
  /** Same minute, same level: add these samples (the bucket stays within the cap). */
  | { kind: 'add'; added: VisitorSample[]; bucket: SampleBucket }
  /** A new bucket, a new minute in the slot, or a higher level: write the bucket whole. */
  | { kind: 'replace'; added: VisitorSample[]; bucket: SampleBucket };

/**
 * Merges samples of one minute into the bucket that holds that minute's slot (undefined: none yet).
 * Samples of another minute are refused (a programming error: the caller groups by minute).
 */
export function mergeIntoBucket(
  existing: SampleBucket | undefined,
  minute: number,
  incoming: readonly VisitorSample[],
  cap: number = SAMPLES_PER_BUCKET,
): BucketMerge {
  for (const sample of incoming) {
    if (sampleMinuteOf(sample) !== minute) throw new RangeError(`sample of token ${sample.tokenId} is not of minute ${minute}`);
  }
  if (existing && existing.minute > minute) return { kind: 'stale', dropped: incoming.length };
  const fresh = !existing || existing.minute < minute;
  const level = fresh ? 0 : existing.level;
  const samples = new Map(fresh ? [] : existing.samples);
  const added: VisitorSample[] = [];
  for (const sample of incoming) {
    if (samples.has(sample.tokenId) || !keptAtLevel(sample.tokenId, level)) continue;
    samples.set(sample.tokenId, sample);
    added.push(sample);
  }
  if (added.length === 0) return { kind: 'unchanged' };
  let next = level;
  while (samples.size > cap && next < MAX_SAMPLE_LEVEL) {
    next++;
    for (const tokenId of [...samples.keys()]) if (!keptAtLevel(tokenId, next)) samples.delete(tokenId);
  }
  const bucket: SampleBucket = { minute, level: next, samples };
  if (!fresh && next === level) return { kind: 'add', added, bucket };
  return { kind: 'replace', added: added.filter((s) => samples.has(s.tokenId)), bucket };
}

/** The samples of some buckets, each weighted by its bucket's level, one per token (the first bucket read wins). */
export function weightedSamples(buckets: readonly SampleBucket[]): VisitorSample[] {
  const seen = new Map<string, VisitorSample>();
  for (const bucket of buckets) {
    const weight = bucketWeight(bucket);
    for (const sample of bucket.samples.values()) {
      if (!seen.has(sample.tokenId)) seen.set(sample.tokenId, weight === 1 ? { ...sample } : { ...sample, weight });
    }
  }
  return [...seen.values()];
}

/** Port: where the stats aggregator records samples. */
export interface VisitorSampleStore {
  /** Records samples of one room, idempotently (a sample given again changes nothing). */
  record(roomId: string, samples: readonly VisitorSample[]): Promise<SampleRecordResult>;
}

export interface SampleRecordResult {
  /** Samples newly kept. */
  kept: number;
  /** Samples too old for their bucket's slot. */
  dropped: number;
}
