/**
 * The lottery's hashes and draw (lambdas/domain/events/lottery.ts): exactly what is hashed, checked
 * against vectors made with `printf | xxd -r -p | sha256sum` (the commands verifier/LOTTERY.md
 * gives) and against Node's own crypto; the draw deterministic, its errors clear, and fast enough
 * for 100,000 visitors.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  HEX64_PATTERN,
  LotteryError,
  checkPublication,
  commitmentOf,
  drawKeyOf,
  drawOrder,
  entryOf,
  entryText,
  listDigestOf,
  lotteryPublication,
  lotteryReceiptClaims,
  newLotterySeed,
  placeInDraw,
} from '../../../lambdas/domain/events/lottery.js';
import { EVENT, ROOM } from './fixtures.js';

/** Bytes 0x00..0x1f. */
const SEED = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const TOKEN_1 = 'tok0000000000000000001';
const TOKEN_2 = 'tok0000000000000000002';

/** Made with the shell commands of verifier/LOTTERY.md (coreutils sha256sum, xxd). */
const VECTORS = {
  // printf %s "$seed" | xxd -r -p | sha256sum
  commitment: '630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd',
  // printf 'wr-lottery-v1\n%s\n%s\n%s\n%s' shop launch-2026 42 tok0000000000000000001 | sha256sum
  entry42: 'e68cc0653bb35628e9b683768564940cf2573be4b4047ebefb5e2587dd4dc03c',
  entry43: '1ce7a59e96c7c58c5f61cd58b08360eb29617560ae212c612104d6561a41ad37',
  // printf %s "$seed$entry" | xxd -r -p | sha256sum
  key42: '8c4ca566a5d519c273a2acf981100977f9faba958c551ffc39af0d12b183f38f',
  key43: 'a510229fb0e0bcb2314002fd9a5e8d68b4fbe60b4792e9d5a8730a1c451fbc8c',
  // the sorted list's bytes: printf %s "$entry43$entry42" | xxd -r -p | sha256sum
  listDigest: 'fb679a1b6ca1eba12699e00f31a3691db3ff5e5968c13e71e5fc777c6ea543e0',
};

const nodeSha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const randomEntries = (n: number) => Array.from({ length: n }, () => randomBytes(32).toString('hex'));

describe('the seed and its commitment', () => {
  it('draws 32 random bytes, as 64 lowercase hex digits, different each time', () => {
    const seeds = new Set(Array.from({ length: 50 }, newLotterySeed));
    expect(seeds.size).toBe(50);
    for (const seed of seeds) expect(seed).toMatch(HEX64_PATTERN);
  });

  it("commits with SHA-256 of the seed's 32 bytes, not of its hex text", async () => {
    expect(await commitmentOf(SEED)).toBe(VECTORS.commitment);
    expect(VECTORS.commitment).toBe(nodeSha256(Buffer.from(SEED, 'hex')));
    expect(VECTORS.commitment).not.toBe(nodeSha256(SEED));
    // WebCrypto and Node's crypto agree on fresh seeds too.
    for (const seed of [newLotterySeed(), newLotterySeed()]) expect(await commitmentOf(seed)).toBe(nodeSha256(Buffer.from(seed, 'hex')));
  });

  it('refuses a seed that is not 64 lowercase hex digits', async () => {
    for (const seed of ['', SEED.slice(2), `${SEED}00`, SEED.toUpperCase(), `${SEED.slice(0, 62)}zz`]) {
      await expect(commitmentOf(seed), seed).rejects.toThrow(LotteryError);
    }
    await expect(commitmentOf('abc')).rejects.toThrow(/64 lowercase hex digits/);
  });
});

