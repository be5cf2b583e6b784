/**
 * A visitor following the waiting page's protocol (DESIGN §2 step 2, the issue's "Liveness where
 * it matters"), written against an API and a scheduler so that the same script runs in the scale
 * model (simulated time, modelled API) and on the local runtime (real timers, real HTTP).
 *
 * - join → token view. Admitted: heartbeat every view.heartbeatIntervalSeconds for the visit,
 *   then leave (DELETE) or, if the plan says so, go silent.
 * - Waiting in the front zone: heartbeat every view.heartbeatIntervalSeconds (the first one at
 *   once when the join's answer says heartbeatNow: a seat looks free, and a join admits nobody).
 * - Waiting far back: read the shared status every farPollDelaySeconds (the first poll after a
 *   token view at its estimate / 10 in whole seconds, within 2-60 s: firstReadDelayMs), work out the place with placeOf and
 *   heartbeat at once when it says 'front'; send a keep-place signal on the domain's per-ticket
 *   grid of view.keepPlaceIntervalSeconds (nextKeepPlaceAt: at most an interval after the last
 *   signal), as web/src/client/zones.ts does.
 * - Any answer with zone 'far' sends it back to far mode.
 * - An abandoning visitor just stops, at its planned time, if it is still waiting.
 */
import { farPollDelaySeconds, nextKeepPlaceAt, placeOf, type RoomStatus, type TokenView } from '../../lambdas/domain/index.js';
import { firstReadDelayMs } from '../../web/src/client/zones.js';

export interface JoinAnswer extends TokenView {
  secret: string;
}

export interface VisitorApi {
  join(roomId: string): Promise<JoinAnswer>;
  heartbeat(roomId: string, tokenId: string, secret: string): Promise<TokenView>;
  keepPlace(roomId: string, tokenId: string, secret: string): Promise<TokenView>;
  leave(roomId: string, tokenId: string, secret: string): Promise<void>;
  /** The shared room status, as the page gets it (through the CDN). */
  status(roomId: string): Promise<RoomStatus>;
}

/** An HTTP error answer. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code = '',
  ) {
    super(`HTTP ${status}${code ? ` ${code}` : ''}`);
  }
}

export interface Scheduler {
  now(): number;
  after(ms: number, task: () => void | Promise<void>): void;
}

export interface VisitorPlan {
  /** How long an admitted visitor stays. */
  visitMs: number;
  /** Stops sending anything this long after joining, if still waiting then. */
  abandonAfterMs?: number;
  /** At the end of the visit, goes silent instead of leaving. */
  endsSilently: boolean;
}

export interface VisitorObserver {
  admitted?(visitor: Visitor, at: number): void;
  /** The visit ended silently; the seat should be freed heartbeatTimeout after `lastHeartbeatAt`. */
  wentSilent?(visitor: Visitor, lastHeartbeatAt: number): void;
  /** The token was gone (404/410) while the visitor was still following the protocol. */
  lost?(visitor: Visitor, at: number): void;
  failed?(visitor: Visitor, error: unknown): void;
}

export type VisitorMode = 'new' | 'far' | 'front' | 'admitted' | 'done';

const RETRY_MS = 1_000;

type Source = 'join' | 'heartbeat' | 'keep-place';

export class Visitor {
  mode: VisitorMode = 'new';
  tokenId = '';
  ticket = 0;
  joinedAt = 0;
  lastSignalAt = 0;
  lastHeartbeatAt = 0;
  private secret = '';
  private heartbeatMs = 5_000;
  private keepPlaceMs = 300_000;
  private nextPollAt = 0;
  private nextKeepAt = 0;
  private visitEndsAt = 0;
  /** Bumped by every scheduling: an older pending action finds it changed and does nothing. */
  private generation = 0;

  constructor(
    readonly roomId: string,
    private readonly plan: VisitorPlan,
    private readonly api: VisitorApi,
    private readonly scheduler: Scheduler,
    private readonly observer: VisitorObserver = {},
  ) {}

  async start(): Promise<void> {
    const at = this.scheduler.now();
    try {
      const { secret, ...view } = await this.api.join(this.roomId);
      this.secret = secret;
      this.tokenId = view.tokenId;
      this.ticket = view.ticket;
      this.joinedAt = at;
      this.lastSignalAt = at;
      this.lastHeartbeatAt = at;
      await this.follow(view, 'join');
    } catch (error) {
      this.mode = 'done';
      this.observer.failed?.(this, error);
    }
  }

