/** Shared fixtures for the lottery tests: a key set, a receipt signer, and a whole event's lottery of N visitors. */
import { randomBytes } from 'node:crypto';
import { JoseLotteryReceiptSigner } from '../../../lambdas/adapters/lottery-receipt-signer.js';
import { generateKeySet } from '../../../lambdas/adapters/pass-key-sources.js';
import { commitmentOf, drawOrder, lotteryPublication, newLotterySeed, type LotteryPublication, type LotteryReceipt } from '../../../lambdas/domain/events/lottery.js';
import { passJwksOf, type PassJwks, type PassKeySet } from '../../../lambdas/domain/passes/pass-keys.js';

export const ROOM = 'shop';
export const EVENT = 'launch-2026';
/** 2026-12-01T10:00:00Z, when the pre-queue opens. */
export const PREQUEUE_START = Date.UTC(2026, 11, 1, 10);

/** A random token id: 16 bytes, base64url (lambdas/domain/id-patterns.ts). */
export const tokenId = () => randomBytes(16).toString('base64url');

export const keySource = (keySet: PassKeySet) => ({ getKeySet: async () => keySet });

/** An event's lottery, from the pre-queue opening to the seed's reveal. */
export interface Lottery {
  keySet: PassKeySet;
  jwks: PassJwks;
  seed: string;
  commitment: string;
  /** One receipt per visitor, by ticket (index 0 is ticket 1). */
  receipts: LotteryReceipt[];
  /** The list as published at close, without the seed. */
  closed: LotteryPublication;
  /** The same with the seed revealed. */
  revealed: LotteryPublication;
  /** The draw: entries in place order. */
  order: string[];
}

/** `visitors` pre-queued visitors (tickets 1..visitors), each with a signed receipt; then the list is closed and the seed revealed. */
export async function runLottery(visitors: number): Promise<Lottery> {
  const keySet = await generateKeySet();
  const signer = new JoseLotteryReceiptSigner(keySource(keySet));
  const seed = newLotterySeed();
  const commitment = await commitmentOf(seed);
  const receipts = await Promise.all(
    Array.from({ length: visitors }, (_, i) => signer.issue({ roomId: ROOM, eventId: EVENT, ticket: i + 1, tokenId: tokenId(), commitment }, PREQUEUE_START + i * 50)),
  );
  const closed = lotteryPublication({ roomId: ROOM, eventId: EVENT, commitment, entries: receipts.map((r) => r.entry), closedAt: PREQUEUE_START + 3_600_000 });
  const revealed = { ...closed, seed };
  return { keySet, jwks: passJwksOf(keySet), seed, commitment, receipts, closed, revealed, order: await drawOrder(seed, closed.entries) };
}
