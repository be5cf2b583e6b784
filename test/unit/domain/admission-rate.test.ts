import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Admissions,
  RATE_BURST_MS,
  lineRate,
  rateAllowance,
  rateLimitProblem,
  statusOf,
  timingsWithDefaults,
  type Room,
} from '../../../lambdas/domain/index.js';
import { domainFixture } from '../../helpers/domain-fixture.js';

describe('the rate limit (newVisitorsPerMinute)', () => {
  it('spreads a limit evenly: a limit of 60 allows one a second, and a burst of 5 s worth after a quiet spell', () => {
    const now = 1_000_000;
    const idle = rateAllowance({ newVisitorsPerMinute: 60 }, now);
    expect(idle.allowed).toBe(RATE_BURST_MS / 1000 + 1);
    const after = { newVisitorsPerMinute: 60, rateSlotAt: idle.slotAtAfter(idle.allowed) };
    expect(rateAllowance(after, now).allowed).toBe(0);
    expect(rateAllowance(after, now + 999).allowed).toBe(0);
    expect(rateAllowance(after, now + 1_000).allowed).toBe(1);
    expect(rateAllowance(after, now + 3_000).allowed).toBe(3);
  });

  it('is unlimited without a limit', () => {
    expect(rateAllowance({}, 5).allowed).toBe(Number.POSITIVE_INFINITY);
  });

  it('never lets more than (T + burst) × limit / 60 000 + 1 through in any span of T ms, whatever the admitter asks for and when', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6_000 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 20_000 }), want: fc.integer({ min: 0, max: 200 }) }), { minLength: 1, maxLength: 120 }),
        (limit, steps) => {
          let now = 10_000_000;
          let slotAt: number | undefined;
          const admissions: number[] = [];
          for (const step of steps) {
            now += step.gap;
            const allowance = rateAllowance({ newVisitorsPerMinute: limit, ...(slotAt !== undefined ? { rateSlotAt: slotAt } : {}) }, now);
            const n = Math.min(step.want, allowance.allowed);
            if (n > 0) {
              slotAt = allowance.slotAtAfter(n);
              for (let i = 0; i < n; i++) admissions.push(now);
            }
          }
          // Every window that starts at an admission (the worst windows do).
          for (let i = 0; i < admissions.length; i++) {
            for (const span of [1_000, 60_000]) {
              let j = i;
              while (j < admissions.length && admissions[j]! - admissions[i]! < span) j++;
              expect(j - i).toBeLessThanOrEqual(Math.floor(((span + RATE_BURST_MS) * limit) / 60_000) + 1);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reaches the limit over time when the admitter keeps asking', () => {
    let slotAt: number | undefined;
    let admitted = 0;
    let last = 0;
    for (let now = 0; now <= 600_000; now += 1_700) {
      last = now;
      const allowance = rateAllowance({ newVisitorsPerMinute: 120, ...(slotAt !== undefined ? { rateSlotAt: slotAt } : {}) }, now);
      if (allowance.allowed > 0) {
        slotAt = allowance.slotAtAfter(allowance.allowed);
        admitted += allowance.allowed;
      }
    }
    // About ten minutes at 120 a minute (one every 500 ms), plus the first burst.
    expect(admitted).toBeGreaterThanOrEqual(Math.floor(last / 500));
    expect(admitted).toBeLessThanOrEqual(Math.floor(last / 500) + RATE_BURST_MS / 500 + 1);
  });

  it('takes whole numbers from 1 to 60,000 a minute', () => {
    expect(rateLimitProblem(1)).toBeUndefined();
    expect(rateLimitProblem(60_000)).toBeUndefined();
    for (const bad of [0, -1, 1.5, 60_001, Number.NaN]) expect(rateLimitProblem(bad)).toMatch(/newVisitorsPerMinute/);
  });
});

