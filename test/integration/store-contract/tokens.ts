/** The store contract (store-contract.test.ts), part: Tokens: putToken, getToken, getTokens, touchToken. */
import { describe, expect, it } from 'vitest';
import {
  lineShardOf,
  type Token,
} from '../../../lambdas/domain/index.js';
import { entryOf, newToken, SHARDS, T0, uid, wholeLine, type Contract } from './harness.js';

export function tokensContract(contract: Contract): void {
  const { store, openRoom, join, joinMany, admit } = contract;

  describe('putToken, getToken, getTokens', () => {
    it('writes tokens and reads them back unchanged, strongly or eventually; a missing token reads as undefined', async () => {
      const roomId = await openRoom(1);
      const waiting = newToken(roomId, 1, { signal: 'keep-place' });
      const admitted = newToken(roomId, 2, { state: 'ADMITTED', admittedAt: T0 + 9, checkSeq: 4, lastSeenAt: T0 + 8 });
      await store.putToken(waiting, SHARDS);
      await store.putToken(admitted, SHARDS);
      expect(await store.getToken(waiting.tokenId)).toEqual(waiting);
      expect(await store.getToken(waiting.tokenId, false)).toEqual(waiting);
      expect(await store.getToken(admitted.tokenId)).toEqual(admitted);
      expect(await store.getToken(uid('tok'))).toBeUndefined();
      expect(await store.getToken(uid('tok'), false)).toBeUndefined();
      // Only the waiting one is in the line (keeping its place or not).
      expect(await wholeLine(store, roomId)).toEqual([entryOf(waiting)]);
    });

    it('files a waiting token in the line shard of its ticket', async () => {
      const roomId = await openRoom(1);
      const tokens = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((ticket) => newToken(roomId, ticket));
      for (const t of tokens) await store.putToken(t, SHARDS);
      for (let shard = 0; shard < SHARDS; shard++) {
        expect(await store.listLine({ roomId, shard, limit: 100 })).toEqual(tokens.filter((t) => lineShardOf(t.ticket, SHARDS) === shard).map(entryOf));
      }
    });

    it('refuses a second token with the same id and keeps the first', async () => {
      const roomId = await openRoom(1);
      const first = newToken(roomId, 1);
      await store.putToken(first, SHARDS);
      await expect(store.putToken({ ...first, ticket: 2, secretHash: 'other' }, SHARDS)).rejects.toThrow();
      expect(await store.getToken(first.tokenId)).toEqual(first);
      expect(await wholeLine(store, roomId)).toEqual([entryOf(first)]);
    });

    it('keeps every field of a token it writes, checkBy included', async () => {
      const roomId = await openRoom(1);
      const token = newToken(roomId, 1, { checkSeq: 3, checkBy: 'msg-7', signal: 'keep-place' });
      await store.putToken(token, SHARDS);
      expect(await store.getToken(token.tokenId)).toEqual(token);
    });

    it('getTokens answers the tokens asked for in the order asked, leaving out missing ones', async () => {
      const roomId = await openRoom(1);
      const [a, b, c] = await joinMany(roomId, 3);
      expect(await store.getTokens([c!.tokenId, uid('tok'), a!.tokenId, b!.tokenId, uid('tok')])).toEqual([c, a, b]);
      expect(await store.getTokens([uid('tok')])).toEqual([]);
      expect(await store.getTokens([])).toEqual([]);
    });

    it('getTokens reads more than 100 tokens (the BatchGetItem limit) in one call', async () => {
      const roomId = await openRoom(1);
      const tokens = Array.from({ length: 230 }, (_, i) => newToken(roomId, i + 1));
      await Promise.all(tokens.map((t) => store.putToken(t, SHARDS)));
      const missing = Array.from({ length: 20 }, () => uid('tok'));
      const asked = [...tokens.map((t) => t.tokenId), ...missing].reverse();
      expect(await store.getTokens(asked)).toEqual([...tokens].reverse());
    });
  });

  describe('touchToken', () => {
    const touch = (token: Token, now: number, changes: { secretHash?: string; roomId?: string; tokenId?: string; signal?: Token['signal'] } = {}) =>
      store.touchToken({
        tokenId: changes.tokenId ?? token.tokenId,
        roomId: changes.roomId ?? token.roomId,
        secretHash: changes.secretHash ?? token.secretHash,
        signal: changes.signal ?? 'heartbeat',
        now,
        expiresAtSeconds: Math.ceil(now / 1000) + 86_400,
      });

    it('touched: records lastSeenAt, the signal and the expiry, and answers the token as it now is', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId, { signal: 'keep-place' });
      await store.advanceCheck({ tokenId: token.tokenId, fromSeq: 0, by: 'msg-1', dueAt: T0 + 600_000, expect: token });
      const now = T0 + 5_000;
      const expected: Token = {
        ...token,
        signal: 'heartbeat',
        lastSeenAt: now,
        expiresAtSeconds: Math.ceil(now / 1000) + 86_400,
        checkSeq: 1,
        checkBy: 'msg-1',
        checkDueAt: T0 + 600_000,
      };
      // ... and as it was heard before (how long it had been live).
      const joined = { signal: 'keep-place', lastSeenAt: token.lastSeenAt, heard: token.heard };
      expect(await touch(token, now)).toEqual({ kind: 'touched', token: expected, before: joined });
      expect(await store.getToken(token.tokenId)).toEqual(expected);
      const kept = { ...expected, signal: 'keep-place' as const, lastSeenAt: now + 1, expiresAtSeconds: Math.ceil((now + 1) / 1000) + 86_400 };
      expect(await touch(token, now + 1, { signal: 'keep-place' })).toEqual({ kind: 'touched', token: kept, before: { signal: 'heartbeat', lastSeenAt: now, heard: true } });
      expect(await store.getToken(token.tokenId)).toEqual(kept);
      // Keeping its place does not take a waiting token out of the line.
      expect(await wholeLine(store, roomId)).toEqual([entryOf(token)]);
    });

    it('records every signal: no minimum interval between two', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId);
      expect(await touch(token, T0 + 1_000)).toMatchObject({ kind: 'touched', token: { lastSeenAt: T0 + 1_000 } });
      expect(await touch(token, T0 + 1_001)).toMatchObject({ kind: 'touched', token: { lastSeenAt: T0 + 1_001 } });
      expect(await touch(token, T0 + 1_001)).toMatchObject({ kind: 'touched', token: { lastSeenAt: T0 + 1_001 } });
    });

    it('touches an admitted token the same way (its state is not a condition)', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId);
      expect(await admit(roomId, [token], { now: T0 + 1 })).toEqual({ kind: 'admitted' });
      expect(await touch(token, T0 + 2_000)).toEqual({
        kind: 'touched',
        token: { ...token, state: 'ADMITTED', admittedAt: T0 + 1, admittedEpoch: 0, lastSeenAt: T0 + 2_000, expiresAtSeconds: Math.ceil((T0 + 2_000) / 1000) + 86_400 },
        before: { signal: token.signal, lastSeenAt: token.lastSeenAt, heard: token.heard },
      });
    });

    it('mismatch: another secret hash or another room answers the stored token and writes nothing', async () => {
      const roomId = await openRoom(1);
      const other = await openRoom(1);
      const token = await join(roomId);
      expect(await touch(token, T0 + 5_000, { secretHash: 'wrong' })).toEqual({ kind: 'mismatch', token });
      expect(await touch(token, T0 + 5_000, { roomId: other })).toEqual({ kind: 'mismatch', token });
      expect(await touch(token, T0 + 5_000, { roomId: other, secretHash: 'wrong', signal: 'keep-place' })).toEqual({ kind: 'mismatch', token });
      expect(await store.getToken(token.tokenId)).toEqual(token);
    });

    it('not-found for a missing token, and creates nothing', async () => {
      const roomId = await openRoom(1);
      const ghost = newToken(roomId, 1);
      expect(await touch(ghost, T0 + 5_000)).toEqual({ kind: 'not-found' });
      expect(await store.getToken(ghost.tokenId)).toBeUndefined();
    });
  });

}
