/**
 * WaitingRoomClient: the state machine that joins or resumes a ticket, keeps it (as the leader tab,
 * or as a follower whose leader went quiet: heartbeats near the front and once admitted, status
 * reads and keep-place signals far back, see zones.ts), retries with backoff, and reports each
 * outcome to the page as an event.
 *
 * A room that turns the visitor away ends in `closed`, with a reason (`closedReason`, and the
 * `closed` event's `reason`): `closed` for a closed room, `not-accepting` for a join refused by a
 * room in reject mode (409 ROOM_NOT_ACCEPTING: sold out). Only the join is refused in reject mode:
 * a visitor already in line keeps its place and is admitted as usual (its views say `mode:
 * 'reject'`, and nothing changes here).
 *
 * A room's scheduled event (room-event.ts): until its draw every ticket keeps its place far back;
 * a join in its pre-queue keeps its lottery receipt with the credential (`lotteryEntry`); once the
 * draw lands, the ticket is read again (it may have changed) before its place is worked out from
 * the status. The page reads the event as the last status said it (`roomEvent`) to count down.
 */
import {
  closedReasonOf,
  type ClientMode,
  type ClientState,
  type ClosedReason,
  type LotteryEntry,
  type PublicEvent,
  type RoomStatus,
  type TokenView,
  type WaitingRoomError,
} from './api.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { clearedPassCookie, PASS_COOKIE, passCookie } from './cookies.js';
import { credentialKeyOf, CredentialStore, DEFAULT_KEY_PREFIX } from './credentials.js';
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
import { workerTimers } from './worker-timers.js';
import type { WaitingRoomEvent, WaitingRoomEvents } from './events.js';
import { expectJoined, expectStatus, expectView, Http, toWaitingRoomError } from './http.js';
import { createTabCoordinator, type TabCoordinator, type TabMessage } from './tabs.js';
import { LineMemory } from './line-memory.js';
import { drawToReread } from './room-event.js';
import { cadenceOf, nextStep, StatusReads, urgentStep, viewFromStatus, viewIntervalMs, type StepKind, type Timeline } from './zones.js';

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

type Outcome<T> = { kind: 'ok'; value: T } | { kind: 'failed'; error: WaitingRoomError } | { kind: 'cancelled' };

/** server: an answer to this tab's request · status: worked out from a status read · tab: from another tab. */
type ViewSource = 'server' | 'status' | 'tab';

type Acquired =
  | { kind: 'view'; view: TokenView }
  | { kind: 'missing' }
  | { kind: 'error'; error: WaitingRoomError; tokenId?: string }
  | { kind: 'cancelled' };

const LIVE_STATES: ReadonlySet<ClientState> = new Set(['waiting', 'admitted']);

/** A follower steps in itself (a heartbeat, or a status read far back) after this many intervals without news from its leader. */
const FOLLOWER_PATIENCE = 3;

export class WaitingRoomClient {
  readonly roomId: string;
  readonly mode: ClientMode;

  private readonly apiBase: string;
  private readonly statusBase: string;
  private readonly leaveOnPageHide: boolean;
  private readonly fetchFn: FetchLike;
  private readonly http: Http;
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
  private readonly keys: { credential: string; line: string; joinLock: string; leaderLock: string; channel: string; presence: string };
  private readonly credentials: CredentialStore;
  private readonly memory: LineMemory;
  private readonly reads = new StatusReads();

