/**
 * Place in line and wait estimates (DESIGN §8 "Position without a scan"): everything a waiting page
 * needs to work out from its ticket and the room's shared status, with no per-visitor read.
 * Pure functions with no imports at run time: the page runs the very same code.
 */
import { rateLimitPerSecond } from '../admission/admission-rate.js';
import type { AdmissionRateSamples, Room, RoomState, Zone } from '../model.js';
import { everyoneInFront } from './queue-modes.js';
import type { Timings } from '../timings.js';

/** An estimate is never above a day: beyond that, "a long time" is all a number can say. */
export const MAX_ESTIMATE_SECONDS = 24 * 60 * 60;
/** Admissions are measured over a window of about this length (the samples roll every half of it). */
export const RATE_WINDOW_MS = 60_000;
/** Too short a span says nothing; too long a one (a room idle for a while) describes another time. */
const MIN_RATE_SPAN_MS = 5_000;
const MAX_RATE_SPAN_MS = 4 * RATE_WINDOW_MS;
/** The front zone always holds at least this many tickets, so that a freed seat finds someone live at once. */
export const FRONT_ZONE_MIN_TICKETS = 10;
/** A far-back page polls the shared status at most this often, and at least this often. */
export const MIN_POLL_SECONDS = 2;
export const MAX_POLL_SECONDS = 60;

/** What a page needs to know about its line (part of the public room status). */
export interface LineFacts {
  state: RoomState;
  lastAdmittedTicket: number;
  /** Waiting tickets up to this one are in the front zone. */
  frontZoneTicket: number;
  /** How fast lastAdmittedTicket advances. */
  ticketsPerSecond: number;
  rateMeasured: boolean;
}

export interface Place {
  position: number;
  estimatedWaitSeconds: number;
  zone: Zone;
}

/**
 * Tickets ahead that have not been admitted yet, plus one: an upper bound that only goes down.
 * A ticket at or below lastAdmittedTicket (a join that raced an admission) is next in line.
 */
export function positionOf(ticket: number, room: Pick<LineFacts, 'lastAdmittedTicket'>): number {
  return Math.max(1, ticket - room.lastAdmittedTicket);
}

export interface LineRate {
  /** How fast lastAdmittedTicket advances (gaps and visitors who left count: positions are in tickets). */
  ticketsPerSecond: number;
  admissionsPerSecond: number;
  measured: boolean;
}

/**
 * The line's speed between the older rate sample and now; before anything was measured (or after a
 * long idle spell), the room's capacity turning over once per assumed visit length, or its rate
 * limit when that binds first.
 */
export function lineRate(
  room: Pick<Room, 'admittedTotal' | 'lastAdmittedTicket' | 'capacity'> & Partial<Pick<Room, 'newVisitorsPerMinute'>> & { rate: AdmissionRateSamples },
  now: number,
  timings: Pick<Timings, 'assumedVisitSeconds'>,
): LineRate {
  const span = now - room.rate.prevAt;
  const admitted = room.admittedTotal - room.rate.prevTotal;
  const advanced = room.lastAdmittedTicket - room.rate.prevTicket;
  if (room.rate.prevAt > 0 && span >= MIN_RATE_SPAN_MS && span <= MAX_RATE_SPAN_MS && admitted > 0) {
    const seconds = span / 1000;
    return { ticketsPerSecond: Math.max(admitted, advanced) / seconds, admissionsPerSecond: admitted / seconds, measured: true };
  }
  const assumed = Math.min(Math.max(room.capacity, 1) / timings.assumedVisitSeconds, rateLimitPerSecond(room));
  return { ticketsPerSecond: assumed, admissionsPerSecond: assumed, measured: false };
}

