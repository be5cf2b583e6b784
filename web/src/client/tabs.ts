/**
 * Cross-tab coordination: Web Locks + BroadcastChannel, with storage-based fallbacks. The tabs of
 * one browser share one ticket and one heartbeat stream (see BrowserTabCoordinator).
 */
import { isTokenView, type ClosedReason, type TokenView } from './api.js';
import { browser, defaultTimers, listen, type ChannelLike, type LockManagerLike, type StorageLike, type Timers } from './environment.js';
import { isRecord, safeParse } from './json.js';

/** Messages the tabs of one room exchange. */
export type TabMessage =
  | { type: 'view'; view: TokenView }
  | { type: 'evicted'; tokenId: string }
  | { type: 'left'; tokenId: string }
  | { type: 'closed'; tokenId?: string; reason?: ClosedReason };

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

function isTabMessage(value: unknown): value is TabMessage {
  if (!isRecord(value)) return false;
  switch (value.type) {
    case 'view':
      return isTokenView(value.view);
    case 'evicted':
    case 'left':
      return typeof value.tokenId === 'string';
    case 'closed':
      // (A tab of an older page sends no reason: the room is closed.)
      return (
        (value.tokenId === undefined || typeof value.tokenId === 'string') &&
        (value.reason === undefined || value.reason === 'closed' || value.reason === 'not-accepting')
      );
    default:
      return false;
  }
}

/** A tab id: the browser's UUID where it has one, else random digits. */
function randomId(random: () => number): string {
  const uuid = browser().crypto?.randomUUID;
  if (typeof uuid === 'function') return uuid.call(browser().crypto);
  let id = '';
  for (let i = 0; i < 4; i++) id += Math.floor(random() * 0x100000000).toString(36);
  return id;
}

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
 * stops the last tab from leaving, and the server removes the silent token once its timeout passes.
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

export function createTabCoordinator(options: TabCoordinatorOptions): TabCoordinator {
  return new BrowserTabCoordinator(options);
}
