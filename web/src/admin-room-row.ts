/**
 * One room's row on the admin page: state, queueing mode, capacity, rate limit and the message to
 * the line edited in place and saved together (PUT /admin/rooms/{roomId}), the live counts, the
 * scheduled event's phase and countdown (its Event button opens the page's event editor), and the
 * emergency stop that queues everyone ({"state":"paused","revokePasses":true}: nobody is admitted
 * until the room reopens, and every visitor inside is refused within one pass lifetime).
 *
 * What the operator is typing is never overwritten by a refresh.
 */
import { MAX_NEW_VISITORS_PER_MINUTE } from '../../lambdas/domain/admission/admission-rate.js';
import type { QueueMode, RoomState, RoomStatus } from '../../lambdas/domain/model.js';
import { QUEUE_MODES, ROOM_STATES } from '../../lambdas/domain/model.js';
import { MAX_ROOM_MESSAGE_LENGTH, roomMessageProblem } from '../../lambdas/domain/rooms/room-message.js';
import { eventSummary } from './admin-event.js';
import { describe, make, numbers, type AdminRoom } from './admin-shared.js';

/** What a row needs from its page: the API, a way to speak to the operator, and where the waiting page is. */
export interface RowHost {
  api<T>(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<T>;
  say(text: string, kind: 'ok' | 'error'): void;
  confirm(question: string): boolean;
  /** Shows the room's fairness and accuracy report. */
  report(roomId: string): Promise<void>;
  /** Opens the event editor on the room. */
  editEvent(room: AdminRoom): void;
  readonly waitingRoomUrl: string;
}

function shortWait(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The columns of a row, as the table's header names them. */
export const ROOM_COLUMNS = 13;

/** What each mode means, for the select's tooltip. */
const MODE_HINTS: Record<QueueMode, string> = {
  fifo: 'fifo: in ticket order (the default)',
  passthrough: 'passthrough: everyone goes in at once, counted (measure demand before turning the room on)',
  reject: 'reject: no new tickets (sold out: set a message); those in line go on',
  random: 'random: each free seat goes to a visitor drawn at random among those in line (all of them heartbeat)',
};

interface ServerValues {
  capacity: number;
  state: RoomState;
  mode: QueueMode;
  /** The rate limit as the input shows it: '' for none. */
  rate: string;
  message: string;
}

const serverValuesOf = (room: AdminRoom): ServerValues => ({
  capacity: room.capacity,
  state: room.state,
  mode: room.mode ?? 'fifo',
  rate: room.newVisitorsPerMinute === undefined ? '' : String(room.newVisitorsPerMinute),
  message: room.message ?? '',
});

export class RoomRow {
  readonly row = make('tr');
  private readonly state = make('select');
  private readonly mode = make('select');
  private readonly capacity = make('input');
  private readonly rate = make('input');
  private readonly message = make('input');
  private readonly active = make('td', { className: 'num' });
  private readonly waiting = make('td', { className: 'num' });
  private readonly wait = make('td', { className: 'num' });
  private readonly lastTicket = make('td', { className: 'num' });
  private readonly admitted = make('td', { className: 'num' });
  private readonly event = make('td', { className: 'room-event' });
  private readonly save = make('button', { className: 'button primary small', text: 'Save' });
  private readonly revert = make('button', { className: 'button small', text: 'Revert' });
  private readonly stop = make('button', { className: 'button danger small', text: 'Stop' });
  private readonly reportButton = make('button', { className: 'button small', text: 'Report' });
  private readonly eventButton = make('button', { className: 'button small', text: 'Event' });
  /** The room as last read, for the event editor. */
  private room: AdminRoom;
  /** The values the server last reported. */
  private server: ServerValues;
  private dirty = false;
  private saving = false;

  constructor(
    private readonly roomId: string,
    room: AdminRoom,
    private readonly host: RowHost,
  ) {
    this.server = serverValuesOf(room);
    this.room = room;
    const idCell = make('td');
    const link = make('a', { className: 'room-id', text: roomId });
    link.href = `${host.waitingRoomUrl}?room=${encodeURIComponent(roomId)}`;
    link.title = 'Open the waiting room page for this room';
    idCell.append(link);

    const stateCell = make('td');
    this.state.setAttribute('aria-label', `State of room ${roomId}`);
    for (const value of ROOM_STATES) this.state.append(new Option(value, value));
    stateCell.append(this.state);

    const modeCell = make('td');
    this.mode.setAttribute('aria-label', `Queueing mode of room ${roomId}`);
    this.mode.title = QUEUE_MODES.map((m) => MODE_HINTS[m]).join('\n');
    for (const value of QUEUE_MODES) this.mode.append(new Option(value, value));
    modeCell.append(this.mode);

    const capacityCell = make('td', { className: 'num' });
    this.capacity.type = 'number';
    this.capacity.min = '0';
    this.capacity.step = '1';
    this.capacity.inputMode = 'numeric';
    this.capacity.setAttribute('aria-label', `Capacity of room ${roomId}`);
    capacityCell.append(this.capacity);

    const rateCell = make('td', { className: 'num' });
    this.rate.type = 'number';
    this.rate.min = '1';
    this.rate.max = String(MAX_NEW_VISITORS_PER_MINUTE);
    this.rate.step = '1';
    this.rate.inputMode = 'numeric';
    this.rate.placeholder = 'none';
    this.rate.setAttribute('aria-label', `Admissions a minute at most in room ${roomId} (empty: no limit)`);
    rateCell.append(this.rate);

    const messageCell = make('td', { className: 'message' });
    this.message.type = 'text';
    this.message.maxLength = MAX_ROOM_MESSAGE_LENGTH;
    this.message.placeholder = 'No message';
    this.message.dir = 'auto';
    this.message.setAttribute('aria-label', `Message to the line of room ${roomId} (plain text, up to ${MAX_ROOM_MESSAGE_LENGTH} characters)`);
    messageCell.append(this.message);

    const actions = make('td');
    const group = make('div', { className: 'row-actions' });
    for (const button of [this.save, this.revert, this.stop, this.reportButton, this.eventButton]) button.type = 'button';
    this.reportButton.setAttribute('aria-label', `Fairness report of room ${roomId}`);
    this.eventButton.setAttribute('aria-label', `Event of room ${roomId}`);
    this.eventButton.title = 'Schedule an event with a lottery of its pre-queue, or change or remove it';
    this.stop.title = 'Emergency stop: pause the room and end the visit of everyone inside';
    this.stop.setAttribute('aria-label', `Emergency stop of room ${roomId}`);
    group.append(this.revert, this.save, this.eventButton, this.reportButton, this.stop);
    actions.append(group);

    this.row.append(idCell, stateCell, modeCell, capacityCell, rateCell, messageCell, this.active, this.waiting, this.wait, this.lastTicket, this.admitted, this.event, actions);
    const markDirty = () => this.setDirty(this.changed());
    for (const input of [this.capacity, this.rate, this.message]) {
      input.addEventListener('input', markDirty);
      input.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') void this.saveChanges();
        if (event.key === 'Escape') this.revertChanges();
      });
    }
    this.state.addEventListener('change', markDirty);
    this.mode.addEventListener('change', markDirty);
    this.save.addEventListener('click', () => void this.saveChanges());
    this.revert.addEventListener('click', () => this.revertChanges());
    this.stop.addEventListener('click', () => void this.emergencyStop());
    this.reportButton.addEventListener('click', () => void host.report(roomId));
    this.eventButton.addEventListener('click', () => host.editEvent(this.room));
    this.setDirty(false);
    this.showServerValues();
  }

