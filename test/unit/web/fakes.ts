/**
 * Test doubles for the browser client: an in-memory fake of the waiting-room API (DESIGN §3), and
 * a fake browser whose tabs share storage (with storage events), Web Locks, BroadcastChannel, the
 * online status and a page lifecycle the test drives.
 */
import {
  WaitingRoomClient,
  createTabCoordinator,
  type ChannelLike,
  type FetchLike,
  type LockManagerLike,
  type NetworkStatus,
  type PageLifecycle,
  type RequestInitLike,
  type ResponseLike,
  type StorageLike,
  type TabCoordinator,
  type Timers,
  type WaitingRoomClientOptions,
  type WaitingRoomEvent,
  type WaitingRoomEvents,
} from '../../../web/src/client.js';

export const API = 'https://wr.test';
export const ROOM = 'shop';

// ---------------------------------------------------------------------------------------------
// The fake API

export interface RecordedRequest {
  method: string;
  path: string;
  /** join · read · heartbeat · leave · other */
  kind: string;
  authorization?: string;
  keepalive: boolean;
  at: number;
}

interface FakeToken {
  tokenId: string;
  roomId: string;
  ticket: number;
  secret: string;
  admitted: boolean;
}

interface FakeRoom {
  capacity: number;
  state: 'open' | 'paused' | 'closed';
  lastTicket: number;
  lastAdmitted: number;
  active: number;
}

/** A scripted answer, taking precedence over the fake's own logic. */
export type Fault = { network: true } | { status: number; code?: string; headers?: Record<string, string> };

function response(status: number, body?: unknown, headers: Record<string, string> = {}): ResponseLike {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    status,
    headers: { get: (name) => lower[name.toLowerCase()] ?? null },
    text: async () => (body === undefined ? '' : JSON.stringify(body)),
  };
}

function errorBody(code: string, message = code) {
  return { error: { code, message } };
}

export class FakeApi {
  readonly requests: RecordedRequest[] = [];
  readonly rooms = new Map<string, FakeRoom>();
  readonly tokens = new Map<string, FakeToken>();
  private readonly faults: Array<{ kind?: string; fault: Fault }> = [];
  private issued = 0;
  private passes = 0;

  constructor() {
    this.rooms.set(ROOM, { capacity: 0, state: 'open', lastTicket: 0, lastAdmitted: 0, active: 0 });
  }

  /** Answers the next matching requests (in order) with these faults instead of the real logic. */
  fail(kind: string | undefined, ...faults: Fault[]): this {
    for (const fault of faults) this.faults.push({ ...(kind ? { kind } : {}), fault });
    return this;
  }

  kinds(): string[] {
    return this.requests.map((r) => r.kind);
  }

  count(kind: string): number {
    return this.requests.filter((r) => r.kind === kind).length;
  }

  room(): FakeRoom {
    return this.rooms.get(ROOM)!;
  }

  /** Removes a token as the checker would after 20 s of silence. */
  evict(tokenId: string): void {
    const token = this.tokens.get(tokenId);
    if (token?.admitted) this.room().active--;
    this.tokens.delete(tokenId);
  }

  /** Opens seats and lets the first in line take one at its next heartbeat. */
  setCapacity(capacity: number): void {
    this.room().capacity = capacity;
  }

  readonly fetch: FetchLike = async (url: string, init: RequestInitLike) => {
    const path = url.startsWith(API) ? url.slice(API.length) : url;
    const method = init.method;
    const match = /^\/rooms\/([^/]+)\/tokens(?:\/([^/]+)(\/heartbeat)?)?$/.exec(path);
    const kind = !match
      ? 'other'
      : method === 'POST' && !match[2]
        ? 'join'
        : method === 'GET' && match[2] && !match[3]
          ? 'read'
          : method === 'POST' && match[3]
            ? 'heartbeat'
            : method === 'DELETE' && match[2] && !match[3]
              ? 'leave'
              : 'other';
    const authorization = init.headers.Authorization;
    this.requests.push({
      method,
      path,
      kind,
      keepalive: init.keepalive === true,
      at: Date.now(),
      ...(authorization ? { authorization } : {}),
    });
    const index = this.faults.findIndex((f) => f.kind === undefined || f.kind === kind);
    if (index >= 0) {
      const [{ fault }] = this.faults.splice(index, 1) as [{ fault: Fault }];
      if ('network' in fault) throw new TypeError('Failed to fetch');
      return response(fault.status, errorBody(fault.code ?? `E${fault.status}`), fault.headers);
    }
    if (!match) return response(404, errorBody('NOT_FOUND'));
    const roomId = decodeURIComponent(match[1]!);
    const room = this.rooms.get(roomId);
    if (!room) return response(404, errorBody('ROOM_NOT_FOUND'));
    if (kind === 'join') {
      if (room.state === 'closed') return response(409, errorBody('ROOM_CLOSED'));
      this.issued++;
      const token: FakeToken = {
        tokenId: `tok${String(this.issued).padStart(19, '0')}`,
        roomId,
        ticket: ++room.lastTicket,
        secret: `s${String(this.issued).padStart(42, '0')}`,
        admitted: false,
      };
      this.tokens.set(token.tokenId, token);
      this.admitIfFirst(token, room);
      return response(201, { ...this.view(token, room), secret: token.secret });
    }
    const token = this.tokens.get(decodeURIComponent(match[2]!));
    if (!token || token.roomId !== roomId) return response(404, errorBody('TOKEN_NOT_FOUND'));
    if (authorization !== `Bearer ${token.secret}`) return response(401, errorBody('INVALID_CREDENTIAL'));
    if (kind === 'read') return response(200, this.view(token, room));
    if (kind === 'heartbeat') {
      this.admitIfFirst(token, room);
      return response(200, this.view(token, room));
    }
    if (kind === 'leave') {
      this.evict(token.tokenId);
      return response(204);
    }
    return response(405, errorBody('METHOD'));
  };

