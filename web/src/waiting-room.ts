/**
 * The waiting-room page: shows the visitor's place in line, people ahead, the estimated wait and
 * progress, announces changes to screen readers (politely, not on every heartbeat), and sends an
 * admitted visitor to the protected site with the pass in the `wr_pass` cookie (set by the client).
 *
 * While the room is paused or closed the visitor keeps its place, and the page says so.
 *
 * Configuration comes from the page: <body data-room-id data-origin-url data-api-base
 * data-status-base data-leave-on-close>; a `?room=` query parameter overrides the room. The origin
 * URL is never read from the query string (that would make the page an open redirect).
 *
 * data-leave-on-close is off by default: pagehide cannot tell a reload from a closed tab, so
 * leaving on pagehide makes a single-tab reload give up its place (DELETE, then a fresh join at the
 * back of the line). A waiting visitor holds no seat, and a closed tab's ticket is removed anyway
 * once it falls silent: about 20 s after its last heartbeat near the front, after the keep-place
 * timeout far back.
 */
import { WaitingRoomClient, type ClientState, type ErrorEvent, type RoomState, type TokenView } from './client.js';

// ---------------------------------------------------------------------------------------------
// Text, in English and Korean

type Locale = 'en' | 'ko';

interface Strings {
  pageTitle: string;
  pageTitleWaiting: (position: string) => string;
  pageTitleAdmitted: string;
  titles: Record<ClientState, string>;
  leads: Record<ClientState, string>;
  /** Title and lead of a visitor in line while the room is paused or closed (the place is kept). */
  onHold: Record<Exclude<RoomState, 'open'>, { title: string; lead: string }>;
  positionLabel: string;
  aheadLabel: string;
  waitLabel: string;
  /** The estimate while nobody is let in. */
  waitOnHold: string;
  aheadNone: string;
  ahead: (count: string) => string;
  progress: (percent: number) => string;
  continue: string;
  retry: Partial<Record<ClientState, string>>;
  leave: string;
  leaveConfirm: string;
  note: string;
  ticket: (ticket: string) => string;
  offline: string;
  reconnecting: (seconds: number) => string;
  waitLessThanMinute: string;
  waitMinutes: (minutes: number) => string;
  waitHours: (hours: number, minutes: number) => string;
  announceWaiting: (position: string, wait: string) => string;
  announceNext: string;
  announceBackOnline: string;
}

const EN: Strings = {
  pageTitle: 'Waiting room',
  pageTitleWaiting: (position) => `(${position}) Waiting room`,
  pageTitleAdmitted: 'It’s your turn!',
  titles: {
    idle: 'Waiting room',
    joining: 'Getting your place in line…',
    waiting: 'You’re in line',
    admitted: 'It’s your turn!',
    evicted: 'Your place in line expired',
    closed: 'This waiting room is closed',
    left: 'You left the line',
    failed: 'Something went wrong',
  },
  leads: {
    idle: '',
    joining: 'One moment, please.',
    waiting: 'The site is busy right now. Keep this page open and we’ll take you there as soon as it’s your turn.',
    admitted: 'Taking you to the site now…',
    evicted: 'We didn’t hear from this page for a while, so your place was released. You can join the line again.',
    closed: 'The site isn’t letting anyone in from this line right now. Please try again later.',
    left: 'Changed your mind? You can join again; you’ll get a new place at the end of the line.',
    failed: 'We couldn’t reach the waiting room. Check your connection and try again.',
  },
  onHold: {
    paused: {
      title: 'Entry is paused',
      lead: 'The site has paused letting people in for a moment. Your place in line is kept: keep this page open and we’ll take you there when it’s your turn.',
    },
    closed: {
      title: 'The waiting room is closed for now',
      lead: 'Nobody is being let in right now. You keep your place in line should it reopen: keep this page open.',
    },
  },
  positionLabel: 'Your place in line',
  aheadLabel: 'People ahead of you',
  waitLabel: 'Estimated wait',
  waitOnHold: 'on hold',
  aheadNone: 'You’re next',
  ahead: (count) => count,
  progress: (percent) => `${percent}% of the way there`,
  continue: 'Continue to the site',
  retry: { evicted: 'Join the line again', left: 'Join the line again', closed: 'Try again', failed: 'Try again' },
  leave: 'Leave the line',
  leaveConfirm: 'Leave the line? You will lose your place.',
  note: 'Keep this page open. When it’s your turn, we’ll take you there automatically.',
  ticket: (ticket) => `Ticket no. ${ticket}`,
  offline: 'You’re offline. We’ll reconnect on our own; come back online soon to keep your place.',
  reconnecting: (seconds) => (seconds > 1 ? `Connection trouble. Trying again in ${seconds} s…` : 'Connection trouble. Trying again…'),
  waitLessThanMinute: 'less than a minute',
  waitMinutes: (m) => (m === 1 ? 'about 1 minute' : `about ${m} minutes`),
  waitHours: (h, m) => (m === 0 ? (h === 1 ? 'about 1 hour' : `about ${h} hours`) : `about ${h} h ${m} min`),
  announceWaiting: (position, wait) => `You are number ${position} in line. Estimated wait: ${wait}.`,
  announceNext: 'You are next in line.',
  announceBackOnline: 'Back online.',
};

