/**
 * Ending visits before silence (lambdas/domain/visitors/departures.ts; issue 12, items 4 and 5): the
 * emergency stop (a room epoch, and its race with admissions in flight) and the origin freeing a
 * seat with the visitor's pass, on the in-memory store.
 */
import { describe, expect, it } from 'vitest';
import {
  Admissions,
  AdmissionRevokedError,
  ContentionError,
  InvalidPassError,
  PassesNotConfiguredError,
  admissionRevoked,
  type AdmitBatchRequest,
  type PassIssuer,
  type PassVerifier,
  type VerifiedPass,
} from '../../../lambdas/domain/index.js';
import { domainFixture, type DomainFixture } from '../../helpers/domain-fixture.js';

/** A room of `capacity` seats, all taken, and `waiting` live visitors in line behind them. */
async function fullRoom(capacity: number, waiting: number, options: Parameters<typeof domainFixture>[0] = {}) {
  const f = domainFixture(options);
  await f.rooms.configure('shop', { capacity });
  const joined = [];
  for (let i = 0; i < capacity + waiting; i++) joined.push(await f.arrive('shop'));
  return { f, inside: joined.slice(0, capacity), inLine: joined.slice(capacity) };
}

const stateOf = (f: DomainFixture, tokenId: string) => f.store.tokens.get(tokenId)?.state;
const room = (f: DomainFixture) => f.store.rooms.get('shop')!;

describe('the emergency stop (revokePasses)', () => {
  it('moves the room to its next epoch and leaves the seats as they are until each visitor inside is heard from', async () => {
    const { f, inside } = await fullRoom(2, 1);
    const { room: stopped } = await f.rooms.configure('shop', { revokePasses: true });
    expect(stopped).toMatchObject({ epoch: 1, state: 'open', activeCount: 2 });
    expect(inside.map((v) => f.store.tokens.get(v.view.tokenId)?.admittedEpoch)).toEqual([0, 0]);
    expect(inside.every((v) => admissionRevoked(f.store.tokens.get(v.view.tokenId)!, room(f)))).toBe(true);
  });

  it('refuses the next heartbeat of every visitor admitted before it, removes its token and gives its seat to the next live visitor in the new epoch', async () => {
    const { f, inside, inLine } = await fullRoom(2, 2);
    await f.rooms.configure('shop', { revokePasses: true });
    const [first, second] = inside as [(typeof inside)[0], (typeof inside)[0]];
    await expect(f.visitors.heartbeat('shop', first.view.tokenId, first.secret)).rejects.toBeInstanceOf(AdmissionRevokedError);
    expect(f.store.tokens.has(first.view.tokenId)).toBe(false);
    expect(f.store.tokens.get(inLine[0]!.view.tokenId)).toMatchObject({ state: 'ADMITTED', admittedEpoch: 1 });
    expect(f.events.removed).toContainEqual({ ticket: first.view.ticket, reason: 'revoked' });
    await expect(f.visitors.heartbeat('shop', second.view.tokenId, second.secret)).rejects.toBeInstanceOf(AdmissionRevokedError);
    expect(f.store.tokens.get(inLine[1]!.view.tokenId)).toMatchObject({ state: 'ADMITTED', admittedEpoch: 1 });
    expect(room(f)).toMatchObject({ activeCount: 2, epoch: 1 });
    // Those admitted in the new epoch are not refused.
    await expect(f.visitors.heartbeat('shop', inLine[0]!.view.tokenId, inLine[0]!.secret)).resolves.toMatchObject({ state: 'admitted' });
    // A refused visitor's token is gone: its next signal finds nothing.
    await expect(f.visitors.heartbeat('shop', first.view.tokenId, first.secret)).rejects.toThrow(/unknown, has left/);
  });

  it('refuses a read of a revoked admission without removing anything (reads have no side effect)', async () => {
    const { f, inside } = await fullRoom(1, 0);
    await f.rooms.configure('shop', { revokePasses: true });
    await expect(f.visitors.read('shop', inside[0]!.view.tokenId, inside[0]!.secret)).rejects.toBeInstanceOf(AdmissionRevokedError);
    expect(stateOf(f, inside[0]!.view.tokenId)).toBe('ADMITTED');
  });

  it('stops renewing passes: a pass carries the epoch of its admission, and none is issued to a revoked visitor', async () => {
    const issued: number[] = [];
    const passes: PassIssuer = {
      issue: async (claims, now) => {
        issued.push(claims.epoch);
        return { pass: `pass-${claims.tokenId}-${claims.epoch}`, expiresAt: now + 60_000 };
      },
    };
    const { f, inside, inLine } = await fullRoom(1, 1, { deps: { passes } });
    expect(inside[0]!.view.pass).toBe(`pass-${inside[0]!.view.tokenId}-0`);
    await f.rooms.configure('shop', { revokePasses: true });
    issued.length = 0;
    await expect(f.visitors.heartbeat('shop', inside[0]!.view.tokenId, inside[0]!.secret)).rejects.toBeInstanceOf(AdmissionRevokedError);
    expect(issued).toEqual([]);
    await expect(f.visitors.heartbeat('shop', inLine[0]!.view.tokenId, inLine[0]!.secret)).resolves.toMatchObject({
      state: 'admitted',
      pass: `pass-${inLine[0]!.view.tokenId}-1`,
    });
  });

  it('queues everyone when paused with it: those inside are refused, those in line keep their place, nobody is admitted until it reopens, then in order', async () => {
    const { f, inside, inLine } = await fullRoom(2, 2);
    await f.rooms.configure('shop', { state: 'paused', revokePasses: true });
    for (const v of inside) await expect(f.visitors.heartbeat('shop', v.view.tokenId, v.secret)).rejects.toBeInstanceOf(AdmissionRevokedError);
    for (const v of inLine) await expect(f.visitors.heartbeat('shop', v.view.tokenId, v.secret)).resolves.toMatchObject({ state: 'waiting', roomState: 'paused' });
    expect(room(f)).toMatchObject({ activeCount: 0, state: 'paused' });
    expect(f.store.admittedIn('shop')).toEqual([]);
    await f.rooms.configure('shop', { state: 'open' });
    expect(f.store.admittedIn('shop').map((t) => [t.ticket, t.admittedEpoch])).toEqual([
      [3, 1],
      [4, 1],
    ]);
  });

  it('evicts a silent visitor admitted before it after the heartbeat timeout, as any silent visitor (the checker needs no epoch)', async () => {
    const { f, inside } = await fullRoom(1, 0);
    await f.checkLoop.start({ tokenId: inside[0]!.view.tokenId, roomId: 'shop', checkSeq: 0 });
    await f.rooms.configure('shop', { revokePasses: true });
    f.clock.advance(21_000);
    for (const due of f.checks.takeDue()) await f.checkLoop.check(due.message, due.id);
    for (const due of f.checks.takeDue()) await f.checkLoop.check(due.message, due.id);
    expect(f.store.tokens.has(inside[0]!.view.tokenId)).toBe(false);
    expect(room(f).activeCount).toBe(0);
  });
});

