/**
 * The operator's message to the line on the waiting page (issue 12, item 6): "Saturday is sold
 * out", shown above the place in line in the page's language's layout, set as text (never as
 * HTML: it is the operator's words, and markup in it is shown as written), and announced politely
 * when it appears or changes, not on every view.
 *
 * It comes with every token view and every room status read. A visitor who never gets a view (the
 * room is closed, or takes no new visitors: reject mode) is shown the message from one read of the
 * room's public status.
 */
import type { Strings } from './waiting-room-text.js';

export class RoomMessage {
  private shown: string | undefined;

  constructor(
    private readonly box: HTMLElement,
    private readonly text: HTMLElement,
    private readonly t: Pick<Strings, 'announceMessage'>,
    private readonly announce: (message: string) => void,
  ) {}

  /** Shows `message` (or hides the box without one); true when it differs from what was shown. */
  show(message: string | undefined): boolean {
    const next = message === undefined || message.trim() === '' ? undefined : message;
    if (next === this.shown) return false;
    this.shown = next;
    // textContent, never innerHTML: the operator's text is only ever text.
    this.text.textContent = next ?? '';
    this.box.hidden = next === undefined;
    return true;
  }

  /** What a screen reader should hear for the message shown, when it just changed. */
  announcement(): string | undefined {
    return this.shown === undefined ? undefined : this.t.announceMessage(this.shown);
  }

  /** Reads the message from the room's public status (`statusUrl`), shows it and announces it when it changed; failures are ignored. */
  async load(statusUrl: string, fetchImpl: typeof fetch = fetch): Promise<void> {
    try {
      const response = await fetchImpl(statusUrl, { headers: { Accept: 'application/json' } });
      if (!response.ok) return;
      const status = (await response.json()) as { message?: unknown };
      const message = typeof status.message === 'string' ? status.message : undefined;
      if (this.show(message)) {
        const said = this.announcement();
        if (said !== undefined) this.announce(said);
      }
    } catch {
      // No message is not worth an error on a page that already says the room is closed.
    }
  }
}
