/** The store contract (store-contract.test.ts), part: Rooms and their ticket counters: upsertRoom, getRoom, listRooms, reserveTickets. */
import { describe, expect, it } from 'vitest';
import { expectedNewRoom, newToken, SHARDS, T0, uid, type Contract } from './harness.js';

export function roomsContract(contract: Contract): void {
  const { store, openRoom, joinMany, admit } = contract;

  describe('rooms: upsertRoom, getRoom, listRooms', () => {
    it('creates a room with the counters at zero, wakeSeq 1 and its line shards, and reads it back the same', async () => {
      const roomId = uid('room');
      const created = await store.upsertRoom({ roomId, capacity: 3, lineShards: 8, now: T0 });
      expect(created).toEqual(expectedNewRoom(roomId, 3, 'open', T0, 8));
      expect(await store.getRoom(roomId)).toEqual(expectedNewRoom(roomId, 3, 'open', T0, 8));
    });

    it('creates a room in the state asked for', async () => {
      const roomId = uid('room');
      expect(await store.upsertRoom({ roomId, capacity: 2, state: 'paused', lineShards: SHARDS, now: T0 })).toEqual(expectedNewRoom(roomId, 2, 'paused'));
    });

    it('answers undefined, and creates nothing, for a change without capacity to a missing room', async () => {
      const roomId = uid('room');
      expect(await store.upsertRoom({ roomId, state: 'closed', lineShards: SHARDS, now: T0 })).toBeUndefined();
      expect(await store.upsertRoom({ roomId, lineShards: SHARDS, now: T0 })).toBeUndefined();
      expect(await store.getRoom(roomId)).toBeUndefined();
      expect((await store.listRooms()).map((r) => r.roomId)).not.toContain(roomId);
    });

    it('sets, keeps and removes the message to the line, and moves the room to its next epoch on an emergency stop only', async () => {
      const roomId = uid('room');
      const created = await store.upsertRoom({ roomId, capacity: 2, message: 'Saturday is sold out', bumpEpoch: true, lineShards: SHARDS, now: T0 });
      expect(created).toEqual({ ...expectedNewRoom(roomId, 2), epoch: 1, message: 'Saturday is sold out' });
      expect(await store.upsertRoom({ roomId, state: 'paused', lineShards: SHARDS, now: T0 + 1 })).toMatchObject({ epoch: 1, message: 'Saturday is sold out', wakeSeq: 2 });
      const stopped = await store.upsertRoom({ roomId, message: 'Sunday too', bumpEpoch: true, lineShards: SHARDS, now: T0 + 2 });
      expect(stopped).toMatchObject({ epoch: 2, message: 'Sunday too', state: 'paused', wakeSeq: 3 });
      const cleared = await store.upsertRoom({ roomId, message: null, lineShards: SHARDS, now: T0 + 3 });
      expect(cleared).toEqual({ ...stopped, wakeSeq: 4, updatedAt: T0 + 3, message: undefined });
      expect(await store.getRoom(roomId)).not.toHaveProperty('message');
      expect(await store.getRoom(roomId)).toMatchObject({ epoch: 2 });
    });

    it('changes capacity and state, bumps wakeSeq on every call, and keeps the counters, line shards, createdAt and rate samples', async () => {
      const roomId = await openRoom(2);
      const [a] = await joinMany(roomId, 2);
      expect(await admit(roomId, [a!], { capacity: 2, raiseLastAdmittedTo: 1, now: T0 + 30 })).toEqual({ kind: 'admitted' });
      const before = (await store.getRoom(roomId))!;
      expect(before).toMatchObject({ nextTicket: 2, activeCount: 1, admittedTotal: 1, lastAdmittedTicket: 1, wakeSeq: 1, updatedAt: T0 + 30 });

      // The line shards are fixed at creation: a later upsert's value is ignored.
      const changed = await store.upsertRoom({ roomId, capacity: 5, state: 'paused', lineShards: 16, now: T0 + 40 });
      expect(changed).toEqual({ ...before, capacity: 5, state: 'paused', wakeSeq: 2, updatedAt: T0 + 40 });
      // Only the state: capacity kept. Only the capacity: state kept. Nothing: still a wake-up.
      expect(await store.upsertRoom({ roomId, state: 'closed', lineShards: SHARDS, now: T0 + 50 })).toEqual({ ...changed, state: 'closed', wakeSeq: 3, updatedAt: T0 + 50 });
      expect(await store.upsertRoom({ roomId, capacity: 1, lineShards: SHARDS, now: T0 + 60 })).toEqual({ ...changed, capacity: 1, state: 'closed', wakeSeq: 4, updatedAt: T0 + 60 });
      expect(await store.upsertRoom({ roomId, lineShards: SHARDS, now: T0 + 70 })).toEqual({ ...changed, capacity: 1, state: 'closed', wakeSeq: 5, updatedAt: T0 + 70 });
      expect(await store.getRoom(roomId)).toEqual({ ...changed, capacity: 1, state: 'closed', wakeSeq: 5, updatedAt: T0 + 70 });
    });

    it('reads a missing room as undefined and lists the rooms it has, with their tickets and without the counters', async () => {
      expect(await store.getRoom(uid('room'))).toBeUndefined();
      const a = await openRoom(1);
      const b = await openRoom(7, 'closed');
      await store.reserveTickets(a, 3, T0);
      // A counter without a room (a join that raced the room's creation) is no room either.
      const orphanCounter = uid('room');
      await store.reserveTickets(orphanCounter, 1, T0);
      const listed = await store.listRooms();
      expect(listed).toEqual(expect.arrayContaining([{ ...expectedNewRoom(a, 1), nextTicket: 3 }, expectedNewRoom(b, 7, 'closed')]));
      const ids = listed.map((r) => r.roomId);
      expect(ids.filter((id) => id.includes('#'))).toEqual([]);
      expect(ids).not.toContain(orphanCounter);
      expect(new Set(ids).size).toBe(ids.length);
      expect(await store.getRoom(orphanCounter)).toBeUndefined();
    });

    // DynamoDB refuses an empty string as a key attribute (ValidationException); the adapter refuses
    // it too where the room id is only part of a key (the ticket counter, the line shard). (The HTTP
    // edge validates ids anyway.)
    it('refuses empty ids, as DynamoDB does', async () => {
      await expect(store.getRoom('')).rejects.toThrow(/empty string/i);
      await expect(store.upsertRoom({ roomId: '', capacity: 1, lineShards: SHARDS, now: T0 })).rejects.toThrow(/empty string/i);
      await expect(store.reserveTickets('', 1, T0)).rejects.toThrow(/empty string/i);
      await expect(store.getToken('')).rejects.toThrow(/empty string/i);
      await expect(store.getTokens([''])).rejects.toThrow(/empty string/i);
      await expect(store.putToken(newToken('', 1), SHARDS)).rejects.toThrow(/empty string/i);
    });
  });

  describe('reserveTickets', () => {
    it('adds each block to the counter and answers the last ticket of the block, which getRoom shows', async () => {
      const roomId = await openRoom(1);
      expect(await store.reserveTickets(roomId, 1, T0)).toBe(1);
      expect(await store.reserveTickets(roomId, 5, T0 + 1)).toBe(6);
      expect(await store.reserveTickets(roomId, 10, T0 + 2)).toBe(16);
      expect(await store.getRoom(roomId)).toEqual({ ...expectedNewRoom(roomId, 1), nextTicket: 16 });
      // Each room counts its own tickets.
      const other = await openRoom(1);
      expect(await store.reserveTickets(other, 2, T0)).toBe(2);
      expect(await store.getRoom(roomId)).toMatchObject({ nextTicket: 16 });
    });

    it('reserves in a paused or closed room too (the domain decides who may join)', async () => {
      const roomId = await openRoom(1, 'closed');
      expect(await store.reserveTickets(roomId, 2, T0)).toBe(2);
      expect(await store.getRoom(roomId)).toEqual({ ...expectedNewRoom(roomId, 1, 'closed'), nextTicket: 2 });
    });
  });

}
