/**
 * The rehearsal's visitor (rehearsal/journey.js), the planner the Artillery scenario and the k6
 * script both drive: its copies of the page's rules agree with the domain's, and it takes the
 * steps the waiting page takes, in both zones, once admitted, and when throttled or evicted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as domain from '../../../lambdas/domain/line/positions.js';
import type { RoomStatus, TokenView } from '../../../lambdas/domain/model.js';
import { firstReadDelayMs } from '../../../web/src/client/zones.js';
import * as rehearsal from '../../../rehearsal/journey.js';
import { Journey, MAX_FAILURES_IN_A_ROW, UnexpectedAnswer, type Answer, type Count, type Step } from '../../../rehearsal/journey.js';

const T0 = 1_700_000_000_000;

const view = (fields: Partial<TokenView> = {}): TokenView => ({
  roomId: 'shop',
  tokenId: 'tok-1',
  ticket: 7,
  state: 'waiting',
  position: 1,
  estimatedWaitSeconds: 0,
  estimatedWaitLowSeconds: 0,
  estimatedWaitHighSeconds: 0,
  roomState: 'open',
  mode: 'fifo',
  zone: 'front',
  heartbeatIntervalSeconds: 5,
  keepPlaceIntervalSeconds: 300,
  ...fields,
});

const roomStatus = (fields: Partial<RoomStatus> = {}): RoomStatus => ({
  roomId: 'shop',
  state: 'open',
  mode: 'fifo',
  capacity: 5,
  active: 5,
  waiting: 100,
  lastAdmittedTicket: 0,
  lastTicket: 100,
  frontZoneTicket: 10,
  ticketsPerSecond: 1,
  rateMeasured: true,
  estimatedWaitSeconds: 100,
  estimatedWaitLowSeconds: 50,
  estimatedWaitHighSeconds: 100,
  estimateCalibration: { lowFactor: 0.5, highFactor: 1, samples: 0 },
  heartbeatIntervalSeconds: 5,
  keepPlaceIntervalSeconds: 300,
  epoch: 0,
  ...fields,
});

const reply = (status: number, body?: unknown, headers: { retryAfter?: string; etag?: string } = {}): Answer => ({
  status,
  body: body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body),
  ...headers,
});

/** A journey whose counts are recorded, with no jitter (random() = 0.5 makes every retry wait exactly its delay). */
function visitor(options: { staySeconds?: number; maxWaitSeconds?: number } = {}) {
  const counts: Count[] = [];
  const journey = new Journey({ staySeconds: options.staySeconds ?? 20, maxWaitSeconds: options.maxWaitSeconds ?? 600, count: (name) => counts.push(name), random: () => 0.5 });
  return { journey, counts };
}

/** Takes the step due (sent when due, answered `latencyMs` later) and returns it. */
function take(journey: Journey, answer: Answer, at: number, latencyMs = 10): Step {
  const step = journey.next(at);
  if (!step) throw new Error('the journey is over');
  const sentAt = Math.max(at, step.at);
  journey.answer(step, answer, sentAt, sentAt + latencyMs);
  return step;
}

describe("the page's rules, as the rehearsal copies them", () => {
  const status = fc.record({
    lastAdmittedTicket: fc.integer({ min: 0, max: 1_000_000 }),
    frontZoneAhead: fc.integer({ min: 10, max: 100_000 }),
    ticketsPerSecond: fc.oneof(fc.constant(0), fc.double({ min: 0.001, max: 10_000, noNaN: true })),
  });
  const facts = (s: { lastAdmittedTicket: number; frontZoneAhead: number; ticketsPerSecond: number }) => ({
    state: 'open' as const,
    lastAdmittedTicket: s.lastAdmittedTicket,
    frontZoneTicket: s.lastAdmittedTicket + s.frontZoneAhead,
    ticketsPerSecond: s.ticketsPerSecond,
    rateMeasured: true,
  });

  it('works out the place, the zone and the next status read as lambdas/domain/line/positions.ts does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2_000_000 }), status, (ticket, s) => {
        const line = facts(s);
        expect(rehearsal.positionOf(ticket, line)).toBe(domain.positionOf(ticket, line));
        expect(rehearsal.placeOf(ticket, line)).toEqual(domain.placeOf(ticket, line));
        expect(rehearsal.farPollDelaySeconds(ticket, line)).toBe(domain.farPollDelaySeconds(ticket, line));
      }),
    );
  });

  it("keeps its place on the domain's per-ticket grid, and reads the status first as the page does", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2_000_000 }), fc.integer({ min: 0, max: 2 * T0 }), fc.integer({ min: 5, max: 86_400 }), (ticket, lastSignalAt, interval) => {
        expect(rehearsal.nextKeepPlaceAt(ticket, lastSignalAt, interval)).toBe(domain.nextKeepPlaceAt(ticket, lastSignalAt, interval));
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100_000 }), fc.double({ min: 0, max: 1e6, noNaN: true })), (estimate) => {
        expect(rehearsal.firstReadDelaySeconds(estimate) * 1000).toBe(firstReadDelayMs(view({ estimatedWaitSeconds: estimate })));
      }),
    );
    expect([rehearsal.MIN_POLL_SECONDS, rehearsal.MAX_POLL_SECONDS, rehearsal.MAX_ESTIMATE_SECONDS]).toEqual([
      domain.MIN_POLL_SECONDS,
      domain.MAX_POLL_SECONDS,
      domain.MAX_ESTIMATE_SECONDS,
    ]);
  });
});

