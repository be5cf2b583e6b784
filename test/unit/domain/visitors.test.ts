import { describe, expect, it } from 'vitest';
import {
  FRONT_ZONE_MIN_TICKETS,
  InvalidCredentialError,
  RoomClosedError,
  ROOM_VIEW_MAX_AGE_MS,
  RoomNotFoundError,
  TokenNotFoundError,
  type PassIssuer,
} from '../../../lambdas/domain/index.js';
import { domainFixture } from '../../helpers/domain-fixture.js';

async function roomOf(capacity: number, state: 'open' | 'paused' | 'closed' = 'open', options: Parameters<typeof domainFixture>[0] = {}) {
  const f = domainFixture(options);
  await f.rooms.configure('shop', { capacity, state });
  return f;
}

describe('joining', () => {
  it('admits nobody, not even itself: its first heartbeat takes the free seat', async () => {
    const f = await roomOf(2);
    const { view, secret } = await f.visitors.join('shop');
    expect(view).toMatchObject({ roomId: 'shop', ticket: 1, state: 'waiting', position: 1, zone: 'front', roomState: 'open', heartbeatNow: true });
    expect(secret).toHaveLength(43);
    expect(f.store.rooms.get('shop')?.activeCount).toBe(0);
    expect(f.store.tokens.get(view.tokenId)?.heard).toBe(false);
    await expect(f.visitors.heartbeat('shop', view.tokenId, secret)).resolves.toMatchObject({ state: 'admitted', position: 0, estimatedWaitSeconds: 0 });
    expect(f.store.rooms.get('shop')?.activeCount).toBe(1);
  });

  it('waits when the room is full, with its place in line, a wait estimate and its zone', async () => {
    const f = await roomOf(1);
    await f.arrive('shop');
    const second = await f.visitors.join('shop');
    const third = await f.visitors.join('shop');
    expect(second.view).toMatchObject({ ticket: 2, state: 'waiting', position: 1, zone: 'front', heartbeatIntervalSeconds: 5, keepPlaceIntervalSeconds: 300 });
    expect(third.view).toMatchObject({ ticket: 3, state: 'waiting', position: 2, zone: 'front' });
    expect(third.view.heartbeatNow).toBeUndefined(); // no seat free: the heartbeat comes at its interval
    expect(third.view.estimatedWaitSeconds).toBeGreaterThan(second.view.estimatedWaitSeconds);
  });

  it('joins far from the front as keeping its place, and never tries to admit itself there', async () => {
    const f = await roomOf(1);
    for (let i = 0; i < FRONT_ZONE_MIN_TICKETS + 1; i++) await f.visitors.join('shop');
    f.store.calls.length = 0;
    const far = await f.visitors.join('shop');
    expect(far.view).toMatchObject({ state: 'waiting', zone: 'far' });
    expect(f.store.tokens.get(far.view.tokenId)?.signal).toBe('keep-place');
    expect(f.store.calls.filter((c) => c !== 'reserveTickets')).toEqual(['getRoom', 'putToken']);
  });

  it('reads the room through the cached view: one read a second, whatever the number of joins', async () => {
    const f = await roomOf(0, 'open', { environment: { roomViewMaxAgeMs: 1_000 } });
    f.store.calls.length = 0;
    // The view the configuration wrote serves the first second.
    for (let i = 0; i < 20; i++) await f.visitors.join('shop');
    expect(f.store.calls.filter((c) => c === 'getRoom')).toHaveLength(0);
    f.clock.advance(1_000);
    for (let i = 0; i < 20; i++) await f.visitors.join('shop');
    expect(f.store.calls.filter((c) => c === 'getRoom')).toHaveLength(1);
  });

  it('stores only the hash of the secret', async () => {
    const f = await roomOf(1);
    const { view, secret } = await f.visitors.join('shop');
    expect(JSON.stringify(f.store.tokens.get(view.tokenId))).not.toContain(secret);
  });

  it('takes a ticket in a paused room but admits nobody, and says the room is paused', async () => {
    const f = await roomOf(5, 'paused');
    const { view } = await f.visitors.join('shop');
    expect(view).toMatchObject({ state: 'waiting', position: 1, roomState: 'paused' });
    expect(f.store.rooms.get('shop')?.activeCount).toBe(0);
  });

  it('refuses a closed room and an unknown room', async () => {
    const f = await roomOf(5, 'closed');
    await expect(f.visitors.join('shop')).rejects.toBeInstanceOf(RoomClosedError);
    await expect(f.visitors.join('nowhere')).rejects.toBeInstanceOf(RoomNotFoundError);
    expect(f.store.tokens.size).toBe(0);
  });

  it('takes a seat freed between its ticket and its token write at its next heartbeat', async () => {
    const f = await roomOf(1);
    const first = await f.visitors.join('shop');
    // The first visitor leaves right after the second one took its ticket, before its token is written:
    // the leave finds nobody to admit, and the join's own view still shows the room full.
    const store = f.store;
    const original = store.putToken.bind(store);
    store.putToken = async (token, shards) => {
      store.putToken = original;
      await f.visitors.leave('shop', first.view.tokenId, first.secret);
      return original(token, shards);
    };
    const second = await f.visitors.join('shop');
    expect(second.view.state).toBe('waiting');
    await expect(f.visitors.heartbeat('shop', second.view.tokenId, second.secret)).resolves.toMatchObject({ state: 'admitted' });
  });

  it('still answers a waiting view when its own admission fails', async () => {
    const f = await roomOf(1);
    f.store.conflicts.set('admitTokens', 100);
    const deferred: string[] = [];
    f.deps.events = { admissionDeferred: (e) => deferred.push(e.roomId) };
    const { view } = await f.arrive('shop');
    expect(view.state).toBe('waiting');
    expect(deferred).toEqual(['shop']);
  });
});

