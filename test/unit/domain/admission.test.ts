import { describe, expect, it } from 'vitest';
import { Admissions, ContentionError, MAX_ADMISSIONS_PER_CALL, MAX_ADMIT_ATTEMPTS } from '../../../lambdas/domain/index.js';
import { domainFixture } from '../../helpers/domain-fixture.js';

async function fullRoom(capacity: number, waiting: number) {
  const f = domainFixture();
  await f.rooms.configure('shop', { capacity });
  const joined = [];
  for (let i = 0; i < capacity + waiting; i++) joined.push(await f.visitors.join('shop'));
  return { f, joined, admissions: new Admissions(f.deps) };
}

describe('admission', () => {
  it('admits the next ticket when a seat frees', async () => {
    const { f, joined, admissions } = await fullRoom(2, 3);
    f.store.rooms.get('shop')!.activeCount -= 1;
    f.store.tokens.delete(joined[0]!.view.tokenId);
    await expect(admissions.admitNext('shop')).resolves.toEqual([joined[2]!.view.tokenId]);
    expect(f.store.rooms.get('shop')).toMatchObject({ activeCount: 2, lastAdmittedTicket: 3 });
  });

  it('admits in ticket order until the room is full', async () => {
    const { f, joined, admissions } = await fullRoom(1, 4);
    f.store.rooms.get('shop')!.capacity = 4;
    await admissions.admitNext('shop');
    expect(f.events.admitted).toEqual([1, 2, 3, 4]);
    expect(f.store.tokens.get(joined[4]!.view.tokenId)?.state).toBe('WAITING');
  });

  it('skips waiting tokens that are gone', async () => {
    const { f, joined, admissions } = await fullRoom(1, 3);
    f.store.rooms.get('shop')!.capacity = 2;
    // The index proposes ticket 2, but its visitor left before the transaction.
    const listWaiting = f.store.listWaiting.bind(f.store);
    f.store.listWaiting = async (...args) => {
      const line = await listWaiting(...args);
      f.store.tokens.delete(joined[1]!.view.tokenId);
      return line;
    };
    await expect(admissions.admitNext('shop')).resolves.toEqual([joined[2]!.view.tokenId]);
  });

  it('admits nobody in a paused or closed room', async () => {
    const { f, admissions } = await fullRoom(1, 2);
    for (const state of ['paused', 'closed'] as const) {
      const room = f.store.rooms.get('shop')!;
      room.state = state;
      room.capacity = 10;
      await expect(admissions.admitNext('shop')).resolves.toEqual([]);
    }
  });

  it('lets one of two admissions competing for the last seat win', async () => {
    const { f, admissions } = await fullRoom(3, 4);
    const room = f.store.rooms.get('shop')!;
    room.capacity = 4; // one free seat, two callers
    const [a, b] = await Promise.all([admissions.admitNext('shop'), admissions.admitNext('shop')]);
    expect([...a, ...b]).toHaveLength(1);
    expect(f.store.admittedIn('shop')).toHaveLength(4);
    expect(room.activeCount).toBe(4);
  });

  it('retries a conflicting transaction and then succeeds', async () => {
    const { f, admissions } = await fullRoom(1, 1);
    f.store.rooms.get('shop')!.capacity = 2;
    f.store.conflicts.set('admitToken', 3);
    const slept: number[] = [];
    f.deps.sleep = async (ms) => void slept.push(ms);
    await expect(admissions.admitNext('shop')).resolves.toHaveLength(1);
    expect(slept).toHaveLength(3);
    expect(slept[2]!).toBeGreaterThan(slept[0]!);
  });

  it('gives up with a contention error when conflicts last', async () => {
    const { f, admissions } = await fullRoom(1, 1);
    f.store.rooms.get('shop')!.capacity = 2;
    f.store.conflicts.set('admitToken', MAX_ADMIT_ATTEMPTS);
    await expect(admissions.admitNext('shop')).rejects.toBeInstanceOf(ContentionError);
  });

  it('never lowers lastAdmittedTicket when a lower ticket is admitted late', async () => {
    const { f, joined, admissions } = await fullRoom(1, 2);
    const room = f.store.rooms.get('shop')!;
    room.lastAdmittedTicket = 3; // ticket 3 admitted out of order (same instant as ticket 2)
    room.capacity = 2;
    await expect(admissions.admitNext('shop')).resolves.toEqual([joined[1]!.view.tokenId]);
    expect(room.lastAdmittedTicket).toBe(3);
  });

  it('retries without raising lastAdmittedTicket when it moved past the ticket meanwhile', async () => {
    const { f, joined, admissions } = await fullRoom(1, 1);
    const room = f.store.rooms.get('shop')!;
    room.capacity = 2;
    const getRoom = f.store.getRoom.bind(f.store);
    let reads = 0;
    f.store.getRoom = async (id) => {
      const view = await getRoom(id);
      if (++reads === 1) room.lastAdmittedTicket = 5; // moves after this read
      return view;
    };
    await expect(admissions.admitNext('shop')).resolves.toEqual([joined[1]!.view.tokenId]);
    expect(room.lastAdmittedTicket).toBe(5);
  });

  it('admits at most a bounded number per call, leaving the rest to the next trigger', async () => {
    const f = domainFixture();
    await f.rooms.configure('big', { capacity: 0 });
    for (let i = 0; i < MAX_ADMISSIONS_PER_CALL + 5; i++) await f.visitors.join('big');
    f.store.rooms.get('big')!.capacity = 1_000;
    await expect(new Admissions(f.deps).admitNext('big')).resolves.toHaveLength(MAX_ADMISSIONS_PER_CALL);
  });

  it('measures the admission rate over a rolling window', async () => {
    const { f, joined, admissions } = await fullRoom(1, 2);
    const room = f.store.rooms.get('shop')!;
    f.clock.advance(40_000);
    room.capacity = 2;
    await admissions.admitNext('shop');
    expect(room.rate).toMatchObject({ curTotal: 2, curAt: f.clock.now() });
    expect(joined).toHaveLength(3);
  });
});

