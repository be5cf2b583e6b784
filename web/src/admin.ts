/**
 * The admin page: rooms with inline-editable capacity, state and message to the line, and an
 * emergency stop per room (PUT /admin/rooms/{roomId}; each row is admin-room-row.ts), live waiting
 * and active counts refreshed every 2 s (GET /admin/rooms and /rooms/{roomId}/status), a line chart
 * per room of the last minutes of WaitingUsers and ActiveUsers, and the SNS notices
 * (GET /admin/metrics; a 404 there just means the local runtime does not serve metrics yet).
 *
 * Locally the admin API has no authentication; on AWS it is IAM-authorized (SigV4), which a page
 * cannot sign: this page is for the local runtime, or behind a signing proxy.
 */
import type { RoomState, RoomStatus } from '../../lambdas/domain/model.js';
import type { FairnessReportView } from '../../lambdas/api/schemas.js';
import { renderReport } from './admin-report.js';
import { ROOM_COLUMNS, RoomRow, describe, make, numbers, type AdminRoom, type RowHost } from './admin-room-row.js';

interface MetricPoint {
  at: string | number;
  roomId: string;
  name: string;
  value: number;
}

interface Notice {
  at: string | number;
  subject: string;
  message: string;
}

const ROOM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const REFRESH_MS = 2_000;
const CHART_WINDOW_MS = 10 * 60_000;
const SERIES = [
  { name: 'WaitingUsers', className: 'waiting', label: 'waiting' },
  { name: 'ActiveUsers', className: 'active', label: 'active' },
] as const;
const SVG_NS = 'http://www.w3.org/2000/svg';
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

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

function timeOf(at: string | number): number {
  return typeof at === 'number' ? at : Date.parse(at);
}

/** 1, 2, 5, 10, 20, 50… at or above `value`. */
function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

class AdminPage {
  private readonly apiBase: string;
  /** What each room's row uses of the page. */
  private readonly host: RowHost;
  private readonly rows = new Map<string, RoomRow>();
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
      waitingRoomUrl: data.waitingRoomUrl ?? '/waiting-room.html',
    };
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

/** A small SVG line chart of one room's series over [from, to]. */
function chart(roomId: string, points: MetricPoint[], from: number, to: number): HTMLElement {
  const width = 320;
  const height = 120;
  const left = 30;
  const right = 8;
  const top = 8;
  const bottom = 18;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const series = SERIES.map((s) => ({
    ...s,
    points: points
      .filter((p) => p.name === s.name)
      .map((p) => ({ at: timeOf(p.at), value: p.value }))
      .sort((a, b) => a.at - b.at),
  }));
  const max = niceCeiling(Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.value))));
  const x = (at: number) => left + ((at - from) / (to - from)) * plotWidth;
  const y = (value: number) => top + plotHeight - (value / max) * plotHeight;

  const latest = series.map((s) => `${s.label} ${s.points.length ? numbers.format(s.points[s.points.length - 1]!.value) : '—'}`).join(', ');
  const figure = make('figure', { className: 'chart' });
  const caption = make('figcaption');
  caption.append(make('span', { className: 'room-id', text: roomId }), make('span', { className: 'hint', text: latest }));

  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img' });
  root.setAttribute('aria-label', `Room ${roomId}, last 10 minutes: ${latest}`);
  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction;
    root.append(svg('line', { class: 'grid', x1: left, x2: width - right, y1: y(value), y2: y(value) }));
    const label = svg('text', { class: 'axis-label', x: left - 6, y: y(value) + 3, 'text-anchor': 'end' });
    label.textContent = numbers.format(value);
    root.append(label);
  }
  for (const [at, text, anchor] of [
    [from, '−10 min', 'start'],
    [from + (to - from) / 2, '−5 min', 'middle'],
    [to, 'now', 'end'],
  ] as const) {
    const label = svg('text', { class: 'axis-label', x: x(at), y: height - 4, 'text-anchor': anchor });
    label.textContent = text;
    root.append(label);
  }
  for (const s of series) {
    if (s.points.length === 0) continue;
    if (s.points.length === 1) {
      const only = s.points[0]!;
      root.append(svg('circle', { class: `series ${s.className}`, cx: x(only.at), cy: y(only.value), r: 2.5 }));
      continue;
    }
    const coordinates = s.points.map((p) => `${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
    root.append(svg('polyline', { class: `series ${s.className}`, points: coordinates }));
  }
  figure.append(caption, root);
  return figure;
}

function main(): void {
  new AdminPage().start();
}

if (typeof document !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main, { once: true });
  else main();
}
