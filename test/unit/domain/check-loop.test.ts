import { describe, expect, it } from 'vitest';
import { ContentionError } from '../../../lambdas/domain/index.js';
import { domainFixture } from '../../helpers/domain-fixture.js';

async function oneVisitor(capacity = 1) {
  const f = domainFixture();
  await f.rooms.configure('shop', { capacity });
  const joined = await f.visitors.join('shop');
  const token = f.store.tokens.get(joined.view.tokenId)!;
  await f.checkLoop.start(token);
  return { f, ...joined };
}

describe('check loop', () => {
  it('starts with one check delayed by the check delay', async () => {
    const { f, view } = await oneVisitor();
    expect(f.checks.pendingFor(view.tokenId)).toEqual([
      { id: 'msg-1', message: { tokenId: view.tokenId, roomId: 'shop', seq: 0 }, visibleAt: f.clock.now() + 10_000 },
    ]);
  });

  it('sends the check again, with the next sequence number, while the visitor is alive', async () => {
    const { f, view } = await oneVisitor();
    f.clock.advance(10_000);
    const [due] = f.checks.takeDue();
    await expect(f.checkLoop.check(due!.message, due!.id)).resolves.toBe('rescheduled');
    expect(f.checks.pendingFor(view.tokenId).map((m) => m.message.seq)).toEqual([1]);
    expect(f.store.tokens.get(view.tokenId)).toMatchObject({ checkSeq: 1, checkBy: due!.id });
  });

  it('evicts a visitor silent for the heartbeat timeout and admits the next in line', async () => {
    const { f, view } = await oneVisitor();
    const next = await f.visitors.join('shop');
    f.clock.advance(10_000);
    let [due] = f.checks.takeDue();
    await expect(f.checkLoop.check(due!.message, due!.id)).resolves.toBe('rescheduled');
    f.clock.advance(10_000); // silent for exactly 20 s
    [due] = f.checks.takeDue();
    await expect(f.checkLoop.check(due!.message, due!.id)).resolves.toBe('evicted');
    expect(f.store.tokens.has(view.tokenId)).toBe(false);
    expect(f.store.tokens.get(next.view.tokenId)?.state).toBe('ADMITTED');
    expect(f.events.removed).toEqual([{ ticket: 1, reason: 'silent' }]);
    expect(f.store.rooms.get('shop')?.evictedTotal).toBe(1);
  });

  it('keeps a visitor whose heartbeat lands while the checker evicts', async () => {
    const { f, view, secret } = await oneVisitor();
    f.clock.advance(25_000);
    const [due] = f.checks.takeDue();
    // The heartbeat lands between the checker's read and its conditional removal.
    const remove = f.store.removeToken.bind(f.store);
    let heartbeatSent = false;
    f.store.removeToken = async (request) => {
      if (!heartbeatSent) {
        heartbeatSent = true;
        await f.visitors.heartbeat('shop', view.tokenId, secret);
      }
      return remove(request);
    };
    await expect(f.checkLoop.check(due!.message, due!.id)).resolves.toBe('rescheduled');
    expect(f.store.tokens.get(view.tokenId)?.state).toBe('ADMITTED');
  });

  it('answers 404 to a heartbeat that lands after the eviction', async () => {
    const { f, view, secret } = await oneVisitor();
    f.clock.advance(25_000);
    const [due] = f.checks.takeDue();
    await f.checkLoop.check(due!.message, due!.id);
    await expect(f.visitors.heartbeat('shop', view.tokenId, secret)).rejects.toThrow(/unknown, has left/);
  });

  it('drops a message delivered twice, so one loop continues', async () => {
    const { f, view, secret } = await oneVisitor();
    f.clock.advance(10_000);
    const [due] = f.checks.takeDue();
    // Two deliveries of one message, processed concurrently.
    const outcomes = await Promise.all([f.checkLoop.check(due!.message, due!.id), f.checkLoop.check(due!.message, due!.id)]);
    expect(outcomes.filter((o) => o === 'rescheduled')).toHaveLength(1);
    const pending = f.checks.pendingFor(view.tokenId);
    // At most one extra copy, which the next round drops.
    expect(pending.length).toBeLessThanOrEqual(2);
    f.clock.advance(5_000);
    await f.visitors.heartbeat('shop', view.tokenId, secret);
    f.clock.advance(5_000);
    const results = [];
    for (const m of f.checks.takeDue()) results.push(await f.checkLoop.check(m.message, m.id));
    expect(results.filter((o) => o === 'rescheduled')).toHaveLength(1);
    expect(f.checks.pendingFor(view.tokenId)).toHaveLength(1);
  });

  it('drops two different messages for the same step, keeping one loop', async () => {
    const { f, view } = await oneVisitor();
    const token = f.store.tokens.get(view.tokenId)!;
    await f.checkLoop.start(token); // the stream delivered the INSERT twice
    f.clock.advance(10_000);
    const outcomes = [];
    for (const m of f.checks.takeDue()) outcomes.push(await f.checkLoop.check(m.message, m.id));
    expect(outcomes.sort()).toEqual(['rescheduled', 'stale']);
    expect(f.checks.pendingFor(view.tokenId)).toHaveLength(1);
  });

  it('sends the next check again when a redelivery finds its own step done but its send failed', async () => {
    const { f, view } = await oneVisitor();
    f.clock.advance(10_000);
    const [due] = f.checks.takeDue();
    f.checks.failNextSends = 1;
    await expect(f.checkLoop.check(due!.message, due!.id)).rejects.toThrow(/SendMessage/);
    expect(f.checks.pendingFor(view.tokenId)).toEqual([]);
    await expect(f.checkLoop.check(due!.message, due!.id)).resolves.toBe('resent');
    expect(f.checks.pendingFor(view.tokenId).map((m) => m.message.seq)).toEqual([1]);
  });

  it('ends the loop of a token that is gone, and offers any free seat', async () => {
    const { f, view, secret } = await oneVisitor(1);
    const waiting = await f.visitors.join('shop');
    // The visitor left, but the follow-up admission did not happen (say the function timed out).
    f.store.tokens.delete(view.tokenId);
    f.store.rooms.get('shop')!.activeCount = 0;
    f.clock.advance(10_000);
    const due = f.checks.takeDue().find((m) => m.message.tokenId === view.tokenId)!;
    await expect(f.checkLoop.check(due.message, due.id)).resolves.toBe('gone');
    expect(f.store.tokens.get(waiting.view.tokenId)?.state).toBe('ADMITTED');
    expect(secret).toBeTruthy();
  });

  it('leaves free seats of waiting visitors to their heartbeats, reading no room per check', async () => {
    const f = domainFixture();
    await f.rooms.configure('shop', { capacity: 0 });
    const { view, secret } = await f.visitors.join('shop');
    await f.checkLoop.start(f.store.tokens.get(view.tokenId)!);
    f.store.rooms.get('shop')!.capacity = 1; // a seat freed without its follow-up admission
    f.clock.advance(10_000);
    const [due] = f.checks.takeDue();
    f.store.calls.length = 0;
    await expect(f.checkLoop.check(due!.message, due!.id)).resolves.toBe('rescheduled');
    expect(f.store.calls).toEqual(['getToken', 'advanceCheck']);
    await expect(f.visitors.heartbeat('shop', view.tokenId, secret)).resolves.toMatchObject({ state: 'admitted' });
  });

  it('evicts a silent waiting visitor without touching the seats', async () => {
    const f = domainFixture();
    await f.rooms.configure('shop', { capacity: 0 });
    const { view } = await f.visitors.join('shop');
    await f.checkLoop.start(f.store.tokens.get(view.tokenId)!);
    f.clock.advance(30_000);
    const [due] = f.checks.takeDue();
    await expect(f.checkLoop.check(due!.message, due!.id)).resolves.toBe('evicted');
    expect(f.store.rooms.get('shop')?.activeCount).toBe(0);
  });

  it('asks for a redelivery when removals keep conflicting', async () => {
    const { f } = await oneVisitor();
    f.clock.advance(30_000);
    const [due] = f.checks.takeDue();
    f.store.conflicts.set('removeToken', 10);
    await expect(f.checkLoop.check(due!.message, due!.id)).rejects.toBeInstanceOf(ContentionError);
  });
});