describe('an entry', () => {
  it('is SHA-256 of the versioned text "wr-lottery-v1\\n<room>\\n<event>\\n<ticket>\\n<token>"', async () => {
    const entrant = { roomId: ROOM, eventId: EVENT, ticket: 42, tokenId: TOKEN_1 };
    expect(entryText(entrant)).toBe(`wr-lottery-v1\nshop\nlaunch-2026\n42\n${TOKEN_1}`);
    expect(await entryOf(entrant)).toBe(VECTORS.entry42);
    expect(VECTORS.entry42).toBe(nodeSha256(entryText(entrant)));
    expect(await entryOf({ ...entrant, ticket: 43, tokenId: TOKEN_2 })).toBe(VECTORS.entry43);
  });

  it('changes with each field', async () => {
    const base = { roomId: ROOM, eventId: EVENT, ticket: 42, tokenId: TOKEN_1 };
    const variants = [base, { ...base, roomId: 'shop2' }, { ...base, eventId: 'launch-2027' }, { ...base, ticket: 420 }, { ...base, tokenId: TOKEN_2 }];
    expect(new Set(await Promise.all(variants.map(entryOf))).size).toBe(variants.length);
  });

  it('refuses fields that could make the text ambiguous or are not ids', () => {
    const base = { roomId: ROOM, eventId: EVENT, ticket: 42, tokenId: TOKEN_1 };
    for (const bad of [{ roomId: 'shop\nlaunch' }, { roomId: '' }, { eventId: 'a\nb' }, { eventId: '-x' }, { ticket: 0 }, { ticket: 1.5 }, { ticket: -3 }, { tokenId: 'short' }]) {
      expect(() => entryText({ ...base, ...bad }), JSON.stringify(bad)).toThrow(LotteryError);
    }
  });
});

describe('the draw', () => {
  it("orders entries by SHA-256(seed bytes ‖ entry bytes), ascending", async () => {
    expect(await drawKeyOf(SEED, VECTORS.entry42)).toBe(VECTORS.key42);
    expect(await drawKeyOf(SEED, VECTORS.entry43)).toBe(VECTORS.key43);
    expect(VECTORS.key42).toBe(nodeSha256(Buffer.from(SEED + VECTORS.entry42, 'hex')));
    expect(await drawOrder(SEED, [VECTORS.entry43, VECTORS.entry42])).toEqual([VECTORS.entry42, VECTORS.entry43]);
    expect(await placeInDraw(SEED, [VECTORS.entry43, VECTORS.entry42], VECTORS.entry43)).toBe(2);
  });

  it('gives the order Node computes, and the same places as placeInDraw', async () => {
    const seed = newLotterySeed();
    const entries = randomEntries(300);
    const expected = [...entries].sort((a, b) => {
      const [ka, kb] = [a, b].map((e) => nodeSha256(Buffer.from(seed + e, 'hex')));
      return ka! < kb! ? -1 : 1;
    });
    const order = await drawOrder(seed, entries);
    expect(order).toEqual(expected);
    for (const [i, entry] of order.entries()) if (i % 37 === 0) expect(await placeInDraw(seed, entries, entry)).toBe(i + 1);
  });

  it('is the same every time, and another seed gives another order', async () => {
    const entries = randomEntries(200);
    const first = await drawOrder(SEED, entries);
    expect(await drawOrder(SEED, entries)).toEqual(first);
    expect(await drawOrder(newLotterySeed(), entries)).not.toEqual(first);
  });

  it('has no place for an entry that is not in the list, and handles an empty list', async () => {
    expect(await placeInDraw(SEED, [VECTORS.entry42], VECTORS.entry43)).toBeUndefined();
    expect(await drawOrder(SEED, [])).toEqual([]);
  });

  it('refuses an entry given twice, or malformed', async () => {
    await expect(drawOrder(SEED, [VECTORS.entry42, VECTORS.entry43, VECTORS.entry42])).rejects.toThrow(/in the list twice/);
    await expect(drawOrder(SEED, [VECTORS.entry42.toUpperCase()])).rejects.toThrow(/Entry 1 must be 64 lowercase hex digits/);
    await expect(placeInDraw(SEED, [VECTORS.entry42, VECTORS.entry42], VECTORS.entry42)).rejects.toThrow(LotteryError);
    await expect(drawOrder('seed', [VECTORS.entry42])).rejects.toThrow(/seed/);
  });

  // A large pre-queue is drawn as a whole (no timing here: a quadratic step would show as a test
  // that never ends; 100,000 entries take 1.5-2.5 s on two cores, nearly all of it WebCrypto's digests).
  it('draws 20,000 entries into a permutation of them', async () => {
    const entries = randomEntries(20_000);
    const order = await drawOrder(newLotterySeed(), entries);
    expect(order).toHaveLength(20_000);
    expect(new Set(order)).toEqual(new Set(entries));
  }, 60_000);
});