  /** The room as the server reports it now, and its public status when read. */
  update(room: AdminRoom, status: RoomStatus | undefined): void {
    this.server = serverValuesOf(room);
    this.room = room;
    // Never overwrite what the operator is typing.
    if (!this.dirty && !this.saving) {
      this.state.value = room.state;
      this.mode.value = this.server.mode;
      if (document.activeElement !== this.capacity) this.capacity.value = String(room.capacity);
      if (document.activeElement !== this.rate) this.rate.value = this.server.rate;
      if (document.activeElement !== this.message) this.message.value = this.server.message;
    }
    this.state.dataset.state = room.state;
    this.mode.dataset.mode = this.server.mode;
    this.active.textContent = numbers.format(status?.active ?? room.activeCount);
    this.waiting.textContent = status ? numbers.format(status.waiting) : '—';
    this.wait.textContent = status ? shortWait(status.estimatedWaitSeconds) : '—';
    this.lastTicket.textContent = numbers.format(room.lastTicket);
    this.admitted.textContent = numbers.format(room.admittedTotal);
    this.event.textContent = room.event ? eventSummary(room.event, Date.now()) : '—';
    this.event.title = room.event ? `Commitment ${room.event.commitment}${room.event.seed ? `\nSeed ${room.event.seed}` : ''}` : 'No event';
    this.event.dataset.phase = room.event?.phase ?? 'none';
    const stops = room.epoch > 0 ? ` · emergency stops: ${room.epoch}` : '';
    this.row.title = `Created ${new Date(room.createdAt).toLocaleString()} · updated ${new Date(room.updatedAt).toLocaleString()}${stops}`;
  }