describe('reading a token', () => {
  it('answers state and position without writing anything', async () => {
    const f = await roomOf(1);
    await f.arrive('shop');
    const { view, secret } = await f.visitors.join('shop');
    f.store.calls.length = 0;
    f.clock.advance(3_000);
    await expect(f.visitors.read('shop', view.tokenId, secret)).resolves.toMatchObject({ state: 'waiting', position: 1 });
    expect(f.store.calls).toEqual(['getToken', 'getRoom']);
  });

  it('refuses a wrong secret, an unknown token and a token of another room', async () => {
    const f = await roomOf(1);
    await f.rooms.configure('other', { capacity: 1 });
    const { view, secret } = await f.visitors.join('shop');
    await expect(f.visitors.read('shop', view.tokenId, 'x'.repeat(43))).rejects.toBeInstanceOf(InvalidCredentialError);
    await expect(f.visitors.read('shop', 'unknown-token-id-00000', secret)).rejects.toBeInstanceOf(TokenNotFoundError);
    await expect(f.visitors.read('other', view.tokenId, secret)).rejects.toBeInstanceOf(TokenNotFoundError);
  });

  it('carries an admission pass once admitted, and the admitted heartbeat interval', async () => {
    const passes: PassIssuer = { issue: async (claims, now) => ({ pass: `pass-for-${claims.tokenId}`, expiresAt: now + 60_000 }) };
    const f = domainFixture({ deps: { passes }, timings: { admittedHeartbeatIntervalSeconds: 8 } });
    await f.rooms.configure('shop', { capacity: 1 });
    const admitted = await f.arrive('shop');
    const waiting = await f.arrive('shop');
    expect(admitted.view).toMatchObject({ pass: `pass-for-${admitted.view.tokenId}`, passExpiresAt: f.clock.now() + 60_000, heartbeatIntervalSeconds: 8 });
    expect(waiting.view).toMatchObject({ heartbeatIntervalSeconds: 5 });
    expect(waiting.view.pass).toBeUndefined();
  });
});

