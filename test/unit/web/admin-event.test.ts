/**
 * The admin page's event logic without the DOM (web/src/admin-event.ts): the editor's fields from a
 * room's event and back to the PUT's `event`, times left as shown sent exactly as the room has them,
 * problems in the domain's rules with the field to fix, and the words the row and the editor show.
 */
import { describe, expect, it } from 'vitest';
import type { PublicEvent } from '../../../lambdas/domain/model.js';
import { countdown, eventDetails, eventSummary, fieldsOf, localInputOf, scheduleOf, timeOfLocalInput, type EventFields } from '../../../web/src/admin-event.js';

const NOW = Date.UTC(2026, 11, 5, 9);
const MIN = 60_000;
const COMMITMENT = 'c'.repeat(64);
const EVENT: PublicEvent = { eventId: 'drop-1', phase: 'prequeue', prequeueStart: NOW - 10 * MIN + 7, start: NOW + 30 * MIN + 123, end: NOW + 150 * MIN, atEnd: 'close', commitment: COMMITMENT };
const iso = (ms: number) => new Date(ms).toISOString();

/** Fields for a new event, times in minutes from NOW. */
const fields = (prequeue: number, start: number, end?: number, more: Partial<EventFields> = {}): EventFields => ({
  eventId: 'drop-2',
  prequeueStart: localInputOf(NOW + prequeue * MIN),
  start: localInputOf(NOW + start * MIN),
  end: end === undefined ? '' : localInputOf(NOW + end * MIN),
  atEnd: 'close',
  ...more,
});

describe('the event editor fields', () => {
  it('are blank for a new event, at end close (the default), and the event as the inputs hold it otherwise', () => {
    expect(fieldsOf(undefined)).toEqual({ eventId: '', prequeueStart: '', start: '', end: '', atEnd: 'close' });
    const shown = fieldsOf(EVENT);
    expect(shown).toMatchObject({ eventId: 'drop-1', end: localInputOf(EVENT.end!), atEnd: 'close' });
    expect(shown.start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  });

  it('read datetime-local values in the browser time zone, and nothing that is not one', () => {
    const at = NOW + 5 * MIN + 30_000;
    expect(timeOfLocalInput(localInputOf(at))).toBe(at);
    expect(timeOfLocalInput(localInputOf(at).slice(0, 16))).toBe(at - 30_000);
    for (const bad of ['', 'soon', '2026-02-30T10:00', '2026-12-05T25:00', '2026-12-05 10:00']) expect(timeOfLocalInput(bad), bad).toBeNaN();
  });
});

describe('the event a save sends', () => {
  it('is the fields in ISO with a zone, without an end when none is given', () => {
    expect(scheduleOf(fields(30, 60, 180, { atEnd: 'passthrough' }), undefined, NOW)).toEqual({
      body: { eventId: 'drop-2', prequeueStart: iso(NOW + 30 * MIN), start: iso(NOW + 60 * MIN), end: iso(NOW + 180 * MIN), atEnd: 'passthrough' },
    });
    expect(scheduleOf(fields(30, 60), undefined, NOW)).toEqual({ body: { eventId: 'drop-2', prequeueStart: iso(NOW + 30 * MIN), start: iso(NOW + 60 * MIN), atEnd: 'close' } });
  });

  it('keeps the times the operator left as shown exactly as the room has them, so that only the end changes during the pre-queue', () => {
    const moved = { ...fieldsOf(EVENT), end: localInputOf(NOW + 240 * MIN) };
    expect(scheduleOf(moved, EVENT, NOW)).toEqual({ body: { eventId: 'drop-1', prequeueStart: iso(EVENT.prequeueStart), start: iso(EVENT.start), end: iso(NOW + 240 * MIN), atEnd: 'close' } });
    // Another event id: nothing is kept.
    const other = scheduleOf({ ...fieldsOf(EVENT), eventId: 'drop-2' }, EVENT, NOW);
    expect('body' in other && other.body.start).toBe(iso(timeOfLocalInput(localInputOf(EVENT.start))));
  });

  it("names the problem in the domain's rules and the field to fix", () => {
    expect(scheduleOf(fields(30, 60, undefined, { eventId: 'drop 2' }), undefined, NOW)).toEqual({ problem: expect.stringMatching(/^The event id is 1-64 letters/), field: 'eventId' });
    expect(scheduleOf(fields(30, 60, undefined, { start: '' }), undefined, NOW)).toEqual({ problem: 'Give the start: when the pre-queue closes and the draw is made.', field: 'start' });
    expect(scheduleOf(fields(30, 60, undefined, { end: 'soon' }), undefined, NOW)).toEqual({ problem: 'The end is not a date and time.', field: 'end' });
    expect(scheduleOf(fields(90, 60), undefined, NOW)).toEqual({ problem: 'The pre-queue start must not be after the start.', field: 'prequeueStart' });
    expect(scheduleOf(fields(30, 60, 45), undefined, NOW)).toEqual({ problem: 'The end must be after the start.', field: 'end' });
    expect(scheduleOf(fields(30, 8 * 1_440 + 60), undefined, NOW)).toMatchObject({ problem: expect.stringMatching(/^The pre-queue may last at most 7 days/) });
  });
});

describe('what the page shows of an event', () => {
  it('counts down to the next step in the row', () => {
    expect(eventSummary({ ...EVENT, phase: 'scheduled', prequeueStart: NOW + 125 * MIN }, NOW)).toBe('drop-1 · pre-queue in 2 h 5 min');
    expect(eventSummary(EVENT, NOW)).toBe('drop-1 · pre-queue · draw in 30 min');
    expect(eventSummary({ ...EVENT, start: NOW + 4 * MIN + 10_000 }, NOW)).toBe('drop-1 · pre-queue · draw in 4 min 10 s');
    expect(eventSummary({ ...EVENT, phase: 'drawing' }, NOW)).toBe('drop-1 · drawing');
    expect(eventSummary({ ...EVENT, phase: 'live', entries: 1234 }, NOW)).toBe('drop-1 · live · 1234 drawn');
    expect([45_000, 12 * MIN, 185 * MIN, 52 * 60 * MIN].map(countdown)).toEqual(['45 s', '12 min', '3 h 5 min', '2 d 4 h']);
  });

  it('shows the commitment at once and the seed once drawn in the editor', () => {
    const time = (ms: number) => iso(ms);
    const before = eventDetails(EVENT, NOW, time);
    expect(before).toContainEqual({ label: 'Commitment', value: COMMITMENT });
    expect(before).toContainEqual({ label: 'Seed', value: 'revealed at the draw' });
    expect(before).toContainEqual({ label: 'End', value: `${iso(EVENT.end!)} (in 2 h 30 min), then close` });
    const drawn = eventDetails({ ...EVENT, phase: 'live', seed: 'a'.repeat(64), drawnAt: NOW - MIN, entries: 12 }, NOW, time);
    expect(drawn).toContainEqual({ label: 'Seed', value: 'a'.repeat(64) });
    expect(drawn).toContainEqual({ label: 'Drawn', value: `${iso(NOW - MIN)}, 12 entries` });
  });
});
