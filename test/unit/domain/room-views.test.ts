import { describe, expect, it } from 'vitest';
import { RoomViews, type Room } from '../../../lambdas/domain/index.js';
import { FakeClock } from '../../helpers/in-memory-store.js';

function countingStore(rooms: Map<string, Room>) {
  const reads: string[] = [];
  return {
    reads,
    getRoom: async (id: string) => {
      reads.push(id);
      const room = rooms.get(id);
      return room && { ...room };
    },
  };
}

const room = (capacity: number) => ({ roomId: 'shop', capacity }) as Room;

describe('cached room views', () => {
  it('reads a room at most once per max age, for every caller', async () => {
    const clock = new FakeClock();
    const rooms = new Map([['shop', room(5)]]);
    const store = countingStore(rooms);
    const views = new RoomViews(store, clock, 1_000);
    await Promise.all([views.get('shop'), views.get('shop'), views.get('shop')]);
    clock.advance(999);
    rooms.set('shop', room(7));
    await expect(views.get('shop')).resolves.toMatchObject({ capacity: 5 });
    clock.advance(1);
    await expect(views.get('shop')).resolves.toMatchObject({ capacity: 7 });
    expect(store.reads).toEqual(['shop', 'shop']);
  });

  it('caches a missing room too, so unknown rooms cost one read a second', async () => {
    const clock = new FakeClock();
    const store = countingStore(new Map());
    const views = new RoomViews(store, clock, 1_000);
    for (let i = 0; i < 10; i++) await expect(views.get('nope')).resolves.toBeUndefined();
    expect(store.reads).toHaveLength(1);
  });

  it('takes a fresher view offered by a write, but never an older one', async () => {
    const clock = new FakeClock();
    const store = countingStore(new Map([['shop', room(5)]]));
    const views = new RoomViews(store, clock, 1_000);
    await views.get('shop');
    views.offer('shop', room(9));
    await expect(views.get('shop')).resolves.toMatchObject({ capacity: 9 });
    views.offer('shop', room(1), clock.now() - 10);
    await expect(views.get('shop')).resolves.toMatchObject({ capacity: 9 });
  });

  it('does not keep a failed read', async () => {
    const clock = new FakeClock();
    let fail = true;
    const views = new RoomViews(
      {
        getRoom: async () => {
          if (fail) throw new Error('boom');
          return room(3);
        },
      },
      clock,
    );
    await expect(views.get('shop')).rejects.toThrow('boom');
    fail = false;
    await expect(views.get('shop')).resolves.toMatchObject({ capacity: 3 });
  });
});
