/** The store contract (store-contract.test.ts), part: Removals and check loops: removeToken, advanceCheck. */
import { describe, expect, it } from 'vitest';
import {
  type Token,
} from '../../../lambdas/domain/index.js';
import { newToken, SHARDS, snapshot, T0, uid, wholeLine, type Contract } from './harness.js';

export function removalsContract(contract: Contract): void {
  const { store, openRoom, join, joinMany, admit } = contract;

  describe('removeToken', () => {
    it('removes a waiting token without touching the room', async () => {
      const roomId = await openRoom(1);
      const [a, b] = (await joinMany(roomId, 2)) as [Token, Token];
      expect(await admit(roomId, [a])).toEqual({ kind: 'admitted' });
      const room = await store.getRoom(roomId);
      expect(await store.removeToken({ token: b, now: T0 + 99 })).toBe('removed');
      expect(await store.getToken(b.tokenId)).toBeUndefined();
      expect(await store.getRoom(roomId)).toEqual(room);
      expect(await wholeLine(store, roomId)).toEqual([]);
    });

    it('removes an admitted token, frees its seat and wakes the admitter in the same step', async () => {
      const roomId = await openRoom(2);
      const a = await join(roomId);
      expect(await admit(roomId, [a], { capacity: 2, now: T0 + 5 })).toEqual({ kind: 'admitted' });
      const room = (await store.getRoom(roomId))!;
      expect(await store.removeToken({ token: { ...a, state: 'ADMITTED' }, now: T0 + 99 })).toBe('removed');
      expect(await store.getToken(a.tokenId)).toBeUndefined();
      // admittedTotal and lastAdmittedTicket are history, and a removal without `expect` (a leave) is not an eviction.
      expect(await store.getRoom(roomId)).toEqual({ ...room, activeCount: 0, wakeSeq: room.wakeSeq + 1, updatedAt: T0 + 99 });
    });

    it('removes with expect (an eviction) when lastSeenAt and checkSeq still match, counting it in evictedTotal', async () => {
      const roomId = await openRoom(2);
      const a = await join(roomId, { lastSeenAt: T0 + 7 });
      const b = await join(roomId, { lastSeenAt: T0 + 8 });
      expect(await admit(roomId, [a], { capacity: 2, now: T0 + 9 })).toEqual({ kind: 'admitted' });
      expect(await store.advanceCheck({ tokenId: b.tokenId, fromSeq: 0, by: 'm', dueAt: T0 + 30_000, expect: b })).toBe('advanced');
      const room = (await store.getRoom(roomId))!;
      // A waiting token: the seats and the wake-up stay, the eviction is counted.
      expect(await store.removeToken({ token: b, expect: { lastSeenAt: T0 + 8, checkSeq: 1 }, now: T0 + 20 })).toBe('removed');
      expect(await store.getRoom(roomId)).toEqual({ ...room, evictedTotal: 1, updatedAt: T0 + 20 });
      // An admitted token: the seat is freed, the admitter woken and the eviction counted, together.
      expect(await store.removeToken({ token: { ...a, state: 'ADMITTED' }, expect: { lastSeenAt: T0 + 7, checkSeq: 0 }, now: T0 + 21 })).toBe('removed');
      expect(await store.getRoom(roomId)).toEqual({ ...room, activeCount: 0, evictedTotal: 2, wakeSeq: room.wakeSeq + 1, updatedAt: T0 + 21 });
      expect(await snapshot(store, roomId, [a.tokenId, b.tokenId])).toMatchObject({ tokens: [undefined, undefined], line: [] });
    });

    const mismatches: [string, { lastSeenAt: number; checkSeq: number }][] = [
      ['lastSeenAt moved (a signal)', { lastSeenAt: T0 - 1, checkSeq: 0 }],
      ['checkSeq moved (another check step)', { lastSeenAt: T0, checkSeq: 1 }],
    ];
    it.each(mismatches)('changed when %s: nothing deleted, the room unchanged, for both states', async (_name, expected) => {
      const roomId = await openRoom(2);
      const [a, b] = (await joinMany(roomId, 2)) as [Token, Token];
      expect(await admit(roomId, [a], { capacity: 2 })).toEqual({ kind: 'admitted' });
      const before = await snapshot(store, roomId, [a.tokenId, b.tokenId]);
      expect(await store.removeToken({ token: { ...a, state: 'ADMITTED' }, expect: expected, now: T0 + 30 })).toBe('changed');
      expect(await store.removeToken({ token: b, expect: expected, now: T0 + 30 })).toBe('changed');
      expect(await snapshot(store, roomId, [a.tokenId, b.tokenId])).toEqual(before);
    });

    it('changed when the token is in another state than the caller read, or gone', async () => {
      const roomId = await openRoom(2);
      const [a, b] = (await joinMany(roomId, 2)) as [Token, Token];
      expect(await admit(roomId, [a], { capacity: 2 })).toEqual({ kind: 'admitted' });
      const before = await snapshot(store, roomId, [a.tokenId, b.tokenId]);
      // Read as waiting, admitted since (the leave race): the seat must not be lost.
      expect(await store.removeToken({ token: { ...a, state: 'WAITING' }, now: T0 + 30 })).toBe('changed');
      // Read as admitted, still waiting: activeCount must not drop.
      expect(await store.removeToken({ token: { ...b, state: 'ADMITTED' }, now: T0 + 30 })).toBe('changed');
      expect(await snapshot(store, roomId, [a.tokenId, b.tokenId])).toEqual(before);
      expect(await store.removeToken({ token: newToken(roomId, 9), now: T0 + 30 })).toBe('changed');
      expect(await store.removeToken({ token: newToken(roomId, 9, { state: 'ADMITTED' }), now: T0 + 30 })).toBe('changed');
      expect(await store.getRoom(roomId)).toEqual(before.room);
    });

    it('refuses a removal booked to another room, and never creates a room item', async () => {
      const roomId = await openRoom(2);
      const wrongRoom = await openRoom(2);
      const a = await join(roomId);
      expect(await admit(roomId, [a], { capacity: 2 })).toEqual({ kind: 'admitted' });
      expect(await store.removeToken({ token: { tokenId: a.tokenId, roomId: wrongRoom, state: 'ADMITTED' }, now: T0 + 40 })).toBe('changed');
      expect(await store.getToken(a.tokenId)).toMatchObject({ state: 'ADMITTED' });
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 1, wakeSeq: 1 });
      expect(await store.getRoom(wrongRoom)).toMatchObject({ activeCount: 0, wakeSeq: 1 });

      // A token whose room item is gone is deleted without inventing a room.
      const missingRoom = uid('room');
      const orphan = newToken(missingRoom, 1, { state: 'ADMITTED', admittedAt: T0 });
      await store.putToken(orphan, SHARDS);
      expect(await store.removeToken({ token: orphan, expect: { lastSeenAt: T0, checkSeq: 0 }, now: T0 + 41 })).toBe('removed');
      expect(await store.getToken(orphan.tokenId)).toBeUndefined();
      expect(await store.getRoom(missingRoom)).toBeUndefined();
      expect((await store.listRooms()).map((r) => r.roomId)).not.toContain(missingRoom);
    });
  });

  describe('advanceCheck', () => {
    it('advanced: checkSeq + 1, checkBy and checkDueAt recorded; changed from a stale seq or for a missing token', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId);
      const advance = (fromSeq: number, by: string, dueAt: number, expect: Pick<Token, 'state' | 'signal'> = token, tokenId = token.tokenId) =>
        store.advanceCheck({ tokenId, fromSeq, by, dueAt, expect });
      expect(await advance(0, 'msg-a', T0 + 20_000)).toBe('advanced');
      expect(await store.getToken(token.tokenId)).toEqual({ ...token, checkSeq: 1, checkBy: 'msg-a', checkDueAt: T0 + 20_000 });
      expect(await advance(0, 'msg-b', T0 + 30_000)).toBe('changed');
      expect(await advance(2, 'msg-b', T0 + 30_000)).toBe('changed');
      expect(await store.getToken(token.tokenId)).toEqual({ ...token, checkSeq: 1, checkBy: 'msg-a', checkDueAt: T0 + 20_000 });
      expect(await advance(1, 'msg-c', T0 + 900_000)).toBe('advanced');
      expect(await store.getToken(token.tokenId)).toEqual({ ...token, checkSeq: 2, checkBy: 'msg-c', checkDueAt: T0 + 900_000 });
      const ghost = uid('tok');
      expect(await advance(0, 'msg-d', T0, token, ghost)).toBe('changed');
      expect(await store.getToken(ghost)).toBeUndefined();
    });

    it('changed when the token is no longer in the state or signal its due time was computed from', async () => {
      const roomId = await openRoom(1);
      const token = await join(roomId);
      expect(await store.advanceCheck({ tokenId: token.tokenId, fromSeq: 0, by: 'm1', dueAt: T0 + 900_000, expect: { state: 'WAITING', signal: 'keep-place' } })).toBe('changed');
      expect(await store.advanceCheck({ tokenId: token.tokenId, fromSeq: 0, by: 'm2', dueAt: T0 + 20_000, expect: { state: 'ADMITTED', signal: 'heartbeat' } })).toBe('changed');
      expect((await store.getToken(token.tokenId))?.checkSeq).toBe(0);
      expect(await store.advanceCheck({ tokenId: token.tokenId, fromSeq: 0, by: 'm3', dueAt: T0 + 20_000, expect: { state: 'WAITING', signal: 'heartbeat' } })).toBe('advanced');
    });
  });

}