describe('room configuration', () => {
  it('needs a capacity to create a room, and keeps counters on change', async () => {
    const f = domainFixture();
    await expect(f.rooms.configure('new', { state: 'open' })).rejects.toThrow(/give a capacity/);
    const { created } = await f.rooms.configure('new', { capacity: 1 });
    expect(created).toBe(true);
    await f.visitors.join('new');
    const { room, created: again } = await f.rooms.configure('new', { state: 'paused' });
    expect(again).toBe(false);
    expect(room).toMatchObject({ capacity: 1, state: 'paused', nextTicket: 1, activeCount: 1 });
  });

  it('admits the next visitors at once when capacity is raised or the room reopens', async () => {
    const f = domainFixture();
    await f.rooms.configure('shop', { capacity: 1 });
    for (let i = 0; i < 4; i++) await f.visitors.join('shop');
    await f.rooms.configure('shop', { capacity: 3 });
    expect(f.events.admitted).toEqual([1, 2, 3]);
    await f.rooms.configure('shop', { state: 'paused', capacity: 4 });
    expect(f.events.admitted).toHaveLength(3);
    await f.rooms.configure('shop', { state: 'open' });
    expect(f.events.admitted).toEqual([1, 2, 3, 4]);
  });

  it('refuses a capacity that is negative, fractional or huge', async () => {
    const f = domainFixture();
    for (const capacity of [-1, 1.5, 10_000_000]) {
      await expect(f.rooms.configure('x', { capacity })).rejects.toThrow(/whole number/);
    }
  });

  it('reports status with an estimate for the next visitor', async () => {
    const f = domainFixture();
    await f.rooms.configure('shop', { capacity: 1 });
    await expect(f.rooms.status('shop')).resolves.toMatchObject({ active: 0, waiting: 0, estimatedWaitSeconds: 0 });
    await f.visitors.join('shop');
    await f.visitors.join('shop');
    const status = await f.rooms.status('shop');
    expect(status).toMatchObject({ state: 'open', capacity: 1, active: 1, waiting: 1, lastAdmittedTicket: 1 });
    expect(status.estimatedWaitSeconds).toBeGreaterThan(0);
    await expect(f.rooms.status('shop', 7)).resolves.toMatchObject({ waiting: 7 });
  });
});