describe('an admission racing the emergency stop', () => {
  /** Runs `stop` inside the store, just before the first admission transaction takes effect: after the admitter read the room. */
  function stopDuringFirstAdmission(f: DomainFixture, stop: () => Promise<unknown>): AdmitBatchRequest[] {
    const seen: AdmitBatchRequest[] = [];
    const admitTokens = f.store.admitTokens.bind(f.store);
    let stopped = false;
    f.store.admitTokens = async (request) => {
      seen.push(structuredClone(request));
      if (!stopped) {
        stopped = true;
        await stop();
      }
      return admitTokens(request);
    };
    return seen;
  }

  it("is refused when the stop commits between the admitter's read and its transaction, and made again in the new epoch", async () => {
    const { f, inLine } = await fullRoom(0, 2);
    const seen = stopDuringFirstAdmission(f, () => f.store.upsertRoom({ roomId: 'shop', bumpEpoch: true, lineShards: 4, now: f.clock.now() }));
    room(f).capacity = 2;
    const { admitted } = await new Admissions(f.deps).fill('shop');
    expect(seen.map((r) => r.epoch)).toEqual([0, 1]); // the first try, refused; the second, in the fresh room's epoch
    expect(admitted).toEqual(inLine.map((v) => v.view.tokenId));
    // No token admitted after the stop carries the epoch before it.
    expect(f.store.admittedIn('shop').map((t) => t.admittedEpoch)).toEqual([1, 1]);
  });

  it('admits nobody when the stop that commits meanwhile also paused the room (queue everyone)', async () => {
    const { f } = await fullRoom(0, 2);
    stopDuringFirstAdmission(f, () => f.store.upsertRoom({ roomId: 'shop', state: 'paused', bumpEpoch: true, lineShards: 4, now: f.clock.now() }));
    room(f).capacity = 2;
    await expect(new Admissions(f.deps).fill('shop')).resolves.toMatchObject({ admitted: [] });
    expect(f.store.admittedIn('shop')).toEqual([]);
  });

  it("refuses a visitor's own admission made with a room view from before the stop; its next heartbeat admits it in the new epoch", async () => {
    const f = domainFixture({ environment: { roomViewMaxAgeMs: 1_000 } });
    await f.rooms.configure('shop', { capacity: 1 });
    const { view, secret } = await f.visitors.join('shop');
    await f.deps.views.get('shop'); // this environment's view: epoch 0
    await f.store.upsertRoom({ roomId: 'shop', bumpEpoch: true, lineShards: 4, now: f.clock.now() });
    await expect(f.visitors.heartbeat('shop', view.tokenId, secret)).resolves.toMatchObject({ state: 'waiting' });
    expect(stateOf(f, view.tokenId)).toBe('WAITING');
    f.clock.advance(1_000);
    await expect(f.visitors.heartbeat('shop', view.tokenId, secret)).resolves.toMatchObject({ state: 'admitted' });
    expect(f.store.tokens.get(view.tokenId)?.admittedEpoch).toBe(1);
  });
});