describe("a visitor's journey", () => {
  it('joins, takes the free seat with a heartbeat at once, stays heartbeating, then leaves', () => {
    const { journey, counts } = visitor({ staySeconds: 20 });
    expect(journey.next(T0)).toEqual({ kind: 'join', at: T0 });
    take(journey, reply(201, { ...view({ heartbeatNow: true }), secret: 'sec' }), T0);
    expect([journey.tokenId, journey.secret, journey.ticket]).toEqual(['tok-1', 'sec', 7]);

    // A join admits nobody: the heartbeat goes at once, and takes the seat.
    expect(journey.next(T0 + 10)).toEqual({ kind: 'heartbeat', at: T0 + 10 });
    take(journey, reply(200, view({ state: 'admitted', heartbeatIntervalSeconds: 8, pass: 'jwt' })), T0 + 10);
    expect(journey.mode).toBe('admitted');

    // Admitted at T0 + 20: heartbeats every 8 s from each send, then the leave when the stay is over.
    const steps = [];
    for (let at = T0 + 20; !journey.done; ) {
      const step = take(journey, reply(journey.next(at)?.kind === 'leave' ? 204 : 200, view({ state: 'admitted', heartbeatIntervalSeconds: 8 })), at);
      steps.push({ kind: step.kind, after: step.at - T0 });
      at = step.at + 10;
    }
    expect(steps).toEqual([
      { kind: 'heartbeat', after: 8_010 },
      { kind: 'heartbeat', after: 16_010 },
      { kind: 'leave', after: 20_020 },
    ]);
    expect(journey.next(T0 + 30_000)).toBeUndefined();
    expect(journey.outcome).toBe('left');
    expect(counts).toEqual(['joined', 'front', 'admitted', 'left']);
  });

  it('far back, reads the shared status (revalidating with its ETag) until its place is in the front, then heartbeats at once', () => {
    const { journey, counts } = visitor();
    take(journey, reply(201, { ...view({ ticket: 100, zone: 'far', position: 100, estimatedWaitSeconds: 100 }), secret: 'sec' }), T0, 0);
    const keepPlaceAt = domain.nextKeepPlaceAt(100, T0, 300);
    expect(keepPlaceAt).toBeGreaterThan(T0 + 30_000); // so the first steps are status reads

    // The first read a tenth of the estimate after the join; the next at the domain's delay (10 s here).
    expect(journey.next(T0)).toEqual({ kind: 'status', at: T0 + 10_000 });
    take(journey, reply(200, roomStatus(), { etag: '"e1"' }), T0, 0);
    expect(journey.etag).toBe('"e1"');
    expect(journey.next(T0 + 10_000)).toEqual({ kind: 'status', at: T0 + 20_000 });
    take(journey, reply(304), T0 + 10_000, 0); // unchanged: the last status stands
    expect(journey.next(T0 + 20_000)).toEqual({ kind: 'status', at: T0 + 30_000 });
    expect(counts).toEqual(['joined']);

    take(journey, reply(200, roomStatus({ lastAdmittedTicket: 90, frontZoneTicket: 100 }), { etag: '"e2"' }), T0 + 20_000, 0);
    expect(journey.mode).toBe('front');
    expect(journey.next(T0 + 30_000)).toEqual({ kind: 'heartbeat', at: T0 + 30_000 });
    expect(counts).toEqual(['joined', 'front']);
  });

  it('far back, keeps its place on its grid, and heartbeats at once when the keep-place answer says it is in the front', () => {
    const { journey, counts } = visitor();
    // An estimate of 20 minutes: the first status read is 60 s away, after the keep-place signal.
    take(journey, reply(201, { ...view({ ticket: 100, zone: 'far', position: 100, estimatedWaitSeconds: 1200 }), secret: 'sec' }), T0, 0);
    const keepPlaceAt = domain.nextKeepPlaceAt(100, T0, 300);
    expect(keepPlaceAt).toBeLessThan(T0 + 60_000);
    expect(journey.next(T0)).toEqual({ kind: 'keep-place', at: keepPlaceAt });
    take(journey, reply(200, view({ ticket: 100, zone: 'front', position: 9 })), T0);
    expect(journey.next(keepPlaceAt + 10)).toEqual({ kind: 'heartbeat', at: keepPlaceAt + 10 });
    expect(counts).toEqual(['joined', 'front']);
  });

  it('in the front zone, heartbeats every interval from the join', () => {
    const { journey } = visitor();
    take(journey, reply(201, { ...view({ zone: 'front', position: 6 }), secret: 'sec' }), T0, 0);
    expect(journey.next(T0)).toEqual({ kind: 'heartbeat', at: T0 + 5_000 });
    take(journey, reply(200, view({ zone: 'front', position: 3 })), T0);
    expect(journey.next(T0 + 5_010)).toEqual({ kind: 'heartbeat', at: T0 + 10_000 });
  });

  it('waits out Retry-After on a 429 (a second without one) and tries again a second after a 5xx, counting both', () => {
    const { journey, counts } = visitor();
    take(journey, reply(429, { error: { code: 'THROTTLED' } }, { retryAfter: '2' }), T0, 0);
    expect(journey.next(T0)).toEqual({ kind: 'join', at: T0 + 2_000 });
    take(journey, reply(429, { message: 'Too Many Requests' }), T0 + 2_000, 0); // API Gateway's own: no Retry-After
    expect(journey.next(T0)).toEqual({ kind: 'join', at: T0 + 3_000 });
    take(journey, reply(503, { error: { code: 'UNAVAILABLE' } }), T0 + 3_000, 0);
    expect(journey.next(T0)).toEqual({ kind: 'join', at: T0 + 4_000 });
    take(journey, reply(201, { ...view({ zone: 'far', estimatedWaitSeconds: 100 }), secret: 'sec' }), T0 + 4_000, 0);
    expect(counts).toEqual(['throttled', 'throttled', 'server_errors', 'joined']);
  });

  it(`fails the visitor when a step answers 429 or 5xx ${MAX_FAILURES_IN_A_ROW} times in a row`, () => {
    const { journey } = visitor();
    for (let i = 1; i < MAX_FAILURES_IN_A_ROW; i++) take(journey, reply(500), T0 + i * 1_000, 0);
    expect(() => take(journey, reply(500), T0 + MAX_FAILURES_IN_A_ROW * 1_000, 0)).toThrow(UnexpectedAnswer);
  });

  it('stops as evicted when a signal finds its token gone', () => {
    const { journey, counts } = visitor();
    take(journey, reply(201, { ...view(), secret: 'sec' }), T0, 0);
    take(journey, reply(404, { error: { code: 'TOKEN_NOT_FOUND' } }), T0);
    expect([journey.done, journey.outcome]).toEqual([true, 'evicted']);
    expect(counts).toEqual(['joined', 'front', 'evicted']);
  });

  it('leaves the line when it has waited maxWaitSeconds', () => {
    const { journey, counts } = visitor({ maxWaitSeconds: 12 });
    take(journey, reply(201, { ...view(), secret: 'sec' }), T0, 0);
    take(journey, reply(200, view()), T0); // at T0 + 5 s
    take(journey, reply(200, view()), T0); // at T0 + 10 s
    expect(journey.next(T0 + 10_010)).toEqual({ kind: 'leave', at: T0 + 12_000, givingUp: true });
    take(journey, reply(204), T0 + 12_000);
    expect([journey.done, journey.outcome]).toEqual([true, 'gave_up']);
    expect(counts).toEqual(['joined', 'front', 'gave_up']);
  });

  it('fails the visitor on answers outside the protocol, saying what to do about an unknown room', () => {
    const unknownRoom = visitor().journey;
    expect(() => take(unknownRoom, reply(404, { error: { code: 'ROOM_NOT_FOUND', message: 'no such room' } }), T0)).toThrow(
      /join answered 404 ROOM_NOT_FOUND: create the room first \(npm run cli -- rooms set/,
    );
    expect(() => take(visitor().journey, reply(409, { error: { code: 'ROOM_CLOSED' } }), T0)).toThrow('join answered 409 ROOM_CLOSED');
    const garbled = visitor().journey;
    expect(() => take(garbled, reply(201, '<html>'), T0)).toThrow('join: the body is not JSON');
  });
});

describe('requests', () => {
  it("names each step's route as DESIGN §3 does, under a base URL without its trailing slash", () => {
    const base = rehearsal.baseUrl('https://abc.execute-api.eu-west-1.amazonaws.com/');
    expect(base).toBe('https://abc.execute-api.eu-west-1.amazonaws.com');
    const routes = rehearsal.STEPS.map((kind) => `${rehearsal.METHOD[kind]} ${rehearsal.pathOf(kind, 'shop', 'tok-1')}`);
    expect(routes).toEqual([
      'POST /rooms/shop/tokens',
      'GET /rooms/shop/status',
      'POST /rooms/shop/tokens/tok-1/keep-place',
      'POST /rooms/shop/tokens/tok-1/heartbeat',
      'DELETE /rooms/shop/tokens/tok-1',
    ]);
  });
});
