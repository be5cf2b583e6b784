/**
 * A whole event's lottery of 1,000 visitors, each with a receipt signed ES256 with the pass key
 * set: the verifier alone (lambdas/domain/events/lottery-verify.ts: a receipt, the publication, the JWKS)
 * gives every visitor the very place the draw gave them, and each kind of tampering, with the
 * receipt, the list or the seed, is found out as a problem of its own.
 */
import { SignJWT, importJWK, type CryptoKey } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { JoseLotteryReceiptSigner } from '../../../lambdas/adapters/lottery-receipt-signer.js';
import { generateKeySet, generatePassKey } from '../../../lambdas/adapters/pass-key-sources.js';
import { commitmentOf, listDigestOf, lotteryReceiptClaims, newLotterySeed, type LotteryPublication } from '../../../lambdas/domain/events/lottery.js';
import { SIGNATURE_NOT_CHECKED, verifyLotteryPlace, type LotteryPlaceResult, type LotteryProblemCode } from '../../../lambdas/domain/events/lottery-verify.js';
import { passJwksOf } from '../../../lambdas/domain/passes/pass-keys.js';
import { b64json, editJws, unb64json } from '../passes/fixtures.js';
import { EVENT, PREQUEUE_START, ROOM, keySource, runLottery, tokenId, type Lottery } from './fixtures.js';

let lottery: Lottery;
beforeAll(async () => {
  lottery = await runLottery(1_000);
}, 60_000);

const codes = (result: LotteryPlaceResult): LotteryProblemCode[] => (result.ok ? [] : result.problems.map((p) => p.code));
/** A visitor (by ticket) and their receipt. */
const visitor = (ticket: number) => lottery.receipts[ticket - 1]!;
const verify = (receipt: string, publication: unknown = lottery.revealed, jwks: unknown = lottery.jwks) => verifyLotteryPlace({ receipt, publication, jwks });
/** The check without a JWKS: the signature not checked. */
const verifyUnsigned = (receipt: string, publication: unknown = lottery.revealed) => verifyLotteryPlace({ receipt, publication });
/** The receipt with its payload edited and its signature kept. */
const edited = (receipt: string, change: (claims: Record<string, unknown>) => void) =>
  editJws(receipt, (parts) => {
    const claims = unb64json(parts.payload);
    change(claims);
    parts.payload = b64json(claims);
  });
const withEntries = (entries: string[]): LotteryPublication => ({ ...lottery.revealed, entries });

describe('a lottery of 1,000 visitors', () => {
  it('gives every visitor, from their receipt alone, the place the draw gave them', async () => {
    const places = new Map<string, number>();
    for (const { receipt, entry } of lottery.receipts) {
      const result = await verify(receipt);
      if (!result.ok) throw new Error(JSON.stringify(result.problems));
      expect(result).toMatchObject({ entry, of: 1_000, signature: { checked: true, kid: lottery.keySet.current.kid }, warnings: [] });
      places.set(entry, result.place!);
    }
    // The verifier's places, put in order, are the draw itself.
    const reproduced = [...places.entries()].sort((a, b) => a[1] - b[1]).map(([entry]) => entry);
    expect(reproduced).toEqual(lottery.order);
    expect([...places.values()].sort((a, b) => a - b)).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
  }, 60_000);

  it('says what the receipt is and what was checked', async () => {
    const { receipt, claims, entry } = visitor(7);
    const result = await verify(receipt);
    expect(result).toMatchObject({
      ok: true,
      roomId: ROOM,
      eventId: EVENT,
      ticket: 7,
      tokenId: claims.sub,
      entry,
      commitment: lottery.commitment,
      seed: lottery.seed,
      listDigest: await listDigestOf(lottery.closed.entries),
      closedAt: lottery.closed.closedAt,
    });
  });

  it('before the seed is revealed, finds the entry in the list and says the place is not drawn yet', async () => {
    const result = await verify(visitor(1).receipt, lottery.closed);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.place).toBeUndefined();
    expect(result.warnings.join(' ')).toMatch(/not revealed yet/);
  });

  it('without a JWKS, says the signature was NOT checked', async () => {
    const result = await verifyUnsigned(visitor(1).receipt);
    expect(result).toMatchObject({ ok: true, signature: { checked: false }, warnings: [SIGNATURE_NOT_CHECKED] });
  });
});

