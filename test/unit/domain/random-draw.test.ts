/**
 * The random queueing mode (lambdas/domain/line/random-draw.ts): the draw is uniform among the live
 * waiting tokens and never picks anyone else, it is bounded and falls back to reading the line when
 * the line is sparse, and the admitter that makes it keeps the seats and the rate limit; a waiting
 * visitor's place is the line's length and its mean wait.
 */
import { seededRandom } from '../../../bench/scale/simulation.js';
import { describe, expect, it } from 'vitest';
import {
  Admissions,
  RATE_BURST_MS,
  Visitors,
  WHOLE_LINE_FRONT_ZONE,
  drawAttempts,
  drawLive,
  estimateWaitSeconds,
  lineLengthBound,
  lineRate,
  randomPlace,
  type DrawQuery,
  type Token,
} from '../../../lambdas/domain/index.js';
import { domainFixture } from '../../helpers/domain-fixture.js';
import { InMemoryStore } from '../../helpers/in-memory-store.js';


const NOW = 1_000_000;
const LIVE_SINCE = NOW - 20_000;
const SHARDS = 4;

function token(ticket: number, overrides: Partial<Token> = {}): Token {
  return {
    tokenId: `t${String(ticket).padStart(21, '0')}`,
    roomId: 'room',
    ticket,
    secretHash: 'h',
    state: 'WAITING',
    signal: 'heartbeat',
    issuedAt: NOW,
    lastSeenAt: NOW,
    heard: true,
    checkSeq: 0,
    checkDueAt: NOW,
    expiresAtSeconds: 0,
    ...overrides,
  };
}

async function line(tokens: Token[]) {
  const store = new InMemoryStore();
  for (const t of tokens) await store.putToken(t, SHARDS);
  return store;
}

/**
 * Tickets 1-60: 20 live (every third), the rest silent, keeping their place far back, never heard
 * from since the join, or gaps; ticket 61 is another room's, live.
 */
async function mixedLine() {
  const tokens: Token[] = [];
  const live: number[] = [];
  for (let ticket = 1; ticket <= 60; ticket++) {
    if (ticket % 3 === 0) {
      tokens.push(token(ticket));
      live.push(ticket);
    } else if (ticket % 3 === 1) {
      const kind = ticket % 4;
      if (kind === 0) tokens.push(token(ticket, { lastSeenAt: LIVE_SINCE - 1 })); // silent: a ghost
      else if (kind === 1) tokens.push(token(ticket, { signal: 'keep-place' })); // far back
      else if (kind === 2) tokens.push(token(ticket, { heard: false })); // an orphan of a lost join answer
      // kind 3: a gap (a ticket block's unused number, or a visitor who left)
    }
    // ticket % 3 === 2: admitted already (out of the line)
  }
  tokens.push(token(61, { roomId: 'elsewhere', tokenId: 'other-room' }));
  return { store: await line(tokens), live };
}

const query = (overrides: Partial<DrawQuery> = {}): DrawQuery => ({
  roomId: 'room',
  lineShards: SHARDS,
  want: 1,
  liveSince: LIVE_SINCE,
  lastTicket: 61,
  random: seededRandom(1),
  ...overrides,
});