  private admitIfFirst(token: FakeToken, room: FakeRoom): void {
    if (token.admitted || room.state !== 'open' || room.active >= room.capacity) return;
    if (token.ticket !== room.lastAdmitted + 1) return;
    token.admitted = true;
    room.active++;
    room.lastAdmitted = token.ticket;
  }

  private view(token: FakeToken, room: FakeRoom) {
    const position = token.admitted ? 0 : Math.max(1, token.ticket - room.lastAdmitted);
    return {
      roomId: token.roomId,
      tokenId: token.tokenId,
      ticket: token.ticket,
      state: token.admitted ? 'admitted' : 'waiting',
      position,
      estimatedWaitSeconds: position * 30,
      heartbeatIntervalSeconds: 5,
      ...(token.admitted ? { pass: `pass.${token.tokenId}.${++this.passes}`, passExpiresAt: Date.now() + 60_000 } : {}),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// The fake browser

/** Web Locks, exclusive mode only: requests queue per name, granted in order, asynchronously. */
export class FakeLocks implements LockManagerLike {
  private readonly held = new Set<string>();
  private readonly queues = new Map<string, Array<() => void>>();

  request<T>(
    name: string,
    options: { mode?: 'exclusive' | 'shared'; signal?: AbortSignal },
    callback: (lock: unknown) => T | Promise<T>,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const grant = () => {
        options.signal?.removeEventListener('abort', onAbort);
        this.held.add(name);
        void Promise.resolve()
          .then(() => callback({ name }))
          .then(resolve, reject)
          .finally(() => {
            this.held.delete(name);
            this.next(name);
          });
      };
      const onAbort = () => {
        const queue = this.queues.get(name) ?? [];
        const at = queue.indexOf(grant);
        if (at >= 0) queue.splice(at, 1);
        reject(new Error('AbortError'));
      };
      if (options.signal?.aborted) return reject(new Error('AbortError'));
      options.signal?.addEventListener('abort', onAbort);
      const queue = this.queues.get(name) ?? [];
      this.queues.set(name, queue);
      queue.push(grant);
      if (!this.held.has(name) && queue.length === 1) queueMicrotask(() => this.next(name));
    });
  }

  private next(name: string): void {
    if (this.held.has(name)) return;
    const grant = this.queues.get(name)?.shift();
    grant?.();
  }
}

type StorageListener = (key: string | null, newValue: string | null) => void;

export class FakeBrowser {
  readonly items = new Map<string, string>();
  readonly locks = new FakeLocks();
  online = true;
  private readonly storageListeners = new Map<string, Set<StorageListener>>();
  private readonly channels = new Set<{ tabId: string; name: string; channel: ChannelLike }>();
  private readonly networkListeners = new Set<(online: boolean) => void>();

  constructor(readonly api: FakeApi = new FakeApi()) {}

  setOnline(online: boolean): void {
    this.online = online;
    [...this.networkListeners].forEach((listener) => listener(online));
  }

  /** The localStorage of one tab: writes raise storage events in the other tabs. */
  storageFor(tabId: string): StorageLike {
    const notify = (key: string, value: string | null) => {
      for (const [other, listeners] of this.storageListeners) {
        if (other !== tabId) [...listeners].forEach((listener) => listener(key, value));
      }
    };
    const items = this.items;
    return {
      getItem: (key) => items.get(key) ?? null,
      setItem: (key, value) => {
        if (items.get(key) === value) return;
        items.set(key, value);
        notify(key, value);
      },
      removeItem: (key) => {
        if (!items.delete(key)) return;
        notify(key, null);
      },
      key: (index) => [...items.keys()][index] ?? null,
      get length() {
        return items.size;
      },
    };
  }

