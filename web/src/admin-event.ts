/**
 * A room's scheduled event on the admin page, without the DOM (lambdas/domain/events/events.ts): what its
 * row shows (phase and countdown), what the editor shows of it (times, commitment, seed once drawn),
 * and the `event` of PUT /admin/rooms/{roomId} from the editor's fields, checked as the domain
 * checks it. The DOM is admin-event-editor.ts and admin-room-row.ts.
 *
 * The fields are datetime-local values, in the browser's time zone. A time the operator left as
 * the editor showed it is sent exactly as the room has it (to the millisecond): while the pre-queue
 * is open or the draw runs, the pre-queue start and the start may not change at all.
 */
import { eventScheduleProblem } from '../../lambdas/domain/events/events.js';
import { LOTTERY_EVENT_ID_PATTERN } from '../../lambdas/domain/events/lottery.js';
import type { EventEndAction, PublicEvent } from '../../lambdas/domain/model.js';

/** The editor's fields as its inputs hold them ('' when empty). */
export interface EventFields {
  eventId: string;
  prequeueStart: string;
  start: string;
  end: string;
  atEnd: EventEndAction;
}

/** The event as the admin API takes it (eventScheduleSchema): ISO times with a zone. */
export interface EventBody {
  eventId: string;
  prequeueStart: string;
  start: string;
  end?: string;
  atEnd: EventEndAction;
}

type TimeField = 'prequeueStart' | 'start' | 'end';

/** What each field is called in a sentence. */
const FIELD_NAMES: Record<keyof EventFields, string> = { eventId: 'the event id', prequeueStart: 'the pre-queue start', start: 'the start', end: 'the end', atEnd: 'the end action' };

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** A time as a datetime-local input holds it: the browser's time zone, to the second. */
export function localInputOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const LOCAL_INPUT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;

/** A datetime-local value as epoch ms in the browser's time zone; NaN when it is not one. */
export function timeOfLocalInput(value: string): number {
  const m = LOCAL_INPUT.exec(value.trim());
  if (!m) return NaN;
  const [year, month, day, hour, minute, second = 0, ms = 0] = m.slice(1).map((part, i) => (part === undefined ? 0 : i === 6 ? Number(part.padEnd(3, '0')) : Number(part)));
  const d = new Date(year!, month! - 1, day!, hour!, minute!, second, ms);
  return d.getMonth() === month! - 1 && d.getDate() === day! && hour! < 24 && minute! < 60 ? d.getTime() : NaN;
}

/** The fields of the editor for a room's event, or blank ones (at end: close, the default) for a new event. */
export function fieldsOf(event: PublicEvent | undefined): EventFields {
  if (!event) return { eventId: '', prequeueStart: '', start: '', end: '', atEnd: 'close' };
  return {
    eventId: event.eventId,
    prequeueStart: localInputOf(event.prequeueStart),
    start: localInputOf(event.start),
    end: event.end === undefined ? '' : localInputOf(event.end),
    atEnd: event.atEnd,
  };
}

