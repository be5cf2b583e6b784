/** The store contract (store-contract.test.ts), part: Admission transactions: admitTokens. */
import { describe, expect, it } from 'vitest';
import {
  type AdmitBatchRequest,
  type Token,
} from '../../../lambdas/domain/index.js';
import { admitEntryOf, entryOf, LIVE_SINCE, newToken, SHARDS, snapshot, T0, uid, wholeLine, type Contract } from './harness.js';

export function admissionsContract(contract: Contract): void {
  const { store, openRoom, join, joinMany, admit } = contract;

  describe('admitTokens', () => {
    it('admitted: every token ADMITTED with admittedAt and out of the line, the room counts moved once, lastAdmittedTicket raised', async () => {
      const roomId = await openRoom(5);
      const [a, b, c, d] = (await joinMany(roomId, 4)) as [Token, Token, Token, Token];
      const before = (await store.getRoom(roomId))!;
      expect(await admit(roomId, [a, b, c], { capacity: 5, raiseLastAdmittedTo: 3, now: T0 + 100 })).toEqual({ kind: 'admitted' });
      expect(await store.getTokens([a.tokenId, b.tokenId, c.tokenId])).toEqual([a, b, c].map((t) => ({ ...t, state: 'ADMITTED', admittedAt: T0 + 100, admittedEpoch: 0 })));
      expect(await store.getRoom(roomId)).toEqual({ ...before, activeCount: 3, admittedTotal: 3, lastAdmittedTicket: 3, updatedAt: T0 + 100 });
      expect(await wholeLine(store, roomId)).toEqual([entryOf(d)]);
      // Neither the wake-up nor the lease moves.
      expect((await store.getRoom(roomId))!.wakeSeq).toBe(before.wakeSeq);
    });

    it('admitted without raising lastAdmittedTicket (a ticket below it), up to exactly the capacity', async () => {
      const roomId = await openRoom(3);
      const [a, b, c] = (await joinMany(roomId, 3)) as [Token, Token, Token];
      expect(await admit(roomId, [c], { capacity: 3, raiseLastAdmittedTo: 3, now: T0 + 100 })).toEqual({ kind: 'admitted' });
      expect(await admit(roomId, [a, b], { capacity: 3, now: T0 + 200 })).toEqual({ kind: 'admitted' });
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 3, admittedTotal: 3, lastAdmittedTicket: 3, updatedAt: T0 + 200 });
      expect(await store.getToken(a.tokenId)).toEqual({ ...a, state: 'ADMITTED', admittedAt: T0 + 200, admittedEpoch: 0 });
      expect(await wholeLine(store, roomId)).toEqual([]);
    });

    it('admitted under the lease of its owner', async () => {
      const roomId = await openRoom(2);
      const [a] = await joinMany(roomId, 1);
      await store.acquireAdmitter(roomId, 'owner-1', T0, T0 + 10_000);
      expect(await admit(roomId, [a!], { capacity: 2, owner: 'owner-1', raiseLastAdmittedTo: 1 })).toEqual({ kind: 'admitted' });
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 1, admitter: 'owner-1' });
    });

    it('re-arms the check loop of the tokens that ask for it, in the same transaction', async () => {
      const roomId = await openRoom(3);
      const [far, near] = (await joinMany(roomId, 2, { checkDueAt: T0 + 900_000, checkSeq: 2, checkBy: 'msg-old' })) as [Token, Token];
      const outcome = await store.admitTokens({
        roomId,
        tokens: [{ ...admitEntryOf(far), rearm: { checkBy: 'rearm:owner-1', checkDueAt: T0 + 20_100 } }, admitEntryOf(near)],
        capacity: 3,
        raiseLastAdmittedTo: near.ticket,
        liveSince: LIVE_SINCE,
        epoch: 0,
        now: T0 + 100,
      });
      expect(outcome).toEqual({ kind: 'admitted' });
      expect(await store.getToken(far.tokenId)).toEqual({ ...far, state: 'ADMITTED', admittedAt: T0 + 100, admittedEpoch: 0, checkSeq: 3, checkBy: 'rearm:owner-1', checkDueAt: T0 + 20_100 });
      expect(await store.getToken(near.tokenId)).toEqual({ ...near, state: 'ADMITTED', admittedAt: T0 + 100, admittedEpoch: 0 });
    });

    it('re-arms nothing when the batch is refused', async () => {
      const roomId = await openRoom(2);
      const [far] = (await joinMany(roomId, 1, { checkDueAt: T0 + 900_000 })) as [Token];
      const rearmed = { ...admitEntryOf(far), rearm: { checkBy: 'rearm:x', checkDueAt: T0 + 20_000 } };
      const missing = newToken(roomId, 9);
      expect(await store.admitTokens({ roomId, tokens: [rearmed, admitEntryOf(missing)], capacity: 1, liveSince: LIVE_SINCE, epoch: 0, now: T0 + 1 })).toEqual({ kind: 'room-refused' });
      expect(await store.admitTokens({ roomId, tokens: [rearmed], capacity: 0, liveSince: LIVE_SINCE, epoch: 0, now: T0 + 1 })).toEqual({ kind: 'room-refused' });
      await store.putToken(missing, SHARDS);
      await store.touchToken({ tokenId: missing.tokenId, roomId, secretHash: missing.secretHash, signal: 'keep-place', now: T0 + 2, expiresAtSeconds: missing.expiresAtSeconds });
      expect(await store.admitTokens({ roomId, tokens: [rearmed, admitEntryOf(missing)], capacity: 2, liveSince: LIVE_SINCE, epoch: 0, now: T0 + 3 })).toEqual({
        kind: 'tokens-refused',
        tokenIds: [missing.tokenId],
      });
      expect(await store.getToken(far.tokenId)).toEqual(far);
    });

    it('refuses a token whose check loop moved on since it was read, and admits the others', async () => {
      const roomId = await openRoom(2);
      const [moved, still] = (await joinMany(roomId, 2)) as [Token, Token];
      // A check moved the first token's loop on (as a keep-place check would, minutes ahead) after the admitter read it.
      expect(await store.advanceCheck({ tokenId: moved.tokenId, fromSeq: 0, by: 'msg-1', dueAt: T0 + 900_000, expect: { state: 'WAITING', signal: 'heartbeat' } })).toBe('advanced');
      const request = { roomId, capacity: 2, liveSince: LIVE_SINCE, epoch: 0, now: T0 + 100 };
      expect(await store.admitTokens({ ...request, tokens: [admitEntryOf(moved), admitEntryOf(still)] })).toEqual({ kind: 'tokens-refused', tokenIds: [moved.tokenId] });
      expect(await store.getToken(still.tokenId)).toMatchObject({ state: 'WAITING' });
      // Read again, it is admitted (re-armed, as its check is now far away).
      const fresh = (await store.getToken(moved.tokenId))!;
      expect(fresh.checkSeq).toBe(1);
      const rearm = { checkBy: 'rearm:x', checkDueAt: T0 + 20_000 };
      expect(await store.admitTokens({ ...request, tokens: [{ ...admitEntryOf(fresh), rearm }, admitEntryOf(still)] })).toEqual({ kind: 'admitted' });
      expect(await store.getToken(moved.tokenId)).toMatchObject({ state: 'ADMITTED', checkSeq: 2, checkBy: 'rearm:x' });
    });

    it('a token heard from exactly at liveSince is live', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId, { lastSeenAt: T0 + 50 });
      expect(await admit(roomId, [token], { liveSince: T0 + 50 })).toEqual({ kind: 'admitted' });
    });

    it('tokens-refused: names exactly the tokens that are not live waiting tokens of the room, and nothing changes', async () => {
      const roomId = await openRoom(10);
      const other = await openRoom(10);
      const [live1, admitted, keepingPlace, silent, live2] = [
        await join(roomId),
        await join(roomId),
        await join(roomId, { signal: 'keep-place' }),
        await join(roomId, { lastSeenAt: T0 - 1 }),
        await join(roomId),
      ] as [Token, Token, Token, Token, Token];
      const elsewhere = await join(other);
      expect(await admit(roomId, [admitted], { capacity: 10 })).toEqual({ kind: 'admitted' });
      const missing = newToken(roomId, 99);
      const batch = [live1, admitted, keepingPlace, silent, missing, elsewhere, live2];
      const ids = batch.map((t) => t.tokenId);
      const before = await snapshot(store, roomId, ids);
      const otherBefore = await snapshot(store, other, ids);
      expect(await admit(roomId, batch, { capacity: 10, raiseLastAdmittedTo: 99 })).toEqual({
        kind: 'tokens-refused',
        tokenIds: [admitted, keepingPlace, silent, missing, elsewhere].map((t) => t.tokenId),
      });
      expect(await snapshot(store, roomId, ids)).toEqual(before);
      expect(await snapshot(store, other, ids)).toEqual(otherBefore);
      // Without them, the others go in.
      expect(await admit(roomId, [live1, live2], { capacity: 10, raiseLastAdmittedTo: live2.ticket })).toEqual({ kind: 'admitted' });
    });

    const refusals: [string, (roomId: string) => Promise<void>, Partial<AdmitBatchRequest>][] = [
      // One seat taken of 2: a batch of two would make 3.
      ['the seats are too few for the batch', async () => {}, { capacity: 2 }],
      ['the room is smaller than the admitter saw', async (roomId) => void (await store.upsertRoom({ roomId, capacity: 2, lineShards: SHARDS, now: T0 + 3 })), { capacity: 5 }],
      ['the room is paused', async (roomId) => void (await store.upsertRoom({ roomId, state: 'paused', lineShards: SHARDS, now: T0 + 3 })), {}],
      ['the room is closed', async (roomId) => void (await store.upsertRoom({ roomId, state: 'closed', lineShards: SHARDS, now: T0 + 3 })), {}],
      ['lastAdmittedTicket equals the raise', async () => {}, { raiseLastAdmittedTo: 1 }],
      ['lastAdmittedTicket is above the raise', async () => {}, { raiseLastAdmittedTo: 0 }],
      ['the lease is held by another owner', async (roomId) => void (await store.acquireAdmitter(roomId, 'someone-else', T0, T0 + 60_000)), { owner: 'me' }],
      ['no lease is held', async () => {}, { owner: 'me' }],
      // An emergency stop committed after the admitter read the room (epoch 0).
      ['the room moved to its next epoch', async (roomId) => void (await store.upsertRoom({ roomId, bumpEpoch: true, lineShards: SHARDS, now: T0 + 3 })), {}],
      ['the admitter saw an epoch the room is not in', async () => {}, { epoch: 1 }],
    ];
    it.each(refusals)('room-refused when %s, and nothing changes', async (_name, prepare, request) => {
      const roomId = await openRoom(5);
      const [first, second, third] = (await joinMany(roomId, 3)) as [Token, Token, Token];
      expect(await admit(roomId, [first], { capacity: 5, raiseLastAdmittedTo: 1 })).toEqual({ kind: 'admitted' }); // lastAdmittedTicket 1, activeCount 1
      await prepare(roomId);
      const ids = [first.tokenId, second.tokenId, third.tokenId];
      const before = await snapshot(store, roomId, ids);
      const outcome = await admit(roomId, [second, third], { capacity: 5, raiseLastAdmittedTo: 3, now: T0 + 60, ...request });
      expect(outcome).toEqual({ kind: 'room-refused' });
      expect(await snapshot(store, roomId, ids)).toEqual(before);
      expect(before.tokens[1]).toEqual(second);
    });

    it('admitted in the epoch the room is in: the tokens carry it', async () => {
      const roomId = await openRoom(3);
      await store.upsertRoom({ roomId, bumpEpoch: true, lineShards: SHARDS, now: T0 + 1 });
      await store.upsertRoom({ roomId, bumpEpoch: true, lineShards: SHARDS, now: T0 + 2 });
      const [a] = (await joinMany(roomId, 1)) as [Token];
      expect(await admit(roomId, [a], { capacity: 3, epoch: 2 })).toEqual({ kind: 'admitted' });
      expect(await store.getToken(a.tokenId)).toMatchObject({ state: 'ADMITTED', admittedEpoch: 2 });
    });

    it('room-refused for a missing room, which is not created', async () => {
      const roomId = uid('room');
      const token = newToken(roomId, 1);
      await store.putToken(token, SHARDS);
      expect(await admit(roomId, [token], { raiseLastAdmittedTo: 1 })).toEqual({ kind: 'room-refused' });
      expect(await store.getRoom(roomId)).toBeUndefined();
      expect(await store.getToken(token.tokenId)).toEqual(token);
    });

    it('room-refused takes precedence over refused tokens', async () => {
      const roomId = await openRoom(0);
      const token = await join(roomId);
      expect(await admit(roomId, [token, newToken(roomId, 9)], { capacity: 0 })).toEqual({ kind: 'room-refused' });
      const open = await openRoom(5, 'paused');
      expect(await admit(open, [newToken(open, 9)], { capacity: 5 })).toEqual({ kind: 'room-refused' });
    });
  });

}