describe('a tampered receipt', () => {
  it('with another ticket: the signature fails, and the entry is not the hash of the claims', async () => {
    const receipt = edited(visitor(500).receipt, (claims) => (claims.ticket = 1));
    expect(codes(await verify(receipt))).toEqual(['signature-invalid', 'receipt-entry-mismatch']);
    // Even without the JWKS the edit shows.
    expect(codes(await verifyUnsigned(receipt))).toEqual(['receipt-entry-mismatch']);
  });

  it('with another token id: likewise', async () => {
    const receipt = edited(visitor(500).receipt, (claims) => (claims.sub = tokenId()));
    expect(codes(await verify(receipt))).toEqual(['signature-invalid', 'receipt-entry-mismatch']);
    expect(codes(await verifyUnsigned(receipt))).toEqual(['receipt-entry-mismatch']);
  });

  it('with another ticket and a recomputed entry: the signature fails, and the entry is not in the list', async () => {
    const { claims } = visitor(500);
    const forged = await lotteryReceiptClaims({ roomId: ROOM, eventId: EVENT, ticket: 1, tokenId: claims.sub, commitment: lottery.commitment, now: PREQUEUE_START });
    const receipt = edited(visitor(500).receipt, (c) => Object.assign(c, forged));
    expect(codes(await verify(receipt))).toEqual(['signature-invalid', 'entry-missing']);
  });

  it('re-signed with another key: the signature fails, with the other key\'s kid or with the room\'s', async () => {
    const other = await generatePassKey();
    const otherKey = (await importJWK(other, 'ES256')) as CryptoKey;
    const { claims } = visitor(3);
    for (const kid of [other.kid, lottery.keySet.current.kid]) {
      const receipt = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'ES256', kid, typ: 'wr-lottery-receipt+jwt' }).sign(otherKey);
      const result = await verify(receipt);
      expect(codes(result), kid).toEqual(['signature-invalid']);
      // Claims consistent, but not signed by the room: without the JWKS, only the warning tells.
      expect(await verifyUnsigned(receipt)).toMatchObject({ ok: true, warnings: [SIGNATURE_NOT_CHECKED] });
    }
  });

  it('unsigned (alg none): refused, JWKS or not', async () => {
    const receipt = editJws(visitor(3).receipt, (parts) => {
      parts.header = b64json({ alg: 'none', typ: 'wr-lottery-receipt+jwt' });
      parts.signature = '';
    });
    expect(codes(await verify(receipt))).toEqual(['signature-invalid']);
    expect(codes(await verifyUnsigned(receipt))).toEqual(['signature-invalid']);
  });

  it('issued under another commitment, properly signed: the commitments differ', async () => {
    const signer = new JoseLotteryReceiptSigner(keySource(lottery.keySet));
    const { claims } = visitor(9);
    const { receipt } = await signer.issue({ roomId: ROOM, eventId: EVENT, ticket: 9, tokenId: claims.sub, commitment: await commitmentOf(newLotterySeed()) }, PREQUEUE_START);
    expect(codes(await verify(receipt))).toEqual(['commitment-mismatch']);
  });

  it('for another event or room: says so', async () => {
    const signer = new JoseLotteryReceiptSigner(keySource(lottery.keySet));
    const { claims } = visitor(9);
    const subject = { roomId: ROOM, eventId: EVENT, ticket: 9, tokenId: claims.sub, commitment: lottery.commitment };
    const otherEvent = await signer.issue({ ...subject, eventId: 'launch-2027' }, PREQUEUE_START);
    expect(codes(await verify(otherEvent.receipt))).toEqual(['event-mismatch', 'entry-missing']);
    const otherRoom = await signer.issue({ ...subject, roomId: 'other-shop' }, PREQUEUE_START);
    expect(codes(await verify(otherRoom.receipt))).toEqual(['room-mismatch', 'entry-missing']);
  });

  it('that is not a receipt at all (an admission pass, garbage): malformed', async () => {
    const pass = await new SignJWT({ room: ROOM, ticket: 9 })
      .setProtectedHeader({ alg: 'ES256', kid: lottery.keySet.current.kid, typ: 'JWT' })
      .setSubject(visitor(9).claims.sub)
      .setIssuer('waiting-room')
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign((await importJWK(lottery.keySet.current, 'ES256')) as CryptoKey);
    expect(codes(await verify(pass))).toEqual(['receipt-malformed']);
    for (const garbage of ['', 'not a receipt', 'a.b.c']) expect(codes(await verify(garbage)), garbage).toContain('receipt-malformed');
  });

  it('checked against a JWKS that is not one: says the JWKS is wrong', async () => {
    expect(codes(await verify(visitor(1).receipt, lottery.revealed, { keys: 'none' }))).toEqual(['jwks-invalid']);
  });

  it('checked against the keys after a rotation: still verifies (the signing key is published as previous)', async () => {
    const rotated = { ...lottery.keySet, current: lottery.keySet.next!, next: await generatePassKey(), previous: [lottery.keySet.current] };
    expect(await verify(visitor(1).receipt, lottery.revealed, passJwksOf(rotated))).toMatchObject({ ok: true });
    expect(codes(await verify(visitor(1).receipt, lottery.revealed, passJwksOf(await generateKeySet())))).toEqual(['signature-invalid']);
  });
});