const KO: Strings = {
  pageTitle: '대기실',
  pageTitleWaiting: (position) => `(${position}) 대기실`,
  pageTitleAdmitted: '입장 차례입니다!',
  titles: {
    idle: '대기실',
    joining: '대기 순번을 받는 중…',
    waiting: '대기열에 들어왔습니다',
    admitted: '입장 차례입니다!',
    evicted: '대기 순번이 만료되었습니다',
    closed: '대기실이 닫혀 있습니다',
    left: '대기열에서 나가셨습니다',
    failed: '문제가 발생했습니다',
  },
  leads: {
    idle: '',
    joining: '잠시만 기다려 주세요.',
    waiting: '지금 접속자가 많습니다. 이 페이지를 열어 두시면 차례가 되었을 때 자동으로 이동합니다.',
    admitted: '지금 사이트로 이동합니다…',
    evicted: '한동안 이 페이지의 응답이 없어 대기 순번이 해제되었습니다. 다시 대기하실 수 있습니다.',
    closed: '지금은 이 대기열에서 입장을 받지 않습니다. 잠시 후 다시 시도해 주세요.',
    left: '다시 대기하시면 대기열 맨 뒤에서 새 순번을 받습니다.',
    failed: '대기실 서버에 연결할 수 없습니다. 인터넷 연결을 확인한 뒤 다시 시도해 주세요.',
  },
  onHold: {
    paused: {
      title: '입장이 잠시 중지되었습니다',
      lead: '사이트 입장이 잠시 중지되었습니다. 대기 순번은 그대로 유지됩니다. 이 페이지를 열어 두시면 차례가 되었을 때 자동으로 이동합니다.',
    },
    closed: {
      title: '대기실이 잠시 닫혀 있습니다',
      lead: '지금은 입장을 받지 않습니다. 대기실이 다시 열리면 지금 순번이 그대로 유지됩니다. 이 페이지를 열어 두세요.',
    },
  },
  positionLabel: '내 대기 순번',
  aheadLabel: '내 앞의 대기 인원',
  waitLabel: '예상 대기 시간',
  waitOnHold: '입장 중지 중',
  aheadNone: '다음 차례입니다',
  ahead: (count) => `${count}명`,
  progress: (percent) => `${percent}% 진행`,
  continue: '사이트로 이동',
  retry: { evicted: '다시 대기하기', left: '다시 대기하기', closed: '다시 시도', failed: '다시 시도' },
  leave: '대기열에서 나가기',
  leaveConfirm: '대기열에서 나가시겠습니까? 대기 순번을 잃게 됩니다.',
  note: '이 페이지를 열어 두세요. 차례가 되면 자동으로 이동합니다.',
  ticket: (ticket) => `대기표 ${ticket}번`,
  offline: '오프라인 상태입니다. 연결되면 자동으로 다시 접속합니다. 순번을 유지하려면 곧 다시 연결해 주세요.',
  reconnecting: (seconds) => (seconds > 1 ? `연결에 문제가 있습니다. ${seconds}초 후 다시 시도합니다…` : '연결에 문제가 있습니다. 다시 시도하는 중…'),
  waitLessThanMinute: '1분 미만',
  waitMinutes: (m) => `약 ${m}분`,
  waitHours: (h, m) => (m === 0 ? `약 ${h}시간` : `약 ${h}시간 ${m}분`),
  announceWaiting: (position, wait) => `현재 대기 순번은 ${position}번입니다. 예상 대기 시간은 ${wait}입니다.`,
  announceNext: '다음 차례입니다.',
  announceBackOnline: '다시 연결되었습니다.',
};

