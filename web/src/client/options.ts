/**
 * The client's options and their defaults: every browser API the page does not inject is the
 * browser's own (environment.ts), and the room's storage keys, lock and channel names and URLs are
 * worked out here once.
 */
import type { ClientMode } from './api.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { PASS_COOKIE } from './cookies.js';
import { credentialKeyOf, DEFAULT_KEY_PREFIX } from './credentials.js';
import {
  browser,
  defaultFetch,
  defaultLifecycle,
  defaultNetwork,
  defaultStorage,
  defaultTimers,
  type FetchLike,
  type NetworkStatus,
  type PageLifecycle,
  type StorageLike,
  type Timers,
} from './environment.js';
import { createTabCoordinator, type TabCoordinator } from './tabs.js';
import { workerTimers } from './worker-timers.js';

export interface WaitingRoomClientOptions {
  roomId: string;
  /** Where the API lives, without a trailing slash: '' (same origin, the default) or an absolute URL. */
  apiBase?: string;
  /**
   * Where the public room status (`GET /rooms/{roomId}/status`) is read, for example a CDN domain
   * in front of it, while token calls go to `apiBase`. Default: `apiBase`.
   */
  statusBase?: string;
  /**
   * 'wait' (default): the waiting-room page; joins when it holds no ticket.
   * 'keep-alive': pages of the protected site; never joins, heartbeats a stored ticket so an
   * admitted visitor keeps the seat while browsing, and refreshes the pass cookie.
   */
  mode?: ClientMode;
  /**
   * Leave the line on pagehide when no other tab of the room is open. Default: true in 'wait'
   * mode, false in 'keep-alive' mode (every link followed on the site fires pagehide).
   */
  leaveOnPageHide?: boolean;
  fetch?: FetchLike;
  storage?: StorageLike;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
  network?: NetworkStatus;
  lifecycle?: PageLifecycle;
  tabs?: TabCoordinator;
  /** Writes one `Set-Cookie`-style string (default: `document.cookie = ...`); null: never write cookies. */
  setCookie?: ((cookie: string) => void) | null;
  /** Adds `Secure` to the pass cookie (default: when the page is served over https). */
  secureCookie?: boolean;
  /** Name of the pass cookie. Default `wr_pass`. */
  passCookieName?: string;
  backoff?: Partial<BackoffPolicy>;
  /** A request that takes longer is aborted and retried. Default 15 s. */
  requestTimeoutMs?: number;
  /** Prefix of every storage key, lock and channel name. Default `waiting-room:v1`. */
  keyPrefix?: string;
}

/** The room's storage keys, lock names and channel name (all under the key prefix). */
export interface RoomKeys {
  credential: string;
  line: string;
  joinLock: string;
  leaderLock: string;
  channel: string;
  presence: string;
}

/** The room's URLs: token calls go to the API, the shared status to `statusBase`. */
export interface RoomUrls {
  tokens: string;
  token(tokenId: string): string;
  status: string;
}

/** The options with every default filled in. */
export interface ClientSettings {
  roomId: string;
  mode: ClientMode;
  leaveOnPageHide: boolean;
  fetch: FetchLike;
  storage: StorageLike;
  timers: Timers;
  now: () => number;
  random: () => number;
  network: NetworkStatus;
  lifecycle: PageLifecycle;
  tabs: TabCoordinator;
  /** Whether the client made its tab coordinator (and so closes it on stop). */
  ownsTabs: boolean;
  setCookie: ((cookie: string) => void) | undefined;
  cookieOptions: { name: string; secure: boolean };
  backoff: BackoffPolicy;
  requestTimeoutMs: number;
  keys: RoomKeys;
  urls: RoomUrls;
}

export function resolveOptions(options: WaitingRoomClientOptions): ClientSettings {
  if (!options.roomId) throw new Error('WaitingRoomClient needs a roomId');
  const roomId = options.roomId;
  const mode = options.mode ?? 'wait';
  const fetch = options.fetch ?? defaultFetch();
  const storage = options.storage ?? defaultStorage();
  // A Worker's timers keep time in a background tab (worker-timers.ts); the page's own otherwise.
  const timers = options.timers ?? workerTimers() ?? defaultTimers();
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const network = options.network ?? defaultNetwork();
  const lifecycle = options.lifecycle ?? defaultLifecycle();
  const tabs = options.tabs ?? createTabCoordinator({ storage, timers, now, random });
  const doc = browser().document;
  const setCookie =
    options.setCookie === null
      ? undefined
      : (options.setCookie ??
        (doc
          ? (cookie: string) => {
              doc.cookie = cookie;
            }
          : undefined));
  return {
    roomId,
    mode,
    leaveOnPageHide: options.leaveOnPageHide ?? mode === 'wait',
    fetch,
    storage,
    timers,
    now,
    random,
    network,
    lifecycle,
    tabs,
    ownsTabs: options.tabs === undefined,
    setCookie,
    cookieOptions: {
      name: options.passCookieName ?? PASS_COOKIE,
      secure: options.secureCookie ?? browser().location?.protocol === 'https:',
    },
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
    keys: roomKeys(roomId, options.keyPrefix ?? DEFAULT_KEY_PREFIX),
    urls: roomUrls(roomId, options.apiBase, options.statusBase),
  };
}

function roomKeys(roomId: string, prefix: string): RoomKeys {
  const base = `${prefix}:${roomId}`;
  return {
    credential: credentialKeyOf(roomId, prefix),
    line: `${base}:line`,
    joinLock: `${base}:join`,
    leaderLock: `${base}:leader`,
    channel: base,
    presence: base,
  };
}

function roomUrls(roomId: string, apiBase: string | undefined, statusBase: string | undefined): RoomUrls {
  const api = (apiBase ?? '').replace(/\/+$/, '');
  const status = statusBase === undefined ? api : statusBase.replace(/\/+$/, '');
  const room = `${api}/rooms/${encodeURIComponent(roomId)}`;
  return {
    tokens: `${room}/tokens`,
    token: (tokenId) => `${room}/tokens/${encodeURIComponent(tokenId)}`,
    status: `${status}/rooms/${encodeURIComponent(roomId)}/status`,
  };
}