  private get now(): number {
    return this.scheduler.now();
  }

  private schedule(delayMs: number, action: () => void | Promise<void>): void {
    const generation = ++this.generation;
    this.scheduler.after(Math.max(0, delayMs), () => (generation === this.generation ? action() : undefined));
  }

  /** True (and stops for good) when the plan says this waiting visitor gives up by now. */
  private abandons(): boolean {
    if (this.mode === 'done') return true;
    const { abandonAfterMs } = this.plan;
    if (this.mode !== 'admitted' && abandonAfterMs !== undefined && this.now - this.joinedAt >= abandonAfterMs) {
      this.mode = 'done';
      return true;
    }
    return false;
  }

  private follow(view: TokenView, source: Source): void | Promise<void> {
    this.heartbeatMs = view.heartbeatIntervalSeconds * 1000;
    this.keepPlaceMs = view.keepPlaceIntervalSeconds * 1000;
    if (view.state === 'admitted') {
      if (this.mode !== 'admitted') {
        this.mode = 'admitted';
        this.visitEndsAt = this.now + this.plan.visitMs;
        this.observer.admitted?.(this, this.now);
      }
      this.schedule(Math.min(this.heartbeatMs, this.visitEndsAt - this.now), () => (this.now >= this.visitEndsAt ? this.endVisit() : this.heartbeat()));
      return;
    }
    if (view.zone === 'front') {
      this.mode = 'front';
      // From far back, or told by the join that a seat looks free (a join admits nobody): at once.
      if (source === 'keep-place' || (source === 'join' && view.heartbeatNow)) return this.heartbeat();
      this.schedule(this.heartbeatMs, () => this.heartbeat());
      return;
    }
    this.mode = 'far';
    this.nextPollAt = this.now + firstReadDelayMs(view);
    this.nextKeepAt = nextKeepPlaceAt(this.ticket, this.lastSignalAt, this.keepPlaceMs / 1000);
    this.scheduleFar();
  }

  private scheduleFar(): void {
    const next = Math.min(this.nextPollAt, this.nextKeepAt);
    this.schedule(next - this.now, () => (this.now >= this.nextKeepAt ? this.keepPlace() : this.poll()));
  }

  private heartbeat(): Promise<void> {
    return this.signal('heartbeat');
  }

  private keepPlace(): Promise<void> {
    return this.signal('keep-place');
  }

  /** Sends a signal and follows its answer; a heartbeat also counts as the last heartbeat (for a seat gone silent). */
  private async signal(kind: 'heartbeat' | 'keep-place'): Promise<void> {
    if (this.abandons()) return;
    const at = this.now;
    try {
      const view = kind === 'heartbeat' ? await this.api.heartbeat(this.roomId, this.tokenId, this.secret) : await this.api.keepPlace(this.roomId, this.tokenId, this.secret);
      this.lastSignalAt = at;
      if (kind === 'heartbeat') this.lastHeartbeatAt = at;
      await this.follow(view, kind);
    } catch (error) {
      this.failed(error, () => this.signal(kind));
    }
  }

  private async poll(): Promise<void> {
    if (this.abandons()) return;
    try {
      const status = await this.api.status(this.roomId);
      if (placeOf(this.ticket, status).zone === 'front') {
        this.mode = 'front';
        await this.heartbeat();
        return;
      }
      this.nextPollAt = this.now + farPollDelaySeconds(this.ticket, status) * 1000;
      this.scheduleFar();
    } catch (error) {
      this.failed(error, () => this.poll());
    }
  }

  private async endVisit(): Promise<void> {
    if (this.plan.endsSilently) {
      this.mode = 'done';
      this.observer.wentSilent?.(this, this.lastHeartbeatAt);
      return;
    }
    this.mode = 'done';
    try {
      await this.api.leave(this.roomId, this.tokenId, this.secret);
    } catch (error) {
      if (!(error instanceof ApiError && (error.status === 404 || error.status === 410))) this.observer.failed?.(this, error);
    }
  }

  /** Gone: stop. Anything else (throttled, a server error): try again shortly. */
  private failed(error: unknown, retry: () => Promise<void>): void {
    if (error instanceof ApiError && (error.status === 404 || error.status === 410)) {
      this.mode = 'done';
      this.observer.lost?.(this, this.now);
      return;
    }
    this.observer.failed?.(this, error);
    this.schedule(RETRY_MS, retry);
  }
}
