/**
 * Test doubles for the browser client: an in-memory fake of the waiting-room API (DESIGN §3: token
 * routes, keep-place, and the public room status, with its front zone and the domain's own place
 * rules), and a fake browser whose tabs share storage (with storage events), Web Locks,
 * BroadcastChannel, the online status and a page lifecycle the test drives.
 */
import type { QueueMode } from '../../../lambdas/domain/model.js';
import { placeOf } from '../../../lambdas/domain/line/positions.js';
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
  type RoomStatus,
  type Timers,
  type TokenView,
  type WaitingRoomClientOptions,
  type WaitingRoomEvent,
  type WaitingRoomEvents,
} from '../../../web/src/client.js';

export const API = 'https://wr.test';
/** Where a test may serve the room status instead (the client's statusBase). */
export const CDN = 'https://cdn.wr.test';
export const ROOM = 'shop';

// ---------------------------------------------------------------------------------------------
// The fake API

export interface RecordedRequest {
  method: string;
  /** The URL's origin, e.g. https://wr.test */
  origin: string;
  path: string;
  /** join · read · heartbeat · keep-place · leave · status · other */
  kind: string;
  authorization?: string;
  keepalive: boolean;
  /** The fetch `cache` mode, when one was given. */
  cache?: string;
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
  /**
   * fifo: in ticket order · passthrough: everyone admitted at the first heartbeat, seats not applied
   * (views say position 1, estimate 0) · reject: joins refused with 409 ROOM_NOT_ACCEPTING, the line
   * goes on as in fifo. As lambdas/domain/line/queue-modes.ts.
   */
  mode: QueueMode;
  /** The operator's message to the line, in every view and status (and in the refusal of a join in reject mode). */
  message?: string;
  lastTicket: number;
  lastAdmitted: number;
  active: number;
  /** The front zone: the waiting tickets up to lastAdmitted + frontSize. */
  frontSize: number;
  ticketsPerSecond: number;
  heartbeatIntervalSeconds: number;
  admittedHeartbeatIntervalSeconds: number;
  keepPlaceIntervalSeconds: number;
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
  /** One-off answers to the next status reads: the real status with these fields changed (a stale cache, say). */
  private readonly statusPatches: Array<Partial<RoomStatus>> = [];
  private issued = 0;
  private passes = 0;

  constructor() {
    this.rooms.set(ROOM, {
      capacity: 0,
      state: 'open',
      mode: 'fifo',
      lastTicket: 0,
      lastAdmitted: 0,
      active: 0,
      frontSize: 10,
      ticketsPerSecond: 1 / 30,
      heartbeatIntervalSeconds: 5,
      admittedHeartbeatIntervalSeconds: 5,
      keepPlaceIntervalSeconds: 300,
    });
  }

  /** Answers the next status reads (in order) with the status as it is, but with these fields. */
  serveStatus(...patches: Array<Partial<RoomStatus>>): this {
    this.statusPatches.push(...patches);
    return this;
  }

  /** Others join ahead: the next ticket issued is `count` further back. */
  crowd(count: number): void {
    this.room().lastTicket += count;
  }

  /** The line moves: tickets up to `ticket` (other visitors', with no token here) were admitted. */
  admitThrough(ticket: number): void {
    this.room().lastAdmitted = Math.max(this.room().lastAdmitted, ticket);
  }

