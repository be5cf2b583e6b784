/**
 * The receipt signer (lambdas/adapters/lottery-receipt-signer.ts): ES256 with the pass key set's
 * current key and its kid, the receipt's own header type, the key imported once per key; and a
 * receipt, signed with the very keys that sign admission passes, never accepted as a pass.
 */
import { decodeProtectedHeader, importJWK, type CryptoKey } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { JoseLotteryReceiptSigner } from '../../../lambdas/adapters/lottery-receipt-signer.js';
import { KeySetPassVerifier } from '../../../lambdas/adapters/pass-verifier.js';
import { generateKeySet, rotateKeySet } from '../../../lambdas/adapters/pass-key-sources.js';
import { commitmentOf, newLotterySeed } from '../../../lambdas/domain/events/lottery.js';
import { verifyLotteryPlace } from '../../../lambdas/domain/events/lottery-verify.js';
import { passJwksOf, type PassKeySet } from '../../../lambdas/domain/passes/pass-keys.js';
import { PassRejectedError, verifyPass } from '../../../verifier/index.js';
import { MutableKeySource } from '../passes/fixtures.js';
import { EVENT, PREQUEUE_START, ROOM, tokenId } from './fixtures.js';

const subject = async () => ({ roomId: ROOM, eventId: EVENT, ticket: 12, tokenId: tokenId(), commitment: await commitmentOf(newLotterySeed()) });

describe('the lottery receipt signer', () => {
  it("signs ES256 with the current key, its kid and the receipt's header type, and returns the entry", async () => {
    const keySet = await generateKeySet();
    const signer = new JoseLotteryReceiptSigner(new MutableKeySource(keySet));
    const issued = await signer.issue(await subject(), PREQUEUE_START);
    expect(decodeProtectedHeader(issued.receipt)).toEqual({ alg: 'ES256', kid: keySet.current.kid, typ: 'wr-lottery-receipt+jwt' });
    expect(issued.entry).toBe(issued.claims.entry);
    expect(issued.claims.iat).toBe(PREQUEUE_START / 1000);
    expect(issued.claims.iss).toBe('waiting-room/lottery');
  });

  it('imports the private key once per key, and again after a rotation', async () => {
    const source = new MutableKeySource(await generateKeySet());
    const importKey = vi.fn(async (jwk: PassKeySet['current']) => (await importJWK(jwk, 'ES256')) as CryptoKey);
    const signer = new JoseLotteryReceiptSigner(source, { importKey });
    for (let i = 0; i < 3; i += 1) await signer.issue(await subject(), PREQUEUE_START);
    expect(importKey).toHaveBeenCalledTimes(1);
    source.keySet = await rotateKeySet(source.keySet);
    const { receipt } = await signer.issue(await subject(), PREQUEUE_START);
    expect(importKey).toHaveBeenCalledTimes(2);
    expect(decodeProtectedHeader(receipt).kid).toBe(source.keySet.current.kid);
  });

  it('takes another issuer, but never the passes\' one', async () => {
    const keySet = await generateKeySet();
    const named = new JoseLotteryReceiptSigner(new MutableKeySource(keySet), { issuer: 'shop.example' });
    expect((await named.issue(await subject(), PREQUEUE_START)).claims.iss).toBe('shop.example');
    const wrong = new JoseLotteryReceiptSigner(new MutableKeySource(keySet), { issuer: 'waiting-room' });
    await expect(wrong.issue(await subject(), PREQUEUE_START)).rejects.toThrow(/never pass for a pass/);
  });

  it('makes receipts that the verifier checks against the published JWKS', async () => {
    const keySet = await generateKeySet();
    const s = await subject();
    const { receipt, entry } = await new JoseLotteryReceiptSigner(new MutableKeySource(keySet)).issue(s, PREQUEUE_START);
    const result = await verifyLotteryPlace({ receipt, publication: { roomId: ROOM, eventId: EVENT, commitment: s.commitment, entries: [entry] }, jwks: passJwksOf(keySet) });
    expect(result).toMatchObject({ ok: true, signature: { checked: true, kid: keySet.current.kid } });
  });
});

describe('a receipt shown as an admission pass', () => {
  it('is refused by the origin verifier and by the functions\' own pass verifier', async () => {
    const keySet = await generateKeySet();
    const { receipt } = await new JoseLotteryReceiptSigner(new MutableKeySource(keySet)).issue(await subject(), Date.now());
    const refusal = await verifyPass(receipt, { jwks: passJwksOf(keySet), roomId: ROOM }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(PassRejectedError);
    await expect(new KeySetPassVerifier(new MutableKeySource(keySet)).verify(receipt, ROOM, Date.now())).rejects.toThrow();
  });
});
