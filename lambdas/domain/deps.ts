import type { Clock, IdSource, PassIssuer, WaitingRoomEvents, WaitingRoomStore } from './ports.js';
import type { Timings } from './timings.js';

/** Everything a use case needs, injected: no AWS import below this line. */
export interface DomainDeps {
  store: WaitingRoomStore;
  clock: Clock;
  timings: Timings;
  ids: IdSource;
  passes?: PassIssuer;
  events?: WaitingRoomEvents;
  /** Waits between retries of a conflicting transaction; tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** Source of jitter in [0, 1); tests pass a fixed one. */
  random?: () => number;
}

export const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
