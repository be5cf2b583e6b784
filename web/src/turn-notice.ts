/**
 * Telling a visitor whose tab is in the background that it is their turn: the page's title says so
 * (set by the page), and, where the visitor allowed it, a notification. Permission is asked only
 * when the visitor presses the offer (browsers refuse a prompt without a gesture, and an unasked
 * prompt is a nuisance); the offer is shown only where notifications exist and were neither granted
 * nor refused. A notification that cannot be made (Chrome on Android wants a service worker) is
 * left out: the title and the redirect still happen.
 */

interface NotificationApi {
  readonly permission: 'default' | 'granted' | 'denied';
  requestPermission(): Promise<'default' | 'granted' | 'denied'>;
  new (title: string, options: { body: string; tag: string }): unknown;
}

function notifications(): NotificationApi | undefined {
  const api = (globalThis as { Notification?: NotificationApi }).Notification;
  return typeof api === 'function' ? api : undefined;
}

export class TurnNotice {
  constructor(
    private readonly offer: HTMLButtonElement,
    private readonly confirmation: HTMLElement,
    private readonly onChange: (message: string) => void,
  ) {
    this.offer.addEventListener('click', () => void this.ask());
  }

  /** Shows the offer while the visitor waits, when asking still makes sense. */
  update(waiting: boolean): void {
    const api = notifications();
    this.offer.hidden = !(waiting && api?.permission === 'default');
    this.confirmation.hidden = !(waiting && api?.permission === 'granted');
  }

  /** The visitor's turn: a notification when the tab is not being looked at and it is allowed. */
  announce(title: string, body: string): void {
    const api = notifications();
    if (!api || api.permission !== 'granted' || document.visibilityState === 'visible') return;
    try {
      new api(title, { body, tag: 'waiting-room-turn' });
    } catch {
      // Not allowed here (a page-level notification on Android): the title says it.
    }
  }

  private async ask(): Promise<void> {
    const api = notifications();
    if (!api) return;
    try {
      await api.requestPermission();
    } catch {
      // An old promise-less implementation, or a refusal: nothing more to do.
    }
    this.update(true);
    if (api.permission === 'granted') this.onChange(this.confirmation.textContent ?? '');
  }
}
