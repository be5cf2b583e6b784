import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SAMPLES_PER_BUCKET,
  SAMPLE_BUCKET_MS,
  keptAtLevel,
  mergeIntoBucket,
  sampleHash,
  sampleMinuteOf,
  sampleOutcomeOf,
  weightedSamples,
  type SampleBucket,
  type VisitorSample,
} from '../../../lambdas/domain/reporting/fairness-samples.js';

const MINUTE = Math.floor(Date.UTC(2026, 0, 1, 12) / SAMPLE_BUCKET_MS);
const tokenId = (i: number) => `t${String(i).padStart(21, '0')}`;
const sample = (i: number, minute = MINUTE): VisitorSample => ({
  tokenId: tokenId(i),
  ticket: i,
  issuedAt: minute * SAMPLE_BUCKET_MS - 60_000,
  admittedAt: minute * SAMPLE_BUCKET_MS + (i % 60_000),
});

/** Merges samples into a bucket one batch at a time, as successive stream batches do. */
function mergeAll(batches: readonly (readonly VisitorSample[])[], cap: number, start?: SampleBucket): SampleBucket | undefined {
  let bucket = start;
  for (const batch of batches) {
    const merge = mergeIntoBucket(bucket, MINUTE, batch, cap);
    if (merge.kind === 'add' || merge.kind === 'replace') bucket = merge.bucket;
  }
  return bucket;
}
const contentOf = (bucket: SampleBucket | undefined) => bucket && { minute: bucket.minute, level: bucket.level, ids: [...bucket.samples.keys()].sort() };

describe('fairness samples: which changes give one', () => {
  it.each([
    ['WAITING', 'ADMITTED', 'admitted'],
    ['WAITING', undefined, 'left'],
    [undefined, 'WAITING', undefined],
    ['WAITING', 'WAITING', undefined],
    ['ADMITTED', undefined, undefined],
    ['ADMITTED', 'ADMITTED', undefined],
    ['WAITING', 'UNKNOWN', undefined],
  ] as const)('%s → %s gives %s', (before, after, expected) => {
    expect(sampleOutcomeOf(before, after)).toBe(expected);
  });

  it('buckets a sample by the minute of its outcome', () => {
    expect(sampleMinuteOf({ ticket: 1, issuedAt: 0, admittedAt: 3 * SAMPLE_BUCKET_MS + 59_999 })).toBe(3);
    expect(sampleMinuteOf({ ticket: 1, issuedAt: 0, leftWaitingAt: 4 * SAMPLE_BUCKET_MS })).toBe(4);
  });
});

describe('fairness samples: the sampling rule', () => {
  it('hashes a token id the same way every time, over all 32 bits', () => {
    expect(sampleHash('AAAAAAAAAAAAAAAAAAAAAA')).toBe(sampleHash('AAAAAAAAAAAAAAAAAAAAAA'));
    expect(sampleHash('AAAAAAAAAAAAAAAAAAAAAA')).not.toBe(sampleHash('AAAAAAAAAAAAAAAAAAAAAB'));
    const hashes = Array.from({ length: 4096 }, (_, i) => sampleHash(tokenId(i)));
    expect(Math.max(...hashes)).toBeGreaterThan(2 ** 31);
    // Level 2 keeps about a quarter, whatever the ids look like.
    const kept = Array.from({ length: 4096 }, (_, i) => tokenId(i)).filter((id) => keptAtLevel(id, 2)).length;
    expect(kept).toBeGreaterThan(900);
    expect(kept).toBeLessThan(1150);
  });

  it('keeps everything at level 0 and, from one level to the next, a subset', () => {
    for (let i = 0; i < 500; i++) {
      expect(keptAtLevel(tokenId(i), 0)).toBe(true);
      if (keptAtLevel(tokenId(i), 3)) expect(keptAtLevel(tokenId(i), 2)).toBe(true);
    }
  });
});