describe('the origin frees a seat with the pass (release)', () => {
  /** Verifies passes of the form `pass:<tokenId>:<ticket>:<roomId>`; anything else is refused. */
  const verifier: PassVerifier = {
    verify: async (pass, roomId): Promise<VerifiedPass> => {
      const [kind, tokenId, ticket, passRoom] = pass.split(':');
      if (kind !== 'pass' || !tokenId || passRoom === undefined) throw new InvalidPassError('malformed');
      if (passRoom !== roomId) throw new InvalidPassError('wrong-room');
      return { roomId, tokenId, ticket: Number(ticket), epoch: 0 };
    },
  };
  const passOf = (v: { view: { tokenId: string; ticket: number } }, roomId = 'shop') => `pass:${v.view.tokenId}:${v.view.ticket}:${roomId}`;

  it("removes the pass's token as a leave does, and gives the seat to the next live visitor at once", async () => {
    const { f, inside, inLine } = await fullRoom(1, 2, { deps: { passVerifier: verifier } });
    await f.visitors.release('shop', passOf(inside[0]!));
    expect(f.store.tokens.has(inside[0]!.view.tokenId)).toBe(false);
    expect(stateOf(f, inLine[0]!.view.tokenId)).toBe('ADMITTED');
    expect(stateOf(f, inLine[1]!.view.tokenId)).toBe('WAITING');
    expect(room(f)).toMatchObject({ activeCount: 1, lastAdmittedTicket: 2 });
    expect(f.events.removed).toEqual([{ ticket: 1, reason: 'released' }]);
  });

  it('is idempotent: a pass whose token is gone frees nothing and succeeds', async () => {
    const { f, inside } = await fullRoom(1, 1, { deps: { passVerifier: verifier } });
    await f.visitors.release('shop', passOf(inside[0]!));
    const before = structuredClone(room(f));
    await expect(f.visitors.release('shop', passOf(inside[0]!))).resolves.toBeUndefined();
    expect(room(f)).toEqual(before);
    expect(f.events.removed).toHaveLength(1);
  });

  it("frees nothing for a pass that does not verify, another room's pass, or one whose ticket is not its token's", async () => {
    const { f, inside } = await fullRoom(1, 0, { deps: { passVerifier: verifier } });
    await expect(f.visitors.release('shop', 'forged')).rejects.toBeInstanceOf(InvalidPassError);
    await expect(f.visitors.release('shop', passOf(inside[0]!, 'other'))).rejects.toMatchObject({ reason: 'wrong-room' });
    await f.visitors.release('shop', `pass:${inside[0]!.view.tokenId}:99:shop`);
    expect(stateOf(f, inside[0]!.view.tokenId)).toBe('ADMITTED');
    expect(room(f).activeCount).toBe(1);
  });

  it('frees the seat of a visitor admitted before an emergency stop too, and tells contention from success', async () => {
    const { f, inside } = await fullRoom(1, 0, { deps: { passVerifier: verifier } });
    await f.rooms.configure('shop', { revokePasses: true });
    f.store.conflicts.set('removeToken', 5);
    await expect(f.visitors.release('shop', passOf(inside[0]!))).rejects.toBeInstanceOf(ContentionError);
    await f.visitors.release('shop', passOf(inside[0]!));
    expect(f.store.tokens.has(inside[0]!.view.tokenId)).toBe(false);
  });

  it('refuses every pass when passes are off', async () => {
    const { f, inside } = await fullRoom(1, 0);
    await expect(f.visitors.release('shop', passOf(inside[0]!))).rejects.toBeInstanceOf(PassesNotConfiguredError);
  });
});