describe('a tampered list or seed', () => {
  it("with the visitor's entry removed: the entry is missing", async () => {
    const { receipt, entry } = visitor(250);
    expect(codes(await verify(receipt, withEntries(lottery.revealed.entries.filter((e) => e !== entry))))).toEqual(['entry-missing']);
  });

  it("with another entry removed or one added in place: the list digest and the count differ from the list published at close", async () => {
    const closedDigest = await listDigestOf(lottery.closed.entries);
    const removed = withEntries(lottery.revealed.entries.filter((e) => e !== visitor(251).entry));
    const added = withEntries([...lottery.revealed.entries, 'f'.repeat(64)].sort());
    for (const publication of [removed, added]) {
      const result = await verify(visitor(250).receipt, publication);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.listDigest).not.toBe(closedDigest);
      expect(result.of).not.toBe(1_000);
    }
  });

  it('with an entry added out of order: not sorted', async () => {
    expect(codes(await verify(visitor(1).receipt, withEntries([...lottery.revealed.entries, '0'.repeat(64)])))).toEqual(['list-not-sorted']);
  });

  it('reordered (the draw order published as the list): not sorted', async () => {
    expect(codes(await verify(visitor(1).receipt, withEntries(lottery.order)))).toEqual(['list-not-sorted']);
    const swapped = [...lottery.revealed.entries];
    [swapped[10], swapped[11]] = [swapped[11]!, swapped[10]!];
    expect(codes(await verify(visitor(1).receipt, withEntries(swapped)))).toEqual(['list-not-sorted']);
  });

  it('with an entry duplicated: a duplicate', async () => {
    const entries = [...lottery.revealed.entries];
    entries.splice(100, 0, entries[100]!);
    expect(codes(await verify(visitor(1).receipt, withEntries(entries)))).toEqual(['list-duplicate']);
  });

  it('with a malformed entry: a bad entry', async () => {
    const entries = [...lottery.revealed.entries];
    entries[0] = entries[0]!.toUpperCase();
    expect(codes(await verify(visitor(1).receipt, withEntries(entries)))).toContain('list-bad-entry');
  });

  it('with a wrong seed: the seed does not match the commitment', async () => {
    const result = await verify(visitor(1).receipt, { ...lottery.revealed, seed: newLotterySeed() });
    expect(codes(result)).toEqual(['seed-mismatch']);
  });

  it('with another seed and its own commitment: the receipts were issued under the first commitment', async () => {
    const seed = newLotterySeed();
    const result = await verify(visitor(1).receipt, { ...lottery.revealed, seed, commitment: await commitmentOf(seed) });
    expect(codes(result)).toEqual(['commitment-mismatch']);
  });

  it('collects every problem at once', async () => {
    const receipt = edited(visitor(2).receipt, (claims) => (claims.ticket = 3));
    const result = await verify(receipt, { ...withEntries(lottery.order), seed: newLotterySeed() });
    expect(codes(result).sort()).toEqual(['list-not-sorted', 'receipt-entry-mismatch', 'seed-mismatch', 'signature-invalid']);
  });
});
