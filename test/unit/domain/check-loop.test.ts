import { describe, expect, it } from 'vitest';
import { CHECK_DELIVERY_SLACK_MS, ContentionError, FRONT_ZONE_MIN_TICKETS, MAX_DEFER_MS, STALL_MS, placeOf, statusOf, type Token } from '../../../lambdas/domain/index.js';
import { domainFixture, type DomainFixture } from '../../helpers/domain-fixture.js';

async function oneVisitor(capacity = 1) {
  const f = domainFixture();
  await f.rooms.configure('shop', { capacity });
  const joined = await f.arrive('shop');
  const token = f.store.tokens.get(joined.view.tokenId)!;
  await f.checkLoop.start(token);
  return { f, ...joined };
}

/** Delivers every check that is due now; returns the outcomes by token id. */
async function deliverDue(f: DomainFixture) {
  const outcomes: Record<string, string> = {};
  for (const m of f.checks.takeDue()) outcomes[m.message.tokenId] = await f.checkLoop.check(m.message, m.id);
  return outcomes;
}

/** A visitor heard 10 s after its join, at the moment its next check (a second before its deadline, 20 s after that heartbeat) arrives. */
async function earlyCheck() {
  const { f, view, secret } = await oneVisitor();
  f.clock.advance(10_000);
  await f.visitors.heartbeat('shop', view.tokenId, secret);
  const last = f.clock.now();
  await deliverDue(f);
  const [early] = f.checks.pendingFor(view.tokenId);
  f.clock.advance(early!.visibleAt - f.clock.now());
  return { f, view, secret, last };
}

/** Makes the checker's waits pass on the fixture's clock (`during` runs at the end of each), and records them. */
function recordSleeps(f: DomainFixture, during?: (ms: number) => Promise<void>): number[] {
  const slept: number[] = [];
  f.deps.sleep = async (ms) => {
    slept.push(ms);
    if (during) await during(ms);
    else f.clock.advance(ms);
  };
  return slept;
}

