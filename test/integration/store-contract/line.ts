/** The store contract (store-contract.test.ts), part: The line index: listLine, lineEntry. */
import { describe, expect, it } from 'vitest';
import {
  lineShardOf,
  type Token,
} from '../../../lambdas/domain/index.js';
import { entryOf, newToken, SHARDS, T0, uid, wholeLine, type Contract } from './harness.js';

export function lineContract(contract: Contract): void {
  const { store, openRoom, joinMany, admit } = contract;

  describe('listLine', () => {
    /** A room whose shard 1 (of 4) holds tickets 1, 5, 9, 13, 17, written out of order, with tokens in its other shards and in another room. */
    async function lineFixture() {
      const roomId = await openRoom(1);
      const other = await openRoom(1);
      const tickets = [13, 5, 17, 1, 9, 2, 3, 4, 8];
      const tokens = tickets.map((ticket) => newToken(roomId, ticket));
      for (const t of tokens) await store.putToken(t, SHARDS);
      await store.putToken(newToken(other, 5), SHARDS);
      const entry = (ticket: number) => entryOf(tokens.find((t) => t.ticket === ticket)!);
      return { roomId, other, entry };
    }

    it('answers one shard of one room in ticket order, up to limit', async () => {
      const { roomId, other, entry } = await lineFixture();
      expect(await store.listLine({ roomId, shard: 1, limit: 10 })).toEqual([1, 5, 9, 13, 17].map(entry));
      expect(await store.listLine({ roomId, shard: 1, limit: 2 })).toEqual([1, 5].map(entry));
      expect(await store.listLine({ roomId, shard: 0, limit: 10 })).toEqual([4, 8].map(entry));
      expect(await store.listLine({ roomId, shard: 3, limit: 10 })).toEqual([3].map(entry));
      expect(await store.listLine({ roomId: other, shard: 1, limit: 10 })).toHaveLength(1);
      expect(await store.listLine({ roomId: uid('room'), shard: 1, limit: 10 })).toEqual([]);
    });

    it('answers only tickets strictly after afterTicket and strictly before beforeTicket', async () => {
      const { roomId, entry } = await lineFixture();
      const shard = 1;
      expect(await store.listLine({ roomId, shard, afterTicket: 5, limit: 10 })).toEqual([9, 13, 17].map(entry));
      expect(await store.listLine({ roomId, shard, afterTicket: 4, limit: 10 })).toEqual([5, 9, 13, 17].map(entry));
      expect(await store.listLine({ roomId, shard, afterTicket: 5, limit: 1 })).toEqual([9].map(entry));
      expect(await store.listLine({ roomId, shard, beforeTicket: 13, limit: 10 })).toEqual([1, 5, 9].map(entry));
      expect(await store.listLine({ roomId, shard, beforeTicket: 14, limit: 10 })).toEqual([1, 5, 9, 13].map(entry));
      expect(await store.listLine({ roomId, shard, beforeTicket: 1, limit: 10 })).toEqual([]);
      // Both bounds, exclusive (DynamoDB's BETWEEN is inclusive).
      expect(await store.listLine({ roomId, shard, afterTicket: 5, beforeTicket: 17, limit: 10 })).toEqual([9, 13].map(entry));
      expect(await store.listLine({ roomId, shard, afterTicket: 1, beforeTicket: 9, limit: 10 })).toEqual([5].map(entry));
      expect(await store.listLine({ roomId, shard, afterTicket: 0, beforeTicket: 100, limit: 2 })).toEqual([1, 5].map(entry));
      expect(await store.listLine({ roomId, shard, afterTicket: 5, beforeTicket: 9, limit: 10 })).toEqual([]);
      expect(await store.listLine({ roomId, shard, afterTicket: 5, beforeTicket: 6, limit: 10 })).toEqual([]);
      expect(await store.listLine({ roomId, shard, afterTicket: 5, beforeTicket: 5, limit: 10 })).toEqual([]);
      expect(await store.listLine({ roomId, shard, afterTicket: 9, beforeTicket: 5, limit: 10 })).toEqual([]);
    });

    it('answers no one for a limit below 1 (DynamoDB would refuse the Query)', async () => {
      const { roomId } = await lineFixture();
      expect(await store.listLine({ roomId, shard: 1, limit: 0 })).toEqual([]);
      expect(await store.listLine({ roomId, shard: 1, limit: -1 })).toEqual([]);
    });

    it('loses admitted and removed tokens from the line', async () => {
      const roomId = await openRoom(5);
      const [a, b, c, d] = (await joinMany(roomId, 4)) as [Token, Token, Token, Token];
      expect(await admit(roomId, [b], { capacity: 5 })).toEqual({ kind: 'admitted' });
      expect(await store.removeToken({ token: c, now: T0 + 2 })).toBe('removed');
      expect(await wholeLine(store, roomId)).toEqual([entryOf(a), entryOf(d)]);
      expect(await store.removeToken({ token: { ...b, state: 'ADMITTED' }, now: T0 + 3 })).toBe('removed');
      expect(await wholeLine(store, roomId)).toEqual([entryOf(a), entryOf(d)]);
    });
  });

  describe('lineEntry', () => {
    it('answers the entry of exactly one ticket in its shard, only while a waiting token of that room holds it', async () => {
      const roomId = await openRoom(5);
      const other = await openRoom(5);
      const [a, b, c] = (await joinMany(roomId, 3)) as [Token, Token, Token];
      await store.putToken(newToken(other, 9), SHARDS);
      const shard = (t: number) => lineShardOf(t, SHARDS);
      expect(await store.lineEntry(roomId, shard(b.ticket), b.ticket)).toEqual(entryOf(b));
      expect(await store.lineEntry(roomId, shard(a.ticket), a.ticket)).toEqual(entryOf(a));
      // Not in another shard, another room, or at a ticket nobody holds.
      expect(await store.lineEntry(roomId, shard(b.ticket + 1), b.ticket)).toBeUndefined();
      expect(await store.lineEntry(other, shard(a.ticket), a.ticket)).toBeUndefined();
      expect(await store.lineEntry(roomId, shard(9), 9)).toBeUndefined();
      expect(await store.lineEntry(uid('room'), shard(a.ticket), a.ticket)).toBeUndefined();
      // Admitted or removed: out of the line.
      expect(await admit(roomId, [b], { capacity: 5 })).toEqual({ kind: 'admitted' });
      expect(await store.removeToken({ token: c, now: T0 + 2 })).toBe('removed');
      expect(await store.lineEntry(roomId, shard(b.ticket), b.ticket)).toBeUndefined();
      expect(await store.lineEntry(roomId, shard(c.ticket), c.ticket)).toBeUndefined();
      expect(await store.lineEntry(roomId, shard(a.ticket), a.ticket)).toEqual(entryOf(a));
    });
  });

}