describe('heartbeats and keep-place signals', () => {
  it('records the time and the kind of every answered signal, however close together', async () => {
    const f = await roomOf(0);
    const { view, secret } = await f.visitors.join('shop');
    f.clock.advance(300);
    await f.visitors.heartbeat('shop', view.tokenId, secret);
    expect(f.store.tokens.get(view.tokenId)).toMatchObject({ lastSeenAt: f.clock.now(), signal: 'heartbeat' });
    f.clock.advance(300);
    await f.visitors.keepPlace('shop', view.tokenId, secret);
    expect(f.store.tokens.get(view.tokenId)).toMatchObject({ lastSeenAt: f.clock.now(), signal: 'keep-place' });
  });

  it("tells visitors already waiting that their room was paused or closed, within a room view's life (issue 10, item 2)", async () => {
    const f = await roomOf(0);
    const { view, secret } = await f.visitors.join('shop');
    for (const state of ['paused', 'closed', 'open'] as const) {
      await f.rooms.configure('shop', { state });
      f.clock.advance(ROOM_VIEW_MAX_AGE_MS + 1);
      const seen = await f.visitors.heartbeat('shop', view.tokenId, secret);
      expect(seen, state).toMatchObject({ state: 'waiting', roomState: state });
      expect((await f.visitors.keepPlace('shop', view.tokenId, secret)).roomState, state).toBe(state);
      expect((await f.visitors.read('shop', view.tokenId, secret)).roomState, state).toBe(state);
    }
  });

  it('admits a waiting visitor who is first in line when a seat is free', async () => {
    const f = await roomOf(0);
    const { view, secret } = await f.visitors.join('shop');
    f.store.rooms.get('shop')!.capacity = 1; // raised without the admin call's own admission
    f.clock.advance(5_000);
    await expect(f.visitors.heartbeat('shop', view.tokenId, secret)).resolves.toMatchObject({ state: 'admitted', position: 0 });
  });

  it('never admits on a keep-place signal', async () => {
    const f = await roomOf(0);
    const { view, secret } = await f.visitors.join('shop');
    f.store.rooms.get('shop')!.capacity = 1;
    await expect(f.visitors.keepPlace('shop', view.tokenId, secret)).resolves.toMatchObject({ state: 'waiting' });
  });

  it("tells the visitor's zone from the room's line, so a far-back page knows when to start heartbeating", async () => {
    const f = await roomOf(1);
    const joined = [];
    for (let i = 0; i < 15; i++) joined.push(await f.visitors.join('shop'));
    const last = joined[14]!;
    await expect(f.visitors.keepPlace('shop', last.view.tokenId, last.secret)).resolves.toMatchObject({ zone: 'far' });
    f.store.rooms.get('shop')!.lastAdmittedTicket = 10;
    await expect(f.visitors.keepPlace('shop', last.view.tokenId, last.secret)).resolves.toMatchObject({ zone: 'front', position: 5 });
  });

  it('answers 404 for a token the checker removed, 401 for a wrong secret, 404 for another room, and writes nothing then', async () => {
    const f = await roomOf(1);
    await f.rooms.configure('other', { capacity: 1 });
    const { view, secret } = await f.visitors.join('shop');
    f.clock.advance(5_000);
    const seen = f.store.tokens.get(view.tokenId)!.lastSeenAt;
    await expect(f.visitors.heartbeat('shop', view.tokenId, 'x'.repeat(43))).rejects.toBeInstanceOf(InvalidCredentialError);
    await expect(f.visitors.heartbeat('other', view.tokenId, secret)).rejects.toBeInstanceOf(TokenNotFoundError);
    expect(f.store.tokens.get(view.tokenId)!.lastSeenAt).toBe(seen);
    f.store.tokens.delete(view.tokenId);
    await expect(f.visitors.heartbeat('shop', view.tokenId, secret)).rejects.toBeInstanceOf(TokenNotFoundError);
  });
});

describe('leaving', () => {
  it('frees the seat and admits the next visitor at once', async () => {
    const f = await roomOf(1);
    const first = await f.arrive('shop');
    const second = await f.arrive('shop');
    await f.visitors.leave('shop', first.view.tokenId, first.secret);
    expect(f.store.tokens.has(first.view.tokenId)).toBe(false);
    expect(f.store.tokens.get(second.view.tokenId)?.state).toBe('ADMITTED');
    expect(f.store.rooms.get('shop')?.activeCount).toBe(1);
    expect(f.events.removed).toEqual([{ ticket: 1, reason: 'left' }]);
    expect(f.store.rooms.get('shop')?.evictedTotal).toBe(0); // a leave is not an eviction
  });

  it('removes a waiting visitor from the line without touching the seats', async () => {
    const f = await roomOf(1);
    await f.arrive('shop');
    const second = await f.arrive('shop');
    await f.visitors.leave('shop', second.view.tokenId, second.secret);
    expect(f.store.waitingIn('shop')).toEqual([]);
    expect(f.store.lineShard.size).toBe(0);
    expect(f.store.rooms.get('shop')?.activeCount).toBe(1);
  });

  it('frees the seat of a visitor admitted between its read and its removal', async () => {
    const f = await roomOf(1);
    const first = await f.visitors.join('shop');
    const second = await f.visitors.join('shop');
    // Admit the second visitor right after leave() read it as WAITING.
    const originalRemove = f.store.removeToken.bind(f.store);
    let raced = false;
    f.store.removeToken = async (request) => {
      if (!raced && request.token.tokenId === second.view.tokenId) {
        raced = true;
        await f.visitors.leave('shop', first.view.tokenId, first.secret);
      }
      return originalRemove(request);
    };
    await f.visitors.leave('shop', second.view.tokenId, second.secret);
    expect(f.store.tokens.size).toBe(0);
    expect(f.store.rooms.get('shop')?.activeCount).toBe(0);
  });

  it('answers 404 for a token that has already left', async () => {
    const f = await roomOf(1);
    const { view, secret } = await f.visitors.join('shop');
    await f.visitors.leave('shop', view.tokenId, secret);
    await expect(f.visitors.leave('shop', view.tokenId, secret)).rejects.toBeInstanceOf(TokenNotFoundError);
  });
});
