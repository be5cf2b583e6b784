/**
 * The admin page's charts: a small SVG line chart per room of the last minutes of WaitingUsers and
 * ActiveUsers (GET /admin/metrics points).
 */
import { make, numbers } from './admin-shared.js';

export interface MetricPoint {
  at: string | number;
  roomId: string;
  name: string;
  value: number;
}

export const SERIES = [
  { name: 'WaitingUsers', className: 'waiting', label: 'waiting' },
  { name: 'ActiveUsers', className: 'active', label: 'active' },
] as const;
const SVG_NS = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

export function timeOf(at: string | number): number {
  return typeof at === 'number' ? at : Date.parse(at);
}

/** 1, 2, 5, 10, 20, 50… at or above `value`. */
function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/** A small SVG line chart of one room's series over [from, to]. */
export function chart(roomId: string, points: MetricPoint[], from: number, to: number): HTMLElement {
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
