/**
 * The waiting-room page: shows the visitor's place in line, people ahead, the estimated wait and
 * progress, announces changes to screen readers (politely, not on every heartbeat), and sends an
 * admitted visitor to the protected site with the pass in the `wr_pass` cookie (set by the client).
 *
 * A room's scheduled event (event-panel.ts): in its pre-queue a countdown to the start and a line
 * saying that places are drawn by lottery, instead of the place and the wait; while the draw is
 * made, a notice saying so; once drawn, the usual page, with a link to check the visitor's place in
 * the draw (data-lottery-url, /lottery.html by default) when its join kept a receipt.
 *
 * While the room is paused or closed the visitor keeps its place, and the page says so. The
 * operator's message to the line, when there is one, is shown as text and announced when it changes
 * (room-message.ts).
 *
 * A visitor the room turns away sees why: "This waiting room is closed", or, when the join was
 * refused by a room in reject mode (the client's closed reason `not-accepting`: sold out), "This
 * line isn't taking new visitors" with the operator's message read from the status. Neither
 * retries by itself (a "Try again" button joins once more). A visitor already in line when the
 * room switches to reject mode keeps its place and is admitted as usual: only the join is refused,
 * so its page goes on showing the line.
 *
 * Configuration comes from the page's <body data-*> and its query (waiting-room-config.ts).
 */
import { WaitingRoomClient, type ClientState, type ErrorEvent, type RoomState, type TokenView } from './client.js';
import { EventPanel } from './event-panel.js';
import { lotteryLinkOf } from './lottery-link.js';
import { RoomMessage } from './room-message.js';
import { TurnNotice } from './turn-notice.js';
import { readConfig, type PageConfig } from './waiting-room-config.js';
import { FirstPosition } from './waiting-room-progress.js';
import { EN, KO, humanizeWait, humanizeWaitRange, pickLocale, progressOf, type Locale, type Strings } from './waiting-room-text.js';

// ---------------------------------------------------------------------------------------------
// The page

/** Announce a new position at most this often (a screen reader user hears numbers, not noise). */
const ANNOUNCE_EVERY_MS = 60_000;
/** Positions always worth announcing when first reached. */
const MILESTONES = [100, 50, 20, 10, 5, 3, 2, 1];
/** A moment to read "It's your turn" before the redirect. */
const REDIRECT_DELAY_MS = 700;

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`waiting-room page: #${id} is missing`);
  return found as T;
}

class WaitingRoomPage {
  private readonly t: Strings;
  private readonly locale: Locale;
  private readonly numbers: Intl.NumberFormat;
  private readonly client: WaitingRoomClient;
  private readonly firstPosition: FirstPosition;
  private readonly ui = {
    card: element('wr-card'),
    title: element('wr-title'),
    lead: element('wr-lead'),
    messageBox: element('wr-message'),
    messageLabel: element('wr-message-label'),
    messageText: element('wr-message-text'),
    positionLabel: element('wr-position-label'),
    position: element('wr-position'),
    aheadLabel: element('wr-ahead-label'),
    ahead: element('wr-ahead'),
    waitLabel: element('wr-wait-label'),
    wait: element('wr-wait'),
    progress: element('wr-progress'),
    progressFill: element('wr-progress-fill'),
    progressLabel: element('wr-progress-label'),
    continueLink: element<HTMLAnchorElement>('wr-continue'),
    retry: element<HTMLButtonElement>('wr-retry'),
    status: element('wr-status'),
    note: element('wr-note'),
    ticket: element('wr-ticket'),
    footer: element('wr-footer'),
    leave: element<HTMLButtonElement>('wr-leave'),
    notify: element<HTMLButtonElement>('wr-notify'),
    notifyOn: element('wr-notify-on'),
    live: element('wr-live'),
  };
  private readonly eventPanel: EventPanel;
  private readonly turnNotice = new TurnNotice(this.ui.notify, this.ui.notifyOn, (message) => this.announce(message));
  private readonly roomMessage: RoomMessage;
  private lastAnnouncedAt = Number.NEGATIVE_INFINITY;
  private lastAnnouncedPosition: number | undefined;
  private redirecting = false;
  private offline = false;
  /** The room's state as the last view said: a visitor in line keeps its place while it is paused or closed. */
  private roomState: RoomState = 'open';

