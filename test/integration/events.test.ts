/**
 * Issue 12, item 2, on the local runtime (DynamoDB Local + the queue emulator + the metrics state
 * machine), over HTTP: a scheduled event's pre-queue of 300 visitors, each with a signed receipt;
 * nobody admitted before the draw; the draw made by the metrics loop after `start`; the published
 * list and seed reproduce every visitor's place with the verifier alone (and a tampered receipt or
 * list is caught); each visitor's ticket is the one its place gives; arrivals after `start` come
 * after the pre-queue; admissions follow the drawn order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRAW_SETTLE_MS, type RoomStatus, type TokenView } from '../../lambdas/domain/index.js';
import { verifyLotteryPlace, type LotteryPlaceConfirmed } from '../../lambdas/domain/events/lottery-verify.js';
import type { LotteryPublication } from '../../lambdas/domain/events/lottery.js';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { admin, eventually, sleep } from '../helpers/visitor.js';

/** The 1,000-visitor lottery runs on the domain (test/unit/domain/events.test.ts); here the same path end to end, over HTTP. */
const VISITORS = 300;
const CAPACITY = 50;
/** Joins in flight at once. */
const JOIN_CONCURRENCY = 16;
/** The state machine's waits last this long here (10 s on AWS): the draw comes at most about this long after it is due. */
const LOOP_WAIT_MS = 1_000;

let runtime: LocalRuntime;
let url: string;

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, rooms: [], pages: false, stateMachineWaitMs: LOOP_WAIT_MS, log: () => undefined });
  url = runtime.url;
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
});