describe('a receipt', () => {
  it('claims the room, event, ticket, token, entry and commitment, issued now, by the lottery issuer', async () => {
    const claims = await lotteryReceiptClaims({ roomId: ROOM, eventId: EVENT, ticket: 42, tokenId: TOKEN_1, commitment: VECTORS.commitment, now: 1_796_000_000_999 });
    expect(claims).toEqual({
      iss: 'waiting-room/lottery',
      typ: 'wr-lottery-receipt',
      room: ROOM,
      event: EVENT,
      ticket: 42,
      sub: TOKEN_1,
      entry: VECTORS.entry42,
      commitment: VECTORS.commitment,
      iat: 1_796_000_000,
    });
    expect(claims).not.toHaveProperty('exp');
  });

  it('never carries the admission passes\' issuer, and needs a well-formed commitment', async () => {
    const subject = { roomId: ROOM, eventId: EVENT, ticket: 42, tokenId: TOKEN_1, commitment: VECTORS.commitment, now: 0 };
    await expect(lotteryReceiptClaims({ ...subject, issuer: 'waiting-room' })).rejects.toThrow(/never pass for a pass/);
    await expect(lotteryReceiptClaims({ ...subject, commitment: 'x' })).rejects.toThrow(/commitment/);
    expect((await lotteryReceiptClaims({ ...subject, issuer: 'shop.example' })).iss).toBe('shop.example');
  });
});

describe('a publication', () => {
  const pub = () => lotteryPublication({ roomId: ROOM, eventId: EVENT, commitment: VECTORS.commitment, seed: SEED, entries: [VECTORS.entry42, VECTORS.entry43], closedAt: 1 });

  it('is built sorted by entry, and its list digest is SHA-256 of the entries\' bytes in that order', async () => {
    expect(pub().entries).toEqual([VECTORS.entry43, VECTORS.entry42]);
    expect(await listDigestOf(pub().entries)).toBe(VECTORS.listDigest);
    expect(await checkPublication(pub())).toEqual([]);
    expect(() => lotteryPublication({ ...pub(), entries: [VECTORS.entry42, VECTORS.entry42] })).toThrow(/twice/);
  });

  it('is checked: sorted, unique, well-formed, and the seed matching the commitment', async () => {
    const codes = async (value: unknown) => (await checkPublication(value)).map((p) => p.code);
    expect(await codes({ ...pub(), entries: [VECTORS.entry42, VECTORS.entry43] })).toEqual(['list-not-sorted']);
    expect(await codes({ ...pub(), entries: [VECTORS.entry43, VECTORS.entry43, VECTORS.entry42] })).toEqual(['list-duplicate']);
    expect(await codes({ ...pub(), entries: [VECTORS.entry43, VECTORS.entry42, VECTORS.entry43] })).toEqual(['list-not-sorted', 'list-duplicate']);
    expect(await codes({ ...pub(), entries: [VECTORS.entry43, 'nope'] })).toEqual(['list-bad-entry']);
    expect(await codes({ ...pub(), seed: newLotterySeed() })).toEqual(['seed-mismatch']);
    const { seed: _unrevealed, ...closed } = pub();
    expect(await codes(closed)).toEqual([]);
    for (const bad of [null, [], 'x', { ...pub(), roomId: 'a b' }, { ...pub(), commitment: 'x' }, { ...pub(), seed: 7 }, { ...pub(), entries: 'x' }, { ...pub(), closedAt: 'soon' }]) {
      expect(await codes(bad), JSON.stringify(bad)).toEqual(['publication-malformed']);
    }
  });
});
