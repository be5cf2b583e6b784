/**
 * The admin page: rooms with inline-editable capacity, state and message to the line, and an
 * emergency stop per room (PUT /admin/rooms/{roomId}; each row is admin-room-row.ts), each room's
 * scheduled event and an editor for it (admin-event-editor.ts), live waiting and active counts
 * refreshed every 2 s (GET /admin/rooms and /rooms/{roomId}/status), a line chart per room of the
 * last minutes of WaitingUsers and ActiveUsers (admin-chart.ts), and the SNS notices
 * (GET /admin/metrics; a 404 there just means the local runtime does not serve metrics yet).
 *
 * Locally the admin API has no authentication; on AWS it is IAM-authorized (SigV4), which a page
 * cannot sign: this page is for the local runtime, or behind a signing proxy.
 */
import type { RoomState, RoomStatus } from '../../lambdas/domain/model.js';
import type { FairnessReportView } from '../../lambdas/api/schemas.js';
import { SERIES, chart, timeOf, type MetricPoint } from './admin-chart.js';
import { EventEditor } from './admin-event-editor.js';
import { renderReport } from './admin-report.js';
import { ROOM_COLUMNS, RoomRow, type RowHost } from './admin-room-row.js';
import { describe, make, numbers, type AdminRoom } from './admin-shared.js';

interface Notice {
  at: string | number;
  subject: string;
  message: string;
}

const ROOM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const REFRESH_MS = 2_000;
const CHART_WINDOW_MS = 10 * 60_000;
const MAX_NOTICES = 25;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`admin page: #${id} is missing`);
  return found as T;
}

class AdminPage {
  private readonly apiBase: string;
  /** What each room's row uses of the page. */
  private readonly host: RowHost;
  private readonly rows = new Map<string, RoomRow>();
  private readonly events: EventEditor;
  private readonly ui = {
    body: element<HTMLTableSectionElement>('rooms-body'),
    updated: element('admin-updated'),
    message: element('admin-message'),
    report: element('room-report'),
    charts: element('charts'),
    metricsNote: element('metrics-note'),
    notices: element<HTMLUListElement>('notices'),
    noticesEmpty: element('notices-empty'),
    form: element<HTMLFormElement>('create-room'),
    newId: element<HTMLInputElement>('new-room-id'),
    newCapacity: element<HTMLInputElement>('new-room-capacity'),
    newState: element<HTMLSelectElement>('new-room-state'),
  };
  private timer: number | undefined;

  constructor() {
    const data = document.body.dataset;
    this.apiBase = (data.apiBase ?? '').replace(/\/+$/, '');
    this.host = {
      api: (method, path, body) => this.api(method, path, body),
      say: (text, kind) => this.say(text, kind),
      confirm: (question) => window.confirm(question),
      report: (roomId) => this.showReport(roomId),
      editEvent: (room) => this.events.open(room),
      waitingRoomUrl: data.waitingRoomUrl ?? '/waiting-room.html',
    };
    this.events = new EventEditor(
      {
        panel: element('event-editor'),
        title: element('event-editor-title'),
        zone: element('event-zone'),
        form: element<HTMLFormElement>('event-form'),
        eventId: element<HTMLInputElement>('event-id'),
        prequeueStart: element<HTMLInputElement>('event-prequeue-start'),
        start: element<HTMLInputElement>('event-start'),
        end: element<HTMLInputElement>('event-end'),
        atEnd: element<HTMLSelectElement>('event-at-end'),
        save: element<HTMLButtonElement>('event-save'),
        remove: element<HTMLButtonElement>('event-remove'),
        close: element<HTMLButtonElement>('event-close'),
        details: element('event-details'),
      },
      {
        api: (method, path, body) => this.api(method, path, body),
        say: (text, kind) => this.say(text, kind),
        confirm: (question) => window.confirm(question),
        saved: (room) => this.rows.get(room.roomId)?.update(room, undefined),
      },
    );
  }

