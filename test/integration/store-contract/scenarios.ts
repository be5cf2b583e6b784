/** The store contract (store-contract.test.ts), part: Domain scenarios end to end over the store. */
import { describe, expect, it } from 'vitest';
import {
  CheckLoop,
  environmentOf,
  type RemoveOutcome,
} from '../../../lambdas/domain/index.js';
import { domainOn, SHARDS, T0, uid, wholeLine, withRemoveHook, type Contract } from './harness.js';

export function scenariosContract(contract: Contract): void {
  const { store } = contract;

  describe('domain scenarios end to end', () => {
    it('makes joins beyond capacity wait, in ticket order', async () => {
      const d = domainOn(store);
      const roomId = uid('room');
      await d.rooms.configure(roomId, { capacity: 2 });
      const views = [];
      for (let i = 0; i < 5; i++) views.push((await d.arrive(roomId)).view);
      expect(views.map((v) => [v.ticket, v.state, v.position, v.zone])).toEqual([
        [1, 'admitted', 0, 'front'],
        [2, 'admitted', 0, 'front'],
        [3, 'waiting', 1, 'front'],
        [4, 'waiting', 2, 'front'],
        [5, 'waiting', 3, 'front'],
      ]);
      expect(await wholeLine(store, roomId)).toEqual(views.slice(2).map((v) => ({ tokenId: v.tokenId, ticket: v.ticket })));
      const room = (await store.getRoom(roomId))!;
      expect(room).toMatchObject({ activeCount: 2, lastAdmittedTicket: 2, lineShards: SHARDS });
      // Tickets come in blocks (gaps allowed): at least the five handed out are reserved.
      expect(room.nextTicket).toBeGreaterThanOrEqual(5);
      expect(d.events).toMatchObject({ admitted: [1, 2], deferred: [] });
    });

    it('admits the next in line when an admitted visitor leaves', async () => {
      const d = domainOn(store);
      const roomId = uid('room');
      await d.rooms.configure(roomId, { capacity: 1 });
      const [a, b, c] = [await d.arrive(roomId), await d.arrive(roomId), await d.arrive(roomId)];
      d.clock.advance(2_000);
      await d.visitors.leave(roomId, a.view.tokenId, a.secret);
      expect(await store.getToken(a.view.tokenId)).toBeUndefined();
      expect(await d.visitors.read(roomId, b.view.tokenId, b.secret)).toMatchObject({ state: 'admitted', position: 0 });
      expect(await d.visitors.read(roomId, c.view.tokenId, c.secret)).toMatchObject({ state: 'waiting', position: 1 });
      const room = await store.getRoom(roomId);
      expect(room).toMatchObject({ activeCount: 1, admittedTotal: 2, lastAdmittedTicket: 2, evictedTotal: 0 });
      // The admitter gave its lease back.
      expect(room).not.toHaveProperty('admitter');
      expect(d.events).toMatchObject({ admitted: [1, 2], removed: [{ ticket: 1, reason: 'left' }], deferred: [] });
    });

    it('fills the seats a capacity raise frees with one batch, in ticket order', async () => {
      const d = domainOn(store);
      const roomId = uid('room');
      await d.rooms.configure(roomId, { capacity: 1 });
      const joined = [];
      for (let i = 0; i < 7; i++) joined.push(await d.arrive(roomId));
      d.clock.advance(1_000);
      const { room } = await d.rooms.configure(roomId, { capacity: 5 });
      expect(room).toMatchObject({ capacity: 5, activeCount: 5, lastAdmittedTicket: 5, admittedTotal: 5 });
      expect(room).not.toHaveProperty('admitter');
      expect(d.events.admitted).toEqual([1, 2, 3, 4, 5]);
      const states = await Promise.all(joined.map((j) => d.visitors.read(roomId, j.view.tokenId, j.secret)));
      expect(states.map((s) => s.state)).toEqual(['admitted', 'admitted', 'admitted', 'admitted', 'admitted', 'waiting', 'waiting']);
      expect(await wholeLine(store, roomId)).toEqual(joined.slice(5).map((j) => ({ tokenId: j.view.tokenId, ticket: j.view.ticket })));
    });

    it('fills the seats of a random room with live visitors drawn from the whole line', async () => {
      const d = domainOn(store);
      let state = 7;
      d.deps.random = () => ((state = (state * 48_271) % 2_147_483_647) - 1) / 2_147_483_646; // a seeded Lehmer PRNG
      const roomId = uid('room');
      await d.rooms.configure(roomId, { capacity: 0, mode: 'random' });
      const joined = [];
      for (let i = 0; i < 8; i++) joined.push(await d.arrive(roomId));
      const silent = await d.visitors.join(roomId); // never heard from: never drawn
      d.clock.advance(1_000);
      const { room } = await d.rooms.configure(roomId, { capacity: 3 });
      expect(room).toMatchObject({ capacity: 3, activeCount: 3, admittedTotal: 3, mode: 'random' });
      expect(d.events.admitted).toHaveLength(3);
      expect(room.lastAdmittedTicket).toBe(Math.max(...d.events.admitted));
      expect(d.events.admitted).not.toContain(silent.view.ticket);
      const line = await wholeLine(store, roomId);
      expect(line).toHaveLength(6);
      for (const ticket of d.events.admitted) expect(line.map((e) => e.ticket)).not.toContain(ticket);
    });

    it('evicts a silent visitor with the checker and admits the next in line', async () => {
      const d = domainOn(store);
      const roomId = uid('room');
      await d.rooms.configure(roomId, { capacity: 1 });
      const a = await d.arrive(roomId);
      await d.checkLoop.start((await store.getToken(a.view.tokenId))!);
      const b = await d.arrive(roomId);
      expect(b.view.state).toBe('waiting');

      d.clock.advance(10_000);
      let [due] = d.checks.takeDue();
      expect(await d.checkLoop.check(due!.message, due!.id)).toBe('rescheduled');
      d.clock.advance(10_000); // silent for exactly the 20 s timeout
      [due] = d.checks.takeDue();
      expect(await d.checkLoop.check(due!.message, due!.id)).toBe('evicted');

      expect(await store.getToken(a.view.tokenId)).toBeUndefined();
      expect(await store.getToken(b.view.tokenId)).toMatchObject({ state: 'ADMITTED', admittedAt: T0 + 20_000 });
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 1, admittedTotal: 2, evictedTotal: 1 });
      expect(d.events).toMatchObject({ admitted: [1, 2], removed: [{ ticket: 1, reason: 'silent' }], deferred: [] });
      await expect(d.visitors.heartbeat(roomId, a.view.tokenId, a.secret)).rejects.toThrow(/unknown, has left/);
    });

    it("keeps a visitor whose heartbeat lands between the checker's read and its removal", async () => {
      const base = domainOn(store);
      const roomId = uid('room');
      await base.rooms.configure(roomId, { capacity: 1 });
      const a = await base.visitors.join(roomId);
      await base.checkLoop.start((await store.getToken(a.view.tokenId))!);
      base.clock.advance(25_000);
      const [due] = base.checks.takeDue();

      // The checker runs over a store whose removeToken first lets the visitor's heartbeat land.
      let heartbeats = 0;
      const removals: RemoveOutcome[] = [];
      const racing = withRemoveHook(
        store,
        async () => {
          if (heartbeats++ === 0) await base.visitors.heartbeat(roomId, a.view.tokenId, a.secret);
        },
        removals,
      );
      const checker = new CheckLoop({ ...base.deps, store: racing, ...environmentOf(racing, base.clock, { roomViewMaxAgeMs: 0 }) }, base.checks);
      expect(await checker.check(due!.message, due!.id)).toBe('rescheduled');
      expect(removals).toEqual(['changed']);
      expect(await store.getToken(a.view.tokenId)).toMatchObject({ state: 'ADMITTED', lastSeenAt: T0 + 25_000, checkSeq: 1, checkBy: due!.id });
      expect(await store.getRoom(roomId)).toMatchObject({ activeCount: 1, evictedTotal: 0 });
      expect(base.checks.pendingFor(a.view.tokenId).map((m) => m.message.seq)).toEqual([1]);
    });
  });
}
