/**
 * The browser client and a room's scheduled event (web/src/client/room-event.ts): a join in the
 * pre-queue keeps its receipt, every ticket keeps its place far back until the draw, the status is
 * read no later than the start, and the ticket is read once after the draw, which may have moved it.
 */
import { describe, expect, it } from 'vitest';
import type { PublicEvent } from '../../../lambdas/domain/model.js';
import { isPublicEvent, waitsForDraw, type TokenView } from '../../../web/src/client.js';
import { drawToReread, eventReadDelayMs } from '../../../web/src/client/room-event.js';
import { EventRoom, prequeueEvent, RECEIPT } from './event-room.js';
import { storedCredential, type FakeApi, type FakeBrowser, type RecordingClient } from './fakes.js';
import { T0, useFakeBrowser } from './harness.js';

let api: FakeApi;
let browser: FakeBrowser;
let room: EventRoom;
const { track, advance, times } = useFakeBrowser((freshApi, freshBrowser) => {
  api = freshApi;
  browser = freshBrowser;
  room = new EventRoom(api);
  // Nobody leaves in these tests: the keep-place grid falls past their end.
  api.room().keepPlaceIntervalSeconds = 3_600;
});

const lastView = (tab: RecordingClient): TokenView => tab.named('position').at(-1)!;

async function visitor(tab = 'a'): Promise<RecordingClient> {
  const client = track(browser.tab(tab).client({ fetch: room.fetch }));
  await client.client.start();
  return client;
}

describe('a join in the pre-queue', () => {
  it('keeps the lottery receipt with the credential and reads the status at once, to count down', async () => {
    room.event = prequeueEvent(45_000);
    const tab = await visitor();
    await advance(100);

    expect(storedCredential(browser)).toMatchObject({ lotteryEventId: 'drop-1', lotteryReceipt: RECEIPT });
    expect(tab.client.lotteryEntry).toEqual({ eventId: 'drop-1', receipt: RECEIPT });
    expect(times('status')).toEqual([0]);
    expect(tab.client.roomEvent).toMatchObject({ eventId: 'drop-1', phase: 'prequeue', start: T0 + 45_000 });
  });

  it('has no lottery entry when the join was not in a pre-queue', async () => {
    const tab = await visitor();
    expect(tab.client.lotteryEntry).toBeUndefined();
    expect(storedCredential(browser)).not.toHaveProperty('lotteryReceipt');
  });
});

describe('until the draw', () => {
  it('keeps a ticket the status puts in the front zone far back: status reads and no heartbeat', async () => {
    room.event = prequeueEvent(30_000);
    const tab = await visitor();
    await advance(40_000);
    room.startDrawing();
    await advance(20_000);

    expect(lastView(tab)).toMatchObject({ ticket: 1, zone: 'far' });
    expect(api.status().frontZoneTicket).toBeGreaterThanOrEqual(1);
    expect(api.count('heartbeat')).toBe(0);
    expect(times('status').length).toBeGreaterThan(20); // every 2 s: the domain's minimum for a ticket this near
    expect(tab.client.state).toBe('waiting');
  });

  it('reads the status at its far-back rate, but no later than the start, and at the poll minimum during the draw', async () => {
    room.event = prequeueEvent(45_000);
    api.crowd(99);
    api.room().ticketsPerSecond = 1 / 30; // position 100: a read a minute
    await visitor();
    await advance(44_000);
    room.startDrawing();
    await advance(6_000);
    const { tokenId } = storedCredential(browser)!;
    room.draw(new Map([[tokenId, 100]]), 50_000);
    await advance(80_000);

    // The start; every 2 s while the status says the draw is being made; once drawn, a read of the
    // token and the far-back rate again.
    const reads = times('status');
    expect(reads.slice(0, 5)).toEqual([0, 45_000, 47_000, 49_000, 51_000]);
    expect(reads.slice(5)).toEqual([111_000]);
    expect(api.count('read')).toBe(1);
  });
});

describe('the draw', () => {
  it('is followed by one read of the token: its new ticket gives the place, even a higher one', async () => {
    room.event = prequeueEvent(20_000);
    api.room().frontSize = 2; // ticket 5 is far back once drawn: its place comes from status reads
    api.crowd(1);
    const tab = await visitor();
    api.crowd(3); // tickets 3 to 5: others in the pre-queue
    await advance(10_000);
    expect(lastView(tab)).toMatchObject({ ticket: 2, position: 2 });

    room.startDrawing();
    await advance(12_000);
    const { tokenId } = storedCredential(browser)!;
    room.draw(new Map([[tokenId, 5]]), 22_000);
    const readsBefore = times('status').length;
    await advance(2_000);

    expect(api.kinds().slice(-2)).toEqual(['status', 'read']);
    expect(lastView(tab)).toMatchObject({ ticket: 5, position: 5 });
    await advance(20_000);
    expect(api.count('read')).toBe(1);
    expect(times('status').length).toBeGreaterThanOrEqual(readsBefore + 2); // the one that showed the draw, and later ones
    expect(lastView(tab)).toMatchObject({ ticket: 5, position: 5 });
  });

  it('lets the first drawn in: its re-read view puts it in the front zone, it heartbeats and is admitted', async () => {
    room.event = prequeueEvent(10_000);
    api.crowd(1);
    const tab = await visitor();
    await advance(12_000);
    const { tokenId } = storedCredential(browser)!;
    room.draw(new Map([[tokenId, 1]]), 12_000);
    api.admitThrough(0);
    api.setCapacity(1);
    await advance(3_000);

    expect(api.kinds().filter((kind) => kind !== 'status')).toEqual(['join', 'read', 'heartbeat']);
    expect(tab.client.state).toBe('admitted');
  });

  it('does not send a ticket that joined after it to read itself again', async () => {
    room.event = { ...prequeueEvent(-30_000), phase: 'live', drawnAt: T0 - 25_000 };
    api.crowd(99);
    api.room().ticketsPerSecond = 1; // far back, a read every 10 s
    const tab = await visitor();
    await advance(30_000);

    expect(api.count('read')).toBe(0);
    expect(api.count('status')).toBe(3);
    expect(tab.client.roomEvent).toMatchObject({ phase: 'live', drawnAt: T0 - 25_000 });
  });
});