export type ScheduleOutcome = { body: EventBody } | { problem: string; field: keyof EventFields };

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The `event` of the PUT from the fields, or the first problem with them and the field to fix. `current` is the room's event. */
export function scheduleOf(fields: EventFields, current: PublicEvent | undefined, now: number): ScheduleOutcome {
  const eventId = fields.eventId.trim();
  if (!LOTTERY_EVENT_ID_PATTERN.test(eventId)) return { problem: 'The event id is 1-64 letters, digits, "-" or "_", starting with a letter or digit.', field: 'eventId' };
  const same = current?.eventId === eventId ? current : undefined;
  const times: Partial<Record<TimeField, number>> = {};
  for (const field of ['prequeueStart', 'start', 'end'] as const) {
    const value = fields[field].trim();
    if (value === '') {
      if (field !== 'end') return { problem: `Give ${FIELD_NAMES[field]}: when ${field === 'start' ? 'the pre-queue closes and the draw is made' : 'the pre-queue opens'}.`, field };
      continue;
    }
    // Left as shown: the room's own time, to the millisecond.
    const kept = same?.[field];
    const time = kept !== undefined && value === localInputOf(kept) ? kept : timeOfLocalInput(value);
    if (Number.isNaN(time)) return { problem: `${capitalized(FIELD_NAMES[field])} is not a date and time.`, field };
    times[field] = time;
  }
  const schedule = { eventId, prequeueStart: times.prequeueStart!, start: times.start!, ...(times.end !== undefined ? { end: times.end } : {}), atEnd: fields.atEnd };
  const problem = eventScheduleProblem(schedule, now);
  if (problem) {
    const named = /event\.([A-Za-z]+)/.exec(problem)?.[1] as keyof EventFields | undefined;
    const sentence = problem.replace(/event\.([A-Za-z]+)/g, (_, name: string) => FIELD_NAMES[name as keyof EventFields] ?? name);
    return { problem: `${capitalized(sentence)}.`, field: named && named in FIELD_NAMES ? named : 'start' };
  }
  const iso = (ms: number) => new Date(ms).toISOString();
  return { body: { eventId, prequeueStart: iso(schedule.prequeueStart), start: iso(schedule.start), ...(times.end !== undefined ? { end: iso(times.end) } : {}), atEnd: fields.atEnd } };
}

/** How long until a time: `45 s`, `4 min 10 s`, `3 h 5 min`, `2 d 4 h`. */
export function countdown(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1_000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return `${minutes} min ${seconds % 60} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** The phase in a few words, with its countdown: what the room's Event cell shows. */
export function eventSummary(e: PublicEvent, now: number): string {
  switch (e.phase) {
    case 'scheduled':
      return `${e.eventId} · pre-queue in ${countdown(e.prequeueStart - now)}`;
    case 'prequeue':
      return `${e.eventId} · pre-queue · draw in ${countdown(e.start - now)}`;
    case 'drawing':
      return `${e.eventId} · drawing`;
    case 'live':
      return `${e.eventId} · live · ${e.entries ?? 0} drawn`;
    case 'ended':
      return `${e.eventId} · ended`;
  }
}

const PHASE_TEXT: Record<PublicEvent['phase'], string> = {
  scheduled: 'scheduled: the room works as configured until the pre-queue opens',
  prequeue: 'pre-queue open: arrivals wait with a lottery receipt, nobody is admitted',
  drawing: 'drawing: the lottery orders the pre-queue, nobody is admitted until it is recorded',
  live: 'live: admissions in the drawn order, then arrival order',
  ended: 'ended',
};

/** What the editor shows of a room's event, as label and value (`timeText` formats a time). */
export function eventDetails(e: PublicEvent, now: number, timeText: (ms: number) => string = (ms) => new Date(ms).toLocaleString()): { label: string; value: string }[] {
  const until = (at: number) => (at > now ? ` (in ${countdown(at - now)})` : '');
  return [
    { label: 'Phase', value: e.phase === 'ended' ? `ended: the room ${e.atEnd === 'close' ? 'closes' : 'lets everyone through'}` : PHASE_TEXT[e.phase] },
    { label: 'Pre-queue opens', value: `${timeText(e.prequeueStart)}${until(e.prequeueStart)}` },
    { label: 'Draw', value: `${timeText(e.start)}${until(e.start)}` },
    { label: 'End', value: e.end === undefined ? 'none' : `${timeText(e.end)}${until(e.end)}, then ${e.atEnd}` },
    { label: 'Commitment', value: e.commitment },
    { label: 'Seed', value: e.seed ?? 'revealed at the draw' },
    ...(e.drawnAt !== undefined ? [{ label: 'Drawn', value: `${timeText(e.drawnAt)}, ${e.entries ?? 0} entries` }] : []),
  ];
}

/** The browser's time zone as an offset from UTC: `UTC+01:00`. */
export function zoneText(at: number): string {
  const minutes = -new Date(at).getTimezoneOffset();
  return `UTC${minutes < 0 ? '−' : '+'}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
}