describe('check loop', () => {
  it('starts with one check delayed by the check delay', async () => {
    const { f, view } = await oneVisitor();
    expect(f.checks.pendingFor(view.tokenId)).toEqual([
      { id: 'msg-1', message: { tokenId: view.tokenId, roomId: 'shop', seq: 0 }, visibleAt: f.clock.now() + 10_000 },
    ]);
  });

  it('sends the next check due at the deadline, lastSeenAt + timeout, with the next sequence number', async () => {
    const { f, view, secret } = await oneVisitor();
    f.clock.advance(7_000);
    await f.visitors.heartbeat('shop', view.tokenId, secret);
    const seen = f.clock.now();
    f.clock.advance(3_000);
    const [due] = f.checks.takeDue();
    await expect(f.checkLoop.check(due!.message, due!.id)).resolves.toBe('rescheduled');
    const [next] = f.checks.pendingFor(view.tokenId);
    expect(next!.message.seq).toBe(1);
    expect(next!.visibleAt).toBe(seen + 20_000 - CHECK_DELIVERY_SLACK_MS); // a second early: the batching window may add one
    expect(f.store.tokens.get(view.tokenId)).toMatchObject({ checkSeq: 1, checkBy: due!.id });
  });

  it('frees a silent seat right at its deadline: an early check waits out the last second', async () => {
    const { f, view, secret } = await oneVisitor();
    const next = await f.arrive('shop');
    f.clock.advance(500);
    await f.visitors.heartbeat('shop', view.tokenId, secret); // last heartbeat at t0 + 500
    const last = f.clock.now();
    f.clock.advance(9_500);
    await f.visitors.heartbeat('shop', next.view.tokenId, next.secret); // the next in line is live
    await deliverDue(f);
    // Due 18.5 s after the last heartbeat (whole seconds, rounded down, a second of slack for delivery): 1.5 s early.
    const [early] = f.checks.pendingFor(view.tokenId);
    expect(early!.visibleAt - last).toBe(18_500);
    f.clock.advance(early!.visibleAt - f.clock.now());
    const slept = recordSleeps(f);
    await expect(deliverDue(f)).resolves.toMatchObject({ [view.tokenId]: 'evicted' });
    expect(slept).toEqual([1_500]);
    expect(f.clock.now() - last).toBe(20_000);
    expect(f.store.tokens.get(next.view.tokenId)?.state).toBe('ADMITTED');
  });

  it('waits in the checker a few seconds at most per delivery: a visitor heard during each wait is then rescheduled, not a contention', async () => {
    const { f, view, secret } = await earlyCheck();
    // Each wait ends just before the deadline, and a heartbeat lands during it that leaves the
    // deadline still less than the checker's waiting range away: a late, loaded visitor.
    const slept = recordSleeps(f, async (ms) => {
      f.clock.advance(ms - 1);
      const beat = await f.visitors.heartbeat('shop', view.tokenId, secret);
      expect(beat.state).toBe('admitted');
      f.clock.advance(1);
      // Backdate the signal so the new deadline is again within the waiting range.
      const token = f.store.tokens.get(view.tokenId)!;
      f.store.tokens.set(view.tokenId, { ...token, lastSeenAt: f.clock.now() - 20_000 + 500 });
    });
    const [due] = f.checks.takeDue();
    await expect(f.checkLoop.check(due!.message, due!.id)).resolves.toBe('rescheduled');
    // More waits than the loop has contention rounds (4), 4 s in all: 1 s to the first deadline, then 0.5 s six times.
    expect(slept).toEqual([1_000, 500, 500, 500, 500, 500, 500]);
    const [next] = f.checks.pendingFor(view.tokenId);
    expect(next!.visibleAt - f.clock.now()).toBe(1_000); // as soon as the queue allows
  });

  it('finishes a wait that ended a moment early: the deadline has not moved, so the seat is freed at it', async () => {
    const { f, last } = await earlyCheck();
    const slept = recordSleeps(f, async (ms) => f.clock.advance(ms > 1 ? ms - 1 : ms)); // a timer that fires a millisecond short of the clock
    const [due] = f.checks.takeDue();
    await expect(f.checkLoop.check(due!.message, due!.id)).resolves.toBe('evicted');
    expect(slept).toEqual([1_000, 1]);
    expect(f.clock.now() - last).toBe(20_000);
  });

  it('does not wait in the checker past the end of its invocation: it reschedules instead', async () => {
    const { f, view, last } = await earlyCheck();
    const slept = recordSleeps(f);
    const [due] = f.checks.takeDue();
    // A second to the deadline, but the invocation ends in 1.5 s: waiting would leave too little to act.
    expect(last + 20_000 - f.clock.now()).toBe(1_000);
    await expect(f.checkLoop.check(due!.message, due!.id, () => 1_500)).resolves.toBe('rescheduled');
    expect(slept).toEqual([]);
    const [next] = f.checks.pendingFor(view.tokenId);
    expect(next!.message.seq).toBe(due!.message.seq + 1);
    // The next check is due right at the deadline, and frees the seat there.
    f.clock.advance(next!.visibleAt - f.clock.now());
    const [again] = f.checks.takeDue();
    await expect(f.checkLoop.check(again!.message, again!.id, () => 1_500)).resolves.toBe('evicted');
    expect(f.clock.now() - last).toBe(20_000);
    expect(slept).toEqual([]);
  });

  it('never seats an orphan (a join whose answer never arrived): later visitors go ahead, and its check removes it', async () => {
    const f = domainFixture();
    await f.rooms.configure('shop', { capacity: 2 });
    const orphan = await f.visitors.join('shop'); // nothing ever heard with its secret
    await f.checkLoop.start(f.store.tokens.get(orphan.view.tokenId)!);
    const next = await f.arrive('shop');
    expect(next.view.state).toBe('admitted');
    // A seat still free, the orphan first in line and heartbeating as far as its signal says:
    // neither a fill nor the checks seat it.
    await f.rooms.configure('shop', { capacity: 3 });
    expect(f.store.tokens.get(orphan.view.tokenId)?.state).toBe('WAITING');
    f.clock.advance(10_000);
    await deliverDue(f);
    expect(f.store.tokens.get(orphan.view.tokenId)?.state).toBe('WAITING');
    f.clock.advance(10_000);
    await expect(deliverDue(f)).resolves.toMatchObject({ [orphan.view.tokenId]: 'evicted' });
    expect(f.store.tokens.has(orphan.view.tokenId)).toBe(false);
    expect(f.store.rooms.get('shop')?.activeCount).toBe(1);
    expect(f.events.admitted).toEqual([2]);
  });

  it('moves the line on past orphans at its head: their checks bring the next tickets into the front zone', async () => {
    const f = domainFixture();
    await f.rooms.configure('shop', { capacity: 1 });
    // The whole front zone is orphans, a seat is free, and nobody behind them heartbeats yet.
    for (let i = 0; i < FRONT_ZONE_MIN_TICKETS; i++) {
      const { view } = await f.visitors.join('shop');
      await f.checkLoop.start(f.store.tokens.get(view.tokenId)!);
    }
    const far = await f.visitors.join('shop');
    expect(far.view.zone).toBe('far');
    f.clock.advance(10_000);
    await deliverDue(f);
    const status = statusOf(f.store.rooms.get('shop')!, f.clock.now(), f.deps.timings);
    expect(placeOf(far.view.ticket, status).zone).toBe('front');
    // Its page sees that, heartbeats, and takes the seat.
    await expect(f.visitors.heartbeat('shop', far.view.tokenId, far.secret)).resolves.toMatchObject({ state: 'admitted' });
  });

  it('evicts a visitor silent for the heartbeat timeout and admits the next in line', async () => {
    const { f, view } = await oneVisitor();
    const next = await f.arrive('shop');
    f.clock.advance(10_000);
    await deliverDue(f);
    f.clock.advance(10_000); // silent for exactly 20 s
    await expect(deliverDue(f)).resolves.toMatchObject({ [view.tokenId]: 'evicted' });
    expect(f.store.tokens.has(view.tokenId)).toBe(false);
    expect(f.store.tokens.get(next.view.tokenId)?.state).toBe('ADMITTED');
    expect(f.events.removed).toEqual([{ ticket: 1, reason: 'silent' }]);
    expect(f.store.rooms.get('shop')?.evictedTotal).toBe(1);
  });

  it('gives a far-back visitor the keep-place timeout, hopping at most 900 s at a time', async () => {
    const f = domainFixture();
    await f.rooms.configure('shop', { capacity: 0 });
    let far: Token | undefined;
    for (let i = 0; i <= FRONT_ZONE_MIN_TICKETS; i++) {
      const { view } = await f.arrive('shop');
      far = f.store.tokens.get(view.tokenId)!;
    }
    expect(far!.signal).toBe('keep-place');
    await f.checkLoop.start(far!);
    f.clock.advance(10_000);
    await expect(f.checkLoop.check(f.checks.takeDue().find((m) => m.message.tokenId === far!.tokenId)!.message, 'm1')).resolves.toBe('rescheduled');
    const [hop] = f.checks.pendingFor(far!.tokenId);
    // The first hop is spread over 60-900 s (here, with random() = 0.5, 480 s), so a crowd is not checked all at once.
    expect(hop!.visibleAt - f.clock.now()).toBe(480_000);
    f.clock.advance(480_000);
    await expect(f.checkLoop.check(f.checks.takeDue().find((m) => m.message.tokenId === far!.tokenId)!.message, 'm1b')).resolves.toBe('rescheduled');
    // Then hops at most 900 s, here straight to the deadline (a second early), 20 minutes after its last signal.
    const [last] = f.checks.pendingFor(far!.tokenId);
    expect(last!.visibleAt).toBe(far!.lastSeenAt + 1_200_000 - CHECK_DELIVERY_SLACK_MS);
    f.clock.advance(last!.visibleAt - f.clock.now());
    f.deps.sleep = async (ms) => f.clock.advance(ms);
    await expect(f.checkLoop.check(f.checks.takeDue().find((m) => m.message.tokenId === far!.tokenId)!.message, 'm3')).resolves.toBe('evicted');
    expect(f.clock.now() - far!.lastSeenAt).toBe(1_200_000);
  });

  it('schedules by the deadline the token has when its step is taken, not when it was read', async () => {
    const f = domainFixture();
    await f.rooms.configure('shop', { capacity: 1 });
    const joined = [];
    for (let i = 0; i <= FRONT_ZONE_MIN_TICKETS + 1; i++) joined.push(await f.arrive('shop'));
    const far = f.store.tokens.get(joined[joined.length - 1]!.view.tokenId)!;
    expect(far.signal).toBe('keep-place');
    await f.checkLoop.start(far);
    f.clock.advance(10_000);
    const due = f.checks.takeDue().find((m) => m.message.tokenId === far.tokenId)!;
    // Read as far back (a 20-minute limit); heartbeating and admitted before the checker's write.
    const getToken = f.store.getToken.bind(f.store);
    let once = false;
    f.store.getToken = async (id, consistent) => {
      const token = await getToken(id, consistent);
      if (!once && token) {
        once = true;
        Object.assign(f.store.tokens.get(id)!, { state: 'ADMITTED', signal: 'heartbeat', lastSeenAt: f.clock.now() });
      }
      return token;
    };
    await expect(f.checkLoop.check(due.message, due.id)).resolves.toBe('rescheduled');
    expect(f.checks.pendingFor(far.tokenId).map((m) => m.visibleAt - f.clock.now())).toEqual([20_000 - CHECK_DELIVERY_SLACK_MS]);
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

  it('reads eventually consistently, and strongly when the read looks stale', async () => {
    const { f, view } = await oneVisitor();
    f.clock.advance(10_000);
    const [due] = f.checks.takeDue();
    const reads: (boolean | undefined)[] = [];
    const getToken = f.store.getToken.bind(f.store);
    f.store.getToken = async (id, consistent) => {
      reads.push(consistent);
      const token = await getToken(id);
      // The first, eventually consistent, read returns a copy from before the first check was recorded.
      return consistent === false && token ? { ...token, checkSeq: -1 } : token;
    };
    await expect(f.checkLoop.check(due!.message, due!.id)).resolves.toBe('rescheduled');
    expect(reads).toEqual([false, true]);
    expect(f.store.tokens.get(view.tokenId)?.checkSeq).toBe(1);
  });

  it('answers 404 to a heartbeat that lands after the eviction', async () => {
    const { f, view, secret } = await oneVisitor();
    f.clock.advance(25_000);
    await deliverDue(f);
    await expect(f.visitors.heartbeat('shop', view.tokenId, secret)).rejects.toThrow(/unknown, has left/);
  });

  it('drops a message delivered twice, so one loop continues', async () => {
    const { f, view, secret } = await oneVisitor();
    f.clock.advance(10_000);
    const [due] = f.checks.takeDue();
    // Two deliveries of one message, processed concurrently.
    const outcomes = await Promise.all([f.checkLoop.check(due!.message, due!.id), f.checkLoop.check(due!.message, due!.id)]);
    expect(outcomes.filter((o) => o === 'rescheduled')).toHaveLength(1);
    // At most one extra copy, which the next round drops.
    expect(f.checks.pendingFor(view.tokenId).length).toBeLessThanOrEqual(2);
    f.clock.advance(5_000);
    await f.visitors.heartbeat('shop', view.tokenId, secret);
    f.clock.advance(10_000);
    const results = [];
    for (const m of f.checks.takeDue()) results.push(await f.checkLoop.check(m.message, m.id));
    expect(results.filter((o) => o === 'rescheduled')).toHaveLength(1);
    expect(f.checks.pendingFor(view.tokenId)).toHaveLength(1);
  });

  it('drops two different messages for the same step, keeping one loop', async () => {
    const { f, view } = await oneVisitor();
    await f.checkLoop.start(f.store.tokens.get(view.tokenId)!); // the stream delivered the INSERT twice
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

  it('ends the loop of a token that is gone, and offers a seat that looks free', async () => {
    const { f, view } = await oneVisitor(1);
    const waiting = await f.arrive('shop');
    // The visitor left, but the follow-up admission did not happen (say the function timed out).
    f.store.tokens.delete(view.tokenId);
    f.store.rooms.get('shop')!.activeCount = 0;
    f.clock.advance(10_000);
    const due = f.checks.takeDue().find((m) => m.message.tokenId === view.tokenId)!;
    await expect(f.checkLoop.check(due.message, due.id)).resolves.toBe('gone');
    expect(f.store.tokens.get(waiting.view.tokenId)?.state).toBe('ADMITTED');
  });

  it('offers a free seat on behalf of a live waiting visitor, at most once a second per room', async () => {
    const f = domainFixture();
    await f.rooms.configure('shop', { capacity: 0 });
    const a = await f.arrive('shop');
    const b = await f.arrive('shop');
    for (const j of [a, b]) await f.checkLoop.start(f.store.tokens.get(j.view.tokenId)!);
    f.store.rooms.get('shop')!.capacity = 1; // a seat freed whose wake-up found the admitter busy
    f.clock.advance(10_000);
    await f.visitors.heartbeat('shop', b.view.tokenId, b.secret); // b is live; a went quiet 10 s ago but is still live
    f.store.calls.length = 0;
    await expect(deliverDue(f)).resolves.toEqual({ [a.view.tokenId]: 'rescheduled', [b.view.tokenId]: 'rescheduled' });
    expect(f.store.calls.filter((c) => c === 'acquireAdmitter')).toHaveLength(1);
    expect(f.store.tokens.get(a.view.tokenId)?.state).toBe('ADMITTED'); // in ticket order
  });

  it('does nothing but its own step for a visitor when no seat is free', async () => {
    const { f } = await oneVisitor(1);
    const { view } = await f.arrive('shop');
    await f.checkLoop.start(f.store.tokens.get(view.tokenId)!);
    f.clock.advance(10_000);
    const due = f.checks.takeDue().find((m) => m.message.tokenId === view.tokenId)!;
    f.store.calls.length = 0;
    await expect(f.checkLoop.check(due.message, due.id)).resolves.toBe('rescheduled');
    expect(f.store.calls).toEqual(['getToken', 'getRoom', 'advanceCheck']);
  });

  it('evicts a silent waiting visitor without touching the seats', async () => {
    const f = domainFixture();
    await f.rooms.configure('shop', { capacity: 0 });
    const { view } = await f.arrive('shop');
    await f.checkLoop.start(f.store.tokens.get(view.tokenId)!);
    f.clock.advance(30_000);
    await expect(deliverDue(f)).resolves.toEqual({ [view.tokenId]: 'evicted' });
    expect(f.store.rooms.get('shop')?.activeCount).toBe(0);
    expect(f.store.lineShard.size).toBe(0);
  });

  it('asks for a redelivery when removals keep conflicting', async () => {
    const { f } = await oneVisitor();
    f.clock.advance(30_000);
    const [due] = f.checks.takeDue();
    f.store.conflicts.set('removeToken', 10);
    await expect(f.checkLoop.check(due!.message, due!.id)).rejects.toBeInstanceOf(ContentionError);
  });
});

describe('check loop after a stall of the datastore (stall-watch.ts)', () => {
  /** Makes the store's next getToken take `ms` of the fixture's clock, as a paused datastore does. */
  function stallNextRead(f: DomainFixture, ms: number) {
    const getToken = f.store.getToken.bind(f.store);
    f.store.getToken = async (...args) => {
      f.store.getToken = getToken;
      f.clock.advance(ms);
      return getToken(...args);
    };
  }

  it('puts off an eviction for a heartbeat timeout after a slow read, then evicts a visitor still silent', async () => {
    const { f, view } = await oneVisitor();
    f.clock.advance(25_000); // silent since the join: past its 20 s deadline
    const [due] = f.checks.takeDue();
    stallNextRead(f, STALL_MS + 1);
    const deferred: { untilMs: number }[] = [];
    f.deps.events = { evictionDeferred: (e) => deferred.push(e) };
    await expect(f.checkLoop.check(due!.message, due!.id)).resolves.toBe('deferred');
    const stallEnded = f.clock.now();
    expect(deferred).toEqual([expect.objectContaining({ tokenId: view.tokenId, untilMs: stallEnded + 20_000 })]);
    const [again] = f.checks.pendingFor(view.tokenId);
    expect(again).toMatchObject({ message: { seq: 1 }, visibleAt: stallEnded + 20_000 });
    expect(f.store.tokens.has(view.tokenId)).toBe(true);
    f.clock.advance(20_000);
    await expect(deliverDue(f)).resolves.toEqual({ [view.tokenId]: 'evicted' });
  });

  it('keeps a visitor heard during the recovery', async () => {
    const { f, view, secret } = await oneVisitor();
    f.clock.advance(25_000);
    const [due] = f.checks.takeDue();
    stallNextRead(f, 30_000);
    await expect(f.checkLoop.check(due!.message, due!.id)).resolves.toBe('deferred');
    f.clock.advance(3_000);
    await f.visitors.heartbeat('shop', view.tokenId, secret); // its retry lands after the stall
    f.clock.advance(17_000);
    await expect(deliverDue(f)).resolves.toEqual({ [view.tokenId]: 'rescheduled' });
    expect(f.store.tokens.get(view.tokenId)?.state).toBe('ADMITTED');
  });

  it('evicts at once when reads are quick, however late the check runs', async () => {
    const { f, view } = await oneVisitor();
    f.clock.advance(60_000);
    await expect(deliverDue(f)).resolves.toEqual({ [view.tokenId]: 'evicted' });
  });

  it('evicts at once when no stall was seen, though the clock moves on between two of its readings', async () => {
    const { f, view } = await oneVisitor();
    f.clock.advance(20_000); // silent since the join: at its deadline
    const reading = f.clock.now.bind(f.clock);
    f.clock.now = () => {
      const t = reading();
      f.clock.advance(1); // a millisecond passes between any two readings
      return t;
    };
    await expect(deliverDue(f)).resolves.toEqual({ [view.tokenId]: 'evicted' });
  });

  it('never puts an eviction off beyond MAX_DEFER_MS after the deadline, however often the store stalls', async () => {
    const { f, view } = await oneVisitor();
    const deadline = f.store.tokens.get(view.tokenId)!.lastSeenAt + 20_000;
    f.clock.advance(25_000);
    let outcome = '';
    for (let round = 0; round < 20 && outcome !== 'evicted'; round++) {
      const [due] = f.checks.takeDue();
      stallNextRead(f, STALL_MS + 1);
      outcome = await f.checkLoop.check(due!.message, due!.id);
      if (outcome === 'deferred') f.clock.advance(f.checks.pendingFor(view.tokenId)[0]!.visibleAt - f.clock.now());
    }
    expect(outcome).toBe('evicted');
    expect(f.clock.now() - deadline).toBeLessThanOrEqual(MAX_DEFER_MS + 2 * STALL_MS);
  });
});
