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
 * - Zones (DESIGN §2 step 2): an admitted visitor, and a waiting one in the front zone, heartbeats
 *   every `heartbeatIntervalSeconds`. Far from the front, the page sends no heartbeat: it reads
 *   the room's shared, cacheable status (from `statusBase`, a CDN for example), works out its own
 *   place with the domain's `placeOf`, and sends a keep-place signal every
 *   `keepPlaceIntervalSeconds`; once the status puts its ticket in the front zone, it heartbeats.
 *   Positions shown only go down.
 * - One stream of requests per browser: the tabs elect a leader (a held Web Lock, or a storage
 *   lease) and only the leader heartbeats or reads the status; it broadcasts each token view to
 *   the other tabs (BroadcastChannel, or storage events). N tabs cost the API what one tab costs.
 *   A follower that hears nothing for three intervals (its leader frozen or throttled by the
 *   browser) takes one step itself: heartbeats are idempotent on the server, so a duplicate is
 *   harmless.
 * - Failures: network errors, 5xx and 429 are retried with capped exponential backoff and full
 *   jitter, never sooner than Retry-After (a failed status read too: far back, keep-place signals
 *   go on meanwhile; a 404 status means the room is gone, reported as closed). Offline, nothing is
 *   sent; back online, the client heartbeats (or reads the status) at once.
 * - Turned away: a 409 ends in the state `closed`, with no retry until `retry()`. Its reason
 *   (`client.closedReason`, and the `closed` event's `reason`) tells a closed room (`closed`, 409
 *   ROOM_CLOSED) from one that takes no new visitors (`not-accepting`, 409 ROOM_NOT_ACCEPTING: a
 *   room in reject mode, sold out; the room's message, in its status, says why). Reject mode
 *   refuses joins only: a visitor already in line keeps its place and is admitted as usual.
 * - Scheduled events: until the event's lottery draw nobody is admitted, and every ticket keeps
 *   its place far back (the status read no later than the start). A join in the pre-queue keeps
 *   its signed lottery receipt with the credential (`client.lotteryEntry`); once the status shows
 *   the draw, the ticket is read once more (the draw may have changed it) before its place is
 *   worked out again. `client.roomEvent` is the event as the last status said it, to count down.
 * - Every browser API is injected (fetch, storage, timers, random, online status, page lifecycle,
 *   cross-tab coordination, cookies), so the state machine runs in Node under fake timers.
 *
 * These modules have no DOM type dependency: browser globals are reached through small structural
 * interfaces, so they type-check with or without `lib: ["DOM"]`.
 *
 * This file is the library's public entry (built to `assets/client.js`, which pages import); the
 * code lives in client/: api (shapes, errors), environment (injected browser APIs and their
 * defaults), http (one request, answers checked), credentials (the stored ticket), backoff, cookies,
 * tabs (cross-tab coordination), zones (front and far: which step is due, places from the status),
 * line-memory (what the tabs remember about their ticket), room-event (a scheduled event and its
 * lottery draw), events, client (the state machine).
 */

export {
  WaitingRoomError,
  isRoomStatus,
  isTokenView,
  type ClientMode,
  type ClientState,
  type ClosedReason,
  type Credential,
  type EventPhase,
  type LotteryEntry,
  type PublicEvent,
  type RoomState,
  type RoomStatus,
  type TokenState,
  type TokenView,
  type Zone,
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
export { CredentialStore, DEFAULT_KEY_PREFIX, credentialKeyOf } from './client/credentials.js';
export { isPublicEvent, waitsForDraw } from './client/room-event.js';
export {
  BrowserTabCoordinator,
  createTabCoordinator,
  type TabCoordinator,
  type TabCoordinatorOptions,
  type TabMessage,
} from './client/tabs.js';
export type { ClosedEvent, ErrorEvent, EvictedEvent, LeftEvent, WaitingRoomEvent, WaitingRoomEvents } from './client/events.js';
export { WaitingRoomClient, type WaitingRoomClientOptions } from './client/client.js';
