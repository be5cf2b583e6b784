import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TICKET_BLOCK_MS, TicketDispenser, type TicketCounter } from '../../../lambdas/domain/index.js';
import { FakeClock } from '../../helpers/in-memory-store.js';
import { SimulatedTime } from '../../helpers/simulation.js';

/** A counter whose ADD takes effect `effectMs` after it is sent and answers `answerMs` later. */
function slowCounter(sim: SimulatedTime, latency: () => { effectMs: number; answerMs: number }) {
  let value = 0;
  const reservations: number[] = [];
  const counter: TicketCounter = {
    async reserveTickets(_roomId, count) {
      const { effectMs, answerMs } = latency();
      await sim.delay(effectMs);
      value += count;
      const last = value;
      reservations.push(count);
      await sim.delay(answerMs);
      return last;
    },
  };
  return { counter, reservations };
}

describe('ticket blocks', () => {
  it('orders any two tickets handed out more than the block lifetime apart, across environments (invariant 2)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 5_000 }), env: fc.nat(5) }), { minLength: 2, maxLength: 120 }),
        // Reservations answer within a block's lifetime (the bound's condition).
        fc.array(fc.record({ effectMs: fc.integer({ min: 0, max: 240 }), answerMs: fc.integer({ min: 0, max: 240 }) }), { minLength: 1, maxLength: 20 }),
        async (envCount, joins, latencies) => {
          const sim = new SimulatedTime();
          let n = 0;
          const { counter } = slowCounter(sim, () => latencies[n++ % latencies.length]!);
          const envs = Array.from({ length: envCount }, () => new TicketDispenser(counter, sim));
          const issued: { at: number; ticket: number }[] = [];
          for (const join of joins) {
            void sim.delay(join.at).then(async () => {
              const ticket = await envs[join.env % envCount]!.take('room');
              issued.push({ at: sim.now(), ticket });
            });
          }
          await sim.run();
          expect(issued).toHaveLength(joins.length);
          expect(new Set(issued.map((i) => i.ticket)).size).toBe(joins.length);
          const outOfOrder = issued.flatMap((b) =>
            issued.filter((a) => b.at - a.at > TICKET_BLOCK_MS && !(b.ticket > a.ticket)).map((a) => `${a.ticket}@${a.at}ms > ${b.ticket}@${b.at}ms`),
          );
          expect(outOfOrder).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('still hands out tickets, unique and each join served, when reservations are slower than a block lifetime', async () => {
    const sim = new SimulatedTime();
    const { counter, reservations } = slowCounter(sim, () => ({ effectMs: 400, answerMs: 400 }));
    const envs = [new TicketDispenser(counter, sim), new TicketDispenser(counter, sim)];
    const issued: number[] = [];
    for (let i = 0; i < 20; i++) void sim.delay(i * 100).then(async () => issued.push(await envs[i % 2]!.take('room')));
    await sim.run();
    expect(new Set(issued).size).toBe(20);
    expect(reservations.length).toBeLessThanOrEqual(40);
  });

  it('reserves one ticket per join in a quiet room, so it leaves no gaps', async () => {
    const clock = new FakeClock();
    let value = 0;
    const sizes: number[] = [];
    const dispenser = new TicketDispenser({ reserveTickets: async (_r, count) => (sizes.push(count), (value += count)) }, clock);
    const tickets: number[] = [];
    for (let i = 0; i < 5; i++) {
      tickets.push(await dispenser.take('room'));
      clock.advance(3_000);
    }
    expect(tickets).toEqual([1, 2, 3, 4, 5]);
    expect(sizes).toEqual([1, 1, 1, 1, 1]);
  });

  it('grows its blocks with its own join rate, and never serves a block past its lifetime', async () => {
    const clock = new FakeClock();
    let value = 0;
    const sizes: number[] = [];
    const dispenser = new TicketDispenser({ reserveTickets: async (_r, count) => (sizes.push(count), (value += count)) }, clock);
    // 200 joins a second for 3 s.
    for (let i = 0; i < 600; i++) {
      await dispenser.take('room');
      clock.advance(5);
    }
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(50);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(200);
    // A pause longer than a block: the next join gets a fresh block, the rest of the old one is a gap.
    clock.advance(TICKET_BLOCK_MS);
    const before = value;
    await expect(dispenser.take('room')).resolves.toBe(before + 1);
  });

  it('shares one reservation between concurrent joins of one environment', async () => {
    const sim = new SimulatedTime();
    const { counter, reservations } = slowCounter(sim, () => ({ effectMs: 10, answerMs: 10 }));
    const dispenser = new TicketDispenser(counter, sim);
    const taken = Promise.all([dispenser.take('room'), dispenser.take('room'), dispenser.take('room')]);
    await sim.run();
    expect((await taken).sort()).toEqual([1, 2, 3]);
    expect(reservations).toEqual([1, 4]); // the first ran out at once: the next one grew (at most fourfold)
  });
});
