/**
 * What the waiting page shows for a room's scheduled event (issue 12, item 2), from the event as
 * the last status read said it and the page's clock: pure functions, no DOM (event-panel.ts shows
 * them).
 *
 * - countdown: the pre-queue is open. A countdown to the start ("The drop starts in 4:59", hours
 *   and days when long) and a line saying that places are drawn by lottery at the start, instead
 *   of a place and a wait, which mean nothing before the draw.
 * - drawing: the start has passed (by the status, or by the page's clock while the status it read
 *   still says pre-queue) and the draw is not recorded yet: a notice that it is being made.
 * - drawn: the draw is recorded: the usual place and wait, and, for a visitor whose join was an
 *   entry with a receipt, a link to check its place in the draw.
 * - none: no event, or one whose pre-queue has not opened: the usual page.
 */
import type { LotteryEntry, PublicEvent } from './client.js';
import type { EventStrings } from './waiting-room-text.js';

export type EventStage = 'none' | 'countdown' | 'drawing' | 'drawn';

export interface EventDisplay {
  stage: EventStage;
  /** Until the start, in ms (countdown only; 0 otherwise). */
  msLeft: number;
}

const NONE: EventDisplay = { stage: 'none', msLeft: 0 };
const DRAWING: EventDisplay = { stage: 'drawing', msLeft: 0 };
const DRAWN: EventDisplay = { stage: 'drawn', msLeft: 0 };

/** The stage to show at `now` for the event (undefined: the room has none). */
export function eventDisplayOf(event: PublicEvent | undefined, now: number): EventDisplay {
  switch (event?.phase) {
    case 'prequeue':
      return now < event.start ? { stage: 'countdown', msLeft: event.start - now } : DRAWING;
    case 'drawing':
      return DRAWING;
    case 'live':
    case 'ended':
      return event.drawnAt !== undefined ? DRAWN : NONE;
    default:
      return NONE;
  }
}

/** Whether the event holds the line: no place or wait to show, the countdown or the draw instead. */
export const holdsLine = (stage: EventStage): boolean => stage === 'countdown' || stage === 'drawing';

const twoDigits = (n: number): string => String(n).padStart(2, '0');

/** The countdown's clock for `ms` left, in whole seconds rounded up (it reads 0:00 only at the start): 4:59, 1:04:59, 2 days 3:04:59. */
export function countdownClock(ms: number, t: Pick<EventStrings, 'days'>): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const seconds = total % 60;
  const clock = days > 0 || hours > 0 ? `${hours}:${twoDigits(minutes)}:${twoDigits(seconds)}` : `${minutes}:${twoDigits(seconds)}`;
  return days > 0 ? t.days(days, clock) : clock;
}

/** Lands a tick just past the second it is due, not just before it. */
const TICK_MARGIN_MS = 20;

/** How long until the countdown's clock for `ms` left shows another second (or reaches the start). */
export function nextTickMs(ms: number): number {
  if (ms <= 0) return TICK_MARGIN_MS;
  return (ms % 1000 || 1000) + TICK_MARGIN_MS;
}

/** The visitor's receipt, when the page should link to the verifier with it: drawn, and the visitor's join an entry of this event's draw. */
export function receiptToCheck(stage: EventStage, event: PublicEvent | undefined, entry: LotteryEntry | undefined): string | undefined {
  if (stage !== 'drawn' || !event || entry?.eventId !== event.eventId) return undefined;
  return entry.receipt;
}

/** What a screen reader hears when the page enters a stage (the drawn stage: the place, as the page says it). */
export function stageAnnouncement(display: EventDisplay, t: EventStrings): string | undefined {
  switch (display.stage) {
    case 'countdown':
      return `${t.prequeue.title}. ${t.countdown(countdownClock(display.msLeft, t))}. ${t.lotteryNote}`;
    case 'drawing':
      return `${t.drawing.title}. ${t.drawingNotice}`;
    default:
      return undefined;
  }
}
