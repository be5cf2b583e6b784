/** The store contract (store-contract.test.ts), part: The admitter's lease: acquireAdmitter, releaseAdmitter. */
import { describe, expect, it } from 'vitest';
import {
  type AdmissionRateSamples,
  type Room,
} from '../../../lambdas/domain/index.js';
import { expectedNewRoom, SHARDS, T0, uid, type Contract } from './harness.js';

export function leaseContract(contract: Contract): void {
  const { store, openRoom, join, admit } = contract;

  describe('acquireAdmitter and releaseAdmitter', () => {
    const rate: AdmissionRateSamples = { prevAt: T0 + 1, prevTotal: 2, prevTicket: 3, curAt: T0 + 4, curTotal: 5, curTicket: 6 };

    it('not-found for a missing room, and creates nothing', async () => {
      const roomId = uid('room');
      expect(await store.acquireAdmitter(roomId, 'a', T0, T0 + 10)).toBe('not-found');
      expect(await store.getRoom(roomId)).toBeUndefined();
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 1, now: T0 })).toEqual({ kind: 'lost' });
      expect(await store.getRoom(roomId)).toBeUndefined();
    });

    it('takes a free lease and answers the room as of now (tickets included); the lease shows on the room', async () => {
      const roomId = await openRoom(2);
      await store.reserveTickets(roomId, 4, T0);
      const expected: Room = { ...expectedNewRoom(roomId, 2), nextTicket: 4, admitter: 'a', admitterUntil: T0 + 10 };
      expect(await store.acquireAdmitter(roomId, 'a', T0, T0 + 10)).toEqual(expected);
      expect(await store.getRoom(roomId)).toEqual(expected);
    });

    it('a lease taken to fill seats shows since when; another (an event draw) does not, and a release takes it away', async () => {
      const roomId = await openRoom(2);
      expect(await store.acquireAdmitter(roomId, 'a', T0, T0 + 10, { fills: true })).toMatchObject({ admitter: 'a', fillingSince: T0 });
      expect(await store.getRoom(roomId)).toMatchObject({ fillingSince: T0 });
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 1, now: T0 + 1 })).toEqual({ kind: 'released' });
      expect(await store.getRoom(roomId)).not.toHaveProperty('fillingSince');
      // A lease taken over from a filler that died is no fill unless the new holder says so.
      await store.acquireAdmitter(roomId, 'b', T0 + 2, T0 + 5, { fills: true });
      expect(await store.acquireAdmitter(roomId, 'c', T0 + 6, T0 + 20)).not.toHaveProperty('fillingSince');
      expect(await store.getRoom(roomId)).toMatchObject({ admitter: 'c' });
      expect(await store.getRoom(roomId)).not.toHaveProperty('fillingSince');
    });

    it('busy while the lease runs (to its last millisecond), for another owner or the same; taken over once it ran out', async () => {
      const roomId = await openRoom(2);
      expect(await store.acquireAdmitter(roomId, 'a', T0, T0 + 10)).toMatchObject({ admitter: 'a' });
      expect(await store.acquireAdmitter(roomId, 'b', T0 + 5, T0 + 15)).toBe('busy');
      expect(await store.acquireAdmitter(roomId, 'a', T0 + 5, T0 + 15)).toBe('busy');
      expect(await store.acquireAdmitter(roomId, 'b', T0 + 10, T0 + 20)).toBe('busy');
      expect(await store.getRoom(roomId)).toMatchObject({ admitter: 'a', admitterUntil: T0 + 10 });
      expect(await store.acquireAdmitter(roomId, 'b', T0 + 11, T0 + 21)).toMatchObject({ admitter: 'b', admitterUntil: T0 + 21 });
      // The first owner's lease is gone: it cannot release the second's.
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 1, now: T0 + 12 })).toEqual({ kind: 'lost' });
      expect(await store.getRoom(roomId)).toMatchObject({ admitter: 'b', admitterUntil: T0 + 21 });
    });

    it('released: the lease is free again, and the front floor and rate samples are stored when given', async () => {
      const roomId = await openRoom(2);
      const before = (await store.getRoom(roomId))!;
      await store.acquireAdmitter(roomId, 'a', T0, T0 + 10);
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 1, now: T0 + 1 })).toEqual({ kind: 'released' });
      expect(await store.getRoom(roomId)).toEqual(before);

      await store.acquireAdmitter(roomId, 'b', T0 + 2, T0 + 10);
      expect(await store.releaseAdmitter({ roomId, owner: 'b', wakeSeq: 1, frontFloor: 42, rate, now: T0 + 3 })).toEqual({ kind: 'released' });
      expect(await store.getRoom(roomId)).toEqual({ ...before, frontFloor: 42, rate });

      await store.acquireAdmitter(roomId, 'c', T0 + 4, T0 + 10);
      expect(await store.releaseAdmitter({ roomId, owner: 'c', wakeSeq: 1, frontFloor: 50, now: T0 + 5 })).toEqual({ kind: 'released' });
      expect(await store.getRoom(roomId)).toEqual({ ...before, frontFloor: 50, rate });
      expect(await store.acquireAdmitter(roomId, 'd', T0 + 6, T0 + 10)).toMatchObject({ admitter: 'd' });
    });

    it('woken: not released when wakeSeq moved (a room change, a seat freed); answers the room as it is now', async () => {
      const roomId = await openRoom(2);
      const seated = await join(roomId);
      expect(await admit(roomId, [seated], { capacity: 2, now: T0 + 1 })).toEqual({ kind: 'admitted' });
      const acquired = await store.acquireAdmitter(roomId, 'a', T0 + 2, T0 + 10);
      expect(acquired).toMatchObject({ wakeSeq: 1, admitter: 'a', activeCount: 1, nextTicket: 1 });

      await store.upsertRoom({ roomId, capacity: 3, lineShards: SHARDS, now: T0 + 3 });
      const woken = { ...(acquired as Room), capacity: 3, wakeSeq: 2, updatedAt: T0 + 3 };
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 1, frontFloor: 9, rate, now: T0 + 4 })).toEqual({ kind: 'woken', room: woken });
      // Nothing was written: the lease is still held, frontFloor and the rate unchanged.
      expect(await store.getRoom(roomId)).toEqual(woken);
      expect(await store.acquireAdmitter(roomId, 'b', T0 + 5, T0 + 20)).toBe('busy');

      expect(await store.removeToken({ token: { ...seated, state: 'ADMITTED' }, now: T0 + 6 })).toBe('removed');
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 2, now: T0 + 7 })).toEqual({
        kind: 'woken',
        room: { ...woken, activeCount: 0, wakeSeq: 3, updatedAt: T0 + 6 },
      });
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 3, now: T0 + 8 })).toEqual({ kind: 'released' });
      expect(await store.getRoom(roomId)).not.toHaveProperty('admitter');
    });

    it('lost: a release by another owner, or with no lease held, changes nothing (even with wakeSeq moved)', async () => {
      const roomId = await openRoom(2);
      expect(await store.releaseAdmitter({ roomId, owner: 'a', wakeSeq: 1, now: T0 })).toEqual({ kind: 'lost' });
      await store.acquireAdmitter(roomId, 'a', T0, T0 + 10);
      const held = await store.getRoom(roomId);
      expect(await store.releaseAdmitter({ roomId, owner: 'b', wakeSeq: 1, frontFloor: 3, rate, now: T0 + 1 })).toEqual({ kind: 'lost' });
      expect(await store.releaseAdmitter({ roomId, owner: 'b', wakeSeq: 7, now: T0 + 1 })).toEqual({ kind: 'lost' });
      expect(await store.getRoom(roomId)).toEqual(held);
    });
  });

}
