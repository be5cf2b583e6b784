/**
 * The browser client and the room's queueing modes (lambdas/domain/line/queue-modes.ts): a room in
 * reject mode refuses the join (409 ROOM_NOT_ACCEPTING), which the client reports as `closed` with
 * the reason `not-accepting`, and asks nothing more; the visitors already in line go on as usual.
 * A passthrough room admits at the first heartbeat.
 */
import { describe, expect, it } from 'vitest';
import type { ClientState } from '../../../web/src/client.js';
import { storedCredential, type FakeApi, type FakeBrowser } from './fakes.js';
import { useFakeBrowser } from './harness.js';

let api: FakeApi;
let browser: FakeBrowser;
const { track, advance } = useFakeBrowser((freshApi, freshBrowser) => {
  api = freshApi;
  browser = freshBrowser;
});

describe('a room that takes no new visitors (reject mode)', () => {
  it('reports the refused join as closed, reason not-accepting, stores nothing and sends nothing more', async () => {
    api.setMode('reject', 'Saturday is sold out');
    const tab = track(browser.tab('a').client());
    await tab.client.start();
    await advance(600_000);

    expect(api.kinds()).toEqual(['join']);
    expect(tab.names()).toEqual(['closed']);
    expect(tab.named('closed')).toEqual([{ reason: 'not-accepting' }]);
    expect(tab.client.state).toBe('closed');
    expect(tab.client.closedReason).toBe('not-accepting');
    expect(storedCredential(browser)).toBeUndefined();
  });

  it('sets the reason before the state changes, so a page that renders on `state` reads it', async () => {
    api.setMode('reject');
    const tab = track(browser.tab('a').client());
    const seen: Array<[ClientState, string | undefined]> = [];
    tab.client.on('state', (state) => seen.push([state, tab.client.closedReason]));
    await tab.client.start();

    expect(seen).toEqual([
      ['joining', undefined],
      ['closed', 'not-accepting'],
    ]);
  });

  it('tells a closed room apart: reason closed, as is a 409 with another code', async () => {
    api.room().state = 'closed';
    api.setMode('reject'); // closed wins, as in the domain's join
    const closed = track(browser.tab('a').client());
    await closed.client.start();
    expect(closed.named('closed')).toEqual([{ reason: 'closed' }]);
    expect(closed.client.closedReason).toBe('closed');

    api.fail('join', { status: 409, code: 'SOMETHING_NEW' });
    const other = track(browser.tab('b').client());
    await other.client.start();
    expect(other.named('closed')).toEqual([{ reason: 'closed' }]);
  });

  it('asks again only on retry: once per retry, and joins once the room takes visitors again', async () => {
    api.setMode('reject', 'Saturday is sold out');
    const tab = track(browser.tab('a').client());
    await tab.client.start();

    await tab.client.retry();
    await advance(60_000);
    expect(api.kinds()).toEqual(['join', 'join']);
    expect(tab.named('closed')).toEqual([{ reason: 'not-accepting' }, { reason: 'not-accepting' }]);

    api.setMode('fifo');
    await tab.client.retry();
    expect(tab.client.state).toBe('waiting');
    expect(tab.client.closedReason).toBeUndefined();
    expect(tab.client.view).toMatchObject({ mode: 'fifo', position: 1 });
  });

  it('lets a visitor already in line keep its place: no closed, heartbeats go on, admitted as usual', async () => {
    const tab = track(browser.tab('a').client());
    await tab.client.start();
    api.setMode('reject', 'Saturday is sold out');

    await advance(15_000);
    expect(api.kinds()).toEqual(['join', 'heartbeat', 'heartbeat', 'heartbeat']);
    expect(tab.client.state).toBe('waiting');
    expect(tab.client.view).toMatchObject({ mode: 'reject', position: 1, message: 'Saturday is sold out' });
    expect(tab.named('closed')).toEqual([]);

    api.setCapacity(1);
    await advance(5_000);
    expect(tab.client.state).toBe('admitted');
    expect(tab.named('admitted')).toEqual([expect.objectContaining({ mode: 'reject', pass: expect.stringMatching(/^pass\./) })]);
  });

  it('lets a visitor far back keep its place too: status reads and keep-place signals, no closed', async () => {
    api.crowd(99);
    api.room().ticketsPerSecond = 1;
    const tab = track(browser.tab('a').client());
    await tab.client.start();
    expect(tab.client.view).toMatchObject({ zone: 'far' });
    api.setMode('reject');

    await advance(60_000);
    expect(api.count('status')).toBeGreaterThan(0);
    expect(api.count('join')).toBe(1);
    expect(tab.client.state).toBe('waiting');
    expect(tab.client.view).toMatchObject({ mode: 'reject' });
    expect(tab.named('closed')).toEqual([]);
  });

  it('resumes the ticket of a reloaded page in line without joining (so without a refusal)', async () => {
    const before = browser.tab('a').client();
    await before.client.start();
    before.client.stop();
    api.setMode('reject');

    const after = track(browser.tab('a-reloaded').client());
    await after.client.start();
    expect(api.kinds()).toEqual(['join', 'read']);
    expect(after.client.state).toBe('waiting');
  });

  it('tells the other tabs why their ticket was turned away', async () => {
    const a = track(browser.tab('a').client());
    const b = track(browser.tab('b').client());
    await Promise.all([a.client.start(), b.client.start()]);
    const tokenId = a.client.view!.tokenId;
    // Whatever the 409 says reaches every tab (the server refuses only joins this way today).
    api.fail('heartbeat', { status: 409, code: 'ROOM_NOT_ACCEPTING' });

    await advance(5_000);
    expect(a.named('closed')).toEqual([{ tokenId, reason: 'not-accepting' }]);
    expect(b.named('closed')).toEqual([{ tokenId, reason: 'not-accepting' }]);
    expect(b.client.closedReason).toBe('not-accepting');
  });
});

describe('a passthrough room', () => {
  it('admits at the first heartbeat, sent at once: the client goes straight to admitted', async () => {
    api.crowd(500);
    api.setMode('passthrough');
    const tab = track(browser.tab('a').client());
    await tab.client.start();
    await advance(0);

    expect(api.kinds()).toEqual(['join', 'heartbeat']);
    expect(tab.named('position')).toEqual([expect.objectContaining({ mode: 'passthrough', position: 1, estimatedWaitSeconds: 0, zone: 'front' })]);
    expect(tab.client.state).toBe('admitted');
  });
});