describe('the random draw', () => {
  it('draws each live waiting visitor equally often, and never a ghost, a far-back visitor, an orphan or another room', async () => {
    const { store, live } = await mixedLine();
    const random = seededRandom(12_345);
    const counts = new Map<number, number>();
    const DRAWS = 4_000;
    for (let i = 0; i < DRAWS; i++) {
      const draw = await drawLive(store, query({ random }));
      expect(draw.live).toHaveLength(1);
      const ticket = draw.live[0]!.ticket;
      counts.set(ticket, (counts.get(ticket) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(live);
    // Pearson's chi-square against the uniform, 19 degrees of freedom: 43.8 is its 99.9th percentile.
    const expected = DRAWS / live.length;
    const chiSquare = live.reduce((sum, t) => sum + ((counts.get(t) ?? 0) - expected) ** 2 / expected, 0);
    expect(chiSquare).toBeLessThan(43.8);
  });

  it('draws several seats at once without replacement, each live visitor about as often, in the order drawn', async () => {
    const { store, live } = await mixedLine();
    const random = seededRandom(99);
    const counts = new Map<number, number>();
    const DRAWS = 2_000;
    const WANT = 5;
    let inTicketOrder = 0;
    for (let i = 0; i < DRAWS; i++) {
      const draw = await drawLive(store, query({ random, want: WANT }));
      const tickets = draw.live.map((t) => t.ticket);
      expect(new Set(tickets).size).toBe(WANT);
      expect(draw.sampled).toBe(WANT);
      for (const t of tickets) counts.set(t, (counts.get(t) ?? 0) + 1);
      if (tickets.every((t, k) => k === 0 || tickets[k - 1]! < t)) inTicketOrder += 1;
    }
    const expected = (DRAWS * WANT) / live.length; // 500
    for (const t of live) expect(Math.abs((counts.get(t) ?? 0) - expected), `ticket ${t}`).toBeLessThan(0.15 * expected);
    // In the order drawn (a prefix is a fair draw too), not sorted: sorted would be 1 in 5! = 120.
    expect(inTicketOrder).toBeLessThan(DRAWS / 40);
  });

  it('looks at no more than its bounded number of tickets, then reads the line from a random ticket, wrapping round to the floor', async () => {
    // A sparse line: three live visitors among tickets up to 100,000.
    const store = await line([token(7), token(50_001), token(99_990)]);
    store.calls.length = 0;
    const draw = await drawLive(store, query({ want: 3, lastTicket: 100_000, random: seededRandom(5) }));
    expect(draw.live.map((t) => t.ticket).sort((a, b) => a - b)).toEqual([7, 50_001, 99_990]);
    expect(draw.attempts).toBe(drawAttempts(3));
    expect(draw.sampled).toBeLessThan(3);
    expect(store.calls.filter((c) => c === 'lineEntry').length).toBeLessThanOrEqual(drawAttempts(3));

    // Every draw lands at the top, where nobody waits: the tail reads from there, and round from the floor.
    const high = await drawLive(store, query({ want: 2, lastTicket: 100_000, random: () => 0.999_999 }));
    expect(high).toMatchObject({ sampled: 0, floor: 7 });
    expect(high.live.map((t) => t.ticket)).toEqual([7, 50_001]);
  });

  it('finds nobody in an empty line, with one read per shard and no lookups', async () => {
    const store = await line([]);
    await expect(drawLive(store, query({ want: 5 }))).resolves.toEqual({ live: [], sampled: 0, attempts: 0, floor: 0 });
    expect(store.calls.filter((c) => c === 'listLine')).toHaveLength(SHARDS);
    expect(store.calls).not.toContain('lineEntry');
  });

  it('draws from the lowest ticket still waiting, not from ticket 1', async () => {
    const store = await line([token(9_001), token(9_002), token(9_004)]);
    const draw = await drawLive(store, query({ want: 3, lastTicket: 9_004, random: seededRandom(3) }));
    expect(draw).toMatchObject({ floor: 9_001, sampled: 3 });
    // Four tickets in range, three live: the sampling needs only a few looks.
    expect(draw.attempts).toBeLessThan(20);
  });
});

describe('admission in a random room', () => {
  /**
   * A random room with `visitors` live waiting visitors and no seat yet. They arrive a second apart,
   * so that every ticket block is one ticket (no gaps: the line's bound is exact).
   */
  async function line12(seed: number, visitors = 12) {
    const f = domainFixture({ deps: { random: seededRandom(seed) } });
    await f.rooms.configure('shop', { capacity: 0, mode: 'random' });
    const joined = [];
    for (let i = 0; i < visitors; i++) {
      f.clock.advance(1_001);
      joined.push(await f.arrive('shop'));
    }
    return { f, joined, room: () => f.store.rooms.get('shop')! };
  }

  it('puts everyone in the front zone, heartbeating, with the line as position and its mean wait as estimate', async () => {
    const { f, joined, room } = await line12(1);
    joined.forEach((j, i) => expect(j.view).toMatchObject({ state: 'waiting', zone: 'front', mode: 'random', position: i + 1 }));
    const r = room();
    const expected = randomPlace({ ...r, nextTicket: 12 }, f.clock.now(), f.deps.timings);
    expect(expected).toEqual({ position: 12, estimatedWaitSeconds: estimateWaitSeconds(12, lineRate(r, f.clock.now(), f.deps.timings).admissionsPerSecond), zone: 'front' });
    expect(joined[11]!.view.estimatedWaitSeconds).toBe(expected.estimatedWaitSeconds);
    expect(f.store.tokens.get(joined[11]!.view.tokenId)!.signal).toBe('heartbeat');
    await expect(f.rooms.status('shop')).resolves.toMatchObject({ mode: 'random', waiting: 12, frontZoneTicket: WHOLE_LINE_FRONT_ZONE });
  });

  it('fills the seats with visitors drawn at random, up to the capacity, raising lastAdmittedTicket to the highest', async () => {
    const lowestEveryTime: boolean[] = [];
    for (const seed of [1, 2, 3, 4, 5]) {
      const { f, joined, room } = await line12(seed);
      await f.rooms.configure('shop', { capacity: 3 });
      expect(room().activeCount).toBe(3);
      expect(f.store.admittedIn('shop')).toHaveLength(3);
      const admitted = [...f.events.admitted].sort((a, b) => a - b);
      expect(room().lastAdmittedTicket).toBe(admitted[2]);
      lowestEveryTime.push(admitted.join() === '1,2,3');
      // Positions count the line, not tickets: 9 left, whatever their tickets.
      await expect(f.rooms.status('shop')).resolves.toMatchObject({ waiting: 9, active: 3 });
      const waiting = joined.find((j) => f.store.tokens.get(j.view.tokenId)!.state === 'WAITING')!;
      await expect(f.visitors.read('shop', waiting.view.tokenId, waiting.secret)).resolves.toMatchObject({ position: 9, zone: 'front' });
    }
    expect(lowestEveryTime).toContain(false);
  });

  it('keeps to the rate limit', async () => {
    const { f, room } = await line12(7, 20);
    await f.rooms.configure('shop', { capacity: 100, newVisitorsPerMinute: 60 });
    // One slot a second, and the last RATE_BURST_MS worth at once.
    expect(room().activeCount).toBe(RATE_BURST_MS / 1_000 + 1);
    f.clock.advance(1_000);
    await new Admissions(f.deps).fill('shop');
    expect(room().activeCount).toBe(RATE_BURST_MS / 1_000 + 2);
  });

  it('never lets a heartbeat admit its own visitor while others wait for the draw; only the admitter draws', async () => {
    const { f, joined, room } = await line12(11, 3);
    f.clock.advance(1_000);
    room().capacity = 1; // a seat, and no admitter run yet
    f.store.calls.length = 0;
    const first = joined[0]!;
    await expect(f.visitors.heartbeat('shop', first.view.tokenId, first.secret)).resolves.toMatchObject({ state: 'waiting' });
    expect(f.store.calls).not.toContain('admitTokens');
    expect(f.store.calls).not.toContain('listLine');
    await expect(new Admissions(f.deps).fill('shop')).resolves.toMatchObject({ admitted: [expect.any(String)] });
    expect(room().activeCount).toBe(1);
  });

  it('lets a visitor in at its own heartbeat when there is nobody to draw among (every ticket that may wait has a seat)', async () => {
    const f = domainFixture({ deps: { random: seededRandom(2) } });
    await f.rooms.configure('shop', { capacity: 2, mode: 'random' });
    for (const expected of [{ state: 'admitted' }, { state: 'admitted' }, { state: 'waiting', position: 1 }]) {
      f.clock.advance(1_001); // a quiet room: one ticket per block
      await expect(f.arrive('shop')).resolves.toMatchObject({ view: expected });
    }
    expect(f.store.rooms.get('shop')!.activeCount).toBe(2);
  });

  it('never draws a visitor still keeping its place from before the switch, until it heartbeats', async () => {
    const f = domainFixture({ deps: { random: seededRandom(4) }, timings: { frontZoneSeconds: 1 } });
    await f.rooms.configure('shop', { capacity: 0 });
    const joined = [];
    for (let i = 0; i < 30; i++) joined.push(await f.arrive('shop'));
    const far = joined.filter((j) => j.view.zone === 'far');
    expect(far.length).toBeGreaterThan(0);
    // More seats than live visitors, fewer than the line: all the live ones go in, nobody else.
    await f.rooms.configure('shop', { capacity: joined.length - far.length + 5, mode: 'random' });
    for (const j of far) expect(f.store.tokens.get(j.view.tokenId)!.state).toBe('WAITING');
    expect(f.store.rooms.get('shop')!.activeCount).toBe(joined.length - far.length);
    // Its page hears of the mode (the status, or a view: front zone) and heartbeats: it can be drawn.
    const view = await f.visitors.heartbeat('shop', far[0]!.view.tokenId, far[0]!.secret);
    expect(view.zone).toBe('front');
    await new Admissions(f.deps).fill('shop');
    expect(f.store.tokens.get(far[0]!.view.tokenId)!.state).toBe('ADMITTED');
  });

  it('brings forward the check of a visitor that kept its place before the switch, once it heartbeats beside free seats: the check draws', async () => {
    const f = domainFixture({ deps: { random: seededRandom(4) }, timings: { frontZoneSeconds: 1 } });
    await f.rooms.configure('shop', { capacity: 0 });
    const joined = [];
    for (let i = 0; i < 30; i++) joined.push(await f.arrive('shop'));
    for (const j of joined) await f.checkLoop.start({ tokenId: j.view.tokenId, roomId: 'shop', checkSeq: 0 }); // the stream's INSERTs
    f.clock.advance(f.deps.timings.checkDelaySeconds * 1000);
    for (const check of f.checks.takeDue()) await f.checkLoop.check(check.message, check.id); // the far ones hop minutes ahead
    const far = joined.filter((j) => j.view.zone === 'far');
    const farId = far[0]!.view.tokenId;
    await f.rooms.configure('shop', { capacity: joined.length - far.length + 2, mode: 'random' });
    expect(far.length).toBeGreaterThan(3); // two free seats, more tickets that may wait: not the heartbeat's to take
    expect(f.store.tokens.get(farId)!.checkDueAt - f.clock.now()).toBeGreaterThan(60_000);
    // The room drew when it turned random, before this visitor heartbeated, and two seats stay
    // free: no seat frees now, and its own check is minutes away. Its heartbeat (with the check
    // queue, as the heartbeat function has it) brings that check forward...
    const visitors = new Visitors({ ...f.deps, checks: f.checks });
    f.clock.advance(1_000);
    await expect(visitors.heartbeat('shop', farId, far[0]!.secret)).resolves.toMatchObject({ state: 'waiting', zone: 'front' });
    expect(f.store.tokens.get(farId)!.checkDueAt).toBe(f.clock.now());
    // ... and the check draws for the seats, among the live visitors: this one alone.
    const due = f.checks.takeDue().filter((c) => c.message.tokenId === farId);
    expect(due).toHaveLength(1);
    await f.checkLoop.check(due[0]!.message, due[0]!.id);
    expect(f.store.tokens.get(farId)!.state).toBe('ADMITTED');
    // Once brought forward, later heartbeats leave the loop alone.
    const other = far[1]!;
    const seq = f.store.tokens.get(other.view.tokenId)!.checkSeq;
    await visitors.heartbeat('shop', other.view.tokenId, other.secret);
    expect(f.store.tokens.get(other.view.tokenId)!.checkSeq).toBe(seq + 1);
    await visitors.heartbeat('shop', other.view.tokenId, other.secret);
    expect(f.store.tokens.get(other.view.tokenId)!.checkSeq).toBe(seq + 1);
  });

  it('bounds the line by tickets issued minus tickets admitted', () => {
    expect(lineLengthBound({ nextTicket: 40, admittedTotal: 25 })).toBe(15);
    expect(lineLengthBound({ nextTicket: 0, admittedTotal: 0 })).toBe(0);
  });
});
