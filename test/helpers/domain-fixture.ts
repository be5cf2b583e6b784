/** Builds the domain over in-memory ports, with fixed ids and a fake clock. */
import {
  CheckLoop,
  Rooms,
  Visitors,
  environmentOf,
  timingsWithDefaults,
  type DomainDeps,
  type EnvironmentOptions,
  type JoinResult,
  type IdSource,
  type Timings,
  type WaitingRoomEvents,
} from '../../lambdas/domain/index.js';
import { FakeClock, InMemoryCheckQueue, InMemoryStore } from './in-memory-store.js';

export function sequentialIds(): IdSource {
  let n = 0;
  return {
    tokenId: () => `tok${String(++n).padStart(19, '0')}`,
    secret: () => `s${String(n).padStart(42, '0')}`,
  };
}

/**
 * A visitor who joined and, in the front zone, has heartbeated once since (its page does so at once
 * when the answer says a seat looks free, else at its interval): heard from, so it may be admitted.
 * A join alone admits nobody.
 */
export async function arrive(visitors: Visitors, roomId: string): Promise<JoinResult> {
  const joined = await visitors.join(roomId);
  if (joined.view.zone !== 'front') return joined;
  return { view: await visitors.heartbeat(roomId, joined.view.tokenId, joined.secret), secret: joined.secret };
}

export interface DomainFixture {
  store: InMemoryStore;
  checks: InMemoryCheckQueue;
  clock: FakeClock;
  deps: DomainDeps;
  visitors: Visitors;
  /** arrive() with this fixture's visitors. */
  arrive(roomId: string): Promise<JoinResult>;
  checkLoop: CheckLoop;
  rooms: Rooms;
  events: { admitted: number[]; removed: { ticket: number; reason: string }[] };
}

export interface DomainFixtureOptions {
  timings?: Partial<Timings>;
  deps?: Partial<DomainDeps>;
  /** Room views are read afresh by default (max age 0), so a test sees every change at once. */
  environment?: EnvironmentOptions;
  /** Line shards of rooms the fixture's Rooms creates. @default 4 */
  lineShards?: number;
}

export function domainFixture(options: DomainFixtureOptions = {}): DomainFixture {
  const clock = new FakeClock();
  const store = new InMemoryStore();
  const checks = new InMemoryCheckQueue(clock);
  const events: DomainFixture['events'] = { admitted: [], removed: [] };
  const observer: WaitingRoomEvents = {
    admitted: (e) => events.admitted.push(e.ticket),
    removed: (e) => events.removed.push({ ticket: e.ticket, reason: e.reason }),
  };
  const deps: DomainDeps = {
    store,
    clock,
    timings: timingsWithDefaults(options.timings),
    ids: sequentialIds(),
    events: observer,
    sleep: async () => {},
    random: () => 0.5,
    ...environmentOf(store, clock, { roomViewMaxAgeMs: 0, ...options.environment }),
    ...options.deps,
  };
  const visitors = new Visitors(deps);
  return {
    store,
    checks,
    clock,
    deps,
    visitors,
    arrive: (roomId) => arrive(visitors, roomId),
    checkLoop: new CheckLoop(deps, checks),
    rooms: new Rooms(deps, options.lineShards ?? 4),
    events,
  };
}
