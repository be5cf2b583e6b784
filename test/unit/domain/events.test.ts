/**
 * Scheduled events on the in-memory store (lambdas/domain/events/events.ts, event-draw.ts): the phases, the
 * pre-queue with its receipts and no admission, the ticket cut at start, the draw (a permutation of
 * the pre-queue's tickets in the seed's order, published, resumable), admissions in the drawn order,
 * and the end.
 */
import { describe, expect, it, vi } from 'vitest';
import { JoseLotteryReceiptSigner } from '../../../lambdas/adapters/lottery-receipt-signer.js';
import { generateKeySet } from '../../../lambdas/adapters/pass-key-sources.js';
import {
  DRAW_SETTLE_MS,
  Admissions,
  EventRunner,
  ValidationError,
  advancingEvents,
  eventPhase,
  type EventSchedule,
  type JoinResult,
  type RoomEvent,
} from '../../../lambdas/domain/index.js';
import { commitmentOf, drawOrder, entryOf } from '../../../lambdas/domain/events/lottery.js';
import { verifyLotteryPlace } from '../../../lambdas/domain/events/lottery-verify.js';
import { passJwksOf } from '../../../lambdas/domain/passes/pass-keys.js';
import { domainFixture } from '../../helpers/domain-fixture.js';
import { InMemoryLotteryDraws } from '../../helpers/in-memory-store.js';

const MIN = 60_000;

async function eventRoom(options: { capacity?: number; schedule?: (t0: number) => Partial<EventSchedule> } = {}) {
  const keySet = await generateKeySet();
  const signer = new JoseLotteryReceiptSigner({ getKeySet: async () => keySet });
  const draws = new InMemoryLotteryDraws();
  const f = domainFixture({ deps: { lotteryReceipts: signer, draws } });
  const t0 = f.clock.now();
  const schedule: EventSchedule = { eventId: 'drop-1', prequeueStart: t0 + MIN, start: t0 + 10 * MIN, ...options.schedule?.(t0) };
  await f.rooms.configure('shop', { capacity: options.capacity ?? 3, event: schedule });
  let owners = 0;
  const runner = new EventRunner({ store: f.store, draws, clock: f.clock, owner: () => `events-${++owners}` });
  return { f, t0, schedule, draws, runner, jwks: passJwksOf(keySet) };
}

/**
 * Gives the room's event the first seed (and its commitment) under which the draw moves someone: a
 * draw of a few random entries is the identity one time in n!, and then there is nothing to move.
 */
async function seedThatMoves(f: ReturnType<typeof domainFixture>, roomId: string, joined: readonly JoinResult[]): Promise<void> {
  const room = f.store.rooms.get(roomId)!;
  const eventId = room.event!.eventId;
  const byTicket = [...joined].sort((a, b) => a.view.ticket - b.view.ticket);
  const entries = await Promise.all(byTicket.map((j) => entryOf({ roomId, eventId, ticket: j.view.ticket, tokenId: j.view.tokenId })));
  for (let i = 1; ; i++) {
    const seed = i.toString(16).padStart(64, '0');
    const order = await drawOrder(seed, entries);
    if (order.some((entry, k) => entry !== entries[k])) {
      room.event = { ...room.event!, seed, commitment: await commitmentOf(seed) };
      return;
    }
  }
}

const event = (e: Partial<RoomEvent>): RoomEvent => ({ eventId: 'e', prequeueStart: 100, start: 200, atEnd: 'close', commitment: 'c'.repeat(64), seed: 'd'.repeat(64), ...e });

describe('an event phase', () => {
  it('follows the clock and the draw', () => {
    expect(eventPhase(event({}), 99)).toBe('scheduled');
    expect(eventPhase(event({}), 100)).toBe('prequeue');
    expect(eventPhase(event({}), 200)).toBe('drawing');
    expect(eventPhase(event({ draw: { at: 201, boundary: 0, entries: 0, listDigest: 'x' } }), 201)).toBe('live');
    expect(eventPhase(event({ end: 300 }), 300)).toBe('ended');
  });
});