  private changed(): boolean {
    return (
      this.capacity.value !== String(this.server.capacity) ||
      this.state.value !== this.server.state ||
      this.mode.value !== this.server.mode ||
      this.rate.value !== this.server.rate ||
      this.message.value !== this.server.message
    );
  }

  private showServerValues(): void {
    this.state.value = this.server.state;
    this.mode.value = this.server.mode;
    this.capacity.value = String(this.server.capacity);
    this.rate.value = this.server.rate;
    this.message.value = this.server.message;
  }

  private setDirty(dirty: boolean): void {
    this.dirty = dirty;
    this.row.dataset.dirty = String(dirty);
    this.save.disabled = !dirty || this.saving;
    this.revert.hidden = !dirty;
  }

  private revertChanges(): void {
    this.showServerValues();
    this.setDirty(false);
  }

  private async saveChanges(): Promise<void> {
    if (!this.dirty || this.saving) return;
    const change: { capacity?: number; state?: RoomState; mode?: QueueMode; newVisitorsPerMinute?: number | null; message?: string | null } = {};
    const capacity = Number(this.capacity.value);
    if (this.capacity.value !== String(this.server.capacity)) {
      if (this.capacity.value.trim() === '' || !Number.isInteger(capacity) || capacity < 0) {
        this.host.say(`Capacity of ${this.roomId} must be a whole number, 0 or more.`, 'error');
        this.capacity.focus();
        return;
      }
      change.capacity = capacity;
    }
    if (this.state.value !== this.server.state) change.state = this.state.value as RoomState;
    if (this.mode.value !== this.server.mode) change.mode = this.mode.value as QueueMode;
    if (this.rate.value !== this.server.rate) {
      const rate = Number(this.rate.value);
      if (this.rate.value.trim() === '') change.newVisitorsPerMinute = null;
      else if (!Number.isInteger(rate) || rate < 1 || rate > MAX_NEW_VISITORS_PER_MINUTE) {
        this.host.say(`The rate limit of ${this.roomId} must be a whole number of admissions a minute from 1 to ${numbers.format(MAX_NEW_VISITORS_PER_MINUTE)}, or empty for none.`, 'error');
        this.rate.focus();
        return;
      } else change.newVisitorsPerMinute = rate;
    }
    if (this.message.value !== this.server.message) {
      const problem = roomMessageProblem(this.message.value);
      if (problem) {
        this.host.say(`The ${problem.replace(/^message/, 'message of ' + this.roomId)}.`, 'error');
        this.message.focus();
        return;
      }
      change.message = this.message.value.trim() === '' ? null : this.message.value;
    }
    const room = await this.put(change, () => this.setDirty(true));
    if (!room) return;
    this.setDirty(false);
    this.update(room, undefined);
    const message = room.message === undefined ? 'no message' : `message “${room.message}”`;
    const rate = room.newVisitorsPerMinute === undefined ? 'no rate limit' : `at most ${numbers.format(room.newVisitorsPerMinute)} a minute`;
    this.host.say(`Saved ${this.roomId}: capacity ${numbers.format(room.capacity)}, ${room.state}, ${room.mode ?? 'fifo'}, ${rate}, ${message}.`, 'ok');
  }

  private async emergencyStop(): Promise<void> {
    const question = `Stop ${this.roomId}? It is paused, and everyone inside is sent back out within a pass lifetime (a minute); the line keeps its place until you reopen it.`;
    if (this.saving || !this.host.confirm(question)) return;
    const room = await this.put({ state: 'paused', revokePasses: true }, () => undefined);
    if (!room) return;
    this.update(room, undefined);
    if (!this.dirty) this.state.value = room.state;
    this.host.say(`Stopped ${this.roomId}: paused, and the admission of everyone inside revoked (stop ${room.epoch}). Set it open to let the line in again.`, 'ok');
  }

  /** One PUT of the room; undefined (and said why) when it failed. */
  private async put(change: Record<string, unknown>, onFailure: () => void): Promise<AdminRoom | undefined> {
    this.saving = true;
    this.save.disabled = true;
    this.stop.disabled = true;
    try {
      return await this.host.api<AdminRoom>('PUT', `/admin/rooms/${encodeURIComponent(this.roomId)}`, change);
    } catch (error) {
      onFailure();
      this.host.say(`Could not save ${this.roomId}: ${describe(error)}`, 'error');
      return undefined;
    } finally {
      this.saving = false;
      this.stop.disabled = false;
      this.save.disabled = !this.dirty;
    }
  }
}
