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
 *
 * This file keeps the state machine: joining and resuming, the outcomes (views, failures, other
 * tabs' messages) and the states they lead to. Its collaborators, each given explicit state and
 * callbacks: options (the options and their defaults, keys and URLs), retries (backoff, sleeps,
 * offline waits), leadership (the leader's loop and the follower's watchdog), steps (heartbeats,
 * keep-place signals, status reads), event-reads (what a scheduled event asks of them) and
 * page-hooks (network, page lifecycle, presence and messages of the tabs).
 */
import {
  closedReasonOf,
  type ClientMode,
  type ClientState,
  type ClosedReason,
  type LotteryEntry,
  type PublicEvent,
  type TokenView,
  type WaitingRoomError,
} from './api.js';
import { clearedPassCookie, passCookie } from './cookies.js';
import { CredentialStore } from './credentials.js';
import { browser, type FetchLike, type Timers } from './environment.js';
import { EventReads } from './event-reads.js';
import type { WaitingRoomEvent, WaitingRoomEvents } from './events.js';
import { expectJoined, expectView, Http, toWaitingRoomError } from './http.js';
import { Leadership } from './leadership.js';
import { LineMemory } from './line-memory.js';
import { resolveOptions, type RoomKeys, type RoomUrls, type WaitingRoomClientOptions } from './options.js';
import { PageHooks, type PageEvents } from './page-hooks.js';
import { Retries } from './retries.js';
import { Steps, type ViewSource } from './steps.js';
import type { TabCoordinator, TabMessage } from './tabs.js';
import { StatusReads } from './zones.js';

export type { WaitingRoomClientOptions } from './options.js';

type Acquired =
  | { kind: 'view'; view: TokenView }
  | { kind: 'missing' }
  | { kind: 'error'; error: WaitingRoomError; tokenId?: string }
  | { kind: 'cancelled' };

const LIVE_STATES: ReadonlySet<ClientState> = new Set(['waiting', 'admitted']);

export class WaitingRoomClient {
  readonly roomId: string;
  readonly mode: ClientMode;

  private readonly urls: RoomUrls;
  private readonly leaveOnPageHide: boolean;
  private readonly fetchFn: FetchLike;
  private readonly http: Http;
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly tabs: TabCoordinator;
  private readonly setCookie: ((cookie: string) => void) | undefined;
  private readonly cookieOptions: { name: string; secure: boolean };
  private readonly retries: Retries;
  private readonly page: PageHooks;
  private readonly eventReads: EventReads;
  private readonly steps: Steps;
  private readonly leadership: Leadership;
  private readonly keys: RoomKeys;
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
  private startPromise: Promise<void> | undefined;

  constructor(options: WaitingRoomClientOptions) {
    const settings = resolveOptions(options);
    this.roomId = settings.roomId;
    this.mode = settings.mode;
    this.urls = settings.urls;
    this.leaveOnPageHide = settings.leaveOnPageHide;
    this.fetchFn = settings.fetch;
    this.timers = settings.timers;
    this.now = settings.now;
    this.tabs = settings.tabs;
    this.setCookie = settings.setCookie;
    this.cookieOptions = settings.cookieOptions;
    this.retries = new Retries({
      timers: this.timers,
      random: settings.random,
      backoff: settings.backoff,
      epoch: () => this.epoch,
      online: () => this.page.online,
      onRetry: (error, retryInMs) => this.emit('error', { error, fatal: false, retryInMs }),
    });
    this.http = new Http({ fetch: this.fetchFn, timers: this.timers, now: this.now, timeoutMs: settings.requestTimeoutMs });
    this.keys = settings.keys;
    this.credentials = new CredentialStore(settings.storage, this.keys.credential, this.roomId);
    this.memory = new LineMemory(settings.storage, this.keys.line);
    const requests = {
      urls: this.urls,
      http: this.http,
      credentials: this.credentials,
      memory: this.memory,
      reads: this.reads,
      retries: this.retries,
      now: this.now,
      epoch: () => this.epoch,
      applyView: (view: TokenView, source: ViewSource) => this.applyView(view, source),
      failed: (error: WaitingRoomError, tokenId: string) => this.onFailure(error, tokenId),
    };
    this.eventReads = new EventReads(requests);
    this.steps = new Steps({
      ...requests,
      roomId: this.roomId,
      events: this.eventReads,
      state: () => this.currentState,
      view: () => this.currentView,
      roomClosed: (tokenId, reason) => this.roomClosed(tokenId, reason),
      lost: () => {
        this.settle('evicted');
        this.emit('evicted', { ...(this.currentView ? { tokenId: this.currentView.tokenId } : {}), reason: 'no-credential' });
      },
      readFailed: (error, retryInMs) => this.emit('error', { error, fatal: false, retryInMs }),
    });
    this.leadership = new Leadership({
      tabs: this.tabs,
      leaderLock: this.keys.leaderLock,
      timers: this.timers,
      now: this.now,
      retries: this.retries,
      memory: this.memory,
      reads: this.reads,
      epoch: () => this.epoch,
      live: () => LIVE_STATES.has(this.currentState),
      attached: () => this.page.attached,
      view: () => this.currentView,
      lastViewAt: () => this.lastViewAt,
      takeStep: (kind, epoch) => this.steps.take(kind, epoch),
    });
    this.page = new PageHooks({
      network: settings.network,
      lifecycle: settings.lifecycle,
      tabs: this.tabs,
      closeTabs: settings.ownsTabs,
      presenceKey: this.keys.presence,
      channel: this.keys.channel,
      events: this.pageEvents(),
    });
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
    return this.leadership.isLeader;
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
    this.page.attach();
    this.startPromise = this.acquire();
    return this.startPromise;
  }

  /**
   * After `evicted`, `closed`, `left` or `failed`: tries again, resuming a ticket another tab took
   * meanwhile or joining afresh ('keep-alive' mode never joins).
   */
  retry(): Promise<void> {
    if (!this.page.attached) return this.start();
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
        sent = this.fetchFn(this.urls.token(credential.tokenId), {
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
    this.leadership.resignLeadership();
    this.page.detach();
    this.startPromise = undefined;
    if (this.currentState !== 'idle') this.setState('idle');
  }

  // -------------------------------------------------------------------------------------------
  // Joining and resuming

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
        this.eventReads.readSoon(outcome.view.tokenId);
        this.leadership.activate();
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
      const read = await this.retries.attempt(() => this.http.request('GET', this.urls.token(stored.tokenId), { secret: stored.secret }).then(expectView), epoch);
      if (read.kind === 'cancelled') return read;
      if (read.kind === 'ok') return { kind: 'view', view: read.value };
      if (!read.error.tokenLost) return { kind: 'error', error: read.error, tokenId: stored.tokenId };
      // A stale ticket (evicted while the page was away): forget it and take a new one.
      this.clearCredential(stored.tokenId);
    }
    if (this.mode === 'keep-alive') return { kind: 'missing' };
    const joined = await this.retries.attempt(() => this.http.request('POST', this.urls.tokens).then(expectJoined), epoch);
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
    this.leadership.armWatchdog();
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
    if (message.type === 'view') {
      const wasLive = LIVE_STATES.has(this.currentState);
      this.applyView(message.view, 'tab');
      if (!wasLive && LIVE_STATES.has(this.currentState)) this.leadership.activate();
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
    this.leadership.resignLeadership();
    this.setState(state);
  }

  // -------------------------------------------------------------------------------------------
  // Network, page lifecycle (page-hooks.ts)

  private pageEvents(): PageEvents {
    return {
      network: (online) => {
        if (!online) {
          this.emit('offline', {});
          return;
        }
        this.emit('online', {});
        // Wakes the leader's sleep and any backoff: heartbeat (or read the status) at once.
        this.retries.wakeAll();
      },
      suspend: () => {
        this.cancelWork();
        this.leadership.resignLeadership();
      },
      resume: () => void this.acquire(),
      hidden: (othersOpen) => {
        // Only a visitor still waiting leaves: an admitted one is on the way to the origin, whose
        // pages keep the seat (keep-alive mode); leaving there would give the seat away.
        const waiting = this.currentState === 'waiting' || this.currentState === 'joining';
        if (this.leaveOnPageHide && this.mode === 'wait' && waiting && !othersOpen) void this.leave();
        this.stop();
      },
      tabMessage: (message) => this.onTabMessage(message),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Cancellation

  /** Cancels every loop, retry and timer of the current epoch; returns the new epoch. */
  private cancelWork(): number {
    this.epoch++;
    this.leadership.cancel();
    this.retries.wakeAll();
    return this.epoch;
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