describe('admission under a rate limit', () => {
  async function limitedRoom(perMinute: number, waiting: number) {
    const f = domainFixture({ timings: { frontZoneSeconds: 10_000_000 } });
    await f.rooms.configure('shop', { capacity: 0 });
    const joined = [];
    for (let i = 0; i < waiting; i++) joined.push(await f.arrive('shop'));
    await f.rooms.configure('shop', { capacity: 1_000, newVisitorsPerMinute: perMinute });
    return { f, joined, admissions: new Admissions(f.deps) };
  }

  it('admits no more than the limit allows though seats are free, then one more per slot as time passes', async () => {
    const { f, admissions } = await limitedRoom(60, 50);
    // The configure call filled what the burst allowed: 5 s worth plus one.
    expect(f.events.admitted).toEqual([1, 2, 3, 4, 5, 6]);
    await expect(admissions.fill('shop')).resolves.toMatchObject({ admitted: [] });
    f.clock.advance(2_000);
    await admissions.fill('shop');
    expect(f.events.admitted).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(f.store.rooms.get('shop')!.activeCount).toBe(8);
  });

  it("refuses a visitor's own admission when the slots are taken, though a seat is free and it is first in line", async () => {
    const { f, joined } = await limitedRoom(6, 10);
    // 6 a minute: a slot every 10 s; the burst (5 s) allows one.
    expect(f.events.admitted).toEqual([1]);
    const second = joined[1]!;
    await expect(f.visitors.heartbeat('shop', second.view.tokenId, second.secret)).resolves.toMatchObject({ state: 'waiting', position: 1 });
    f.clock.advance(10_000);
    await expect(f.visitors.heartbeat('shop', second.view.tokenId, second.secret)).resolves.toMatchObject({ state: 'admitted' });
  });

  it('loses no slot to a race: a batch whose slots another admission took is refused and retried on the fresh room', async () => {
    const { f, admissions } = await limitedRoom(60, 30);
    f.clock.advance(3_000);
    // Someone else takes the slots between this admitter's read and its transaction.
    const store = f.store;
    const admit = store.admitTokens.bind(store);
    let raced = false;
    store.admitTokens = async (request) => {
      if (!raced) {
        raced = true;
        store.rooms.get('shop')!.rateSlotAt = f.clock.now() + 10_000;
      }
      return admit(request);
    };
    await expect(admissions.fill('shop')).resolves.toMatchObject({ admitted: [] });
    expect(store.rooms.get('shop')!.activeCount).toBe(6);
  });

  it('estimates with the limit when it binds before the seats: the assumed rate is the smaller of the two', () => {
    const timings = timingsWithDefaults({});
    const room = {
      capacity: 3_000,
      admittedTotal: 0,
      lastAdmittedTicket: 0,
      rate: { prevAt: 0, prevTotal: 0, prevTicket: 0, curAt: 0, curTotal: 0, curTicket: 0 },
    };
    // 3,000 seats turning over every 300 s: 10 a second; a limit of 120 a minute: 2 a second.
    expect(lineRate(room, 1_000, timings).ticketsPerSecond).toBe(10);
    expect(lineRate({ ...room, newVisitorsPerMinute: 120 }, 1_000, timings).ticketsPerSecond).toBe(2);
    expect(lineRate({ ...room, newVisitorsPerMinute: 6_000 }, 1_000, timings).ticketsPerSecond).toBe(10);
    const status = statusOf({ ...fullRoom(), newVisitorsPerMinute: 120 } as Room, 1_000, timings);
    expect(status).toMatchObject({ newVisitorsPerMinute: 120, ticketsPerSecond: 2, estimatedWaitSeconds: 51 });
  });
});

function fullRoom(): Room {
  return {
    roomId: 'shop',
    capacity: 3_000,
    state: 'open',
    mode: 'fifo',
    nextTicket: 3_100,
    activeCount: 3_000,
    lastAdmittedTicket: 3_000,
    admittedTotal: 3_000,
    evictedTotal: 0,
    rate: { prevAt: 0, prevTotal: 0, prevTicket: 0, curAt: 0, curTotal: 0, curTicket: 0 },
    lineShards: 4,
    frontFloor: 0,
    wakeSeq: 1,
    epoch: 0,
    createdAt: 0,
    updatedAt: 0,
  };
}