  constructor(private readonly config: PageConfig) {
    this.locale = pickLocale(navigator.languages?.length ? navigator.languages : [navigator.language]);
    this.t = this.locale === 'ko' ? KO : EN;
    this.numbers = new Intl.NumberFormat(this.locale);
    this.roomMessage = new RoomMessage(this.ui.messageBox, this.ui.messageText, this.t, (text) => this.announce(text));
    this.eventPanel = new EventPanel(
      { panel: element('wr-event'), countdown: element('wr-countdown'), note: element('wr-event-note'), drawLink: element<HTMLAnchorElement>('wr-draw-link') },
      this.t,
      {
        drawLinkOf: (receipt) => lotteryLinkOf({ verifierUrl: config.lotteryUrl, apiBase: config.apiBase, roomId: config.roomId, receipt, base: window.location.href }),
        // The countdown reached the start: the draw's title and notice.
        onStage: (_stage, spoken) => {
          this.renderState(this.client.state);
          if (spoken !== undefined) this.announce(spoken);
        },
      },
    );
    this.firstPosition = new FirstPosition(`waiting-room:v1:${config.roomId}:first-position`);
    this.client = new WaitingRoomClient({
      roomId: config.roomId,
      apiBase: config.apiBase,
      ...(config.statusBase !== undefined ? { statusBase: config.statusBase } : {}),
      mode: 'wait',
      leaveOnPageHide: config.leaveOnClose,
    });
  }

  start(): void {
    document.documentElement.lang = this.locale;
    document.documentElement.classList.remove('no-js');
    this.renderStaticText();
    this.renderState('joining');

    this.client.on('state', (state) => this.renderState(state));
    this.client.on('position', (view) => this.onPosition(view));
    this.client.on('admitted', () => this.onAdmitted());
    this.client.on('evicted', () => this.announce(this.t.titles.evicted));
    this.client.on('closed', (event) => {
      this.announce(event.reason === 'not-accepting' ? this.t.notAccepting.title : this.t.titles.closed);
      // A room that refuses the join gives no view: its status still carries the message ("Saturday is sold out").
      void this.roomMessage.load(this.statusUrl());
    });
    this.client.on('left', () => this.announce(this.t.titles.left));
    this.client.on('error', (event) => this.onError(event));
    this.client.on('offline', () => {
      this.offline = true;
      this.showStatus(this.t.offline, 'offline');
      this.announce(this.t.offline);
    });
    this.client.on('online', () => {
      this.offline = false;
      this.showStatus(undefined);
      this.announce(this.t.announceBackOnline);
    });

    this.ui.retry.addEventListener('click', () => {
      this.showStatus(undefined);
      void this.client.retry();
    });
    this.ui.leave.addEventListener('click', () => {
      if (window.confirm(this.t.leaveConfirm)) void this.client.leave();
    });
    void this.client.start();
  }

  private renderStaticText(): void {
    const t = this.t;
    document.title = t.pageTitle;
    this.ui.messageLabel.textContent = t.messageLabel;
    this.ui.positionLabel.textContent = t.positionLabel;
    this.ui.aheadLabel.textContent = t.aheadLabel;
    this.ui.waitLabel.textContent = t.waitLabel;
    this.ui.continueLink.textContent = t.continue;
    this.ui.continueLink.href = this.config.originUrl;
    this.ui.leave.textContent = t.leave;
    this.ui.note.textContent = t.note;
    this.ui.notify.textContent = t.notifyOffer;
    this.ui.notifyOn.textContent = t.notifyOn;
    this.ui.progressLabel.textContent = t.progress(0);
  }

