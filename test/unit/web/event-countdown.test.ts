/**
 * What the waiting page shows for a room's scheduled event (web/src/event-countdown.ts): the stage
 * from the event's phase and the page's clock, the countdown's clock in both languages, when it
 * ticks, and when the page links to the verifier.
 */
import { describe, expect, it } from 'vitest';
import type { PublicEvent } from '../../../lambdas/domain/model.js';
import { countdownClock, eventDisplayOf, holdsLine, nextTickMs, receiptToCheck, stageAnnouncement } from '../../../web/src/event-countdown.js';
import { EN, KO } from '../../../web/src/waiting-room-text.js';

const NOW = Date.UTC(2026, 11, 5, 9, 55, 0);
const START = NOW + 5 * 60_000;

function event(phase: PublicEvent['phase'], extra: Partial<PublicEvent> = {}): PublicEvent {
  return { eventId: 'drop-1', phase, prequeueStart: START - 30 * 60_000, start: START, atEnd: 'close', commitment: 'c'.repeat(64), ...extra };
}

describe('the stage the page shows', () => {
  it('counts down to the start in the pre-queue, and holds the line (no place, no wait)', () => {
    expect(eventDisplayOf(event('prequeue'), NOW)).toEqual({ stage: 'countdown', msLeft: 5 * 60_000 });
    expect(holdsLine('countdown')).toBe(true);
  });

  it('says the draw is being made once the start has passed, by the status or by the page clock alone', () => {
    expect(eventDisplayOf(event('drawing'), START + 1_000)).toEqual({ stage: 'drawing', msLeft: 0 });
    // A status read just before the start still says pre-queue: the clock moves the page on.
    expect(eventDisplayOf(event('prequeue'), START)).toEqual({ stage: 'drawing', msLeft: 0 });
    expect(holdsLine('drawing')).toBe(true);
  });

  it('shows the usual place once drawn, and the usual page without an event or before its pre-queue', () => {
    expect(eventDisplayOf(event('live', { drawnAt: START + 3_000, seed: 'a'.repeat(64) }), START + 5_000).stage).toBe('drawn');
    expect(eventDisplayOf(event('ended', { drawnAt: START + 3_000 }), START + 3_600_000).stage).toBe('drawn');
    expect(eventDisplayOf(event('scheduled'), NOW).stage).toBe('none');
    expect(eventDisplayOf(undefined, NOW).stage).toBe('none');
    expect(holdsLine('drawn')).toBe(false);
    expect(holdsLine('none')).toBe(false);
  });
});

describe("the countdown's clock", () => {
  it('reads minutes and seconds under an hour, rounded up to the second', () => {
    expect(countdownClock(5 * 60_000, EN.event)).toBe('5:00');
    expect(countdownClock(5 * 60_000 - 1, EN.event)).toBe('5:00');
    expect(countdownClock(4 * 60_000 + 59_000, EN.event)).toBe('4:59');
    expect(countdownClock(9_001, EN.event)).toBe('0:10');
    expect(countdownClock(1, EN.event)).toBe('0:01');
    expect(countdownClock(0, EN.event)).toBe('0:00');
    expect(countdownClock(-5_000, EN.event)).toBe('0:00');
  });

  it('adds hours when long, and days in words in both languages', () => {
    expect(countdownClock(3_600_000, EN.event)).toBe('1:00:00');
    expect(countdownClock((3_600 + 4 * 60 + 59) * 1000, EN.event)).toBe('1:04:59');
    expect(countdownClock((86_400 + 3 * 3_600 + 4 * 60 + 5) * 1000, EN.event)).toBe('1 day 3:04:05');
    expect(countdownClock((2 * 86_400 + 5) * 1000, EN.event)).toBe('2 days 0:00:05');
    expect(countdownClock((2 * 86_400 + 5) * 1000, KO.event)).toBe('2일 0:00:05');
  });

  it('makes the sentences the page shows, in English and in Korean', () => {
    expect(EN.event.countdown(countdownClock(4 * 60_000 + 59_000, EN.event))).toBe('The drop starts in 4:59');
    expect(KO.event.countdown('4:59')).toBe('4:59 후 시작합니다');
    expect(stageAnnouncement({ stage: 'countdown', msLeft: 65_000 }, EN.event)).toBe(
      'You’re in the pre-queue. The drop starts in 1:05. Places in line are drawn by lottery at the start.',
    );
    expect(stageAnnouncement({ stage: 'drawing', msLeft: 0 }, KO.event)).toBe('시작되었습니다. 추첨 중입니다…');
    expect(stageAnnouncement({ stage: 'drawn', msLeft: 0 }, EN.event)).toBeUndefined();
  });

  it('ticks just after the shown second changes, and once at the start', () => {
    // 4.5 s left shows 0:05; it shows 0:04 from 4.0 s left, half a second on.
    expect(nextTickMs(4_500)).toBe(520);
    // 4.0 s left shows 0:04 until 3.0 s left.
    expect(nextTickMs(4_000)).toBe(1_020);
    expect(nextTickMs(1)).toBe(21);
    expect(nextTickMs(0)).toBe(20);
    for (const left of [4_500, 4_000, 999, 61_250]) {
      expect(countdownClock(left - nextTickMs(left), EN.event)).not.toBe(countdownClock(left, EN.event));
    }
  });
});

describe('the link to check the place in the draw', () => {
  const drawn = event('live', { drawnAt: START + 3_000 });

  it('carries the receipt of an entry of this very draw, once drawn', () => {
    expect(receiptToCheck('drawn', drawn, { eventId: 'drop-1', receipt: 'a.b.c' })).toBe('a.b.c');
  });

  it('is not shown before the draw, for another event, or without a receipt (passes off)', () => {
    expect(receiptToCheck('countdown', event('prequeue'), { eventId: 'drop-1', receipt: 'a.b.c' })).toBeUndefined();
    expect(receiptToCheck('drawing', event('drawing'), { eventId: 'drop-1', receipt: 'a.b.c' })).toBeUndefined();
    expect(receiptToCheck('drawn', drawn, { eventId: 'drop-0', receipt: 'a.b.c' })).toBeUndefined();
    expect(receiptToCheck('drawn', drawn, { eventId: 'drop-1' })).toBeUndefined();
    expect(receiptToCheck('drawn', drawn, undefined)).toBeUndefined();
  });
});
