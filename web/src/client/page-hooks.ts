/**
 * The client's hooks into the page: online and offline events, pagehide and pageshow (the
 * back/forward cache), this tab's presence among the room's tabs and the messages other tabs
 * send. Attached on start, detached on stop; the client decides what each one means.
 *
 * Into the back/forward cache, the page is suspended (it keeps the ticket, another tab leads, and
 * messages from other tabs are ignored); back from it, it resumes. Hidden for good, it is gone.
 */
import type { NetworkStatus, PageLifecycle } from './environment.js';
import type { TabCoordinator, TabMessage } from './tabs.js';

export interface PageEvents {
  /** The browser went offline or came back online (reported on a change only). */
  network(online: boolean): void;
  /** Into the back/forward cache: stop working, keep the ticket. */
  suspend(): void;
  /** Back from the back/forward cache: take the ticket up again. */
  resume(): void;
  /** The page goes away for good; `othersOpen` when another tab of the room is still open. */
  hidden(othersOpen: boolean): void;
  /** A message from another tab of the room (none while suspended). */
  tabMessage(message: TabMessage): void;
}

export interface PageHooksOptions {
  network: NetworkStatus;
  lifecycle: PageLifecycle;
  tabs: TabCoordinator;
  /** Close the tab coordinator on detach (the client made it). */
  closeTabs: boolean;
  presenceKey: string;
  channel: string;
  events: PageEvents;
}

export class PageHooks {
  private isOnline: boolean;
  private isAttached = false;
  private suspended = false;
  private detachers: Array<() => void> = [];
  private unregisterPresence: (() => void) | undefined;

  constructor(private readonly options: PageHooksOptions) {
    this.isOnline = options.network.isOnline();
  }

  get online(): boolean {
    return this.isOnline;
  }

  get attached(): boolean {
    return this.isAttached;
  }

  attach(): void {
    if (this.isAttached) return;
    const { network, lifecycle, tabs } = this.options;
    this.isAttached = true;
    this.isOnline = network.isOnline();
    this.unregisterPresence = tabs.register(this.options.presenceKey);
    this.detachers.push(
      network.subscribe((online) => this.onNetwork(online)),
      lifecycle.onPageHide((persistedPage) => this.onPageHide(persistedPage)),
      lifecycle.onPageShow((persistedPage) => this.onPageShow(persistedPage)),
      tabs.subscribe(this.options.channel, (message) => this.onTabMessage(message)),
    );
  }

  detach(): void {
    this.detachers.forEach((detach) => detach());
    this.detachers = [];
    this.unregisterPresence?.();
    this.unregisterPresence = undefined;
    if (this.options.closeTabs) this.options.tabs.close();
    this.isAttached = false;
    this.suspended = false;
  }

  private onNetwork(online: boolean): void {
    if (online === this.isOnline) return;
    this.isOnline = online;
    this.options.events.network(online);
  }

  private onPageHide(persistedPage: boolean): void {
    if (!this.isAttached) return;
    const othersOpen = this.options.tabs.othersPresent(this.options.presenceKey);
    this.unregisterPresence?.();
    this.unregisterPresence = undefined;
    if (persistedPage) {
      // Into the back/forward cache: the page may come back, keep the ticket; another tab leads.
      this.suspended = true;
      this.options.events.suspend();
      return;
    }
    this.options.events.hidden(othersOpen);
  }

  private onPageShow(persistedPage: boolean): void {
    if (!persistedPage || !this.suspended || !this.isAttached) return;
    this.suspended = false;
    this.unregisterPresence = this.options.tabs.register(this.options.presenceKey);
    this.options.events.resume();
  }

  private onTabMessage(message: TabMessage): void {
    if (!this.isAttached || this.suspended) return;
    this.options.events.tabMessage(message);
  }
}