describe('what the tabs of a browser know of the event', () => {
  it('is shared: a second tab and a reloaded page know it before any status read of their own', async () => {
    room.event = prequeueEvent(600_000);
    api.crowd(99);
    api.room().ticketsPerSecond = 1 / 30;
    const first = await visitor('a');
    await advance(1_000);
    const second = await visitor('b');
    expect(second.client.roomEvent).toMatchObject({ eventId: 'drop-1', phase: 'prequeue' });

    first.client.stop();
    second.client.stop();
    const reads = api.count('status');
    const reloaded = await visitor('a-reloaded');
    expect(reloaded.client.roomEvent).toMatchObject({ eventId: 'drop-1' });
    await advance(1_000);
    // It knows the start already: no read at once, the next one at its far-back pace.
    expect(api.count('status')).toBe(reads);
  });

  it('leaves out an event the client cannot read: the line goes on without it', async () => {
    room.event = { eventId: 'drop-1', phase: 'intermission' } as unknown as PublicEvent;
    const tab = await visitor();
    await advance(20_000);

    expect(tab.client.roomEvent).toBeUndefined();
    expect(tab.named('error')).toEqual([]);
    expect(tab.client.state).toBe('waiting');
  });
});

describe('the rules, alone', () => {
  const drawn: PublicEvent = { ...prequeueEvent(0), phase: 'live', drawnAt: T0 + 3_000 };

  it('reads a ticket again once per draw, only when it waited for that draw', () => {
    expect(drawToReread(drawn, { heldBy: 'drop-1' })).toBe(T0 + 3_000);
    expect(drawToReread(drawn, { heldBy: 'drop-1', rereadAfter: T0 + 3_000 })).toBeUndefined();
    expect(drawToReread({ ...drawn, drawnAt: T0 + 9_000 }, { heldBy: 'drop-1', rereadAfter: T0 + 3_000 })).toBe(T0 + 9_000);
    expect(drawToReread(drawn, {})).toBeUndefined();
    expect(drawToReread(drawn, { heldBy: 'drop-0' })).toBeUndefined();
    expect(drawToReread(prequeueEvent(5_000), { heldBy: 'drop-1' })).toBeUndefined();
  });

  it('caps the next read at the start in the pre-queue, never under the poll minimum', () => {
    expect(eventReadDelayMs(prequeueEvent(45_000), T0, 60_000)).toBe(45_000);
    expect(eventReadDelayMs(prequeueEvent(45_000), T0 + 44_500, 60_000)).toBe(2_000);
    expect(eventReadDelayMs(prequeueEvent(45_000), T0, 10_000)).toBe(10_000);
    expect(eventReadDelayMs(undefined, T0, 60_000)).toBe(60_000);
  });

  it('reads at the poll minimum during the draw, however far back the ticket was: the drawn place comes within seconds', () => {
    expect(eventReadDelayMs({ ...prequeueEvent(45_000), phase: 'drawing' }, T0 + 50_000, 60_000)).toBe(2_000);
    expect(eventReadDelayMs({ ...prequeueEvent(45_000), phase: 'drawing' }, T0 + 45_100, 600_000)).toBe(2_000);
    // Once drawn, the line's own rate again.
    expect(eventReadDelayMs({ ...prequeueEvent(45_000), phase: 'live', drawnAt: T0 + 47_000 }, T0 + 50_000, 60_000)).toBe(60_000);
  });

  it('knows the phases that hold everyone far back, and the shape of an event', () => {
    expect(waitsForDraw(prequeueEvent(1))).toBe(true);
    expect(waitsForDraw({ ...prequeueEvent(1), phase: 'drawing' })).toBe(true);
    expect(waitsForDraw(drawn)).toBe(false);
    expect(waitsForDraw(undefined)).toBe(false);
    expect(isPublicEvent(drawn)).toBe(true);
    expect(isPublicEvent({ ...drawn, start: '2026-12-05T10:00:00Z' })).toBe(false);
  });
});