  private renderState(state: ClientState): void {
    // 'idle' only follows a stop (the page is going away): keep what is shown.
    if (state === 'idle') return;
    this.ui.card.dataset.state = state;
    // Turned away by a room that takes no new visitors (reject mode), rather than a closed one.
    const notAccepting = state === 'closed' && this.client.closedReason === 'not-accepting';
    if (state === 'closed') this.ui.card.dataset.reason = notAccepting ? 'not-accepting' : 'closed';
    else delete this.ui.card.dataset.reason;
    const onHold = state === 'waiting' && this.roomState !== 'open' ? this.t.onHold[this.roomState] : undefined;
    // A line gone (turned away, evicted, left) has no event to count down; an admitted visitor keeps the draw's link.
    if (state !== 'waiting' && state !== 'joining' && state !== 'admitted') this.eventPanel.clear();
    this.ui.card.dataset.event = this.eventPanel.stage;
    const event = state === 'waiting' ? this.eventPanel.headline() : undefined;
    const shown = onHold ?? event ?? (notAccepting ? this.t.notAccepting : undefined);
    const title = shown?.title ?? this.t.titles[state];
    this.ui.title.textContent = title;
    this.ui.lead.textContent = shown?.lead ?? this.t.leads[state];
    const retry = this.t.retry[state];
    this.ui.retry.hidden = retry === undefined;
    if (retry !== undefined) this.ui.retry.textContent = retry;
    const live = state === 'waiting' || state === 'joining';
    // Move focus to the way forward only if it was on a control this state hides (the leave
    // button, the retry button): never steal it on page load.
    const active = document.activeElement;
    const hadFocus = active instanceof HTMLElement && active !== document.body && this.ui.card.contains(active);
    this.ui.continueLink.hidden = state !== 'admitted';
    this.ui.leave.hidden = state !== 'waiting';
    this.ui.note.hidden = !live;
    this.turnNotice.update(state === 'waiting');
    this.ui.ticket.hidden = !live && state !== 'admitted';
    this.ui.footer.hidden = !live && state !== 'admitted';
    if (state !== 'waiting' && state !== 'admitted') {
      document.title = title;
      if (!this.offline) this.showStatus(undefined);
    }
    if (hadFocus && retry !== undefined) this.ui.retry.focus({ preventScroll: true });
    else if (hadFocus && state === 'admitted') this.ui.continueLink.focus({ preventScroll: true });
  }

  private onPosition(view: TokenView): void {
    const t = this.t;
    const roomStateChanged = view.roomState !== this.roomState;
    this.roomState = view.roomState;
    this.ui.card.dataset.roomState = view.roomState;
    const stageBefore = this.eventPanel.stage;
    const eventSaid = this.eventPanel.show(this.client.roomEvent, this.client.lotteryEntry);
    if (roomStateChanged || this.eventPanel.stage !== stageBefore) this.renderState('waiting');
    const messageChanged = this.roomMessage.show(view.message);
    this.ui.ticket.textContent = t.ticket(this.numbers.format(view.ticket));
    if (this.eventPanel.holdsLine) {
      // Before the draw a place and a wait mean nothing: the panel counts down (and names the page)
      // instead, and the place is said afresh once drawn.
      this.lastAnnouncedPosition = undefined;
      const onHold = roomStateChanged && view.roomState !== 'open' ? `${t.onHold[view.roomState].title}. ${t.onHold[view.roomState].lead}` : undefined;
      const said = [onHold ?? eventSaid, messageChanged ? this.roomMessage.announcement() : undefined].filter((part): part is string => part !== undefined);
      if (said.length > 0) this.announce(said.join(' '));
      if (!this.offline) this.showStatus(undefined);
      return;
    }
    const first = this.firstPosition.of(view);
    const ahead = Math.max(0, view.position - 1);
    // Nobody is let in while the room is paused or closed: an estimate would be a guess.
    const wait =
      view.roomState !== 'open'
        ? t.waitOnHold
        : view.estimatedWaitHighSeconds !== undefined
          ? humanizeWaitRange(view.estimatedWaitLowSeconds ?? 0, view.estimatedWaitHighSeconds, t)
          : humanizeWait(view.estimatedWaitSeconds, t);
    const position = this.numbers.format(view.position);
    this.ui.position.textContent = position;
    // Random mode: no place, a draw among everyone waiting (the position is how many they are).
    const draw = view.mode === 'random';
    this.ui.card.dataset.mode = view.mode ?? 'fifo';
    this.ui.positionLabel.textContent = draw ? t.drawPositionLabel : t.positionLabel;
    this.ui.aheadLabel.textContent = draw ? t.drawAheadLabel : t.aheadLabel;
    this.ui.ahead.textContent = draw ? t.drawOdds(position) : ahead === 0 ? t.aheadNone : t.ahead(this.numbers.format(ahead));
    this.ui.wait.textContent = wait;
    this.setProgress(progressOf(first, view.position));
    document.title = t.pageTitleWaiting(position);
    if (!this.offline) this.showStatus(undefined);

    // Not chatty: the first view, each milestone reached, otherwise at most once a minute.
    const now = Date.now();
    const previous = this.lastAnnouncedPosition;
    const milestone = previous !== undefined && MILESTONES.some((m) => view.position <= m && previous > m);
    const due = previous === undefined || milestone || (view.position !== previous && now - this.lastAnnouncedAt >= ANNOUNCE_EVERY_MS);
    let spoken: string | undefined;
    if (roomStateChanged && view.roomState !== 'open') {
      const onHold = t.onHold[view.roomState];
      spoken = `${onHold.title}. ${onHold.lead}`;
    } else if (due || roomStateChanged) {
      this.lastAnnouncedAt = now;
      this.lastAnnouncedPosition = view.position;
      spoken = view.position === 1 ? `${t.announceNext} ${t.announceWaiting(position, wait)}` : t.announceWaiting(position, wait);
    }
    // A new message is said with whatever else is due, in one announcement (a second would replace the first).
    const said = [spoken, messageChanged ? this.roomMessage.announcement() : undefined].filter((part): part is string => part !== undefined);
    if (said.length > 0) this.announce(said.join(' '));
  }