/** The first of the visitor's languages that the page speaks; English otherwise. */
export function pickLocale(languages: readonly string[]): Locale {
  for (const tag of languages) {
    const primary = tag.toLowerCase().split('-')[0];
    if (primary === 'ko') return 'ko';
    if (primary === 'en') return 'en';
  }
  return 'en';
}

/** A wait in words: "less than a minute", "about 7 minutes", "about 1 h 25 min". */
export function humanizeWait(seconds: number, t: Pick<Strings, 'waitLessThanMinute' | 'waitMinutes' | 'waitHours'>): string {
  if (!Number.isFinite(seconds) || seconds < 60) return t.waitLessThanMinute;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) {
    // Precision the estimate does not have is noise: round to 5 minutes past a quarter of an hour.
    return t.waitMinutes(minutes < 15 ? minutes : Math.round(minutes / 5) * 5);
  }
  const rounded = Math.round(minutes / 5) * 5;
  const hours = Math.floor(rounded / 60);
  return t.waitHours(hours, rounded % 60);
}

/** Progress from the first position seen (0) to admission (1). */
export function progressOf(firstPosition: number, position: number): number {
  if (position <= 0) return 1;
  if (firstPosition <= 0) return 0;
  return Math.min(1, Math.max(0, (firstPosition - position) / firstPosition));
}

// ---------------------------------------------------------------------------------------------
// The page

const ROOM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Announce a new position at most this often (a screen reader user hears numbers, not noise). */
const ANNOUNCE_EVERY_MS = 60_000;
/** Positions always worth announcing when first reached. */
const MILESTONES = [100, 50, 20, 10, 5, 3, 2, 1];
/** A moment to read "It's your turn" before the redirect. */
const REDIRECT_DELAY_MS = 700;

interface PageConfig {
  roomId: string;
  originUrl: string;
  apiBase: string;
  /** data-status-base: where the room status is read (a CDN, say); empty or absent: the API base. */
  statusBase?: string;
  /** data-leave-on-close="true": leave the line on pagehide when no other tab is open. */
  leaveOnClose: boolean;
}

function readConfig(doc: Document, loc: Location): PageConfig {
  const data = doc.body.dataset;
  const fromQuery = new URLSearchParams(loc.search).get('room');
  const roomId = fromQuery && ROOM_ID_PATTERN.test(fromQuery) ? fromQuery : (data.roomId ?? 'demo');
  return {
    roomId,
    originUrl: safeOrigin(data.originUrl ?? '/', loc.href),
    apiBase: data.apiBase ?? '',
    ...(data.statusBase ? { statusBase: data.statusBase } : {}),
    leaveOnClose: data.leaveOnClose === 'true',
  };
}

