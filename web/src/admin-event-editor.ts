/**
 * The admin page's event editor (#event-editor), opened by a row's Event button: schedules a room's
 * event or changes it (PUT /admin/rooms/{roomId} with `event`: id, pre-queue start, start, end,
 * what the room does at the end), removes it (`event: null`, cancelling its lottery), and shows the
 * event as the server has it: phase, times, commitment, the seed once drawn. The rules and the
 * words are admin-event.ts; this file is DOM glue.
 *
 * A refresh updates what the editor shows of the event, never the fields the operator is editing.
 */
import type { PublicEvent } from '../../lambdas/domain/model.js';
import { eventDetails, fieldsOf, scheduleOf, zoneText, type EventFields } from './admin-event.js';
import { describe, fillDefinitions, type AdminRoom } from './admin-shared.js';

/** What the editor needs from its page. */
export interface EditorHost {
  api<T>(method: 'PUT', path: string, body: unknown): Promise<T>;
  say(text: string, kind: 'ok' | 'error'): void;
  confirm(question: string): boolean;
  /** The room as the server answered a change. */
  saved(room: AdminRoom): void;
}

export interface EditorElements {
  panel: HTMLElement;
  title: HTMLElement;
  zone: HTMLElement;
  form: HTMLFormElement;
  eventId: HTMLInputElement;
  prequeueStart: HTMLInputElement;
  start: HTMLInputElement;
  end: HTMLInputElement;
  atEnd: HTMLSelectElement;
  save: HTMLButtonElement;
  remove: HTMLButtonElement;
  close: HTMLButtonElement;
  details: HTMLElement;
}

const shortHex = (hex: string) => `${hex.slice(0, 16)}…`;

export class EventEditor {
  /** The room being edited, as last read. */
  private room: AdminRoom | undefined;
  private busy = false;

  constructor(
    private readonly ui: EditorElements,
    private readonly host: EditorHost,
  ) {
    ui.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.save();
    });
    ui.remove.addEventListener('click', () => void this.removeEvent());
    ui.close.addEventListener('click', () => this.close());
    ui.form.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.close();
    });
  }

  /** Opens the editor on a room: its event's fields, or blank ones to schedule one. */
  open(room: AdminRoom): void {
    this.room = room;
    this.showFields(room.event);
    this.ui.title.textContent = `Event of ${room.roomId}`;
    this.ui.zone.textContent = `Times in your time zone (${zoneText(Date.now())}). The end is optional.`;
    this.showEvent();
    this.ui.panel.hidden = false;
    this.ui.eventId.focus();
  }

  /** A fresh reading of the rooms: what the editor shows of the event follows it. */
  update(room: AdminRoom): void {
    if (room.roomId !== this.room?.roomId) return;
    this.room = room;
    this.showEvent();
  }

  /** Closes the editor when its room is gone. */
  forget(roomIds: ReadonlySet<string>): void {
    if (this.room && !roomIds.has(this.room.roomId)) this.close();
  }

  close(): void {
    this.room = undefined;
    this.ui.panel.hidden = true;
  }

  private showFields(event: PublicEvent | undefined): void {
    const fields = fieldsOf(event);
    this.ui.eventId.value = fields.eventId;
    this.ui.prequeueStart.value = fields.prequeueStart;
    this.ui.start.value = fields.start;
    this.ui.end.value = fields.end;
    this.ui.atEnd.value = fields.atEnd;
  }

  private showEvent(): void {
    const event = this.room?.event;
    this.ui.remove.hidden = event === undefined;
    this.ui.save.textContent = event ? 'Save event' : 'Schedule event';
    fillDefinitions(this.ui.details, event ? eventDetails(event, Date.now()) : [{ label: 'No event', value: 'the room works as configured' }]);
  }

  private fields(): EventFields {
    return {
      eventId: this.ui.eventId.value,
      prequeueStart: this.ui.prequeueStart.value,
      start: this.ui.start.value,
      end: this.ui.end.value,
      atEnd: this.ui.atEnd.value === 'passthrough' ? 'passthrough' : 'close',
    };
  }

  private async save(): Promise<void> {
    const room = this.room;
    if (!room || this.busy) return;
    const outcome = scheduleOf(this.fields(), room.event, Date.now());
    if ('problem' in outcome) {
      this.host.say(`The event of ${room.roomId}: ${outcome.problem}`, 'error');
      this.ui[outcome.field].focus();
      return;
    }
    const changed = room.event?.eventId === outcome.body.eventId;
    const saved = await this.put(room.roomId, { event: outcome.body }, changed ? 'save the event of' : 'schedule the event of');
    if (!saved?.event) return;
    this.showFields(saved.event);
    const e = saved.event;
    const at = (ms: number) => new Date(ms).toLocaleString();
    const end = e.end === undefined ? 'no end' : `ends ${at(e.end)} (then ${e.atEnd})`;
    this.host.say(
      `${changed ? 'Saved' : 'Scheduled'} ${e.eventId} in ${saved.roomId}: pre-queue from ${at(e.prequeueStart)}, draw at ${at(e.start)}, ${end}; commitment ${shortHex(e.commitment)} (public).`,
      'ok',
    );
  }

  private async removeEvent(): Promise<void> {
    const room = this.room;
    if (!room?.event || this.busy) return;
    const phase = room.event.phase;
    const cancels = phase === 'prequeue' || phase === 'drawing' ? ' Its lottery is cancelled: the pre-queue keeps arrival order.' : '';
    if (!this.host.confirm(`Remove the event ${room.event.eventId} of ${room.roomId}?${cancels}`)) return;
    const saved = await this.put(room.roomId, { event: null }, 'remove the event of');
    if (!saved) return;
    this.showFields(undefined);
    this.host.say(`Removed the event of ${saved.roomId}.`, 'ok');
  }

  /** One PUT of the room; undefined (and said why, as the page says other errors) when it failed. */
  private async put(roomId: string, change: Record<string, unknown>, doing: string): Promise<AdminRoom | undefined> {
    this.busy = true;
    this.ui.save.disabled = true;
    this.ui.remove.disabled = true;
    try {
      const room = await this.host.api<AdminRoom>('PUT', `/admin/rooms/${encodeURIComponent(roomId)}`, change);
      this.host.saved(room);
      this.update(room);
      return room;
    } catch (error) {
      this.host.say(`Could not ${doing} ${roomId}: ${describe(error)}`, 'error');
      return undefined;
    } finally {
      this.busy = false;
      this.ui.save.disabled = false;
      this.ui.remove.disabled = false;
    }
  }
}