  /** Where the room's public status is read (the page's data-status-base, else its API base). */
  private statusUrl(): string {
    const base = (this.config.statusBase || this.config.apiBase).replace(/\/+$/, '');
    return `${base}/rooms/${encodeURIComponent(this.config.roomId)}/status`;
  }

  private onAdmitted(): void {
    if (this.redirecting) return;
    this.redirecting = true;
    // The client has stored the pass in the wr_pass cookie (Path=/, SameSite=Lax, Max-Age until it expires).
    this.ui.position.textContent = this.numbers.format(0);
    this.ui.ahead.textContent = this.t.aheadNone;
    this.setProgress(1);
    document.title = this.t.pageTitleAdmitted;
    this.announce(`${this.t.titles.admitted} ${this.t.leads.admitted}`);
    this.turnNotice.announce(this.t.titles.admitted, this.t.leads.admitted);
    this.firstPosition.clear();
    window.setTimeout(() => window.location.replace(this.config.originUrl), REDIRECT_DELAY_MS);
  }

  private onError(event: ErrorEvent): void {
    if (event.fatal) {
      this.announce(this.t.titles.failed);
      return;
    }
    if (this.offline) return;
    this.showStatus(this.t.reconnecting(Math.round((event.retryInMs ?? 0) / 1000)), 'retrying');
  }

  private setProgress(fraction: number): void {
    const percent = Math.round(fraction * 100);
    this.ui.progressFill.style.width = `${Math.max(2, percent)}%`;
    this.ui.progress.setAttribute('aria-valuenow', String(percent));
    this.ui.progress.setAttribute('aria-valuetext', this.t.progress(percent));
    this.ui.progressLabel.textContent = this.t.progress(percent);
  }

  private showStatus(text: string | undefined, kind?: 'offline' | 'retrying'): void {
    this.ui.status.hidden = text === undefined;
    this.ui.status.textContent = text ?? '';
    if (kind) this.ui.status.dataset.kind = kind;
    else delete this.ui.status.dataset.kind;
  }

  private announce(text: string): void {
    // Replace rather than append: aria-atomic reads the whole message once.
    this.ui.live.textContent = '';
    window.setTimeout(() => {
      this.ui.live.textContent = text;
    }, 50);
  }
}

function main(): void {
  const page = new WaitingRoomPage(readConfig(document, window.location));
  page.start();
}

if (typeof document !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main, { once: true });
  else main();
}
