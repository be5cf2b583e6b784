/**
 * The waiting-room page's text, in English and Korean, and the words it makes of numbers: the
 * language picked from the visitor's, a wait in words, the progress through the line.
 */
import type { ClientState, RoomState } from './client.js';

export type Locale = 'en' | 'ko';

export interface Strings {
  pageTitle: string;
  pageTitleWaiting: (position: string) => string;
  pageTitleAdmitted: string;
  titles: Record<ClientState, string>;
  leads: Record<ClientState, string>;
  /** Title and lead of a visitor in line while the room is paused or closed (the place is kept). */
  onHold: Record<Exclude<RoomState, 'open'>, { title: string; lead: string }>;
  /**
   * Title and lead of a visitor turned away by a room that takes no new visitors (its reject mode:
   * sold out), instead of the `closed` ones; the operator's message, when set, says why.
   */
  notAccepting: { title: string; lead: string };
  positionLabel: string;
  aheadLabel: string;
  /** Random mode (each free seat drawn among everyone waiting): the labels of the same two figures. */
  drawPositionLabel: string;
  drawAheadLabel: string;
  drawOdds: (count: string) => string;
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
  /** A range of waits under an hour, in whole minutes (low < high). */
  waitMinutesRange: (low: number, high: number) => string;
  announceWaiting: (position: string, wait: string) => string;
  announceNext: string;
  announceBackOnline: string;
  /** The offer to be told by a notification when it is the visitor's turn (the tab may be in the background). */
  notifyOffer: string;
  notifyOn: string;
  /** The heading of the operator's message to the line (the message itself is the operator's own words). */
  messageLabel: string;
  /** What a screen reader hears when the message appears or changes. */
  announceMessage: (message: string) => string;
  /** A room's scheduled event (event-countdown.ts): its pre-queue before the start, then the lottery's draw. */
  event: EventStrings;
}

export interface EventStrings {
  /** Title and lead of a visitor in the pre-queue, and while the draw is being made. */
  prequeue: { title: string; lead: string };
  drawing: { title: string; lead: string };
  /** The countdown to the start: "The drop starts in 4:59". */
  countdown: (clock: string) => string;
  /** A countdown's clock of a day or more: "2 days 3:04:59". */
  days: (days: number, clock: string) => string;
  /** The short line under the countdown. */
  lotteryNote: string;
  /** What the countdown's place says while the draw is being made. */
  drawingNotice: string;
  /** The link to the lottery verifier (/lottery.html), once drawn. */
  checkDraw: string;
}

export const EN: Strings = {
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
  notAccepting: {
    title: 'This line isn’t taking new visitors',
    lead: 'Everyone who could get in is already in line.',
  },
  positionLabel: 'Your place in line',
  aheadLabel: 'People ahead of you',
  drawPositionLabel: 'People in the draw',
  drawAheadLabel: 'Your chance at each free place',
  drawOdds: (count) => `1 in ${count}`,
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
  waitMinutesRange: (low, high) => (low === 0 ? `up to ${high} minutes` : `${low} to ${high} minutes`),
  announceWaiting: (position, wait) => `You are number ${position} in line. Estimated wait: ${wait}.`,
  announceNext: 'You are next in line.',
  announceBackOnline: 'Back online.',
  notifyOffer: 'Notify me when it’s my turn',
  notifyOn: 'We’ll notify you when it’s your turn, even if this tab is in the background.',
  messageLabel: 'Message from the organizer',
  announceMessage: (message) => `Message from the organizer: ${message}`,
  event: {
    prequeue: {
      title: 'You’re in the pre-queue',
      lead: 'Nobody is let in before the drop starts. Keep this page open: at the start, everyone here gets a place in line by lottery, so there’s no need to hurry.',
    },
    drawing: {
      title: 'The drop has started',
      lead: 'Places in line are being drawn for everyone who was here at the start. Yours will show in a moment.',
    },
    countdown: (clock) => `The drop starts in ${clock}`,
    days: (days, clock) => (days === 1 ? `1 day ${clock}` : `${days} days ${clock}`),
    lotteryNote: 'Places in line are drawn by lottery at the start.',
    drawingNotice: 'The draw is being made…',
    checkDraw: 'Check your place in the draw',
  },
};

export const KO: Strings = {
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
  notAccepting: {
    title: '이 대기열은 새 방문자를 받지 않습니다',
    lead: '입장할 수 있는 인원이 이미 모두 대기열에 있습니다.',
  },
  positionLabel: '내 대기 순번',
  aheadLabel: '내 앞의 대기 인원',
  drawPositionLabel: '추첨 대기 인원',
  drawAheadLabel: '빈자리마다 당첨 확률',
  drawOdds: (count) => `${count}분의 1`,
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
  waitMinutesRange: (low, high) => (low === 0 ? `최대 ${high}분` : `${low}~${high}분`),
  announceWaiting: (position, wait) => `현재 대기 순번은 ${position}번입니다. 예상 대기 시간은 ${wait}입니다.`,
  announceNext: '다음 차례입니다.',
  announceBackOnline: '다시 연결되었습니다.',
  notifyOffer: '차례가 되면 알림 받기',
  notifyOn: '차례가 되면 알림으로 알려 드립니다. 이 탭이 뒤에 있어도 괜찮습니다.',
  messageLabel: '운영자 안내',
  announceMessage: (message) => `운영자 안내: ${message}`,
  event: {
    prequeue: {
      title: '사전 대기열에 들어왔습니다',
      lead: '시작 전에는 아무도 입장하지 않습니다. 이 페이지를 열어 두세요. 시작 시각에 여기 계신 모든 분의 대기 순서를 추첨으로 정하므로 서두르지 않으셔도 됩니다.',
    },
    drawing: {
      title: '시작되었습니다',
      lead: '시작 시각에 계셨던 모든 분의 대기 순서를 추첨하고 있습니다. 잠시 후 내 순번이 표시됩니다.',
    },
    countdown: (clock) => `${clock} 후 시작합니다`,
    days: (days, clock) => `${days}일 ${clock}`,
    lotteryNote: '대기 순서는 시작 시각에 추첨으로 정합니다.',
    drawingNotice: '추첨 중입니다…',
    checkDraw: '추첨 결과에서 내 순번 확인하기',
  },
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

/**
 * The range of waits a visitor is shown (the estimate calibrated by the room's measured waits):
 * minutes under an hour ("4 to 9 minutes"), else the upper end alone as humanizeWait says it.
 */
export function humanizeWaitRange(
  lowSeconds: number,
  highSeconds: number,
  t: Pick<Strings, 'waitLessThanMinute' | 'waitMinutes' | 'waitHours' | 'waitMinutesRange'>,
): string {
  if (!Number.isFinite(highSeconds) || highSeconds < 60) return t.waitLessThanMinute;
  const high = Math.ceil(highSeconds / 60);
  if (high >= 60) return humanizeWait(highSeconds, t);
  const low = Number.isFinite(lowSeconds) ? Math.max(0, Math.floor(lowSeconds / 60)) : 0;
  return low >= high ? t.waitMinutes(high) : t.waitMinutesRange(low, high);
}

/** Progress from the first position seen (0) to admission (1). */
export function progressOf(firstPosition: number, position: number): number {
  if (position <= 0) return 1;
  if (firstPosition <= 0) return 0;
  return Math.min(1, Math.max(0, (firstPosition - position) / firstPosition));
}

