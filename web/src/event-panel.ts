/**
 * The waiting page's panel for a room's scheduled event (event-countdown.ts decides what it shows):
 * the countdown to the start, ticking every second on the page's clock, with the line about the
 * lottery; the notice that the draw is being made; once drawn, the link to check the visitor's
 * place in the draw. Set as text only. The page asks it which title and lead stand in for its own
 * while the event holds the line, and is told when the clock alone moves it to another stage (the
 * countdown reaching the start).
 */
import type { LotteryEntry, PublicEvent } from './client.js';
import { countdownClock, eventDisplayOf, holdsLine, nextTickMs, receiptToCheck, stageAnnouncement, type EventStage } from './event-countdown.js';
import type { Strings } from './waiting-room-text.js';

export interface EventPanelElements {
  panel: HTMLElement;
  countdown: HTMLElement;
  note: HTMLElement;
  drawLink: HTMLAnchorElement;
}

export interface EventPanelOptions {
  /** The verifier's URL for a receipt (lottery-link.ts). */
  drawLinkOf: (receipt: string) => string;
  /** The clock moved the panel to another stage: the page renders its title again and says `spoken`. */
  onStage: (stage: EventStage, spoken: string | undefined) => void;
  now?: () => number;
}

export class EventPanel {
  private event: PublicEvent | undefined;
  private entry: LotteryEntry | undefined;
  private shown: EventStage = 'none';
  private tick: number | undefined;
  private readonly now: () => number;

  constructor(
    private readonly ui: EventPanelElements,
    private readonly t: Strings,
    private readonly options: EventPanelOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.ui.drawLink.textContent = t.event.checkDraw;
    this.ui.note.textContent = t.event.lotteryNote;
  }

  /** The stage shown. */
  get stage(): EventStage {
    return this.shown;
  }

  /** Whether the event holds the line: the page shows no place or wait, nor its own title. */
  get holdsLine(): boolean {
    return holdsLine(this.shown);
  }

  /** The title and lead that stand in for the page's own while the event holds the line. */
  headline(): { title: string; lead: string } | undefined {
    return this.shown === 'countdown' ? this.t.event.prequeue : this.shown === 'drawing' ? this.t.event.drawing : undefined;
  }

  /** Shows the event as the client last read it, with the visitor's entry; returns what to announce when the stage changed. */
  show(event: PublicEvent | undefined, entry: LotteryEntry | undefined): string | undefined {
    this.event = event;
    this.entry = entry;
    return this.render();
  }

  /** The visitor left the line (turned away, evicted, left): nothing to count down or check. */
  clear(): void {
    this.show(undefined, undefined);
  }

  /** Renders the stage due now and times the next tick; returns the announcement when the stage changed. */
  private render(): string | undefined {
    if (this.tick !== undefined) window.clearTimeout(this.tick);
    this.tick = undefined;
    const display = eventDisplayOf(this.event, this.now());
    const { panel, countdown, drawLink } = this.ui;
    panel.hidden = !holdsLine(display.stage);
    panel.dataset.stage = display.stage;
    if (display.stage === 'countdown') {
      const clock = countdownClock(display.msLeft, this.t.event);
      countdown.textContent = this.t.event.countdown(clock);
      document.title = this.t.pageTitleWaiting(clock);
      this.tick = window.setTimeout(() => this.ticked(), nextTickMs(display.msLeft));
    } else if (display.stage === 'drawing') {
      countdown.textContent = this.t.event.drawingNotice;
      document.title = this.t.event.drawing.title;
    }
    const receipt = receiptToCheck(display.stage, this.event, this.entry);
    drawLink.hidden = receipt === undefined;
    if (receipt !== undefined) drawLink.href = this.options.drawLinkOf(receipt);
    const changed = display.stage !== this.shown;
    this.shown = display.stage;
    return changed ? stageAnnouncement(display, this.t.event) : undefined;
  }

  private ticked(): void {
    this.tick = undefined;
    const before = this.shown;
    const spoken = this.render();
    if (this.shown !== before) this.options.onStage(this.shown, spoken);
  }
}
