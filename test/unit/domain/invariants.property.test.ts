/**
 * Property-based test of DESIGN §5 invariants 1-5.
 *
 * Random sequences of joins, heartbeats, leaves, clock advances, check deliveries (including
 * duplicates and re-sent initial checks), capacity and state changes drive the domain against the
 * in-memory store. Operations in one batch run concurrently: fast-check's scheduler picks the
 * moment each store call takes effect and the moment its answer returns, so every interleaving of
 * reads and conditional writes is explored. Invariants are asserted after every scheduled step
 * and after every batch.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CheckLoop,
  ContentionError,
  RoomClosedError,
  Rooms,
  TokenNotFoundError,
  Visitors,
  type DomainDeps,
  type RemoveRequest,
  type RoomState,
  type WaitingRoomStore,
} from '../../../lambdas/domain/index.js';
import { sequentialIds } from '../../helpers/domain-fixture.js';
import { FakeClock, InMemoryCheckQueue, InMemoryStore, type QueuedCheck } from '../../helpers/in-memory-store.js';

const ROOM = 'prop';
const TIMEOUT_S = 20;
const DELAY_S = 10;

type Op =
  | { kind: 'join' }
  | { kind: 'heartbeat'; who: number }
  | { kind: 'leave'; who: number }
  | { kind: 'duplicate'; which: number }
  | { kind: 'restartLoop'; who: number }
  | { kind: 'configure'; capacity?: number; state?: RoomState };

/** An advance delivers each check when it becomes visible; its ops run alongside the first deliveries. */
type Step = { kind: 'batch'; ops: Op[] } | { kind: 'advance'; ms: number; ops: Op[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Op>({ kind: 'join' }) },
  { weight: 6, arbitrary: fc.nat(30).map<Op>((who) => ({ kind: 'heartbeat', who })) },
  { weight: 2, arbitrary: fc.nat(30).map<Op>((who) => ({ kind: 'leave', who })) },
  { weight: 2, arbitrary: fc.nat(50).map<Op>((which) => ({ kind: 'duplicate', which })) },
  { weight: 1, arbitrary: fc.nat(30).map<Op>((who) => ({ kind: 'restartLoop', who })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ capacity: fc.option(fc.nat(4), { nil: undefined }), state: fc.option(fc.constantFrom<RoomState>('open', 'paused', 'closed'), { nil: undefined }) })
      .map<Op>((change) => ({ kind: 'configure', ...change })),
  },
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.array(opArb, { minLength: 1, maxLength: 4 }).map<Step>((ops) => ({ kind: 'batch', ops })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ ms: fc.integer({ min: 500, max: 15_000 }), ops: fc.array(opArb, { maxLength: 3 }) })
      .map<Step>(({ ms, ops }) => ({ kind: 'advance', ms, ops })),
  },
);

/** Every store call takes effect, and answers, at a moment the scheduler picks. */
function scheduled(store: InMemoryStore, s: fc.Scheduler): WaitingRoomStore {
  const gate = (label: string) => s.schedule(Promise.resolve(), label);
  const wrapped: Partial<WaitingRoomStore> = {};
  for (const name of Object.getOwnPropertyNames(InMemoryStore.prototype) as (keyof WaitingRoomStore)[]) {
    if (typeof store[name] !== 'function' || (name as string) === 'constructor') continue;
    (wrapped as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      await gate(`${name}:call`);
      // Looked up at call time, so a test can still wrap a method of the store.
      const result = await (store[name] as (...a: unknown[]) => Promise<unknown>).apply(store, args);
      await gate(`${name}:answer`);
      return result;
    };
  }
  return wrapped as WaitingRoomStore;
}