describe('scheduling an event', () => {
  it('publishes the commitment to a secret seed at once, never the seed before the draw', async () => {
    const { f } = await eventRoom();
    const room = await f.store.getRoom('shop');
    expect(room!.event!.commitment).toBe(await commitmentOf(room!.event!.seed));
    const status = await f.rooms.status('shop');
    expect(status.event).toMatchObject({ eventId: 'drop-1', phase: 'scheduled', commitment: room!.event!.commitment });
    expect(JSON.stringify(status)).not.toContain(room!.event!.seed);
  });

  it('refuses bad schedules, and changing an event whose pre-queue is open (except its end)', async () => {
    const { f, t0, schedule } = await eventRoom();
    await expect(f.rooms.configure('shop', { event: { ...schedule, start: schedule.prequeueStart - 1 } })).rejects.toThrow(ValidationError);
    await expect(f.rooms.configure('shop', { event: { ...schedule, end: schedule.start } })).rejects.toThrow(/end must be after/);
    await expect(f.rooms.configure('shop', { event: { ...schedule, eventId: 'bad id' } })).rejects.toThrow(/eventId/);
    // Rescheduled before its pre-queue: the same seed, so the published commitment stands.
    const before = (await f.store.getRoom('shop'))!.event!;
    await f.rooms.configure('shop', { event: { ...schedule, start: schedule.start + MIN } });
    expect((await f.store.getRoom('shop'))!.event!.commitment).toBe(before.commitment);
    f.clock.set(t0 + 2 * MIN);
    await expect(f.rooms.configure('shop', { event: { ...schedule, prequeueStart: schedule.prequeueStart + 1 } })).rejects.toThrow(/prequeue phase/);
    await expect(f.rooms.configure('shop', { event: { ...schedule, start: t0 + MIN } })).rejects.toThrow(/already past/);
    // The doors may open early (or late) while the pre-queue is open: the same seed.
    expect((await f.rooms.configure('shop', { event: { ...schedule, start: t0 + 3 * MIN } })).room.event).toMatchObject({ start: t0 + 3 * MIN, commitment: before.commitment });
    f.clock.set(t0 + 3 * MIN);
    await expect(f.rooms.configure('shop', { event: { ...schedule, start: t0 + 4 * MIN } })).rejects.toThrow(/drawing phase/);
    f.clock.set(t0 + 2 * MIN);
    await expect(f.rooms.configure('shop', { event: { eventId: 'other', prequeueStart: t0 + 3 * MIN, start: t0 + 20 * MIN } })).rejects.toThrow(/remove it/);
    const ended = await f.rooms.configure('shop', { event: { ...schedule, start: t0 + 3 * MIN, end: t0 + 60 * MIN, atEnd: 'passthrough' } });
    expect(ended.room.event).toMatchObject({ end: t0 + 60 * MIN, atEnd: 'passthrough', commitment: before.commitment });
    expect((await f.rooms.configure('shop', { event: null })).room.event).toBeUndefined();
  });
});

