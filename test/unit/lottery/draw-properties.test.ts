/**
 * Properties of the draw (lambdas/domain/events/lottery.ts) over random seeds and lists: it is a
 * permutation of the list, it depends only on the seed and the set of entries (never on the order
 * they are given in), and placeInDraw agrees with it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { drawOrder, placeInDraw } from '../../../lambdas/domain/events/lottery.js';

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('hex'));
const entriesArb = fc.uniqueArray(hex64, { maxLength: 60 });

describe('the draw, for any seed and list', () => {
  it('is a permutation of the list', async () => {
    await fc.assert(
      fc.asyncProperty(hex64, entriesArb, async (seed, entries) => {
        const order = await drawOrder(seed, entries);
        expect(order).toHaveLength(entries.length);
        expect([...order].sort()).toEqual([...entries].sort());
      }),
      { numRuns: 100 },
    );
  });

  it('does not depend on the order the entries are given in', async () => {
    await fc.assert(
      fc.asyncProperty(
        hex64,
        entriesArb.chain((entries) => fc.tuple(fc.constant(entries), fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }))),
        async (seed, [entries, shuffled]) => {
          expect(await drawOrder(seed, shuffled)).toEqual(await drawOrder(seed, entries));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('gives each entry the place placeInDraw finds for it', async () => {
    await fc.assert(
      fc.asyncProperty(hex64, entriesArb.filter((e) => e.length > 0), fc.nat(), async (seed, entries, pick) => {
        const order = await drawOrder(seed, entries);
        const entry = entries[pick % entries.length]!;
        expect(await placeInDraw(seed, entries, entry)).toBe(order.indexOf(entry) + 1);
      }),
      { numRuns: 100 },
    );
  });
});
