/** Builds the domain over in-memory ports, with fixed ids and a fake clock. */
import {
  CheckLoop,
  Rooms,
  Visitors,
  environmentOf,
  timingsWithDefaults,
  type DomainDeps,
  type EnvironmentOptions,
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

export interface DomainFixture {
  store: InMemoryStore;
  checks: InMemoryCheckQueue;
  clock: FakeClock;
  deps: DomainDeps;
  visitors: Visitors;
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
  return {
    store,
    checks,
    clock,
    deps,
    visitors: new Visitors(deps),
    checkLoop: new CheckLoop(deps, checks),
    rooms: new Rooms(deps, options.lineShards ?? 4),
    events,
  };
}
