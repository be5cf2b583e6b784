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
 * This module has no DOM type dependency: browser globals are reached through small structural
 * interfaces, so it type-checks with or without `lib: ["DOM"]`.
 */

// ---------------------------------------------------------------------------------------------
// API shapes (DESIGN §3)

export type TokenState = 'waiting' | 'admitted';

/** What the API says about a visitor. */
export interface TokenView {
  roomId: string;
  tokenId: string;
  ticket: number;
  state: TokenState;
  /** Tickets ahead not yet admitted, plus one; 0 once admitted. Only goes down. */
  position: number;
  estimatedWaitSeconds: number;
  heartbeatIntervalSeconds: number;
  /** The admission pass (a JWT), once admitted. */
  pass?: string;
  /** When the pass expires, epoch milliseconds. */
  passExpiresAt?: number;
}

/** What a visitor keeps: enough to speak for its token. */
export interface Credential {
  roomId: string;
  tokenId: string;
  secret: string;
}

export type ClientMode = 'wait' | 'keep-alive';

/**
 * idle: not started (or stopped) · joining: resuming or taking a ticket · waiting, admitted: live,
 * heartbeating · evicted: the token is gone (404) · closed: the room is closed (409) · left: the
 * visitor left, here or in another tab · failed: an error that retrying later may fix (see `retry`).
 */
export type ClientState = 'idle' | 'joining' | 'waiting' | 'admitted' | 'evicted' | 'closed' | 'left' | 'failed';

/** An API or network failure. `status` is 0 when no HTTP response arrived. */
export class WaitingRoomError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'WaitingRoomError';
  }

  /** Network errors, timeouts, 429 and 5xx are worth retrying; the rest are answers. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }

  /** The token is gone (evicted, left) or the secret does not match: it no longer holds a place. */
  get tokenLost(): boolean {
    return (this.status === 404 && this.code !== 'ROOM_NOT_FOUND') || this.status === 410 || this.status === 401;
  }
}

// ---------------------------------------------------------------------------------------------
// Injected environment

export interface ResponseLike {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface RequestInitLike {
  method: string;
  headers: Record<string, string>;
  keepalive?: boolean;
  cache?: 'no-store';
  signal?: AbortSignal;
}

export type FetchLike = (url: string, init: RequestInitLike) => Promise<ResponseLike>;

/** The part of `localStorage` the client uses. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  key(index: number): string | null;
  readonly length: number;
}

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Online/offline source (default: `navigator.onLine` and the window's online/offline events). */
export interface NetworkStatus {
  isOnline(): boolean;
  subscribe(listener: (online: boolean) => void): () => void;
}

/** Page lifecycle source (default: the window's pagehide/pageshow events). */
export interface PageLifecycle {
  onPageHide(listener: (persisted: boolean) => void): () => void;
  onPageShow(listener: (persisted: boolean) => void): () => void;
}

/** Messages the tabs of one room exchange. */
export type TabMessage =
  | { type: 'view'; view: TokenView }
  | { type: 'evicted'; tokenId: string }
  | { type: 'left'; tokenId: string }
  | { type: 'closed'; tokenId?: string };

/**
 * What the tabs of one browser share to hold one place in line. Names are opaque strings chosen
 * by the client (already namespaced per room).
 */
export interface TabCoordinator {
  /** Unique per tab (per browsing context). */
  readonly tabId: string;
  /** Runs `task` while holding the exclusive cross-tab lock `name`. */
  withLock<T>(name: string, task: () => Promise<T>): Promise<T>;
  /**
   * Stands for leadership of `name`: `onChange(true)` when this tab becomes the leader,
   * `onChange(false)` if it loses it (a lease taken over). Returns a function that resigns; no
   * callback follows a resignation.
   */
  campaign(name: string, onChange: (leader: boolean) => void): () => void;
  /** Sends `message` to the other tabs subscribed to `channel` (never back to this tab). */
  publish(channel: string, message: TabMessage): void;
  subscribe(channel: string, listener: (message: TabMessage) => void): () => void;
  /** Marks this tab present under `name` until the returned function is called. */
  register(name: string): () => void;
  /** Whether another live tab is registered under `name`. Synchronous: pagehide cannot wait. */
  othersPresent(name: string): boolean;
  /** Releases channels, listeners and timers. */
  close(): void;
}

export interface BackoffPolicy {
  /** Ceiling of the first retry; doubles with each failure. */
  baseMs: number;
  /** The ceiling never exceeds this. */
  capMs: number;
  /** A Retry-After longer than this is shortened to it (a guard against absurd headers). */
  maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ baseMs: 1_000, capMs: 16_000, maxRetryAfterMs: 120_000 });

export interface WaitingRoomClientOptions {
  roomId: string;
  /** Where the API lives, without a trailing slash: '' (same origin, the default) or an absolute URL. */
  apiBase?: string;
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

export interface EvictedEvent {
  tokenId?: string;
  /** not-found: the server no longer knows the token (silent too long, or removed) · no-credential: no ticket is stored. */
  reason: 'not-found' | 'no-credential';
}

export interface LeftEvent {
  tokenId?: string;
  /** false when another tab of this browser left the line. */
  byThisTab: boolean;
}

export interface ErrorEvent {
  error: WaitingRoomError;
  /** false: the client retries by itself in `retryInMs`; true: it gave up (state `failed`). */
  fatal: boolean;
  retryInMs?: number;
}

export interface WaitingRoomEvents {
  position: TokenView;
  admitted: TokenView;
  evicted: EvictedEvent;
  closed: { tokenId?: string };
  left: LeftEvent;
  error: ErrorEvent;
  offline: Record<string, never>;
  online: Record<string, never>;
  state: ClientState;
}

export type WaitingRoomEvent = keyof WaitingRoomEvents;

// ---------------------------------------------------------------------------------------------
// Pure helpers (exported for tests and pages)

export const PASS_COOKIE = 'wr_pass';
const TOKEN_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Delay before retry number `attempt` (1 for the first retry): "full jitter", a uniform draw
 * between 0 and min(cap, base * 2^(attempt-1)), but never sooner than the server's Retry-After.
 */
export function backoffDelay(attempt: number, random: () => number, policy: BackoffPolicy, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.floor(Math.min(Math.max(random(), 0), 1) * ceiling);
  const floor = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, policy.maxRetryAfterMs);
  return Math.max(jittered, floor);
}