describe('fairness samples: a minute bucket', () => {
  it('starts a bucket, then adds to it at the same level', () => {
    const first = mergeIntoBucket(undefined, MINUTE, [sample(1), sample(2)]);
    expect(first.kind).toBe('replace');
    const bucket = (first as { bucket: SampleBucket }).bucket;
    expect(contentOf(bucket)).toEqual({ minute: MINUTE, level: 0, ids: [tokenId(1), tokenId(2)] });
    const second = mergeIntoBucket(bucket, MINUTE, [sample(2), sample(3)]);
    expect(second).toMatchObject({ kind: 'add', added: [sample(3)] });
    expect(mergeIntoBucket((second as { bucket: SampleBucket }).bucket, MINUTE, [sample(1), sample(3)])).toEqual({ kind: 'unchanged' });
  });

  it('raises its level instead of growing past the cap, and never holds more', () => {
    const all = Array.from({ length: 1000 }, (_, i) => sample(i));
    const bucket = mergeAll([all.slice(0, 400), all.slice(400)], SAMPLES_PER_BUCKET)!;
    expect(bucket.samples.size).toBeLessThanOrEqual(SAMPLES_PER_BUCKET);
    expect(bucket.level).toBeGreaterThanOrEqual(2);
    // Exactly the samples kept at its level, and at the level below they would not fit.
    expect([...bucket.samples.keys()].sort()).toEqual(all.filter((s) => keptAtLevel(s.tokenId, bucket.level)).map((s) => s.tokenId).sort());
    expect(all.filter((s) => keptAtLevel(s.tokenId, bucket.level - 1)).length).toBeGreaterThan(SAMPLES_PER_BUCKET);
  });

  it('is the same whatever the order of the samples, their batches and their repeats', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { maxLength: 120 }),
        fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 5, max: 40 }),
        (ids, repeats, batches, cap) => {
          const samples = ids.map((i) => sample(i));
          const once = mergeAll([samples], cap);
          // Shuffled (reversed), split into batches, with some samples offered again (redeliveries).
          const again = [...samples].reverse().concat(repeats.filter((i) => ids.includes(i)).map((i) => sample(i)));
          const size = Math.max(1, Math.ceil(again.length / batches));
          const split = Array.from({ length: Math.ceil(again.length / size) }, (_, b) => again.slice(b * size, (b + 1) * size));
          expect(contentOf(mergeAll(split, cap))).toEqual(contentOf(once));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('takes a new minute in its slot, and refuses samples older than the minute it holds', () => {
    const old: SampleBucket = { minute: MINUTE - 64, level: 1, samples: new Map([[tokenId(1), sample(1, MINUTE - 64)]]) };
    const replaced = mergeIntoBucket(old, MINUTE, [sample(2)]);
    expect(replaced.kind).toBe('replace');
    expect(contentOf((replaced as { bucket: SampleBucket }).bucket)).toEqual({ minute: MINUTE, level: 0, ids: [tokenId(2)] });
    const newer: SampleBucket = { minute: MINUTE + 64, level: 0, samples: new Map() };
    expect(mergeIntoBucket(newer, MINUTE, [sample(3), sample(4)])).toEqual({ kind: 'stale', dropped: 2 });
  });

  it('refuses a sample of another minute', () => {
    expect(() => mergeIntoBucket(undefined, MINUTE, [sample(1, MINUTE + 1)])).toThrow(RangeError);
  });
});

describe('fairness samples: reading buckets back', () => {
  it('weighs each sample by its bucket level, one sample per token', () => {
    const quiet: SampleBucket = { minute: MINUTE, level: 0, samples: new Map([[tokenId(1), sample(1)]]) };
    const busy: SampleBucket = { minute: MINUTE + 1, level: 3, samples: new Map([[tokenId(2), sample(2, MINUTE + 1)], [tokenId(1), sample(1, MINUTE + 1)]]) };
    expect(weightedSamples([quiet, busy])).toEqual([sample(1), { ...sample(2, MINUTE + 1), weight: 8 }]);
  });
});