interface Joined {
  view: TokenView;
  secret: string;
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const answer = await fetch(`${url}${path}`, init);
  if (!answer.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${answer.status} ${await answer.text()}`);
  return (await answer.json()) as T;
}
const join = async (roomId: string): Promise<Joined> => {
  const { secret, ...view } = await call<TokenView & { secret: string }>(`/rooms/${roomId}/tokens`, { method: 'POST' });
  return { view, secret };
};
const auth = (j: Joined) => ({ headers: { Authorization: `Bearer ${j.secret}` } });
const read = (roomId: string, j: Joined) => call<TokenView>(`/rooms/${roomId}/tokens/${j.view.tokenId}`, auth(j));
const heartbeat = (roomId: string, j: Joined) => call<TokenView>(`/rooms/${roomId}/tokens/${j.view.tokenId}/heartbeat`, { method: 'POST', ...auth(j) });
const status = (roomId: string) => call<RoomStatus>(`/rooms/${roomId}/status`);

/** `work` over `items`, `concurrency` at a time, in order. */
async function inBatches<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]!);
      }
    }),
  );
  return results;
}

describe('a scheduled event with a lottery', () => {
  it(`orders a pre-queue of ${VISITORS} visitors by the revealed seed, as the verifier reproduces from the publication alone`, async () => {
    const roomId = `event-${Date.now()}`;
    // The pre-queue is open from the start; the doors open early once everyone joined (below).
    const schedule = { eventId: 'drop-1', prequeueStart: new Date(Date.now() - 60_000).toISOString(), start: new Date(Date.now() + 600_000).toISOString() };
    await admin(url, 'PUT', `/rooms/${roomId}`, { capacity: CAPACITY, event: schedule });
    const before = await call<LotteryPublication>(`/rooms/${roomId}/lottery`);
    expect(before.entries).toEqual([]);
    expect(before.seed).toBeUndefined();
    expect((await status(roomId)).event).toMatchObject({ phase: 'prequeue', commitment: before.commitment });

    const joinedAt = Date.now();
    const line = await inBatches(Array.from({ length: VISITORS }), JOIN_CONCURRENCY, () => join(roomId));
    const joinSeconds = (Date.now() - joinedAt) / 1000;
    console.log(`event test: ${VISITORS} pre-queue joins in ${joinSeconds.toFixed(1)} s (${Math.round(VISITORS / joinSeconds)}/s)`);
    for (const j of line) {
      expect(j.view).toMatchObject({ zone: 'far', lotteryEventId: 'drop-1' });
      expect(j.view.lotteryReceipt).toBeDefined();
    }
    // Nobody goes in before the draw, even heartbeating with every seat free. (Visitors of their own,
    // who then leave: a visitor still live after the draw may be admitted by the checker ahead of
    // others in the drawn order who have not heartbeated yet, as in any line.)
    for (const extra of await Promise.all(Array.from({ length: 5 }, () => join(roomId)))) {
      expect((await heartbeat(roomId, extra)).state).toBe('waiting');
      const left = await fetch(`${url}/rooms/${roomId}/tokens/${extra.view.tokenId}`, { method: 'DELETE', ...auth(extra) });
      expect(left.status).toBe(204);
    }
    expect((await admin<{ activeCount: number }>(url, 'GET', `/rooms/${roomId}`)).activeCount).toBe(0);

    const start = Date.now() + 1_000;
    await admin(url, 'PUT', `/rooms/${roomId}`, { event: { ...schedule, start: new Date(start).toISOString() } });
    await sleep(Math.max(0, start - Date.now()));
    const late = await join(roomId);
    expect(late.view.lotteryReceipt).toBeUndefined();
    // The metrics loop draws DRAW_SETTLE_MS after start, at its next run: generous on a loaded machine.
    const drawn = await eventually(
      async () => {
        const event = (await status(roomId)).event;
        return event?.phase === 'live' ? event : undefined;
      },
      DRAW_SETTLE_MS + 20 * LOOP_WAIT_MS + 30_000,
      'the draw',
      250,
    );
    console.log(`event test: drawn ${((drawn.drawnAt! - start) / 1000).toFixed(1)} s after start, ${drawn.entries} entries`);
    expect(drawn.entries).toBe(VISITORS);

    const publication = await call<LotteryPublication>(`/rooms/${roomId}/lottery`);
    const jwks = await call<unknown>('/.well-known/jwks.json');
    expect(publication.seed).toBe(drawn.seed);
    expect(publication.entries).toHaveLength(VISITORS);
    const places = await Promise.all(line.map((j) => verifyLotteryPlace({ receipt: j.view.lotteryReceipt!, publication, jwks })));
    for (const place of places) expect(place).toMatchObject({ ok: true, signature: { checked: true } });
    const confirmed = places as LotteryPlaceConfirmed[];
    expect(confirmed.map((p) => p.place).sort((a, b) => a! - b!)).toEqual(Array.from({ length: VISITORS }, (_, i) => i + 1));

    // Each visitor now holds the ticket its place gives: the k-th lowest of the pre-queue's tickets.
    const tickets = line.map((j) => j.view.ticket).sort((a, b) => a - b);
    const now = await inBatches(line, JOIN_CONCURRENCY, (j) => read(roomId, j));
    now.forEach((view, i) => expect(view.ticket).toBe(tickets[confirmed[i]!.place! - 1]));
    expect(late.view.ticket).toBeGreaterThan(tickets[tickets.length - 1]!);

    // Tampering is caught: a list without the visitor's entry, or reordered; a receipt with its ticket changed.
    const mine = confirmed[0]!.entry;
    const without = { ...publication, entries: [...publication.entries.filter((e) => e !== mine), 'f'.repeat(64)] };
    expect(await verifyLotteryPlace({ receipt: line[0]!.view.lotteryReceipt!, publication: without, jwks })).toMatchObject({ ok: false, problems: [{ code: 'entry-missing' }] });
    const reordered = { ...publication, entries: [...publication.entries].reverse() };
    expect(await verifyLotteryPlace({ receipt: line[0]!.view.lotteryReceipt!, publication: reordered, jwks })).toMatchObject({ ok: false });
    const [h, p, s] = line[0]!.view.lotteryReceipt!.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as { ticket: number };
    const edited = `${h}.${Buffer.from(JSON.stringify({ ...claims, ticket: claims.ticket + 1 })).toString('base64url')}.${s}`;
    expect(await verifyLotteryPlace({ receipt: edited, publication, jwks })).toMatchObject({ ok: false });

    // Admissions go in the drawn order: the first places heartbeating in order take the seats.
    const byPlace = line.map((j, i) => ({ j, place: confirmed[i]!.place! })).sort((a, b) => a.place - b.place);
    const admitted: number[] = [];
    for (const { j, place } of byPlace.slice(0, CAPACITY + 10)) {
      if ((await heartbeat(roomId, j)).state === 'admitted') admitted.push(place);
    }
    expect(admitted).toEqual(Array.from({ length: CAPACITY }, (_, i) => i + 1));
  });
});