  network(): NetworkStatus {
    return {
      isOnline: () => this.online,
      subscribe: (listener) => {
        this.networkListeners.add(listener);
        return () => this.networkListeners.delete(listener);
      },
    };
  }

  onStorage(tabId: string) {
    return (listener: StorageListener) => {
      const set = this.storageListeners.get(tabId) ?? new Set();
      this.storageListeners.set(tabId, set);
      set.add(listener);
      return () => set.delete(listener);
    };
  }

  openChannel(tabId: string) {
    return (name: string): ChannelLike => {
      const entry = {
        tabId,
        name,
        channel: {
          onmessage: null as ChannelLike['onmessage'],
          postMessage: (message: unknown) => {
            const data = JSON.stringify(message); // structured clone, roughly
            for (const other of this.channels) {
              if (other !== entry && other.name === name) queueMicrotask(() => other.channel.onmessage?.({ data: JSON.parse(data) }));
            }
          },
          close: () => void this.channels.delete(entry),
        },
      };
      this.channels.add(entry);
      return entry.channel;
    };
  }

  /** Opens a tab. `webLocks: false` and `broadcastChannel: false` exercise the storage fallbacks. */
  tab(tabId: string, features: { webLocks?: boolean; broadcastChannel?: boolean } = {}): FakeTab {
    return new FakeTab(this, tabId, features.webLocks ?? true, features.broadcastChannel ?? true);
  }
}

/** Timers that look up the (faked) globals at each call. */
export const globalTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class FakeTab {
  readonly storage: StorageLike;
  readonly coordinator: TabCoordinator;
  readonly cookies: string[] = [];
  private readonly hideListeners = new Set<(persisted: boolean) => void>();
  private readonly showListeners = new Set<(persisted: boolean) => void>();

  constructor(
    readonly browser: FakeBrowser,
    readonly tabId: string,
    webLocks: boolean,
    broadcastChannel: boolean,
  ) {
    this.storage = browser.storageFor(tabId);
    this.coordinator = createTabCoordinator({
      storage: this.storage,
      timers: globalTimers,
      now: () => Date.now(),
      random: () => 0.5,
      tabId,
      locks: webLocks ? browser.locks : null,
      openChannel: broadcastChannel ? browser.openChannel(tabId) : null,
      onStorage: browser.onStorage(tabId),
    });
  }

  lifecycle(): PageLifecycle {
    return {
      onPageHide: (listener) => {
        this.hideListeners.add(listener);
        return () => this.hideListeners.delete(listener);
      },
      onPageShow: (listener) => {
        this.showListeners.add(listener);
        return () => this.showListeners.delete(listener);
      },
    };
  }

  pagehide(persisted = false): void {
    [...this.hideListeners].forEach((listener) => listener(persisted));
  }

  pageshow(persisted = false): void {
    [...this.showListeners].forEach((listener) => listener(persisted));
  }

  client(options: Partial<WaitingRoomClientOptions> = {}): RecordingClient {
    const client = new WaitingRoomClient({
      roomId: ROOM,
      apiBase: API,
      fetch: this.browser.api.fetch,
      storage: this.storage,
      timers: globalTimers,
      now: () => Date.now(),
      random: () => 0.5,
      network: this.browser.network(),
      lifecycle: this.lifecycle(),
      tabs: this.coordinator,
      setCookie: (cookie) => this.cookies.push(cookie),
      ...options,
    });
    return new RecordingClient(client);
  }
}

export interface RecordedEvent {
  event: WaitingRoomEvent;
  payload: unknown;
}

/** A client with every event it emitted, in order. */
export class RecordingClient {
  readonly events: RecordedEvent[] = [];

  constructor(readonly client: WaitingRoomClient) {
    const names: WaitingRoomEvent[] = ['position', 'admitted', 'evicted', 'closed', 'left', 'error', 'offline', 'online'];
    for (const event of names) client.on(event, (payload) => this.events.push({ event, payload }));
  }

  named<E extends WaitingRoomEvent>(event: E): Array<WaitingRoomEvents[E]> {
    return this.events.filter((e) => e.event === event).map((e) => e.payload as WaitingRoomEvents[E]);
  }

  names(): WaitingRoomEvent[] {
    return this.events.map((e) => e.event);
  }
}

/** The credential stored for the room, parsed. */
export function storedCredential(browser: FakeBrowser): { roomId: string; tokenId: string; secret: string } | undefined {
  const text = browser.items.get(`waiting-room:v1:${ROOM}:credential`);
  return text === undefined ? undefined : (JSON.parse(text) as { roomId: string; tokenId: string; secret: string });
}
