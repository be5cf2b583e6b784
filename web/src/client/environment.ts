/**
 * The browser APIs the client uses, as small structural interfaces so every one can be injected
 * (and the state machine run in Node under fake timers), and their browser defaults, reached
 * through globalThis (no DOM lib needed).
 */
import { isRecord } from './json.js';

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

export interface BrowserGlobals {
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

export function browser(): BrowserGlobals {
  return globalThis as unknown as BrowserGlobals;
}

export function listen(type: string, listener: (event: unknown) => void): () => void {
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

export function defaultFetch(): FetchLike {
  const g = browser();
  if (typeof g.fetch !== 'function') throw new Error('WaitingRoomClient needs fetch: pass options.fetch');
  return g.fetch.bind(globalThis);
}