describe('the pre-queue and the draw', () => {
  it('admits nobody before the draw, then admits in the drawn order that the verifier reproduces from the publication', async () => {
    const { f, schedule, runner, draws, jwks } = await eventRoom({ capacity: 3 });
    f.clock.set(schedule.prequeueStart);
    const joined: JoinResult[] = [];
    for (let i = 0; i < 12; i++) {
      const j = await f.visitors.join('shop');
      expect(j.view.zone).toBe('far');
      expect(j.view.lotteryEventId).toBe('drop-1');
      expect(j.view.lotteryReceipt).toMatch(/^ey/);
      // Nobody is admitted in the pre-queue, even heartbeating first in line with seats free.
      const beat = await f.visitors.heartbeat('shop', j.view.tokenId, j.secret);
      expect(beat.state).toBe('waiting');
      joined.push(j);
      f.clock.advance(1_000);
    }
    expect((await f.store.getRoom('shop'))!.activeCount).toBe(0);
    expect(await runner.advance((await f.store.getRoom('shop'))!)).toBeUndefined();

    // After start: a join takes a ticket above the boundary, and still waits.
    f.clock.set(schedule.start);
    const late = await f.visitors.join('shop');
    expect(late.view.lotteryReceipt).toBeUndefined();
    expect((await f.rooms.status('shop')).event!.phase).toBe('drawing');
    // The draw waits a moment for the last joins to reach the line index.
    expect(await runner.advance((await f.store.getRoom('shop'))!)).toBeUndefined();
    f.clock.advance(DRAW_SETTLE_MS);
    const step = await runner.advance((await f.store.getRoom('shop'))!);
    expect(step).toMatchObject({ kind: 'drawn', entries: 12 });

    const room = (await f.store.getRoom('shop'))!;
    const status = await f.rooms.status('shop');
    expect(status.event).toMatchObject({ phase: 'live', seed: room.event!.seed, entries: 12 });
    const reads = vi.spyOn(draws, 'get');
    const { publication, drawn } = await f.rooms.lottery('shop');
    expect(drawn).toBe(true);
    // A drawn lottery never changes: the environment reads the kept draw once.
    expect(await f.rooms.lottery('shop')).toEqual({ publication, drawn: true });
    expect(reads).toHaveBeenCalledTimes(1);
    // The pre-queue's tickets, permuted in the seed's order: the k-th drawn holds the k-th lowest ticket.
    const order = await drawOrder(room.event!.seed, publication.entries);
    const places = await Promise.all(joined.map((j) => verifyLotteryPlace({ receipt: j.view.lotteryReceipt!, publication, jwks })));
    const tickets = joined.map((j) => j.view.ticket).sort((a, b) => a - b);
    places.forEach((p, i) => {
      expect(p).toMatchObject({ ok: true });
      if (!p.ok) return;
      expect(order[p.place! - 1]).toBe(p.entry);
      expect(f.store.tokens.get(joined[i]!.view.tokenId)!.ticket).toBe(tickets[p.place! - 1]);
    });
    expect(late.view.ticket).toBeGreaterThan(Math.max(...tickets));
    expect((await draws.get('shop', 'drop-1', room.event!.commitment))!.plan).toHaveLength(12);

    // Admissions now go in the drawn order: the first three places, then no one else.
    const byPlace = joined.map((j, i) => ({ j, place: (places[i] as { place: number }).place })).sort((a, b) => a.place - b.place);
    for (const { j } of byPlace) await f.visitors.heartbeat('shop', j.view.tokenId, j.secret);
    await f.visitors.heartbeat('shop', late.view.tokenId, late.secret);
    await f.deps.views.forget('shop');
    const admitted = f.store.admittedIn('shop').map((t) => t.tokenId).sort();
    expect(admitted).toEqual(byPlace.slice(0, 3).map(({ j }) => j.view.tokenId).sort());
  });

  it('draws a pre-queue of 1,000 visitors that the verifier alone reproduces from the publication, each holding the ticket its place gives', async () => {
    const { f, schedule, runner, jwks } = await eventRoom();
    f.clock.set(schedule.prequeueStart);
    const joined: JoinResult[] = [];
    for (let i = 0; i < 1_000; i++) {
      joined.push(await f.visitors.join('shop'));
      f.clock.advance(7);
    }
    f.clock.set(schedule.start + DRAW_SETTLE_MS);
    expect(await runner.advance((await f.store.getRoom('shop'))!)).toMatchObject({ kind: 'drawn', entries: 1_000 });
    const { publication } = await f.rooms.lottery('shop');
    const tickets = joined.map((j) => j.view.ticket).sort((a, b) => a - b);
    const places = await Promise.all(joined.map((j) => verifyLotteryPlace({ receipt: j.view.lotteryReceipt!, publication, jwks })));
    const seen = new Set<number>();
    places.forEach((p, i) => {
      if (!p.ok) throw new Error(`visitor ${i}: ${JSON.stringify(p.problems)}`);
      seen.add(p.place!);
      expect(f.store.tokens.get(joined[i]!.view.tokenId)!.ticket).toBe(tickets[p.place! - 1]);
    });
    expect(seen.size).toBe(1_000);
  });

  it('signs the receipt before writing the token: a failed signature leaves no token behind', async () => {
    const f = domainFixture({ deps: { lotteryReceipts: { issue: async () => Promise.reject(new Error('key set unavailable')) } } });
    const t0 = f.clock.now();
    await f.rooms.configure('shop', { capacity: 1, event: { eventId: 'drop-1', prequeueStart: t0, start: t0 + MIN } });
    await expect(f.visitors.join('shop')).rejects.toThrow(/key set unavailable/);
    expect(f.store.tokens.size).toBe(0);
  });

  it('finishes a draw cut short by its budget from the kept plan, never drawing twice', async () => {
    const { f, schedule, draws } = await eventRoom();
    f.clock.set(schedule.prequeueStart);
    for (let i = 0; i < 40; i++) await f.visitors.join('shop');
    f.clock.set(schedule.start + DRAW_SETTLE_MS);
    // A run with no time to move anything: the plan is kept, the draw not recorded.
    const short = new EventRunner({ store: f.store, draws, clock: f.clock, owner: () => 'short', budgetMs: 0 });
    const first = await short.advance((await f.store.getRoom('shop'))!);
    expect(first).toMatchObject({ kind: 'draw-partial', moved: 0 });
    const room = (await f.store.getRoom('shop'))!;
    expect(room.event!.draw).toBeUndefined();
    expect(room.admitter).toBeUndefined();
    const plan = (await draws.get('shop', 'drop-1', room.event!.commitment))!.plan;
    // A visitor joins late and one leaves meanwhile: the next run finishes the same plan.
    await f.visitors.join('shop');
    const runner = new EventRunner({ store: f.store, draws, clock: f.clock, owner: () => 'next' });
    expect(await runner.advance(room)).toMatchObject({ kind: 'drawn', entries: 40 });
    expect((await draws.get('shop', 'drop-1', room.event!.commitment))!.plan).toEqual(plan);
    for (const p of plan) expect(f.store.tokens.get(p.tokenId)!.ticket).toBe(p.to);
  });

  it('hands the seats on once the draw opened the room: the live visitors are admitted at once, in the drawn order', async () => {
    const { f, schedule, draws } = await eventRoom({ capacity: 2 });
    f.clock.set(schedule.prequeueStart);
    const joined: JoinResult[] = [];
    for (let i = 0; i < 4; i++) joined.push(await f.visitors.join('shop'));
    await seedThatMoves(f, 'shop', joined);
    f.clock.set(schedule.start + DRAW_SETTLE_MS);
    // Every visitor heartbeats while the draw is due (held: nobody is admitted before it).
    for (const j of joined) expect((await f.visitors.heartbeat('shop', j.view.tokenId, j.secret)).state).toBe('waiting');
    const admit = vi.fn((roomId: string) => new Admissions(f.deps).fillSafely(roomId));
    const short = new EventRunner({ store: f.store, draws, clock: f.clock, owner: () => 'short', budgetMs: 0, admit });
    expect(await short.advance((await f.store.getRoom('shop'))!)).toMatchObject({ kind: 'draw-partial' });
    expect(admit).not.toHaveBeenCalled(); // still drawing: the room holds its admissions
    const runner = new EventRunner({ store: f.store, draws, clock: f.clock, owner: () => 'next', admit });
    expect(await runner.advance((await f.store.getRoom('shop'))!)).toMatchObject({ kind: 'drawn', entries: 4 });
    expect(admit).toHaveBeenCalledExactlyOnceWith('shop');
    const room = (await f.store.getRoom('shop'))!;
    expect(room.admitter).toBeUndefined();
    // The two lowest tickets after the draw are the first two drawn: they hold the seats.
    const byTicket = joined.map((j) => f.store.tokens.get(j.view.tokenId)!).sort((a, b) => a.ticket - b.ticket);
    expect(byTicket.map((t) => t.state)).toEqual(['ADMITTED', 'ADMITTED', 'WAITING', 'WAITING']);
  });

  it('applies the end once: closes the room, or lets everyone through', async () => {
    for (const atEnd of ['close', 'passthrough'] as const) {
      const { f, runner } = await eventRoom({ schedule: (t0) => ({ prequeueStart: t0, start: t0 + 1, end: t0 + 20 * MIN, atEnd }) });
      const room = (await f.store.getRoom('shop'))!;
      f.clock.set(room.event!.end!);
      if (atEnd === 'close') await expect(f.visitors.join('shop')).rejects.toThrow(/closed/);
      const rooms = advancingEvents({ listRooms: () => f.store.listRooms() }, runner, () => undefined);
      await rooms.listRooms();
      const after = (await f.store.getRoom('shop'))!;
      expect(after.event!.endedAt).toBe(room.event!.end);
      expect(atEnd === 'close' ? after.state : after.mode).toBe(atEnd === 'close' ? 'closed' : 'passthrough');
      expect(await runner.advance(after)).toBeUndefined();
    }
  });
});
