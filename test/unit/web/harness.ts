/**
 * The set-up every browser-client test shares: fake timers from T0, a fresh fake API and browser
 * per test, and every client a test tracks stopped after it.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import { nextKeepPlaceAt } from '../../../lambdas/domain/line/positions.js';
import { FakeApi, FakeBrowser, type RecordingClient } from './fakes.js';

export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

/**
 * When a far-back page sends its next keep-place signal after one `lastSignalAt` ms into the test
 * (the join counts), in ms since the test began: the domain's `nextKeepPlaceAt` for the ticket, on
 * the epoch clock. The grid point falls between milliseconds; the page's sleep ends, and the
 * request goes out, at the first millisecond of the clock at or after it.
 */
export function keepPlaceTime(ticket: number, lastSignalAt: number, intervalSeconds: number): number {
  return Math.ceil(nextKeepPlaceAt(ticket, T0 + lastSignalAt, intervalSeconds)) - T0;
}

export interface Harness {
  /** Stops the client after the test. */
  track(client: RecordingClient): RecordingClient;
  /** Runs due timers and settles promises. */
  advance(ms: number): Promise<void>;
  /** Milliseconds since the test began, of each request of one kind. */
  times(kind: string): number[];
}

/** Installs the hooks; `onEach` receives each test's fresh API and browser. */
export function useFakeBrowser(onEach: (api: FakeApi, browser: FakeBrowser) => void): Harness {
  let api = new FakeApi();
  const clients: RecordingClient[] = [];

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    api = new FakeApi();
    onEach(api, new FakeBrowser(api));
  });

  afterEach(() => {
    clients.splice(0).forEach((c) => c.client.stop());
    vi.useRealTimers();
  });

  return {
    track(client) {
      clients.push(client);
      return client;
    },
    async advance(ms) {
      await vi.advanceTimersByTimeAsync(ms);
    },
    times(kind) {
      return api.requests.filter((r) => r.kind === kind).map((r) => r.at - T0);
    },
  };
}