  /** The room's public status (DESIGN §3), as the server would compute it. */
  status(room: FakeRoom = this.room(), roomId = ROOM): RoomStatus {
    let waiting = 0;
    let active = 0;
    for (const token of this.tokens.values()) {
      if (token.roomId !== roomId) continue;
      if (token.admitted) active++;
      else waiting++;
    }
    return {
      roomId,
      state: room.state,
      mode: room.mode,
      capacity: room.capacity,
      active,
      waiting,
      lastAdmittedTicket: room.lastAdmitted,
      lastTicket: room.lastTicket,
      frontZoneTicket: this.frontZoneTicket(room),
      ticketsPerSecond: room.ticketsPerSecond,
      rateMeasured: true,
      estimatedWaitSeconds: placeOf(room.lastTicket + 1, this.facts(room)).estimatedWaitSeconds,
      estimatedWaitLowSeconds: Math.floor(placeOf(room.lastTicket + 1, this.facts(room)).estimatedWaitSeconds / 2),
      estimatedWaitHighSeconds: placeOf(room.lastTicket + 1, this.facts(room)).estimatedWaitSeconds,
      estimateCalibration: { lowFactor: 0.5, highFactor: 1, samples: 0 },
      heartbeatIntervalSeconds: room.heartbeatIntervalSeconds,
      keepPlaceIntervalSeconds: room.keepPlaceIntervalSeconds,
      epoch: 0,
      ...(room.message !== undefined ? { message: room.message } : {}),
    };
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

  /** Switches the room's queueing mode, with its message to the line (undefined: none). */
  setMode(mode: QueueMode, message?: string): void {
    this.room().mode = mode;
    if (message === undefined) delete this.room().message;
    else this.room().message = message;
  }

  /** Opens seats and lets the first in line take one at its next heartbeat. */
  setCapacity(capacity: number): void {
    this.room().capacity = capacity;
  }

  readonly fetch: FetchLike = async (url: string, init: RequestInitLike) => {
    const { origin, pathname: path } = new URL(url);
    const method = init.method;
    const statusMatch = /^\/rooms\/([^/]+)\/status$/.exec(path);
    const match = /^\/rooms\/([^/]+)\/tokens(?:\/([^/]+)(\/heartbeat|\/keep-place)?)?$/.exec(path);
    const kind = statusMatch
      ? method === 'GET'
        ? 'status'
        : 'other'
      : !match
        ? 'other'
        : method === 'POST' && !match[2]
          ? 'join'
          : method === 'GET' && match[2] && !match[3]
            ? 'read'
            : method === 'POST' && match[3]
              ? match[3].slice(1)
              : method === 'DELETE' && match[2] && !match[3]
                ? 'leave'
                : 'other';
    const authorization = init.headers.Authorization;
    this.requests.push({
      method,
      origin,
      path,
      kind,
      keepalive: init.keepalive === true,
      at: Date.now(),
      ...(authorization ? { authorization } : {}),
      ...(init.cache ? { cache: init.cache } : {}),
    });
    const index = this.faults.findIndex((f) => f.kind === undefined || f.kind === kind);
    if (index >= 0) {
      const [{ fault }] = this.faults.splice(index, 1) as [{ fault: Fault }];
      if ('network' in fault) throw new TypeError('Failed to fetch');
      return response(fault.status, errorBody(fault.code ?? `E${fault.status}`), fault.headers);
    }
    if (statusMatch && kind === 'status') {
      const roomId = decodeURIComponent(statusMatch[1]!);
      const room = this.rooms.get(roomId);
      if (!room) return response(404, errorBody('ROOM_NOT_FOUND'));
      return response(200, { ...this.status(room, roomId), ...this.statusPatches.shift() }, { 'Cache-Control': 'public, max-age=1' });
    }
    if (!match) return response(404, errorBody('NOT_FOUND'));
    const roomId = decodeURIComponent(match[1]!);
    const room = this.rooms.get(roomId);
    if (!room) return response(404, errorBody('ROOM_NOT_FOUND'));
    if (kind === 'join') {
      // As the domain's join: a closed room first, then a room in reject mode (no ticket either way).
      if (room.state === 'closed') return response(409, errorBody('ROOM_CLOSED', `Room ${roomId} is closed and takes no new visitors`));
      if (room.mode === 'reject') {
        const why = room.message ? `: ${room.message}` : '';
        return response(409, errorBody('ROOM_NOT_ACCEPTING', `Room ${roomId} takes no new visitors${why}`));
      }
      this.issued++;
      const token: FakeToken = {
        tokenId: `tok${String(this.issued).padStart(19, '0')}`,
        roomId,
        ticket: ++room.lastTicket,
        secret: `s${String(this.issued).padStart(42, '0')}`,
        admitted: false,
      };
      this.tokens.set(token.tokenId, token);
      // As the server: a join admits nobody, and says to heartbeat at once when a seat looks free.
      const seatFree = room.state === 'open' && (room.mode === 'passthrough' || (room.active < room.capacity && token.ticket === room.lastAdmitted + 1));
      return response(201, { ...this.view(token, room), ...(seatFree ? { heartbeatNow: true } : {}), secret: token.secret });
    }
    const token = this.tokens.get(decodeURIComponent(match[2]!));
    if (!token || token.roomId !== roomId) return response(404, errorBody('TOKEN_NOT_FOUND'));
    if (authorization !== `Bearer ${token.secret}`) return response(401, errorBody('INVALID_CREDENTIAL'));
    if (kind === 'read') return response(200, this.view(token, room));
    if (kind === 'heartbeat') {
      this.admitIfFirst(token, room);
      return response(200, this.view(token, room));
    }
    if (kind === 'keep-place') return response(200, this.view(token, room));
    if (kind === 'leave') {
      this.evict(token.tokenId);
      return response(204);
    }
    return response(405, errorBody('METHOD'));
  };

  private admitIfFirst(token: FakeToken, room: FakeRoom): void {
    if (token.admitted || room.state !== 'open') return;
    if (room.mode !== 'passthrough' && (room.active >= room.capacity || token.ticket > room.lastAdmitted + 1)) return;
    token.admitted = true;
    room.active++;
    room.lastAdmitted = Math.max(room.lastAdmitted, token.ticket);
  }

  /** The last ticket of the front zone: everyone's in passthrough. */
  private frontZoneTicket(room: FakeRoom): number {
    const front = room.lastAdmitted + room.frontSize;
    return room.mode === 'passthrough' ? Math.max(front, room.lastTicket) : front;
  }

  private facts(room: FakeRoom) {
    return {
      state: room.state,
      lastAdmittedTicket: room.lastAdmitted,
      frontZoneTicket: this.frontZoneTicket(room),
      ticketsPerSecond: room.ticketsPerSecond,
      rateMeasured: true,
    };
  }

  private view(token: FakeToken, room: FakeRoom): TokenView {
    const place = token.admitted
      ? { position: 0, estimatedWaitSeconds: 0, zone: 'front' as const }
      : room.mode === 'passthrough'
        ? { position: 1, estimatedWaitSeconds: 0, zone: 'front' as const }
        : placeOf(token.ticket, this.facts(room));
    return {
      roomId: token.roomId,
      tokenId: token.tokenId,
      ticket: token.ticket,
      state: token.admitted ? 'admitted' : 'waiting',
      ...place,
      estimatedWaitLowSeconds: Math.floor(place.estimatedWaitSeconds / 2),
      estimatedWaitHighSeconds: place.estimatedWaitSeconds,
      roomState: room.state,
      mode: room.mode,
      heartbeatIntervalSeconds: token.admitted ? room.admittedHeartbeatIntervalSeconds : room.heartbeatIntervalSeconds,
      keepPlaceIntervalSeconds: room.keepPlaceIntervalSeconds,
      ...(token.admitted ? { pass: `pass.${token.tokenId}.${++this.passes}`, passExpiresAt: Date.now() + 60_000 } : {}),
      ...(room.message !== undefined ? { message: room.message } : {}),
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
