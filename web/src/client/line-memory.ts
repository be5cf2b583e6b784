/**
 * What the tabs of a browser remember about their ticket, in storage next to the credential: when
 * the last signal was sent (a new leader tab, or a reloaded page, keeps the beat and the keep-place
 * schedule), the lowest position shown (positions only go down, whichever cache, clock or tab gave
 * the number) and the ticket it was shown for, and the room's scheduled event as the last status
 * read said it (room-event.ts: a follower tab or a reloaded page counts down at once, and the
 * ticket is read again once after the draw). Each tab keeps its own copy too, for when storage fails.
 *
 * The lottery's draw gives a pre-queued visitor another ticket: the lowest position is that of
 * one ticket, so a new ticket starts afresh (the one place where a position may grow, by design).
 */
import type { PublicEvent, TokenView } from './api.js';
import type { StorageLike } from './environment.js';
import { isRecord, safeParse } from './json.js';
import { isPublicEvent, waitsForDraw, type EventMemory } from './room-event.js';

interface Remembered extends EventMemory {
  tokenId: string;
  signalAt?: number;
  lowest?: number;
  /** The ticket `lowest` was shown for (undefined in entries from before the draw existed: taken as the ticket's own). */
  ticket?: number;
  event?: PublicEvent;
}

const isNumber = (value: unknown): value is number => typeof value === 'number';
const isString = (value: unknown): value is string => typeof value === 'string';

/** An entry read from storage, each field checked: a malformed one is left out, the rest kept. */
function rememberedOf(value: unknown): Remembered | undefined {
  if (!isRecord(value) || typeof value.tokenId !== 'string') return undefined;
  const entry: Remembered = { tokenId: value.tokenId };
  if (isNumber(value.signalAt)) entry.signalAt = value.signalAt;
  if (isNumber(value.lowest)) entry.lowest = value.lowest;
  if (isNumber(value.ticket)) entry.ticket = value.ticket;
  if (isPublicEvent(value.event)) entry.event = value.event;
  if (isString(value.heldBy)) entry.heldBy = value.heldBy;
  if (isNumber(value.rereadAfter)) entry.rereadAfter = value.rereadAfter;
  return entry;
}

export class LineMemory {
  private own: Remembered | undefined;

  constructor(
    private readonly storage: StorageLike,
    private readonly key: string,
  ) {}

  signalAt(tokenId: string): number {
    return this.read(tokenId).signalAt ?? Number.NEGATIVE_INFINITY;
  }

  signalled(tokenId: string, at: number): void {
    const known = this.read(tokenId);
    this.write({ ...known, signalAt: Math.max(at, known.signalAt ?? at) });
  }

  /** A waiting view with its position never above the lowest shown for its ticket (remembered). */
  lowered(view: TokenView): TokenView {
    if (view.state !== 'waiting') return view;
    const known = this.read(view.tokenId);
    const sameTicket = known.ticket === undefined || known.ticket === view.ticket;
    const lowest = Math.min(view.position, (sameTicket ? known.lowest : undefined) ?? view.position);
    if (lowest !== known.lowest || known.ticket !== view.ticket) this.write({ ...known, ticket: view.ticket, lowest });
    return lowest < view.position ? { ...view, position: lowest } : view;
  }

  /** The room's event as the last status read for this ticket said it. */
  event(tokenId: string): PublicEvent | undefined {
    return this.read(tokenId).event;
  }

  /** What is remembered of the ticket and the event's draw (room-event.ts drawToReread). */
  eventMemory(tokenId: string): EventMemory {
    const { heldBy, rereadAfter } = this.read(tokenId);
    return { ...(heldBy !== undefined ? { heldBy } : {}), ...(rereadAfter !== undefined ? { rereadAfter } : {}) };
  }

  /** A status read said this about the room's event (undefined: it has none); a ticket waiting for its draw is held by it. */
  sawEvent(tokenId: string, event: PublicEvent | undefined): void {
    const { event: _previous, ...known } = this.read(tokenId);
    this.write({ ...known, ...(event ? { event } : {}), ...(waitsForDraw(event) ? { heldBy: event.eventId } : {}) });
  }

  /** The ticket's join was an entry in the event's lottery (the join's answer named it). */
  entered(tokenId: string, eventId: string): void {
    this.write({ ...this.read(tokenId), heldBy: eventId });
  }

  /** The ticket was read again after the draw recorded at `drawnAt`. */
  rereadAfterDraw(tokenId: string, drawnAt: number): void {
    this.write({ ...this.read(tokenId), rereadAfter: drawnAt });
  }

  /** Forgets the ticket (left, evicted); with `tokenId`, only if it is that ticket. */
  forget(tokenId?: string): void {
    if (tokenId === undefined || this.own?.tokenId === tokenId) this.own = undefined;
    try {
      if (tokenId === undefined || this.stored()?.tokenId === tokenId) this.storage.removeItem(this.key);
    } catch {
      // Storage disabled: nothing stored.
    }
  }

  /** The stored entry and this tab's own, merged: the latest signal, the lowest position of the first ticket known, the stored event. */
  private read(tokenId: string): Remembered {
    const merged: Remembered = { tokenId };
    for (const entry of [this.stored(), this.own]) {
      if (entry?.tokenId !== tokenId) continue;
      if (entry.signalAt !== undefined) merged.signalAt = Math.max(entry.signalAt, merged.signalAt ?? entry.signalAt);
      merged.ticket ??= entry.ticket;
      const sameTicket = entry.ticket === undefined || merged.ticket === undefined || entry.ticket === merged.ticket;
      if (entry.lowest !== undefined && sameTicket) merged.lowest = Math.min(entry.lowest, merged.lowest ?? entry.lowest);
      merged.event ??= entry.event;
      merged.heldBy ??= entry.heldBy;
      merged.rereadAfter ??= entry.rereadAfter;
    }
    return merged;
  }

  private stored(): Remembered | undefined {
    try {
      const text = this.storage.getItem(this.key);
      return text === null ? undefined : rememberedOf(safeParse(text));
    } catch {
      return undefined;
    }
  }

  private write(entry: Remembered): void {
    this.own = entry;
    try {
      this.storage.setItem(this.key, JSON.stringify(entry));
    } catch {
      // Storage full or disabled: this tab's copy serves.
    }
  }
}