  start(): void {
    this.ui.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.createRoom();
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.timer === undefined) void this.loop();
    });
    void this.loop();
  }

  /** Refreshes, then schedules the next refresh; pauses while the page is hidden. */
  private async loop(): Promise<void> {
    this.timer = undefined;
    await this.refresh();
    if (document.hidden) return;
    this.timer = window.setTimeout(() => void this.loop(), REFRESH_MS);
  }

  private async refresh(): Promise<void> {
    const [rooms, metrics] = await Promise.allSettled([
      this.api<{ rooms: AdminRoom[] }>('GET', '/admin/rooms'),
      this.api<{ points?: MetricPoint[]; notices?: Notice[] }>('GET', '/admin/metrics'),
    ]);
    if (rooms.status === 'fulfilled') {
      const list = [...(rooms.value.rooms ?? [])].sort((a, b) => a.roomId.localeCompare(b.roomId));
      const statuses = await Promise.allSettled(
        list.map((room) => this.api<RoomStatus>('GET', `/rooms/${encodeURIComponent(room.roomId)}/status`)),
      );
      this.renderRooms(
        list,
        statuses.map((s) => (s.status === 'fulfilled' ? s.value : undefined)),
      );
      this.ui.updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      this.ui.updated.dataset.stale = 'false';
    } else {
      this.ui.updated.textContent = `Cannot reach the admin API (${describe(rooms.reason)}); retrying`;
      this.ui.updated.dataset.stale = 'true';
    }
    if (metrics.status === 'fulfilled') {
      this.renderCharts(metrics.value.points ?? [], [...this.rows.keys()]);
      this.renderNotices(metrics.value.notices ?? []);
    } else if (metrics.reason instanceof ApiError && metrics.reason.status === 404) {
      this.ui.charts.replaceChildren();
      this.ui.metricsNote.hidden = false;
      this.ui.metricsNote.textContent = 'Metrics are not available from this runtime yet (GET /admin/metrics answered 404).';
      this.renderNotices([]);
    } else {
      this.ui.metricsNote.hidden = false;
      this.ui.metricsNote.textContent = `Metrics could not be loaded (${describe(metrics.reason)}).`;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Rooms table

  private renderRooms(rooms: AdminRoom[], statuses: Array<RoomStatus | undefined>): void {
    const seen = new Set<string>();
    this.events.forget(new Set(rooms.map((room) => room.roomId)));
    if (rooms.length === 0) {
      this.rows.clear();
      const row = make('tr');
      const cell = make('td', { className: 'empty', text: 'No rooms yet. Create one below.' });
      cell.colSpan = ROOM_COLUMNS;
      row.append(cell);
      this.ui.body.replaceChildren(row);
      return;
    }
    if (this.rows.size === 0) this.ui.body.replaceChildren();
    rooms.forEach((room, index) => {
      seen.add(room.roomId);
      let refs = this.rows.get(room.roomId);
      if (!refs) {
        refs = new RoomRow(room.roomId, room, this.host);
        this.rows.set(room.roomId, refs);
      }
      refs.update(room, statuses[index]);
      this.events.update(room);
      // Keep the table in roomId order.
      if (this.ui.body.children[index] !== refs.row) this.ui.body.insertBefore(refs.row, this.ui.body.children[index] ?? null);
    });
    for (const [roomId, refs] of this.rows) {
      if (!seen.has(roomId)) {
        refs.row.remove();
        this.rows.delete(roomId);
      }
    }
  }

  private async createRoom(): Promise<void> {
    const roomId = this.ui.newId.value.trim();
    const capacity = Number(this.ui.newCapacity.value);
    if (!ROOM_ID_PATTERN.test(roomId)) {
      this.say('A room id is 1-64 letters, digits, "-" or "_", starting with a letter or digit.', 'error');
      this.ui.newId.focus();
      return;
    }
    if (this.ui.newCapacity.value.trim() === '' || !Number.isInteger(capacity) || capacity < 0) {
      this.say('Capacity must be a whole number, 0 or more.', 'error');
      this.ui.newCapacity.focus();
      return;
    }
    try {
      const room = await this.api<AdminRoom>('PUT', `/admin/rooms/${encodeURIComponent(roomId)}`, {
        capacity,
        state: this.ui.newState.value as RoomState,
      });
      this.say(`Room ${room.roomId} is ${room.state} with capacity ${numbers.format(room.capacity)}.`, 'ok');
      this.ui.newId.value = '';
      await this.refresh();
    } catch (error) {
      this.say(`Could not create ${roomId}: ${describe(error)}`, 'error');
    }
  }

  private async showReport(roomId: string): Promise<void> {
    try {
      renderReport(this.ui.report, await this.api<FairnessReportView>('GET', `/admin/rooms/${encodeURIComponent(roomId)}/report`));
    } catch (error) {
      this.say(`Could not read the report of ${roomId}: ${describe(error)}`, 'error');
    }
  }

  private say(text: string, kind: 'ok' | 'error'): void {
    this.ui.message.textContent = text;
    this.ui.message.dataset.kind = kind;
  }

  // -------------------------------------------------------------------------------------------
  // Charts and notices

  private renderCharts(points: MetricPoint[], roomIds: string[]): void {
    const now = Date.now();
    const from = now - CHART_WINDOW_MS;
    const byRoom = new Map<string, MetricPoint[]>();
    for (const point of points) {
      const at = timeOf(point.at);
      if (!Number.isFinite(at) || at < from || !SERIES.some((s) => s.name === point.name) || !Number.isFinite(point.value)) continue;
      const list = byRoom.get(point.roomId) ?? [];
      list.push(point);
      byRoom.set(point.roomId, list);
    }
    const rooms = [...new Set([...roomIds, ...byRoom.keys()])].filter((id) => byRoom.has(id)).sort();
    this.ui.metricsNote.hidden = rooms.length > 0;
    this.ui.metricsNote.textContent = 'No WaitingUsers or ActiveUsers points in the last 10 minutes: metrics are published only while a room has activity (visitors joining, waiting or admitted), so an idle room draws no chart.';
    this.ui.charts.replaceChildren(...rooms.map((roomId) => chart(roomId, byRoom.get(roomId) ?? [], from, now)));
  }

  private renderNotices(notices: Notice[]): void {
    const sorted = [...notices].sort((a, b) => timeOf(b.at) - timeOf(a.at)).slice(0, MAX_NOTICES);
    this.ui.noticesEmpty.hidden = sorted.length > 0;
    this.ui.notices.replaceChildren(
      ...sorted.map((notice) => {
        const item = make('li');
        const head = make('div', { className: 'notice-head' });
        const time = make('time', { text: new Date(timeOf(notice.at)).toLocaleString() });
        time.dateTime = new Date(timeOf(notice.at)).toISOString();
        head.append(make('span', { text: notice.subject }), time);
        item.append(head, make('p', { text: notice.message }));
        return item;
      }),
    );
  }

  // -------------------------------------------------------------------------------------------

  private async api<T>(method: 'GET' | 'PUT', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.apiBase}${path}`, {
      method,
      cache: 'no-store',
      headers: { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { message?: string; details?: string[] } } | undefined)?.error;
      const details = error?.details?.length ? ` (${error.details.join('; ')})` : '';
      throw new ApiError(response.status, `${error?.message ?? `HTTP ${response.status}`}${details}`);
    }
    return parsed as T;
  }
}

function main(): void {
  new AdminPage().start();
}

if (typeof document !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main, { once: true });
  else main();
}