/** An http(s) URL or '/', so a page misconfiguration cannot send visitors to `javascript:`. */
function safeOrigin(value: string, base: string): string {
  try {
    const url = new URL(value, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : '/';
  } catch {
    return '/';
  }
}

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
  private readonly firstPositionKey: string;
  private readonly ui = {
    card: element('wr-card'),
    title: element('wr-title'),
    lead: element('wr-lead'),
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
    live: element('wr-live'),
  };
  private lastAnnouncedAt = Number.NEGATIVE_INFINITY;
  private lastAnnouncedPosition: number | undefined;
  private redirecting = false;
  private offline = false;
  /** The room's state as the last view said: a visitor in line keeps its place while it is paused or closed. */
  private roomState: RoomState = 'open';
  /** The first position seen, when storage is unavailable. */
  private firstSeen: { tokenId: string; position: number } | undefined;

  constructor(private readonly config: PageConfig) {
    this.locale = pickLocale(navigator.languages?.length ? navigator.languages : [navigator.language]);
    this.t = this.locale === 'ko' ? KO : EN;
    this.numbers = new Intl.NumberFormat(this.locale);
    this.firstPositionKey = `waiting-room:v1:${config.roomId}:first-position`;
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
    this.client.on('closed', () => this.announce(this.t.titles.closed));
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
    this.ui.positionLabel.textContent = t.positionLabel;
    this.ui.aheadLabel.textContent = t.aheadLabel;
    this.ui.waitLabel.textContent = t.waitLabel;
    this.ui.continueLink.textContent = t.continue;
    this.ui.continueLink.href = this.config.originUrl;
    this.ui.leave.textContent = t.leave;
    this.ui.note.textContent = t.note;
    this.ui.progressLabel.textContent = t.progress(0);
  }

  private renderState(state: ClientState): void {
    // 'idle' only follows a stop (the page is going away): keep what is shown.
    if (state === 'idle') return;
    this.ui.card.dataset.state = state;
    const onHold = state === 'waiting' && this.roomState !== 'open' ? this.t.onHold[this.roomState] : undefined;
    this.ui.title.textContent = onHold?.title ?? this.t.titles[state];
    this.ui.lead.textContent = onHold?.lead ?? this.t.leads[state];
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
    this.ui.ticket.hidden = !live && state !== 'admitted';
    this.ui.footer.hidden = !live && state !== 'admitted';
    if (state !== 'waiting' && state !== 'admitted') {
      document.title = this.t.titles[state];
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
    if (roomStateChanged) this.renderState('waiting');
    const first = this.firstPosition(view);
    const ahead = Math.max(0, view.position - 1);
    // Nobody is let in while the room is paused or closed: an estimate would be a guess.
    const wait = view.roomState === 'open' ? humanizeWait(view.estimatedWaitSeconds, t) : t.waitOnHold;
    const position = this.numbers.format(view.position);
    this.ui.position.textContent = position;
    this.ui.ahead.textContent = ahead === 0 ? t.aheadNone : t.ahead(this.numbers.format(ahead));
    this.ui.wait.textContent = wait;
    this.ui.ticket.textContent = t.ticket(this.numbers.format(view.ticket));
    this.setProgress(progressOf(first, view.position));
    document.title = t.pageTitleWaiting(position);
    if (!this.offline) this.showStatus(undefined);

    // Not chatty: the first view, each milestone reached, otherwise at most once a minute.
    const now = Date.now();
    const previous = this.lastAnnouncedPosition;
    const milestone = previous !== undefined && MILESTONES.some((m) => view.position <= m && previous > m);
    const due = previous === undefined || milestone || (view.position !== previous && now - this.lastAnnouncedAt >= ANNOUNCE_EVERY_MS);
    if (roomStateChanged && view.roomState !== 'open') {
      const onHold = t.onHold[view.roomState];
      this.announce(`${onHold.title}. ${onHold.lead}`);
    } else if (due || roomStateChanged) {
      this.lastAnnouncedAt = now;
      this.lastAnnouncedPosition = view.position;
      this.announce(view.position === 1 ? `${t.announceNext} ${t.announceWaiting(position, wait)}` : t.announceWaiting(position, wait));
    }
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
    this.clearFirstPosition();
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

  /** The first position seen for this ticket, kept across reloads and shared by tabs. */
  private firstPosition(view: TokenView): number {
    if (!this.firstSeen || this.firstSeen.tokenId !== view.tokenId) this.firstSeen = { tokenId: view.tokenId, position: view.position };
    try {
      const stored = JSON.parse(localStorage.getItem(this.firstPositionKey) ?? 'null') as { tokenId?: unknown; position?: unknown } | null;
      if (stored && stored.tokenId === view.tokenId && typeof stored.position === 'number' && stored.position >= view.position) {
        return stored.position;
      }
      localStorage.setItem(this.firstPositionKey, JSON.stringify({ tokenId: view.tokenId, position: view.position }));
    } catch {
      // No storage: progress starts from this page's first view.
      return this.firstSeen.position;
    }
    return view.position;
  }

  private clearFirstPosition(): void {
    try {
      localStorage.removeItem(this.firstPositionKey);
    } catch {
      // Nothing to clear.
    }
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
