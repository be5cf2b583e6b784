/** The EventStore contract (store-contract.test.ts): scheduled events on the room, boundaries, ticket moves, draws and ends. */
import { expect, it } from 'vitest';
import {
  type WaitingRoomStore,
  type EventStore,
  type RoomEvent,
} from '../../../lambdas/domain/index.js';
import { newToken, SHARDS, T0, uid, wholeLine } from './harness.js';

export function eventsContract(store: WaitingRoomStore & EventStore): void {
  const roomEvent = (eventId: string): RoomEvent => ({ eventId, prequeueStart: T0, start: T0 + 60_000, atEnd: 'close', commitment: 'a'.repeat(64), seed: 'b'.repeat(64) });

  it('keeps the event on the room, and removes it with null', async () => {
    const roomId = uid('room');
    await store.upsertRoom({ roomId, capacity: 2, event: roomEvent('e1'), lineShards: SHARDS, now: T0 });
    expect((await store.getRoom(roomId))!.event).toEqual(roomEvent('e1'));
    await store.upsertRoom({ roomId, capacity: 3, lineShards: SHARDS, now: T0 + 1 });
    expect((await store.getRoom(roomId))!.event).toEqual(roomEvent('e1'));
    await store.upsertRoom({ roomId, event: null, lineShards: SHARDS, now: T0 + 2 });
    expect((await store.getRoom(roomId))!.event).toBeUndefined();
  });

  it('fixes a boundary once, at the counter before the first reservation that asks (0 for a room never joined)', async () => {
    const roomId = uid('room');
    await store.upsertRoom({ roomId, capacity: 2, lineShards: SHARDS, now: T0 });
    expect(await store.fixBoundary(roomId, 'never_1')).toBe(0);
    await store.reserveTickets(roomId, 5, T0);
    expect(await store.reserveTickets(roomId, 3, T0, 'b_1')).toBe(8);
    expect(await store.reserveTickets(roomId, 2, T0, 'b_1')).toBe(10);
    expect(await store.fixBoundary(roomId, 'b_1')).toBe(5);
    expect(await store.fixBoundary(roomId, 'b_2')).toBe(10);
    expect(await store.fixBoundary(roomId, 'never_1')).toBe(0);
    // A boundary asked of a counter never written creates it at 0, and the next join starts at 1.
    const fresh = uid('room');
    await store.upsertRoom({ roomId: fresh, capacity: 1, lineShards: SHARDS, now: T0 });
    expect(await store.reserveTickets(fresh, 1, T0, 'b_3')).toBe(1);
    expect(await store.fixBoundary(fresh, 'b_3')).toBe(0);
  });

  it('moves a waiting token and its line entry to another ticket, only from the ticket it has', async () => {
    const roomId = uid('room');
    await store.upsertRoom({ roomId, capacity: 2, lineShards: SHARDS, now: T0 });
    const token = newToken(roomId, 3);
    await store.putToken(token, SHARDS);
    expect(await store.moveTicket({ tokenId: token.tokenId, roomId, from: 3, to: 6, lineShards: SHARDS })).toBe('moved');
    expect((await store.getToken(token.tokenId))!.ticket).toBe(6);
    expect(await wholeLine(store, roomId)).toEqual([{ tokenId: token.tokenId, ticket: 6 }]);
    expect(await store.lineEntry(roomId, 6 % SHARDS, 6)).toEqual({ tokenId: token.tokenId, ticket: 6 });
    expect(await store.moveTicket({ tokenId: token.tokenId, roomId, from: 3, to: 7, lineShards: SHARDS })).toBe('changed');
    expect(await store.moveTicket({ tokenId: uid('tok'), roomId, from: 3, to: 7, lineShards: SHARDS })).toBe('changed');
    expect(await store.moveTicket({ tokenId: token.tokenId, roomId: uid('room'), from: 6, to: 7, lineShards: SHARDS })).toBe('changed');
  });

  it('records a draw once, for the event with its commitment, and wakes the admitter', async () => {
    const roomId = uid('room');
    await store.upsertRoom({ roomId, capacity: 2, event: roomEvent('e1'), lineShards: SHARDS, now: T0 });
    const draw = { at: T0 + 61_000, boundary: 4, entries: 3, listDigest: 'c'.repeat(64) };
    const before = (await store.getRoom(roomId))!;
    expect(await store.recordDraw(roomId, 'e2', 'a'.repeat(64), draw, T0 + 61_000)).toBe('changed');
    expect(await store.recordDraw(roomId, 'e1', 'f'.repeat(64), draw, T0 + 61_000)).toBe('changed');
    expect(await store.recordDraw(roomId, 'e1', 'a'.repeat(64), draw, T0 + 61_000)).toBe('recorded');
    expect(await store.recordDraw(roomId, 'e1', 'a'.repeat(64), { ...draw, entries: 9 }, T0 + 62_000)).toBe('changed');
    const after = (await store.getRoom(roomId))!;
    expect(after.event!.draw).toEqual(draw);
    expect(after.wakeSeq).toBe(before.wakeSeq + 1);
  });

  it('applies an end once: closed, or passthrough', async () => {
    for (const atEnd of ['close', 'passthrough'] as const) {
      const roomId = uid('room');
      await store.upsertRoom({ roomId, capacity: 2, event: { ...roomEvent('e1'), atEnd }, lineShards: SHARDS, now: T0 });
      expect(await store.endEvent(roomId, 'e9', atEnd, T0 + 5)).toBe('changed');
      expect(await store.endEvent(roomId, 'e1', atEnd, T0 + 5)).toBe('ended');
      expect(await store.endEvent(roomId, 'e1', atEnd, T0 + 6)).toBe('changed');
      const room = (await store.getRoom(roomId))!;
      expect(room.event!.endedAt).toBe(T0 + 5);
      expect(atEnd === 'close' ? room.state : room.mode).toBe(atEnd === 'close' ? 'closed' : 'passthrough');
    }
  });
}