/** The rate samples after an admission at `now`: rolled forward when the current one is half a window old. */
export function rolledRate(room: Pick<Room, 'admittedTotal' | 'lastAdmittedTicket' | 'rate'>, now: number): AdmissionRateSamples | undefined {
  if (now - room.rate.curAt < RATE_WINDOW_MS / 2) return undefined;
  return {
    prevAt: room.rate.curAt,
    prevTotal: room.rate.curTotal,
    prevTicket: room.rate.curTicket,
    curAt: now,
    curTotal: room.admittedTotal,
    curTicket: room.lastAdmittedTicket,
  };
}

/** Seconds until a ticket `position` places from the front is admitted, at the line's speed. */
export function estimateWaitSeconds(position: number, ticketsPerSecond: number): number {
  if (position <= 0) return 0;
  if (!(ticketsPerSecond > 0)) return MAX_ESTIMATE_SECONDS;
  return Math.min(MAX_ESTIMATE_SECONDS, Math.ceil(position / ticketsPerSecond));
}

/** The front zone of a room whose every visitor is in it (passthrough): no ticket is beyond it. */
export const WHOLE_LINE_FRONT_ZONE = Number.MAX_SAFE_INTEGER;

/** The line facts of a room: its speed and where its front zone ends. */
export function lineFacts(room: Room, now: number, timings: Pick<Timings, 'assumedVisitSeconds' | 'frontZoneSeconds'>): LineFacts {
  const rate = lineRate(room, now, timings);
  const byRate = Math.ceil(rate.ticketsPerSecond * timings.frontZoneSeconds);
  return {
    state: room.state,
    lastAdmittedTicket: room.lastAdmittedTicket,
    frontZoneTicket: everyoneInFront(room)
      ? WHOLE_LINE_FRONT_ZONE
      : Math.max(room.frontFloor, room.lastAdmittedTicket + Math.max(FRONT_ZONE_MIN_TICKETS, byRate)),
    ticketsPerSecond: rate.ticketsPerSecond,
    rateMeasured: rate.measured,
  };
}

/** A waiting ticket's place: position, estimate and zone, from the line facts alone. */
export function placeOf(ticket: number, facts: LineFacts): Place {
  const position = positionOf(ticket, facts);
  return {
    position,
    estimatedWaitSeconds: estimateWaitSeconds(position, facts.ticketsPerSecond),
    zone: ticket <= facts.frontZoneTicket ? 'front' : 'far',
  };
}

/** The golden ratio's fraction: ticket × it, modulo 1, spreads consecutive tickets evenly over [0, 1). */
const GOLDEN = 0.6180339887498949;

/**
 * When a far-back visitor sends its next keep-place signal after one at `lastSignalAt` (epoch ms):
 * on a grid of `intervalSeconds` shifted by a phase that depends on the ticket alone. A crowd that
 * joined within a minute then signals evenly spread over every interval, not in one wave, and the
 * tabs and reloads of one visitor agree on the schedule. A gap is never longer than the interval.
 */
export function nextKeepPlaceAt(ticket: number, lastSignalAt: number, intervalSeconds: number): number {
  const interval = intervalSeconds * 1000;
  const phase = ((ticket * GOLDEN) % 1) * interval;
  const cycles = Math.floor((lastSignalAt - phase) / interval) + 1;
  return phase + cycles * interval;
}

/**
 * When a far-back page should read the shared status again: a tenth of its estimated wait, and
 * early enough to start heartbeating well before the front zone reaches its ticket; within
 * MIN_POLL_SECONDS … MAX_POLL_SECONDS.
 */
export function farPollDelaySeconds(ticket: number, facts: LineFacts): number {
  const { estimatedWaitSeconds: wait } = placeOf(ticket, facts);
  const untilFront = facts.ticketsPerSecond > 0 ? (ticket - facts.frontZoneTicket) / facts.ticketsPerSecond : MAX_POLL_SECONDS;
  const delay = Math.min(wait / 10, untilFront / 3);
  return Math.round(Math.min(MAX_POLL_SECONDS, Math.max(MIN_POLL_SECONDS, delay)));
}