/** The pass as a cookie string for the protected origin, or undefined when the view has no pass. */
export function passCookie(
  view: Pick<TokenView, 'pass' | 'passExpiresAt'>,
  now: number,
  options: { name?: string; secure?: boolean } = {},
): string | undefined {
  if (!view.pass) return undefined;
  const parts = [`${options.name ?? PASS_COOKIE}=${encodeURIComponent(view.pass)}`, 'Path=/', 'SameSite=Lax'];
  if (view.passExpiresAt !== undefined && Number.isFinite(view.passExpiresAt)) {
    // Epoch milliseconds per the API; a value in seconds is accepted too.
    const expiresAtMs = view.passExpiresAt < 1e12 ? view.passExpiresAt * 1000 : view.passExpiresAt;
    parts.push(`Max-Age=${Math.max(0, Math.floor((expiresAtMs - now) / 1000))}`);
  }
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** A cookie string that removes the pass cookie. */
export function clearedPassCookie(options: { name?: string; secure?: boolean } = {}): string {
  return [`${options.name ?? PASS_COOKIE}=`, 'Path=/', 'SameSite=Lax', 'Max-Age=0', ...(options.secure ? ['Secure'] : [])].join('; ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isTokenView(value: unknown): value is TokenView {
  return (
    isRecord(value) &&
    typeof value.roomId === 'string' &&
    typeof value.tokenId === 'string' &&
    typeof value.ticket === 'number' &&
    (value.state === 'waiting' || value.state === 'admitted') &&
    typeof value.position === 'number' &&
    typeof value.estimatedWaitSeconds === 'number' &&
    typeof value.heartbeatIntervalSeconds === 'number' &&
    (value.pass === undefined || typeof value.pass === 'string') &&
    (value.passExpiresAt === undefined || typeof value.passExpiresAt === 'number')
  );
}

function isTabMessage(value: unknown): value is TabMessage {
  if (!isRecord(value)) return false;
  switch (value.type) {
    case 'view':
      return isTokenView(value.view);
    case 'evicted':
    case 'left':
      return typeof value.tokenId === 'string';
    case 'closed':
      return value.tokenId === undefined || typeof value.tokenId === 'string';
    default:
      return false;
  }
}

/** An in-memory StorageLike: the fallback when localStorage is unavailable, and handy in tests. */
export function createMemoryStorage(): StorageLike {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, String(value)),
    removeItem: (key) => void items.delete(key),
    key: (index) => [...items.keys()][index] ?? null,
    get length() {
      return items.size;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Browser defaults, reached through structural types (no DOM lib needed)

interface EventSourceLike {
  addEventListener(type: string, listener: (event: unknown) => void): void;
  removeEventListener(type: string, listener: (event: unknown) => void): void;
}

/** The parts of the Web Locks API (`navigator.locks`) used here. */
export interface LockManagerLike {
  request<T>(
    name: string,
    options: { mode?: 'exclusive' | 'shared'; signal?: AbortSignal },
    callback: (lock: unknown) => T | Promise<T>,
  ): Promise<T>;
}

/** The parts of BroadcastChannel used here. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

interface BrowserGlobals {
  fetch?: FetchLike;
  localStorage?: StorageLike;
  navigator?: { onLine?: boolean; locks?: LockManagerLike };
  BroadcastChannel?: new (name: string) => ChannelLike;
  document?: { cookie: string };
  location?: { protocol?: string };
  crypto?: { randomUUID?: () => string };
  addEventListener?: EventSourceLike['addEventListener'];
  removeEventListener?: EventSourceLike['removeEventListener'];
  reportError?: (error: unknown) => void;
}

function browser(): BrowserGlobals {
  return globalThis as unknown as BrowserGlobals;
}

function listen(type: string, listener: (event: unknown) => void): () => void {
  const g = browser();
  if (typeof g.addEventListener !== 'function') return () => undefined;
  g.addEventListener(type, listener);
  return () => g.removeEventListener?.(type, listener);
}

/** localStorage when it works (it throws in some private modes), else memory: one tab, no resume. */
export function defaultStorage(): StorageLike {
  try {
    const storage = browser().localStorage;
    if (storage) {
      const probe = '__waiting-room-probe__';
      storage.setItem(probe, '1');
      storage.removeItem(probe);
      return storage;
    }
  } catch {
    // Storage disabled or full: fall through to memory.
  }
  return createMemoryStorage();
}

/** The global timers, looked up at each call (so test doubles installed later are honoured). */
export function defaultTimers(): Timers {
  return {
    setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
    clearTimeout: (handle) => globalThis.clearTimeout(handle as number),
  };
}

export function defaultNetwork(): NetworkStatus {
  return {
    isOnline: () => browser().navigator?.onLine ?? true,
    subscribe: (listener) => {
      const offOnline = listen('online', () => listener(true));
      const offOffline = listen('offline', () => listener(false));
      return () => {
        offOnline();
        offOffline();
      };
    },
  };
}

function persisted(event: unknown): boolean {
  return isRecord(event) && event.persisted === true;
}

export function defaultLifecycle(): PageLifecycle {
  return {
    onPageHide: (listener) => listen('pagehide', (event) => listener(persisted(event))),
    onPageShow: (listener) => listen('pageshow', (event) => listener(persisted(event))),
  };
}

function defaultFetch(): FetchLike {
  const g = browser();
  if (typeof g.fetch !== 'function') throw new Error('WaitingRoomClient needs fetch: pass options.fetch');
  return g.fetch.bind(globalThis);
}

function randomId(random: () => number): string {
  const uuid = browser().crypto?.randomUUID;
  if (typeof uuid === 'function') return uuid.call(browser().crypto);
  let id = '';
  for (let i = 0; i < 4; i++) id += Math.floor(random() * 0x100000000).toString(36);
  return id;
}

// ---------------------------------------------------------------------------------------------
// Cross-tab coordination: Web Locks + BroadcastChannel, with storage-based fallbacks

export interface TabCoordinatorOptions {
  storage: StorageLike;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
  tabId?: string;
  /** undefined: `navigator.locks` when present; null: use the storage-based fallbacks. */
  locks?: LockManagerLike | null;
  /** undefined: BroadcastChannel when present; null: send messages through storage events. */
  openChannel?: ((name: string) => ChannelLike) | null;
  /** Source of storage events from other tabs (default: the window's `storage` event). */
  onStorage?: (listener: (key: string | null, newValue: string | null) => void) => () => void;
  /** A tab that has not refreshed its presence for this long counts as closed. Default 120 s. */
  presenceTtlMs?: number;
  /** Leadership lease of the storage fallback. Default 10 s. */
  leaseMs?: number;
  /** Lifetime of a storage claim (renewed while held). Default 10 s. */
  claimTtlMs?: number;
  /** Wait between writing a storage claim and reading it back. Default 50 ms. */
  claimSettleMs?: number;
}

interface Expiring {
  owner: string;
  expiresAt: number;
}

function isExpiring(value: unknown): value is Expiring {
  return isRecord(value) && typeof value.owner === 'string' && typeof value.expiresAt === 'number';
}

/**
 * The default TabCoordinator.
 *
 * With Web Locks (all current browsers): `withLock` is `navigator.locks.request`, leadership is an
 * exclusive lock held for as long as the tab stands (the browser hands it to the next tab when
 * the leader closes or crashes), messages go over BroadcastChannel.
 *
 * Without them: `withLock` is a claim in storage (write, wait, read back, renew while held, expire
 * if its tab dies); leadership is a lease in storage renewed every third of its length; messages
 * are storage writes that other tabs see as `storage` events. Storage is not atomic across tabs,
 * so two tabs may both lead for a moment: harmless, since a heartbeat is idempotent.
 *
 * Presence (for leave-on-last-tab) is one storage key per tab with an expiry, refreshed while the
 * tab lives and removed on pagehide, so `othersPresent` answers synchronously. The expiry is
 * generous (browsers throttle timers of hidden tabs to once a minute): a crashed tab at worst
 * stops the last tab from leaving, and the server evicts the silent token 20-30 s later.
 */
export class BrowserTabCoordinator implements TabCoordinator {
  readonly tabId: string;
  private readonly storage: StorageLike;
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly locks: LockManagerLike | undefined;
  private readonly openChannel: ((name: string) => ChannelLike) | undefined;
  private readonly onStorage: TabCoordinatorOptions['onStorage'];
  private readonly presenceTtlMs: number;
  private readonly leaseMs: number;
  private readonly claimTtlMs: number;
  private readonly claimSettleMs: number;
  private readonly channels = new Map<string, { channel?: ChannelLike; listeners: Set<(message: TabMessage) => void> }>();
  private stopStorageEvents: (() => void) | undefined;
  private readonly cleanups = new Set<() => void>();

  constructor(options: TabCoordinatorOptions) {
    const g = browser();
    this.storage = options.storage;
    this.timers = options.timers ?? defaultTimers();
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.tabId = options.tabId ?? randomId(this.random);
    this.locks = options.locks === null ? undefined : (options.locks ?? g.navigator?.locks);
    const Channel = g.BroadcastChannel;
    this.openChannel =
      options.openChannel === null ? undefined : (options.openChannel ?? (typeof Channel === 'function' ? (name) => new Channel(name) : undefined));
    this.onStorage =
      options.onStorage ??
      ((listener) =>
        listen('storage', (event) => {
          if (isRecord(event)) listener(typeof event.key === 'string' ? event.key : null, typeof event.newValue === 'string' ? event.newValue : null);
        }));
    this.presenceTtlMs = options.presenceTtlMs ?? 120_000;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.claimTtlMs = options.claimTtlMs ?? 10_000;
    this.claimSettleMs = options.claimSettleMs ?? 50;
  }

  withLock<T>(name: string, task: () => Promise<T>): Promise<T> {
    if (this.locks) return this.locks.request(name, { mode: 'exclusive' }, () => task());
    return this.withStorageClaim(name, task);
  }

  campaign(name: string, onChange: (leader: boolean) => void): () => void {
    return this.locks ? this.lockCampaign(this.locks, name, onChange) : this.leaseCampaign(name, onChange);
  }

  publish(channel: string, message: TabMessage): void {
    const envelope = { from: this.tabId, nonce: `${this.now()}-${Math.floor(this.random() * 1e9)}`, message };
    if (this.openChannel) {
      this.channel(channel).channel?.postMessage(envelope);
      return;
    }
    // A storage event fires only when the value changes: the nonce sees to that.
    this.safeSet(`${channel}:msg`, JSON.stringify(envelope));
  }

  subscribe(channel: string, listener: (message: TabMessage) => void): () => void {
    const entry = this.channel(channel);
    entry.listeners.add(listener);
    if (!this.openChannel && !this.stopStorageEvents && this.onStorage) {
      this.stopStorageEvents = this.onStorage((key, newValue) => {
        if (key === null || newValue === null || !key.endsWith(':msg')) return;
        const target = this.channels.get(key.slice(0, -':msg'.length));
        if (target) this.deliver(target.listeners, safeParse(newValue));
      });
    }
    return () => entry.listeners.delete(listener);
  }

  register(name: string): () => void {
    const key = `${name}:tab:${this.tabId}`;
    let handle: unknown;
    let active = true;
    const refresh = () => {
      if (!active) return;
      this.safeSet(key, String(this.now() + this.presenceTtlMs));
      handle = this.timers.setTimeout(refresh, this.presenceTtlMs / 4);
    };
    refresh();
    const unregister = () => {
      if (!active) return;
      active = false;
      this.timers.clearTimeout(handle);
      this.safeRemove(key);
      this.cleanups.delete(unregister);
    };
    this.cleanups.add(unregister);
    return unregister;
  }

  othersPresent(name: string): boolean {
    const prefix = `${name}:tab:`;
    const own = `${prefix}${this.tabId}`;
    const now = this.now();
    const expired: string[] = [];
    let present = false;
    try {
      for (let i = 0; i < this.storage.length; i++) {
        const key = this.storage.key(i);
        if (key === null || !key.startsWith(prefix) || key === own) continue;
        const expiresAt = Number(this.storage.getItem(key));
        if (Number.isFinite(expiresAt) && expiresAt > now) present = true;
        else expired.push(key);
      }
    } catch {
      return false;
    }
    expired.forEach((key) => this.safeRemove(key));
    return present;
  }

  close(): void {
    [...this.cleanups].forEach((cleanup) => cleanup());
    this.stopStorageEvents?.();
    this.stopStorageEvents = undefined;
    for (const entry of this.channels.values()) entry.channel?.close();
    this.channels.clear();
  }

  private channel(name: string) {
    let entry = this.channels.get(name);
    if (!entry) {
      const created: { channel?: ChannelLike; listeners: Set<(message: TabMessage) => void> } = { listeners: new Set() };
      if (this.openChannel) {
        created.channel = this.openChannel(name);
        created.channel.onmessage = (event) => this.deliver(created.listeners, event.data);
      }
      this.channels.set(name, created);
      entry = created;
    }
    return entry;
  }

  private deliver(listeners: Set<(message: TabMessage) => void>, envelope: unknown): void {
    if (!isRecord(envelope) || envelope.from === this.tabId || !isTabMessage(envelope.message)) return;
    const message = envelope.message;
    [...listeners].forEach((listener) => listener(message));
  }

  private lockCampaign(locks: LockManagerLike, name: string, onChange: (leader: boolean) => void): () => void {
    const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
    let release: (() => void) | undefined;
    let resigned = false;
    locks
      .request(name, { mode: 'exclusive', ...(controller ? { signal: controller.signal } : {}) }, () => {
        if (resigned) return undefined;
        onChange(true);
        // Held until resignation; the browser releases it if the tab goes away.
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      })
      .catch(() => undefined); // AbortError: resigned before the lock was granted.
    return () => {
      resigned = true;
      controller?.abort();
      release?.();
    };
  }

  private leaseCampaign(name: string, onChange: (leader: boolean) => void): () => void {
    const key = `${name}:lease`;
    let leader = false;
    let stopped = false;
    let handle: unknown;
    const tick = () => {
      if (stopped) return;
      const lease = this.readJson(key);
      const now = this.now();
      const free = !isExpiring(lease) || lease.expiresAt <= now || lease.owner === this.tabId;
      if (free) this.safeSet(key, JSON.stringify({ owner: this.tabId, expiresAt: now + this.leaseMs }));
      const after = this.readJson(key);
      const mine = free && isExpiring(after) && after.owner === this.tabId;
      handle = this.timers.setTimeout(tick, this.leaseMs / 3);
      if (mine !== leader) {
        leader = mine;
        onChange(mine);
      }
    };
    // First tick after the caller has stored the resign function.
    void Promise.resolve().then(tick);
    const resign = () => {
      if (stopped) return;
      stopped = true;
      this.timers.clearTimeout(handle);
      const lease = this.readJson(key);
      if (isExpiring(lease) && lease.owner === this.tabId) this.safeRemove(key);
      this.cleanups.delete(resign);
    };
    this.cleanups.add(resign);
    return resign;
  }

  private async withStorageClaim<T>(name: string, task: () => Promise<T>): Promise<T> {
    const key = `${name}:claim`;
    for (;;) {
      const claim = this.readJson(key);
      const now = this.now();
      if (!isExpiring(claim) || claim.expiresAt <= now || claim.owner === this.tabId) {
        this.safeSet(key, JSON.stringify({ owner: this.tabId, expiresAt: now + this.claimTtlMs }));
        // Another tab may have written at the same moment: the last write wins, read it back.
        await this.delay(this.claimSettleMs);
        const settled = this.readJson(key);
        if (isExpiring(settled) && settled.owner === this.tabId) break;
      } else {
        await this.delay(this.claimSettleMs + Math.floor(this.random() * this.claimSettleMs * 2));
      }
    }
    let renewal: unknown;
    const renew = () => {
      this.safeSet(key, JSON.stringify({ owner: this.tabId, expiresAt: this.now() + this.claimTtlMs }));
      renewal = this.timers.setTimeout(renew, this.claimTtlMs / 2);
    };
    renewal = this.timers.setTimeout(renew, this.claimTtlMs / 2);
    try {
      return await task();
    } finally {
      this.timers.clearTimeout(renewal);
      const claim = this.readJson(key);
      if (isExpiring(claim) && claim.owner === this.tabId) this.safeRemove(key);
    }
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.setTimeout(resolve, ms));
  }

  private readJson(key: string): unknown {
    try {
      const text = this.storage.getItem(key);
      return text === null ? undefined : safeParse(text);
    } catch {
      return undefined;
    }
  }

  private safeSet(key: string, value: string): void {
    try {
      this.storage.setItem(key, value);
    } catch {
      // Quota or disabled storage: coordination degrades, the client keeps working in this tab.
    }
  }

  private safeRemove(key: string): void {
    try {
      this.storage.removeItem(key);
    } catch {
      // As above.
    }
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function createTabCoordinator(options: TabCoordinatorOptions): TabCoordinator {
  return new BrowserTabCoordinator(options);
}

// ---------------------------------------------------------------------------------------------
// The client

type Outcome<T> = { kind: 'ok'; value: T } | { kind: 'failed'; error: WaitingRoomError } | { kind: 'cancelled' };

type Acquired =
  | { kind: 'view'; view: TokenView }
  | { kind: 'missing' }
  | { kind: 'error'; error: WaitingRoomError; tokenId?: string }
  | { kind: 'cancelled' };

const LIVE_STATES: ReadonlySet<ClientState> = new Set(['waiting', 'admitted']);

/** A follower heartbeats itself after this many intervals without news from its leader. */
const FOLLOWER_PATIENCE = 3;

export class WaitingRoomClient {
  readonly roomId: string;
  readonly mode: ClientMode;

  private readonly apiBase: string;
  private readonly leaveOnPageHide: boolean;
  private readonly fetchFn: FetchLike;
  private readonly storage: StorageLike;
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly network: NetworkStatus;
  private readonly lifecycle: PageLifecycle;
  private readonly tabs: TabCoordinator;
  private readonly ownsTabs: boolean;
  private readonly setCookie: ((cookie: string) => void) | undefined;
  private readonly cookieOptions: { name: string; secure: boolean };
  private readonly backoff: BackoffPolicy;
  private readonly requestTimeoutMs: number;
  private readonly keys: { credential: string; joinLock: string; leaderLock: string; channel: string; presence: string };

  private readonly listeners = new Map<WaitingRoomEvent, Set<(payload: never) => void>>();
  private currentState: ClientState = 'idle';
  private currentView: TokenView | undefined;
  private lastViewAt = Number.NEGATIVE_INFINITY;
  private lastPass: string | undefined;
  /** Bumped to cancel everything in flight (a terminal state, a stop, a new acquisition). */
  private epoch = 0;
  private leaderRun = 0;
  private leader = false;
  private resign: (() => void) | undefined;
  private watchdog: unknown;
  private readonly sleepers = new Set<() => void>();
  private online: boolean;
  private attached = false;
  private suspended = false;
  private detachers: Array<() => void> = [];
  private unregisterPresence: (() => void) | undefined;
  private startPromise: Promise<void> | undefined;

  constructor(options: WaitingRoomClientOptions) {
    if (!options.roomId) throw new Error('WaitingRoomClient needs a roomId');
    this.roomId = options.roomId;
    this.mode = options.mode ?? 'wait';
    this.apiBase = (options.apiBase ?? '').replace(/\/+$/, '');
    this.leaveOnPageHide = options.leaveOnPageHide ?? this.mode === 'wait';
    this.fetchFn = options.fetch ?? defaultFetch();
    this.storage = options.storage ?? defaultStorage();
    this.timers = options.timers ?? defaultTimers();
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.network = options.network ?? defaultNetwork();
    this.lifecycle = options.lifecycle ?? defaultLifecycle();
    this.ownsTabs = options.tabs === undefined;
    this.tabs = options.tabs ?? createTabCoordinator({ storage: this.storage, timers: this.timers, now: this.now, random: this.random });
    const doc = browser().document;
    this.setCookie =
      options.setCookie === null
        ? undefined
        : (options.setCookie ??
          (doc
            ? (cookie: string) => {
                doc.cookie = cookie;
              }
            : undefined));
    this.cookieOptions = {
      name: options.passCookieName ?? PASS_COOKIE,
      secure: options.secureCookie ?? browser().location?.protocol === 'https:',
    };
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    const base = `${options.keyPrefix ?? 'waiting-room:v1'}:${this.roomId}`;
    this.keys = {
      credential: `${base}:credential`,
      joinLock: `${base}:join`,
      leaderLock: `${base}:leader`,
      channel: base,
      presence: base,
    };
    this.online = this.network.isOnline();
  }

  /** The client's state (see ClientState). */
  get state(): ClientState {
    return this.currentState;
  }

  /** The latest token view, from this tab's requests or from the leader tab. */
  get view(): TokenView | undefined {
    return this.currentView;
  }

  /** Whether this tab is the one that heartbeats for the browser. */
  get isLeader(): boolean {
    return this.leader;
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends WaitingRoomEvent>(event: E, listener: (payload: WaitingRoomEvents[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const entry = listener as (payload: never) => void;
    set.add(entry);
    return () => void set.delete(entry);
  }

  /**
   * Joins the line, or resumes the ticket this browser already holds. Resolves once the first
   * outcome is known (a view, or a terminal state); failures are reported as events, never thrown.
   */
  start(): Promise<void> {
    if (this.startPromise) return this.startPromise;
    this.attach();
    this.startPromise = this.acquire();
    return this.startPromise;
  }

  /**
   * After `evicted`, `closed`, `left` or `failed`: tries again, resuming a ticket another tab took
   * meanwhile or joining afresh ('keep-alive' mode never joins).
   */
  retry(): Promise<void> {
    if (!this.attached) return this.start();
    if (LIVE_STATES.has(this.currentState) || this.currentState === 'joining') return Promise.resolve();
    return this.acquire();
  }

  /**
   * Leaves the line: DELETE with keepalive (it survives the page), forgets the stored ticket and
   * tells the other tabs. The request is sent synchronously, so this works inside pagehide.
   */
  leave(): Promise<void> {
    const credential = this.readCredential();
    const tokenId = credential?.tokenId ?? this.currentView?.tokenId;
    let sent: Promise<unknown> = Promise.resolve();
    if (credential) {
      try {
        // No retry: after pagehide nothing could run it; the server evicts a silent token anyway.
        sent = this.fetchFn(this.tokenUrl(credential.tokenId), {
          method: 'DELETE',
          keepalive: true,
          headers: { Authorization: `Bearer ${credential.secret}` },
        });
      } catch (error) {
        sent = Promise.reject(error);
      }
      this.clearCredential(credential.tokenId);
    }
    this.writeCookie(clearedPassCookie(this.cookieOptions));
    this.lastPass = undefined;
    if (tokenId) this.tabs.publish(this.keys.channel, { type: 'left', tokenId });
    this.settle('left');
    this.emit('left', { ...(tokenId ? { tokenId } : {}), byThisTab: true });
    return sent.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Stops timers, listeners and leadership without leaving the line (the ticket stays stored). */
  stop(): void {
    this.cancelWork();
    this.resignLeadership();
    this.detachers.forEach((detach) => detach());
    this.detachers = [];
    this.unregisterPresence?.();
    this.unregisterPresence = undefined;
    if (this.ownsTabs) this.tabs.close();
    this.attached = false;
    this.suspended = false;
    this.startPromise = undefined;
    if (this.currentState !== 'idle') this.setState('idle');
  }

  // -------------------------------------------------------------------------------------------
  // Joining and resuming

  private attach(): void {
    if (this.attached) return;
    this.attached = true;
    this.online = this.network.isOnline();
    this.unregisterPresence = this.tabs.register(this.keys.presence);
    this.detachers.push(
      this.network.subscribe((online) => this.onNetwork(online)),
      this.lifecycle.onPageHide((persistedPage) => this.onPageHide(persistedPage)),
      this.lifecycle.onPageShow((persistedPage) => this.onPageShow(persistedPage)),
      this.tabs.subscribe(this.keys.channel, (message) => this.onTabMessage(message)),
    );
  }

  private async acquire(): Promise<void> {
    const epoch = this.cancelWork();
    this.setState('joining');
    let outcome: Acquired;
    try {
      outcome = await this.tabs.withLock(this.keys.joinLock, () => this.resumeOrJoin(epoch));
    } catch (error) {
      outcome = { kind: 'error', error: toWaitingRoomError(error) };
    }
    if (epoch !== this.epoch) return;
    switch (outcome.kind) {
      case 'cancelled':
        return;
      case 'view':
        this.applyView(outcome.view, true);
        this.activate();
        return;
      case 'missing':
        this.settle('evicted');
        this.emit('evicted', { reason: 'no-credential' });
        return;
      case 'error':
        this.onFailure(outcome.error, outcome.tokenId);
        return;
    }
  }

  /** Runs under the cross-tab join lock, so a second tab finds the first tab's ticket. */
  private async resumeOrJoin(epoch: number): Promise<Acquired> {
    const stored = this.readCredential();
    if (stored) {
      const read = await this.attempt(() => this.request('GET', this.tokenUrl(stored.tokenId), stored.secret).then(expectView), epoch);
      if (read.kind === 'cancelled') return read;
      if (read.kind === 'ok') return { kind: 'view', view: read.value };
      if (!read.error.tokenLost) return { kind: 'error', error: read.error, tokenId: stored.tokenId };
      // A stale ticket (evicted while the page was away): forget it and take a new one.
      this.clearCredential(stored.tokenId);
    }
    if (this.mode === 'keep-alive') return { kind: 'missing' };
    const joined = await this.attempt(() => this.request('POST', `${this.roomUrl()}/tokens`).then(expectJoined), epoch);
    if (joined.kind === 'cancelled') return joined;
    if (joined.kind === 'failed') return { kind: 'error', error: joined.error };
    const { secret, ...view } = joined.value;
    this.writeCredential({ roomId: this.roomId, tokenId: view.tokenId, secret });
    return { kind: 'view', view };
  }

  // -------------------------------------------------------------------------------------------
  // Heartbeats: the leader's loop, and the follower's watchdog

  /** Live: stand for leadership (once) and watch the leader. */
  private activate(): void {
    if (!LIVE_STATES.has(this.currentState)) return;
    if (!this.resign) {
      this.resign = this.tabs.campaign(this.keys.leaderLock, (leader) => this.onLeadership(leader));
    } else if (this.leader) {
      this.startLeaderLoop();
    }
    this.armWatchdog();
  }

  private onLeadership(leader: boolean): void {
    this.leader = leader;
    if (leader && LIVE_STATES.has(this.currentState)) {
      this.clearWatchdog();
      this.startLeaderLoop();
    } else {
      this.leaderRun++;
      this.armWatchdog();
    }
  }

  private startLeaderLoop(): void {
    const run = ++this.leaderRun;
    void this.leaderLoop(run, this.epoch);
  }

  private async leaderLoop(run: number, epoch: number): Promise<void> {
    const alive = () => run === this.leaderRun && epoch === this.epoch && this.leader && LIVE_STATES.has(this.currentState);
    // A new leader continues the beat of the old one: the next heartbeat is due one interval
    // after the last view this tab saw (at once if that is long ago).
    let delay = Math.max(0, this.lastViewAt + this.intervalMs() - this.now());
    while (alive()) {
      await this.sleep(delay);
      if (!alive()) return;
      await this.heartbeatOnce(epoch);
      delay = this.intervalMs();
    }
  }

  private async heartbeatOnce(epoch: number): Promise<void> {
    const credential = this.readCredential();
    if (!credential) {
      // Another tab left or lost the ticket; its message is on the way or was lost.
      this.settle('evicted');
      this.emit('evicted', { ...(this.currentView ? { tokenId: this.currentView.tokenId } : {}), reason: 'no-credential' });
      return;
    }
    const result = await this.attempt(
      () => this.request('POST', `${this.tokenUrl(credential.tokenId)}/heartbeat`, credential.secret).then(expectView),
      epoch,
    );
    if (result.kind === 'cancelled' || epoch !== this.epoch) return;
    if (result.kind === 'failed') {
      this.onFailure(result.error, credential.tokenId);
      return;
    }
    this.applyView(result.value, true);
  }

  private armWatchdog(): void {
    this.clearWatchdog();
    if (this.leader || !LIVE_STATES.has(this.currentState) || !this.attached) return;
    this.watchdog = this.timers.setTimeout(() => {
      this.watchdog = undefined;
      void this.watchdogFired();
    }, this.intervalMs() * FOLLOWER_PATIENCE);
  }

  private clearWatchdog(): void {
    if (this.watchdog !== undefined) this.timers.clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private async watchdogFired(): Promise<void> {
    if (this.leader || !LIVE_STATES.has(this.currentState)) return;
    const epoch = this.epoch;
    await this.heartbeatOnce(epoch);
    if (epoch === this.epoch && this.watchdog === undefined) this.armWatchdog();
  }

  private intervalMs(): number {
    const seconds = this.currentView?.heartbeatIntervalSeconds ?? 5;
    return Math.min(60, Math.max(1, Number.isFinite(seconds) ? seconds : 5)) * 1000;
  }

  // -------------------------------------------------------------------------------------------
  // Outcomes

  private applyView(view: TokenView, fromThisTab: boolean): void {
    // The stored credential decides which ticket this browser holds; a late answer about another
    // ticket (replaced meanwhile) is ignored.
    if (view.roomId !== this.roomId || this.readCredential()?.tokenId !== view.tokenId) return;
    this.currentView = view;
    this.lastViewAt = this.now();
    if (fromThisTab) this.tabs.publish(this.keys.channel, { type: 'view', view });
    if (view.state === 'admitted') {
      const wasAdmitted = this.currentState === 'admitted';
      this.setState('admitted');
      const newPass = view.pass !== undefined && view.pass !== this.lastPass;
      if (newPass) {
        this.lastPass = view.pass;
        const cookie = passCookie(view, this.now(), this.cookieOptions);
        if (cookie) this.writeCookie(cookie);
      }
      if (!wasAdmitted || newPass) this.emit('admitted', view);
    } else {
      this.setState('waiting');
      this.emit('position', view);
    }
    this.armWatchdog();
  }

  private onFailure(error: WaitingRoomError, tokenId: string | undefined): void {
    if (error.status === 409) {
      this.tabs.publish(this.keys.channel, { type: 'closed', ...(tokenId ? { tokenId } : {}) });
      this.settle('closed');
      this.emit('closed', tokenId ? { tokenId } : {});
    } else if (tokenId && error.tokenLost) {
      this.clearCredential(tokenId);
      this.writeCookie(clearedPassCookie(this.cookieOptions));
      this.lastPass = undefined;
      this.tabs.publish(this.keys.channel, { type: 'evicted', tokenId });
      this.settle('evicted');
      this.emit('evicted', { tokenId, reason: 'not-found' });
    } else {
      this.settle('failed');
      this.emit('error', { error, fatal: true });
    }
  }

  private onTabMessage(message: TabMessage): void {
    if (!this.attached || this.suspended) return;
    if (message.type === 'view') {
      const wasLive = LIVE_STATES.has(this.currentState);
      this.applyView(message.view, false);
      if (!wasLive && LIVE_STATES.has(this.currentState)) this.activate();
      return;
    }
    const current = this.currentView?.tokenId;
    if (!LIVE_STATES.has(this.currentState) || message.tokenId === undefined || message.tokenId !== current) return;
    switch (message.type) {
      case 'evicted':
        this.settle('evicted');
        this.emit('evicted', { tokenId: message.tokenId, reason: 'not-found' });
        return;
      case 'left':
        this.settle('left');
        this.emit('left', { tokenId: message.tokenId, byThisTab: false });
        return;
      case 'closed':
        this.settle('closed');
        this.emit('closed', { tokenId: message.tokenId });
        return;
    }
  }

  /** A terminal state: cancel work, hand leadership to nobody (no live tab needs it). */
  private settle(state: 'evicted' | 'closed' | 'left' | 'failed'): void {
    this.cancelWork();
    this.resignLeadership();
    this.setState(state);
  }

  // -------------------------------------------------------------------------------------------
  // Network, page lifecycle

  private onNetwork(online: boolean): void {
    if (online === this.online) return;
    this.online = online;
    if (!online) {
      this.emit('offline', {});
      return;
    }
    this.emit('online', {});
    // Wakes the leader's sleep and any backoff: heartbeat at once.
    this.wakeAll();
  }

  private onPageHide(persistedPage: boolean): void {
    if (!this.attached) return;
    const othersOpen = this.tabs.othersPresent(this.keys.presence);
    this.unregisterPresence?.();
    this.unregisterPresence = undefined;
    if (persistedPage) {
      // Into the back/forward cache: the page may come back, keep the ticket; another tab leads.
      this.suspended = true;
      this.cancelWork();
      this.resignLeadership();
      return;
    }
    // Only a visitor still waiting leaves: an admitted one is on the way to the origin, whose
    // pages keep the seat (keep-alive mode); leaving there would give the seat away.
    const waiting = this.currentState === 'waiting' || this.currentState === 'joining';
    if (this.leaveOnPageHide && this.mode === 'wait' && waiting && !othersOpen) void this.leave();
    this.stop();
  }

  private onPageShow(persistedPage: boolean): void {
    if (!persistedPage || !this.suspended || !this.attached) return;
    this.suspended = false;
    this.unregisterPresence = this.tabs.register(this.keys.presence);
    void this.acquire();
  }

  // -------------------------------------------------------------------------------------------
  // Retries, sleeping, cancellation

  /** Runs `operation` until it succeeds or fails for good: backoff on retryable errors, no request while offline. */
  private async attempt<T>(operation: () => Promise<T>, epoch: number): Promise<Outcome<T>> {
    let failures = 0;
    for (;;) {
      while (!this.online) {
        await this.sleep(Number.POSITIVE_INFINITY);
        if (epoch !== this.epoch) return { kind: 'cancelled' };
      }
      if (epoch !== this.epoch) return { kind: 'cancelled' };
      try {
        const value = await operation();
        return epoch === this.epoch ? { kind: 'ok', value } : { kind: 'cancelled' };
      } catch (caught) {
        if (epoch !== this.epoch) return { kind: 'cancelled' };
        const error = toWaitingRoomError(caught);
        if (!error.retryable) return { kind: 'failed', error };
        failures++;
        const retryInMs = backoffDelay(failures, this.random, this.backoff, error.retryAfterMs);
        this.emit('error', { error, fatal: false, retryInMs });
        await this.sleep(retryInMs);
        if (epoch !== this.epoch) return { kind: 'cancelled' };
      }
    }
  }

  /** Sleeps `ms` (forever if infinite); `wakeAll` ends every sleep early. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let handle: unknown;
      const wake = () => {
        this.sleepers.delete(wake);
        if (handle !== undefined) this.timers.clearTimeout(handle);
        resolve();
      };
      this.sleepers.add(wake);
      if (Number.isFinite(ms)) handle = this.timers.setTimeout(wake, ms);
    });
  }

  private wakeAll(): void {
    [...this.sleepers].forEach((wake) => wake());
  }

  /** Cancels every loop, retry and timer of the current epoch; returns the new epoch. */
  private cancelWork(): number {
    this.epoch++;
    this.leaderRun++;
    this.clearWatchdog();
    this.wakeAll();
    return this.epoch;
  }

  private resignLeadership(): void {
    const resign = this.resign;
    this.resign = undefined;
    this.leader = false;
    this.leaderRun++;
    resign?.();
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private roomUrl(): string {
    return `${this.apiBase}/rooms/${encodeURIComponent(this.roomId)}`;
  }

  private tokenUrl(tokenId: string): string {
    return `${this.roomUrl()}/tokens/${encodeURIComponent(tokenId)}`;
  }

  /** One request; resolves with the JSON body of a 2xx answer, throws WaitingRoomError otherwise. */
  private async request(method: 'GET' | 'POST', url: string, secret?: string): Promise<unknown> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (secret) headers.Authorization = `Bearer ${secret}`;
    const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
    let timedOut = false;
    const timeout = this.timers.setTimeout(() => {
      timedOut = true;
      controller?.abort();
    }, this.requestTimeoutMs);
    let response: ResponseLike;
    let text: string;
    try {
      response = await this.fetchFn(url, {
        method,
        headers,
        cache: 'no-store',
        ...(controller ? { signal: controller.signal } : {}),
      });
      text = await response.text();
    } catch {
      throw timedOut
        ? new WaitingRoomError('TIMEOUT', `No answer within ${this.requestTimeoutMs} ms`, 0)
        : new WaitingRoomError('NETWORK', 'The waiting room could not be reached', 0);
    } finally {
      this.timers.clearTimeout(timeout);
    }
    const body = text.trim() === '' ? undefined : safeParse(text);
    if (response.status >= 200 && response.status < 300) return body;
    const problem = isRecord(body) && isRecord(body.error) ? body.error : {};
    throw new WaitingRoomError(
      typeof problem.code === 'string' ? problem.code : `HTTP_${response.status}`,
      typeof problem.message === 'string' ? problem.message : `HTTP ${response.status}`,
      response.status,
      parseRetryAfter(response.headers.get('Retry-After'), this.now()),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Storage, cookies, events

  private readCredential(): Credential | undefined {
    let text: string | null;
    try {
      text = this.storage.getItem(this.keys.credential);
    } catch {
      return undefined;
    }
    if (text === null) return undefined;
    const value = safeParse(text);
    if (
      isRecord(value) &&
      value.roomId === this.roomId &&
      typeof value.tokenId === 'string' &&
      TOKEN_ID_PATTERN.test(value.tokenId) &&
      typeof value.secret === 'string' &&
      SECRET_PATTERN.test(value.secret)
    ) {
      return { roomId: value.roomId, tokenId: value.tokenId, secret: value.secret };
    }
    this.clearCredential();
    return undefined;
  }

  private writeCredential(credential: Credential): void {
    try {
      this.storage.setItem(this.keys.credential, JSON.stringify(credential));
    } catch {
      // Storage full or disabled: the ticket lives as long as this page.
    }
  }

  /** Forgets the stored ticket; with `tokenId`, only if it is still that ticket. */
  private clearCredential(tokenId?: string): void {
    try {
      if (tokenId !== undefined) {
        const text = this.storage.getItem(this.keys.credential);
        const value = text === null ? undefined : safeParse(text);
        if (isRecord(value) && value.tokenId !== tokenId) return;
      }
      this.storage.removeItem(this.keys.credential);
    } catch {
      // As above.
    }
  }

  private writeCookie(cookie: string): void {
    try {
      this.setCookie?.(cookie);
    } catch {
      // Cookies disabled: the origin will refuse the visitor; nothing better to do here.
    }
  }

  private setState(state: ClientState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit('state', state);
  }

  private emit<E extends WaitingRoomEvent>(event: E, payload: WaitingRoomEvents[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (payload: WaitingRoomEvents[E]) => void)(payload);
      } catch (error) {
        // A page's listener must not break the client.
        browser().reportError?.(error);
      }
    }
  }
}

function toWaitingRoomError(error: unknown): WaitingRoomError {
  if (error instanceof WaitingRoomError) return error;
  return new WaitingRoomError('CLIENT', error instanceof Error ? error.message : String(error), 0);
}

function badResponse(): WaitingRoomError {
  // Retryable: most likely a proxy's error page rather than the API.
  return new WaitingRoomError('BAD_RESPONSE', 'The waiting room sent an unexpected answer', 502);
}

function expectView(body: unknown): TokenView {
  if (!isTokenView(body)) throw badResponse();
  return body;
}

function expectJoined(body: unknown): TokenView & { secret: string } {
  const view = expectView(body);
  const secret = (body as { secret?: unknown }).secret;
  if (typeof secret !== 'string' || !SECRET_PATTERN.test(secret)) throw badResponse();
  return { ...view, secret };
}