  private readonly listeners = new Map<WaitingRoomEvent, Set<(payload: never) => void>>();
  private currentState: ClientState = 'idle';
  private lastClosedReason: ClosedReason = 'closed';
  private currentView: TokenView | undefined;
  private lastViewAt = Number.NEGATIVE_INFINITY;
  private lastPass: string | undefined;
  /** Bumped to cancel everything in flight (a terminal state, a stop, a new acquisition). */
  private epoch = 0;
  private leaderRun = 0;
  private leader = false;
  private resign: (() => void) | undefined;
  private watchdog: unknown;
  private readonly sleepers = new Set<(early: boolean) => void>();
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
    this.statusBase = options.statusBase === undefined ? this.apiBase : options.statusBase.replace(/\/+$/, '');
    this.leaveOnPageHide = options.leaveOnPageHide ?? this.mode === 'wait';
    this.fetchFn = options.fetch ?? defaultFetch();
    this.storage = options.storage ?? defaultStorage();
    // A Worker's timers keep time in a background tab (worker-timers.ts); the page's own otherwise.
    this.timers = options.timers ?? workerTimers() ?? defaultTimers();
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
    this.http = new Http({ fetch: this.fetchFn, timers: this.timers, now: this.now, timeoutMs: options.requestTimeoutMs ?? 15_000 });
    const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    const base = `${prefix}:${this.roomId}`;
    this.keys = {
      credential: credentialKeyOf(this.roomId, prefix),
      line: `${base}:line`,
      joinLock: `${base}:join`,
      leaderLock: `${base}:leader`,
      channel: base,
      presence: base,
    };
    this.credentials = new CredentialStore(this.storage, this.keys.credential, this.roomId);
    this.memory = new LineMemory(this.storage, this.keys.line);
    this.online = this.network.isOnline();
  }

  /** The client's state (see ClientState). */
  get state(): ClientState {
    return this.currentState;
  }

  /**
   * While the state is `closed`, why: `closed` (the room is closed) or `not-accepting` (it takes no
   * new visitors: reject mode). Undefined in every other state. Set before the state changes, so a
   * `state` listener can read it.
   */
  get closedReason(): ClosedReason | undefined {
    return this.currentState === 'closed' ? this.lastClosedReason : undefined;
  }

  /** The latest token view, from this tab's requests or from the leader tab. */
  get view(): TokenView | undefined {
    return this.currentView;
  }

  /**
   * The room's scheduled event as the last status read for this ticket said it (by any tab of the
   * browser): undefined without one, or before the first read. Its phase is the server's at that
   * read; a page counting down compares `start` with its own clock.
   */
  get roomEvent(): PublicEvent | undefined {
    const tokenId = this.currentView?.tokenId;
    return tokenId === undefined ? undefined : this.memory.event(tokenId);
  }

  /** The ticket's entry in an event's lottery, when its join was one: the receipt to check against the published draw. */
  get lotteryEntry(): LotteryEntry | undefined {
    const credential = this.credentials.read();
    if (!credential?.lotteryEventId) return undefined;
    return { eventId: credential.lotteryEventId, ...(credential.lotteryReceipt ? { receipt: credential.lotteryReceipt } : {}) };
  }

  /** Whether this tab is the one that keeps the ticket (heartbeats, status reads) for the browser. */
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
    const credential = this.credentials.read();
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
        this.applyView(outcome.view, 'server');
        this.readEventSoon(outcome.view.tokenId);
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
    const stored = this.credentials.read();
    if (stored) {
      const read = await this.attempt(() => this.http.request('GET', this.tokenUrl(stored.tokenId), { secret: stored.secret }).then(expectView), epoch);
      if (read.kind === 'cancelled') return read;
      if (read.kind === 'ok') return { kind: 'view', view: read.value };
      if (!read.error.tokenLost) return { kind: 'error', error: read.error, tokenId: stored.tokenId };
      // A stale ticket (evicted while the page was away): forget it and take a new one.
      this.clearCredential(stored.tokenId);
    }
    if (this.mode === 'keep-alive') return { kind: 'missing' };
    const joined = await this.attempt(() => this.http.request('POST', `${this.roomUrl()}/tokens`).then(expectJoined), epoch);
    if (joined.kind === 'cancelled') return joined;
    if (joined.kind === 'failed') return { kind: 'error', error: joined.error };
    const { secret, ...view } = joined.value;
    const { lotteryReceipt, lotteryEventId } = view;
    this.credentials.write({
      roomId: this.roomId,
      tokenId: view.tokenId,
      secret,
      // An entry in an event's lottery: its receipt is kept as long as the ticket.
      ...(lotteryEventId !== undefined ? { lotteryEventId, ...(lotteryReceipt !== undefined ? { lotteryReceipt } : {}) } : {}),
    });
    if (lotteryEventId !== undefined) this.memory.entered(view.tokenId, lotteryEventId);
    // The join is the ticket's first signal: the keep-place schedule starts from it. When a seat
    // looks free, the first heartbeat goes at once and takes it (a join admits nobody: only a
    // signal with the secret shows that the answer arrived).
    if (!view.heartbeatNow) this.memory.signalled(view.tokenId, this.now());
    return { kind: 'view', view };
  }

  // -------------------------------------------------------------------------------------------
  // Keeping the ticket: the leader's loop, and the follower's watchdog

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

  /**
   * Takes each step when it is due (zones.ts): a new leader continues where the old one was, since
   * steps are timed from the last signal any tab sent and the last view this tab saw (at once if
   * that is long ago). Woken early (back online), it takes the urgent step at once.
   */
  private async leaderLoop(run: number, epoch: number): Promise<void> {
    const alive = () => run === this.leaderRun && epoch === this.epoch && this.leader && LIVE_STATES.has(this.currentState);
    while (alive()) {
      const planned = this.timeline();
      if (!planned) return;
      const wokenEarly = await this.sleep(Math.max(0, nextStep(planned).at - this.now()));
      if (!alive()) return;
      const timeline = this.timeline();
      if (!timeline) return;
      const now = this.now();
      if (wokenEarly) {
        await this.takeStep(urgentStep(timeline, now), epoch);
        continue;
      }
      // The plan may have moved meanwhile (a view from another tab): sleep again if nothing is due.
      const due = nextStep(timeline);
      if (due.at <= now) await this.takeStep(due.kind, epoch);
    }
  }

  private timeline(): Timeline | undefined {
    const view = this.currentView;
    if (!view) return undefined;
    return { view, lastViewAt: this.lastViewAt, signalAt: this.memory.signalAt(view.tokenId), nextReadAt: this.reads.nextAt };
  }

  private takeStep(kind: StepKind, epoch: number): Promise<void> {
    return kind === 'status' ? this.readStatusOnce(epoch) : this.signalOnce(kind, epoch);
  }

  /** A heartbeat, or a keep-place signal from far back: POST with the secret, answered with a token view. */
  private async signalOnce(kind: 'heartbeat' | 'keep-place', epoch: number): Promise<void> {
    const credential = this.credentials.read();
    if (!credential) {
      // Another tab left or lost the ticket; its message is on the way or was lost.
      this.settle('evicted');
      this.emit('evicted', { ...(this.currentView ? { tokenId: this.currentView.tokenId } : {}), reason: 'no-credential' });
      return;
    }
    const result = await this.attempt(
      () => this.http.request('POST', `${this.tokenUrl(credential.tokenId)}/${kind}`, { secret: credential.secret }).then(expectView),
      epoch,
    );
    if (result.kind === 'cancelled' || epoch !== this.epoch) return;
    if (result.kind === 'failed') {
      this.onFailure(result.error, credential.tokenId);
      return;
    }
    this.memory.signalled(credential.tokenId, this.now());
    this.applyView(result.value, 'server');
  }

  /**
   * Far back: reads the room's shared status (no credential, cacheable) and works out the place.
   * A failure is retried after a backoff (the loop takes keep-place signals meanwhile); a 404 means
   * the room is gone. Once the place is in the front zone, heartbeats at once.
   */
  private async readStatusOnce(epoch: number): Promise<void> {
    const view = this.currentView;
    if (!view || view.state !== 'waiting' || !(await this.untilOnline(epoch))) return;
    let status: RoomStatus;
    try {
      status = expectStatus(await this.http.request('GET', this.statusUrl(), { cacheable: true }), this.roomId, this.reads.last);
    } catch (caught) {
      if (epoch !== this.epoch) return;
      const error = toWaitingRoomError(caught);
      if (error.status === 404) {
        this.roomClosed(view.tokenId, 'closed');
        return;
      }
      // Every other failure is retried: a read cannot do harm, and giving up would also stop the
      // keep-place signals that hold the ticket.
      const retryInMs = this.reads.failed(this.now(), (failures) => backoffDelay(failures, this.random, this.backoff, error.retryAfterMs));
      this.emit('error', { error, fatal: false, retryInMs });
      return;
    }
    if (epoch !== this.epoch || !this.currentView) return;
    this.reads.succeeded(status, view.ticket, this.now());
    this.memory.sawEvent(view.tokenId, status.event);
    const draw = drawToReread(status.event, this.memory.eventMemory(view.tokenId));
    if (draw !== undefined) {
      // The draw moved the pre-queue's tickets: this one's place follows from its new ticket only.
      if (!(await this.rereadAfterDraw(draw, epoch))) return;
    } else {
      this.applyView(viewFromStatus(this.currentView, status), 'status');
    }
    if (epoch === this.epoch && this.currentState === 'waiting' && this.currentView && cadenceOf(this.currentView) === 'heartbeat') {
      await this.signalOnce('heartbeat', epoch);
    }
  }

  /** Reads the token once after the event's draw recorded at `drawnAt` (its ticket may have changed); false when that failed or was cancelled. */
  private async rereadAfterDraw(drawnAt: number, epoch: number): Promise<boolean> {
    const credential = this.credentials.read();
    if (!credential) return false; // left or lost meanwhile: the next signal finds out
    const read = await this.attempt(() => this.http.request('GET', this.tokenUrl(credential.tokenId), { secret: credential.secret }).then(expectView), epoch);
    if (read.kind === 'cancelled' || epoch !== this.epoch) return false;
    if (read.kind === 'failed') {
      this.onFailure(read.error, credential.tokenId);
      return false;
    }
    this.memory.rereadAfterDraw(credential.tokenId, drawnAt);
    this.applyView(read.value, 'server');
    return true;
  }

  /** A ticket held by an event whose times this browser has not read yet (a join into its pre-queue): read the status at once, to count down. */
  private readEventSoon(tokenId: string): void {
    if (this.memory.eventMemory(tokenId).heldBy !== undefined && this.memory.event(tokenId) === undefined) this.reads.nextAt = this.now();
  }

  private armWatchdog(): void {
    this.clearWatchdog();
    const view = this.currentView;
    if (this.leader || !LIVE_STATES.has(this.currentState) || !this.attached || !view) return;
    this.watchdog = this.timers.setTimeout(() => {
      this.watchdog = undefined;
      void this.watchdogFired();
    }, viewIntervalMs(view) * FOLLOWER_PATIENCE);
  }

  private clearWatchdog(): void {
    if (this.watchdog !== undefined) this.timers.clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private async watchdogFired(): Promise<void> {
    const timeline = this.timeline();
    if (this.leader || !LIVE_STATES.has(this.currentState) || !timeline) return;
    const epoch = this.epoch;
    await this.takeStep(urgentStep(timeline, this.now()), epoch);
    if (epoch === this.epoch && this.watchdog === undefined) this.armWatchdog();
  }

  // -------------------------------------------------------------------------------------------
  // Outcomes

  private applyView(incoming: TokenView, source: ViewSource): void {
    // The stored credential decides which ticket this browser holds; a late answer about another
    // ticket (replaced meanwhile) is ignored.
    if (incoming.roomId !== this.roomId || this.credentials.read()?.tokenId !== incoming.tokenId) return;
    // Positions only go down: a cache, a clock or another tab may give a higher number than one shown.
    const view = this.memory.lowered(incoming);
    this.currentView = view;
    this.lastViewAt = this.now();
    // A token view times the next status read afresh; a status read has timed it already.
    if (source !== 'status') this.reads.restart();
    if (source !== 'tab') this.tabs.publish(this.keys.channel, { type: 'view', view });
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
      this.roomClosed(tokenId, closedReasonOf(error));
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

  /**
   * The room refuses the visitor (409: closed, or in reject mode for a join), or is gone (its status
   * is 404): every tab stops. No retry: the visitor's `retry()` (a button) asks again.
   */
  private roomClosed(tokenId: string | undefined, reason: ClosedReason): void {
    this.tabs.publish(this.keys.channel, { type: 'closed', ...(tokenId ? { tokenId } : {}), reason });
    this.lastClosedReason = reason;
    this.settle('closed');
    this.emit('closed', { ...(tokenId ? { tokenId } : {}), reason });
  }

  private onTabMessage(message: TabMessage): void {
    if (!this.attached || this.suspended) return;
    if (message.type === 'view') {
      const wasLive = LIVE_STATES.has(this.currentState);
      this.applyView(message.view, 'tab');
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
      case 'closed': {
        const reason = message.reason ?? 'closed';
        this.lastClosedReason = reason;
        this.settle('closed');
        this.emit('closed', { tokenId: message.tokenId, reason });
        return;
      }
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
    // Wakes the leader's sleep and any backoff: heartbeat (or read the status) at once.
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
      if (!(await this.untilOnline(epoch))) return { kind: 'cancelled' };
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

  /** Waits while the browser is offline; false if the epoch ended meanwhile. */
  private async untilOnline(epoch: number): Promise<boolean> {
    while (!this.online) {
      await this.sleep(Number.POSITIVE_INFINITY);
      if (epoch !== this.epoch) return false;
    }
    return epoch === this.epoch;
  }

  /** Sleeps `ms` (forever if infinite); `wakeAll` ends every sleep early. Resolves true when woken early. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      let handle: unknown;
      const wake = (early: boolean) => {
        this.sleepers.delete(wake);
        if (handle !== undefined) this.timers.clearTimeout(handle);
        resolve(early);
      };
      this.sleepers.add(wake);
      if (Number.isFinite(ms)) handle = this.timers.setTimeout(() => wake(false), ms);
    });
  }

  private wakeAll(): void {
    [...this.sleepers].forEach((wake) => wake(true));
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

  private statusUrl(): string {
    return `${this.statusBase}/rooms/${encodeURIComponent(this.roomId)}/status`;
  }

  // -------------------------------------------------------------------------------------------
  // Storage, cookies, events

  /** Forgets the stored ticket (and what the tabs remember about it); with `tokenId`, only if it is still that ticket. */
  private clearCredential(tokenId?: string): void {
    this.memory.forget(tokenId);
    this.credentials.clear(tokenId);
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