async function runScenario(s: fc.Scheduler, initialCapacity: number, steps: Step[]): Promise<void> {
  const clock = new FakeClock();
  const memory = new InMemoryStore();
  const queue = new InMemoryCheckQueue(clock);
  const visitors: { tokenId: string; secret: string; batch: number }[] = [];
  const delivered: QueuedCheck[] = [];
  const lastDuplicateAt = new Map<string, number>();
  let batch = 0;
  let deferred = false;
  let peakAllowed = initialCapacity; // admitted may exceed capacity only after capacity was lowered

  const deps: DomainDeps = {
    store: scheduled(memory, s),
    clock,
    timings: { heartbeatTimeoutSeconds: TIMEOUT_S, checkDelaySeconds: DELAY_S, heartbeatIntervalSeconds: 5, tokenRetentionSeconds: 3600, assumedVisitSeconds: 60, passTtlSeconds: 60 },
    ids: sequentialIds(),
    sleep: async () => {},
    random: () => 0.5,
    events: {
      admitted: ({ ticket }) => {
        // Invariant 2 (order): nobody who was already in line before this batch is passed over.
        const passedOver = memory.waitingIn(ROOM).filter((t) => t.ticket < ticket && !joinedInBatch(t.tokenId, batch));
        expect(passedOver.map((t) => t.ticket), `admitted ticket ${ticket} ahead of earlier tickets`).toEqual([]);
      },
      removed: ({ tokenId, ticket, reason }) => {
        if (reason !== 'silent') return;
        const silence = clock.now() - lastSeenWhenRemoved.get(tokenId)!;
        expect(silence, `ticket ${ticket} evicted after ${silence} ms of silence`).toBeGreaterThanOrEqual(TIMEOUT_S * 1000);
      },
      admissionDeferred: () => {
        deferred = true;
      },
    },
  };
  const joinedInBatch = (tokenId: string, b: number) => visitors.find((v) => v.tokenId === tokenId)?.batch === b || !visitors.some((v) => v.tokenId === tokenId);

  // Invariant 4 (no false eviction): what a token's lastSeenAt really was when it was removed.
  const lastSeenWhenRemoved = new Map<string, number>();
  const remove = memory.removeToken.bind(memory);
  memory.removeToken = async (request: RemoveRequest) => {
    const seen = memory.tokens.get(request.token.tokenId)?.lastSeenAt;
    const outcome = await remove(request);
    if (outcome === 'removed' && seen !== undefined) lastSeenWhenRemoved.set(request.token.tokenId, seen);
    return outcome;
  };

  const domain = { visitors: new Visitors(deps), loop: new CheckLoop(deps, queue), rooms: new Rooms(deps) };
  await new Rooms({ ...deps, store: memory }).configure(ROOM, { capacity: initialCapacity });

  const stepInvariants = () => {
    const room = memory.rooms.get(ROOM)!;
    const admitted = memory.admittedIn(ROOM).length;
    // Invariant 1 (capacity): activeCount is exact, and admissions never go past capacity.
    expect(room.activeCount, 'activeCount equals admitted tokens').toBe(admitted);
    expect(admitted, 'admitted beyond capacity').toBeLessThanOrEqual(peakAllowed);
    peakAllowed = Math.max(room.capacity, Math.min(peakAllowed, admitted));
  };

  const quiescentInvariants = () => {
    stepInvariants();
    const room = memory.rooms.get(ROOM)!;
    // Invariant 3 (a freed seat goes to the next visitor at once).
    if (!deferred && room.state === 'open' && room.activeCount < room.capacity) {
      expect(memory.waitingIn(ROOM).map((t) => t.ticket), 'a seat is free while visitors wait').toEqual([]);
    }
    // Invariant 3 (no ghost seats): every token silent for timeout + delay is gone.
    for (const token of memory.tokens.values()) {
      expect(clock.now() - token.lastSeenAt, `ticket ${token.ticket} outlived its silence`).toBeLessThan((TIMEOUT_S + DELAY_S) * 1000);
    }
    // Invariant 5 (one check loop per token): the loop is alive, and one loop only once duplicates are two rounds old.
    for (const token of memory.tokens.values()) {
      const live = queue.pending.filter(
        (m) =>
          m.message.tokenId === token.tokenId &&
          (m.message.seq === token.checkSeq || (m.message.seq === token.checkSeq - 1 && m.id === token.checkBy)),
      ).length;
      expect(live, `ticket ${token.ticket} has no live check`).toBeGreaterThanOrEqual(1);
      const recent = clock.now() - (lastDuplicateAt.get(token.tokenId) ?? -Infinity) <= 2 * DELAY_S * 1000;
      if (!recent) expect(live, `ticket ${token.ticket} has ${live} check loops`).toBe(1);
    }
  };

  const runConcurrently = async (tasks: (() => Promise<unknown>)[]) => {
    deferred = false;
    let settled = false;
    const all = Promise.allSettled(tasks.map((t) => t())).then((results) => {
      settled = true;
      return results;
    });
    while (!settled) {
      if (s.count() > 0) {
        await s.waitNext(1);
        stepInvariants();
      } else {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    for (const result of await all) {
      if (result.status === 'rejected') {
        const e = result.reason;
        const expected = e instanceof TokenNotFoundError || e instanceof RoomClosedError || e instanceof ContentionError;
        if (!expected) throw e;
      }
    }
  };

  const deliver = (message: QueuedCheck) => async () => {
    delivered.push(message);
    try {
      await domain.loop.check(message.message, message.id);
    } catch (error) {
      if (!(error instanceof ContentionError)) throw error;
      queue.pending.push({ ...message, visibleAt: clock.now() }); // the queue delivers it again
    }
  };

  const pick = (who: number) => visitors[who % Math.max(visitors.length, 1)];

  const opTask = (op: Op) => async () => {
    switch (op.kind) {
      case 'join': {
        const { view, secret } = await domain.visitors.join(ROOM);
        visitors.push({ tokenId: view.tokenId, secret, batch });
        // The stream's INSERT starts the check loop (the enqueuer).
        await domain.loop.start({ tokenId: view.tokenId, roomId: ROOM, checkSeq: 0 });
        return;
      }
      case 'heartbeat': {
        const v = pick(op.who);
        if (v) await domain.visitors.heartbeat(ROOM, v.tokenId, v.secret);
        return;
      }
      case 'leave': {
        const v = pick(op.who);
        if (v) await domain.visitors.leave(ROOM, v.tokenId, v.secret);
        return;
      }
      case 'duplicate': {
        const m = delivered[op.which % Math.max(delivered.length, 1)];
        if (m) {
          lastDuplicateAt.set(m.message.tokenId, clock.now());
          await deliver(m)();
        }
        return;
      }
      case 'restartLoop': {
        const v = pick(op.who);
        if (v && memory.tokens.has(v.tokenId)) {
          lastDuplicateAt.set(v.tokenId, clock.now());
          await domain.loop.start({ tokenId: v.tokenId, roomId: ROOM, checkSeq: 0 });
        }
        return;
      }
      case 'configure': {
        if (op.capacity === undefined && op.state === undefined) return;
        await domain.rooms.configure(ROOM, { capacity: op.capacity, state: op.state });
        return;
      }
    }
  };

  for (const step of steps) {
    batch += 1;
    if (step.kind === 'batch') {
      await runConcurrently(step.ops.map(opTask));
    } else {
      // The queue delivers each check when it becomes visible.
      const target = clock.now() + step.ms;
      let ops = step.ops.map(opTask);
      for (;;) {
        const next = Math.min(...queue.pending.map((m) => m.visibleAt));
        if (!(next <= target)) break;
        clock.advance(Math.max(0, next - clock.now()));
        await runConcurrently([...queue.takeDue().map(deliver), ...ops]);
        ops = [];
      }
      clock.advance(target - clock.now());
      if (ops.length > 0) await runConcurrently(ops);
    }
    quiescentInvariants();
  }
}

describe('invariants under random interleavings (DESIGN §5)', () => {
  it('holds capacity, order, no ghost seats, no false eviction and one check loop per token', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.nat(3), fc.array(stepArb, { minLength: 5, maxLength: 45 }), (s, capacity, steps) =>
        runScenario(s, capacity, steps),
      ),
      { numRuns: Number(process.env.WR_PROPERTY_RUNS ?? 250) },
    );
  });
});
