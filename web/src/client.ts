/**
 * Browser client of the waiting room (DESIGN §3 and §7): a small, framework-free ES module.
 *
 *   const client = new WaitingRoomClient({ roomId: 'shop', apiBase: 'https://api.example.com' });
 *   client.on('position', (view) => render(view));
 *   client.on('admitted', (view) => location.replace(originUrl));
 *   await client.start();
 *
 * - One place in line per browser: the credential `{ roomId, tokenId, secret }` lives in
 *   localStorage under a per-room key, so a reload (or a second tab) resumes the same ticket.
 *   Joins are serialized across tabs with an exclusive cross-tab lock (Web Locks, or a
 *   storage-based claim where Web Locks are missing), so two tabs opened at once take one ticket.
 * - One heartbeat stream per browser: the tabs elect a leader (a held Web Lock, or a storage
 *   lease) and only the leader heartbeats; it broadcasts each token view to the other tabs
 *   (BroadcastChannel, or storage events). N tabs cost the API what one tab costs. A follower that
 *   hears nothing for three intervals (its leader frozen or throttled by the browser) heartbeats
 *   once itself: heartbeats are idempotent on the server, so a duplicate is harmless.
 * - Failures: network errors, 5xx and 429 are retried with capped exponential backoff and full
 *   jitter, never sooner than Retry-After. Offline, nothing is sent; back online, the client
 *   heartbeats at once.
 * - Every browser API is injected (fetch, storage, timers, random, online status, page lifecycle,
 *   cross-tab coordination, cookies), so the state machine runs in Node under fake timers.
 *
 * These modules have no DOM type dependency: browser globals are reached through small structural
 * interfaces, so they type-check with or without `lib: ["DOM"]`.
 *
 * This file is the library's public entry (built to `assets/client.js`, which pages import); the
 * code lives in client/: api (shapes, errors), environment (injected browser APIs and their
 * defaults), backoff, cookies, tabs (cross-tab coordination), events, client (the state machine).
 */

export {
  WaitingRoomError,
  isTokenView,
  type ClientMode,
  type ClientState,
  type Credential,
  type TokenState,
  type TokenView,
} from './client/api.js';
export {
  createMemoryStorage,
  defaultLifecycle,
  defaultNetwork,
  defaultStorage,
  defaultTimers,
  type ChannelLike,
  type FetchLike,
  type LockManagerLike,
  type NetworkStatus,
  type PageLifecycle,
  type RequestInitLike,
  type ResponseLike,
  type StorageLike,
  type Timers,
} from './client/environment.js';
export { DEFAULT_BACKOFF, backoffDelay, parseRetryAfter, type BackoffPolicy } from './client/backoff.js';
export { PASS_COOKIE, clearedPassCookie, passCookie } from './client/cookies.js';
export {
  BrowserTabCoordinator,
  createTabCoordinator,
  type TabCoordinator,
  type TabCoordinatorOptions,
  type TabMessage,
} from './client/tabs.js';
export type { ErrorEvent, EvictedEvent, LeftEvent, WaitingRoomEvent, WaitingRoomEvents } from './client/events.js';
export { WaitingRoomClient, type WaitingRoomClientOptions } from './client/client.js';
