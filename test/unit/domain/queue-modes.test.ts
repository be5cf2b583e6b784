import { describe, expect, it } from 'vitest';
import { Admissions, RoomNotAcceptingError, ValidationError, WHOLE_LINE_FRONT_ZONE, queueModeOf } from '../../../lambdas/domain/index.js';
import { domainFixture } from '../../helpers/domain-fixture.js';

describe('queueing modes', () => {
  it('is fifo unless told otherwise, and reads an unknown stored mode as fifo', async () => {
    const f = domainFixture();
    await f.rooms.configure('shop', { capacity: 1 });
    expect(f.store.rooms.get('shop')!.mode).toBe('fifo');
    expect(queueModeOf(undefined)).toBe('fifo');
    expect(queueModeOf('random-2031')).toBe('fifo');
  });

  it('refuses a mode it does not know', async () => {
    const f = domainFixture();
    await expect(f.rooms.configure('shop', { capacity: 1, mode: 'lottery' as never })).rejects.toThrow(ValidationError);
  });

  describe('passthrough', () => {
    it('admits every visitor at its first heartbeat, beyond the seats and far back in line, and counts them', async () => {
      const f = domainFixture();
      await f.rooms.configure('shop', { capacity: 2, mode: 'passthrough' });
      const joined = [];
      for (let i = 0; i < 40; i++) joined.push(await f.visitors.join('shop'));
      // Everyone is in the front zone and told to heartbeat at once.
      for (const j of joined) expect(j.view).toMatchObject({ zone: 'front', heartbeatNow: true, mode: 'passthrough', estimatedWaitSeconds: 0 });
      for (const j of joined) await expect(f.visitors.heartbeat('shop', j.view.tokenId, j.secret)).resolves.toMatchObject({ state: 'admitted' });
      expect(f.store.rooms.get('shop')).toMatchObject({ activeCount: 40, admittedTotal: 40, capacity: 2 });
      const status = await f.rooms.status('shop');
      expect(status).toMatchObject({ mode: 'passthrough', active: 40, capacity: 2, frontZoneTicket: WHOLE_LINE_FRONT_ZONE, estimatedWaitSeconds: 0 });
    });

    it('lets the whole line in when a full room switches to passthrough, and counts seats again when it switches back', async () => {
      const f = domainFixture({ timings: { frontZoneSeconds: 10_000_000 } });
      await f.rooms.configure('shop', { capacity: 1 });
      for (let i = 0; i < 150; i++) await f.arrive('shop');
      expect(f.store.rooms.get('shop')!.activeCount).toBe(1);
      await f.rooms.configure('shop', { mode: 'passthrough' });
      expect(f.store.rooms.get('shop')!.activeCount).toBe(150);
      await f.rooms.configure('shop', { mode: 'fifo' });
      const late = await f.arrive('shop');
      expect(late.view).toMatchObject({ state: 'waiting' });
      expect(f.store.rooms.get('shop')!.frontFloor).toBeLessThan(WHOLE_LINE_FRONT_ZONE);
    });

    it('is refused by the store once the room left passthrough: an admission computed before the switch takes no seat', async () => {
      const f = domainFixture();
      await f.rooms.configure('shop', { capacity: 1, mode: 'passthrough' });
      const a = await f.arrive('shop');
      const b = await f.visitors.join('shop');
      expect(a.view.state).toBe('admitted');
      // The room switches to fifo (full) between b's view of it and b's admission.
      const cached = { ...f.store.rooms.get('shop')! };
      f.store.rooms.get('shop')!.mode = 'fifo';
      await expect(new Admissions(f.deps).admitSelf({ ...f.store.tokens.get(b.view.tokenId)!, heard: true }, cached)).resolves.toBe(false);
      expect(f.store.rooms.get('shop')!.activeCount).toBe(1);
    });

    it('admits nobody while paused', async () => {
      const f = domainFixture();
      await f.rooms.configure('shop', { capacity: 1, mode: 'passthrough', state: 'paused' });
      await expect(f.arrive('shop')).resolves.toMatchObject({ view: { state: 'waiting' } });
    });
  });

  describe('reject', () => {
    it('refuses joins without a ticket and with the message, while the line already there goes on in order', async () => {
      const f = domainFixture();
      await f.rooms.configure('shop', { capacity: 1 });
      const first = await f.arrive('shop');
      const second = await f.arrive('shop');
      await f.rooms.configure('shop', { mode: 'reject', message: 'Saturday is sold out' });
      const tickets = (await f.store.getRoom('shop'))!.nextTicket;
      const tokens = f.store.tokens.size;
      const join = f.visitors.join('shop');
      await expect(join).rejects.toThrow(RoomNotAcceptingError);
      await expect(join).rejects.toMatchObject({ code: 'ROOM_NOT_ACCEPTING', message: expect.stringContaining('Saturday is sold out') });
      expect((await f.store.getRoom('shop'))!.nextTicket).toBe(tickets);
      expect(f.store.tokens.size).toBe(tokens);
      await f.visitors.leave('shop', first.view.tokenId, first.secret);
      expect(f.store.tokens.get(second.view.tokenId)!.state).toBe('ADMITTED');
      await expect(f.rooms.status('shop')).resolves.toMatchObject({ mode: 'reject', message: 'Saturday is sold out' });
    });
  });
});
