/**
 * Keeping the ticket: the leader's loop, and the follower's watchdog. The tabs of a browser elect
 * a leader (tabs.ts); only the leader takes the steps (heartbeats, keep-place signals, status
 * reads: zones.ts says which is due and when). A follower that hears nothing for
 * `FOLLOWER_PATIENCE` intervals (its leader frozen or throttled) takes one step itself:
 * heartbeats are idempotent on the server, so a duplicate is harmless.
 *
 * The client sends the requests (`takeStep`) and bumps its epoch to cancel; this module only
 * times them.
 */
import type { TokenView } from './api.js';
import type { Timers } from './environment.js';
import type { LineMemory } from './line-memory.js';
import type { Retries } from './retries.js';
import type { TabCoordinator } from './tabs.js';
import { nextStep, urgentStep, viewIntervalMs, type StatusReads, type StepKind, type Timeline } from './zones.js';

/** A follower steps in itself (a heartbeat, or a status read far back) after this many intervals without news from its leader. */
const FOLLOWER_PATIENCE = 3;

export interface LeadershipOptions {
  tabs: TabCoordinator;
  leaderLock: string;
  timers: Timers;
  now: () => number;
  retries: Retries;
  memory: LineMemory;
  reads: StatusReads;
  /** The client's epoch: bumped to cancel everything in flight. */
  epoch: () => number;
  /** Whether the client holds a live ticket (waiting or admitted). */
  live: () => boolean;
  /** Whether the client is attached to the page (started, not stopped). */
  attached: () => boolean;
  /** The latest token view, and when this tab saw it. */
  view: () => TokenView | undefined;
  lastViewAt: () => number;
  /** Sends one step's request (or reads the status) and applies its outcome. */
  takeStep: (kind: StepKind, epoch: number) => Promise<void>;
}

export class Leadership {
  private leaderRun = 0;
  private leader = false;
  private resign: (() => void) | undefined;
  private watchdog: unknown;

  constructor(private readonly options: LeadershipOptions) {}

  /** Whether this tab is the one that keeps the ticket for the browser. */
  get isLeader(): boolean {
    return this.leader;
  }

  /** Live: stand for leadership (once) and watch the leader. */
  activate(): void {
    if (!this.options.live()) return;
    if (!this.resign) {
      this.resign = this.options.tabs.campaign(this.options.leaderLock, (leader) => this.onLeadership(leader));
    } else if (this.leader) {
      this.startLeaderLoop();
    }
    this.armWatchdog();
  }

  /** Ends the leader's loop (a new epoch starts) and the follower's watchdog. */
  cancel(): void {
    this.leaderRun++;
    this.clearWatchdog();
  }

  resignLeadership(): void {
    const resign = this.resign;
    this.resign = undefined;
    this.leader = false;
    this.leaderRun++;
    resign?.();
  }

  /** A follower waits `FOLLOWER_PATIENCE` intervals of the latest view for news from its leader, then steps in. */
  armWatchdog(): void {
    this.clearWatchdog();
    const view = this.options.view();
    if (this.leader || !this.options.live() || !this.options.attached() || !view) return;
    this.watchdog = this.options.timers.setTimeout(() => {
      this.watchdog = undefined;
      void this.watchdogFired();
    }, viewIntervalMs(view) * FOLLOWER_PATIENCE);
  }

  private clearWatchdog(): void {
    if (this.watchdog !== undefined) this.options.timers.clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private async watchdogFired(): Promise<void> {
    const timeline = this.timeline();
    if (this.leader || !this.options.live() || !timeline) return;
    const epoch = this.options.epoch();
    await this.options.takeStep(urgentStep(timeline, this.options.now()), epoch);
    if (epoch === this.options.epoch() && this.watchdog === undefined) this.armWatchdog();
  }

  private onLeadership(leader: boolean): void {
    this.leader = leader;
    if (leader && this.options.live()) {
      this.clearWatchdog();
      this.startLeaderLoop();
    } else {
      this.leaderRun++;
      this.armWatchdog();
    }
  }

  private startLeaderLoop(): void {
    const run = ++this.leaderRun;
    void this.leaderLoop(run, this.options.epoch());
  }

  /**
   * Takes each step when it is due (zones.ts): a new leader continues where the old one was, since
   * steps are timed from the last signal any tab sent and the last view this tab saw (at once if
   * that is long ago). Woken early (back online), it takes the urgent step at once.
   */
  private async leaderLoop(run: number, epoch: number): Promise<void> {
    const { now, retries, takeStep } = this.options;
    const alive = () => run === this.leaderRun && epoch === this.options.epoch() && this.leader && this.options.live();
    while (alive()) {
      const planned = this.timeline();
      if (!planned) return;
      const wokenEarly = await retries.sleep(Math.max(0, nextStep(planned).at - now()));
      if (!alive()) return;
      const timeline = this.timeline();
      if (!timeline) return;
      const at = now();
      if (wokenEarly) {
        await takeStep(urgentStep(timeline, at), epoch);
        continue;
      }
      // The plan may have moved meanwhile (a view from another tab): sleep again if nothing is due.
      const due = nextStep(timeline);
      if (due.at <= at) await takeStep(due.kind, epoch);
    }
  }

  private timeline(): Timeline | undefined {
    const view = this.options.view();
    if (!view) return undefined;
    return { view, lastViewAt: this.options.lastViewAt(), signalAt: this.options.memory.signalAt(view.tokenId), nextReadAt: this.options.reads.nextAt };
  }
}
