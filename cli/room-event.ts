/**
 * A room's scheduled event on the CLI (lambdas/domain/events/events.ts): the `event` of the `rooms set`
 * body from --event ID --prequeue-start TIME --start TIME [--end TIME | --no-end] [--at-end
 * close|passthrough], or `null` from --no-event; and the lines `rooms get` and `rooms set` print.
 *
 * What --event does not say is kept from the room's event of the same id, so that
 * `rooms set shop --event drop-1 --end +1h` moves only the end (while the pre-queue is open or the
 * draw runs, only end and atEnd may change, and start while the pre-queue is open). A new event needs --prequeue-start and --start.
 */
import { eventScheduleProblem, type EventSchedule } from '../lambdas/domain/events/events.js';
import { LOTTERY_EVENT_ID_PATTERN } from '../lambdas/domain/events/lottery.js';
import { EVENT_END_ACTIONS, type EventEndAction, type PublicEvent } from '../lambdas/domain/model.js';
import { flag, option, type ParsedArgs } from './args.js';
import { CliError, EXIT } from './errors.js';
import { durationText, isoOf, parseTime } from './times.js';

/** The event as the admin API takes it (eventScheduleSchema): ISO times. */
export interface EventBody {
  eventId: string;
  prequeueStart: string;
  start: string;
  end?: string;
  atEnd?: EventEndAction;
}

/** The domain's field names in its problems, as the options that set them. */
const OPTION_OF: Record<string, string> = { 'event.eventId': '--event', 'event.prequeueStart': '--prequeue-start', 'event.start': '--start', 'event.end': '--end', 'event.atEnd': '--at-end' };
const asOptions = (problem: string) => problem.replace(/event\.[A-Za-z]+/g, (name) => OPTION_OF[name] ?? name);

/** The event options, read and checked; times in epoch ms (`end: null`: --no-end). */
export interface EventOptions {
  eventId: string;
  prequeueStart?: number;
  start?: number;
  end?: number | null;
  atEnd?: EventEndAction;
}

/** The event options (undefined without any, null for --no-event), refused when malformed: before any request. */
export function eventOptionsOf(args: ParsedArgs, now: number): EventOptions | null | undefined {
  const eventId = option(args, 'event');
  const given = { prequeueStart: option(args, 'prequeue-start'), start: option(args, 'start'), end: option(args, 'end'), atEnd: option(args, 'at-end') };
  const noEnd = flag(args, 'no-end');
  const anyTime = Object.values(given).some((v) => v !== undefined) || noEnd;
  if (flag(args, 'no-event')) {
    if (eventId !== undefined || anyTime) throw new CliError('Give --event ID (with its times) or --no-event, not both', EXIT.usage);
    return null;
  }
  if (eventId === undefined) {
    if (anyTime) throw new CliError('--prequeue-start, --start, --end, --no-end and --at-end set an event: give --event ID too', EXIT.usage);
    return undefined;
  }
  if (!LOTTERY_EVENT_ID_PATTERN.test(eventId)) throw new CliError(`--event must be an event id: letters, digits, - and _, up to 64, starting with a letter or digit (got ${eventId})`, EXIT.usage);
  if (given.end !== undefined && noEnd) throw new CliError('Give --end TIME or --no-end, not both', EXIT.usage);
  if (given.atEnd !== undefined && !(EVENT_END_ACTIONS as readonly string[]).includes(given.atEnd)) {
    throw new CliError(`--at-end must be ${EVENT_END_ACTIONS.join(' or ')} (got ${given.atEnd})`, EXIT.usage);
  }
  const options: EventOptions = {
    eventId,
    ...(given.prequeueStart !== undefined ? { prequeueStart: parseTime(given.prequeueStart, 'prequeue-start', now) } : {}),
    ...(given.start !== undefined ? { start: parseTime(given.start, 'start', now) } : {}),
    ...(noEnd ? { end: null } : given.end !== undefined ? { end: parseTime(given.end, 'end', now) } : {}),
    ...(given.atEnd !== undefined ? { atEnd: given.atEnd as EventEndAction } : {}),
  };
  // The times given are checked now, before the room is read for the others (eventBodyOf checks them all).
  if (options.prequeueStart !== undefined && options.start !== undefined) check({ ...options, prequeueStart: options.prequeueStart, start: options.start, end: options.end ?? undefined }, now);
  return options;
}

/** Refuses a schedule the domain would refuse, in the domain's words with the options' names. */
function check(schedule: EventSchedule, now: number): void {
  const problem = eventScheduleProblem(schedule, now);
  if (problem) throw new CliError(asOptions(problem), EXIT.usage);
}

/** Whether the options leave something out, to be kept from the room's current event. */
export const eventNeedsCurrent = (o: EventOptions): boolean => o.prequeueStart === undefined || o.start === undefined || o.end === undefined || o.atEnd === undefined;

/** The body's `event`: the options, what they leave out kept from `current` (the room's event) when it has the same id; checked as the domain checks it. */
export function eventBodyOf(o: EventOptions, current: PublicEvent | undefined, now: number): EventBody {
  const same = current?.eventId === o.eventId ? current : undefined;
  const prequeueStart = o.prequeueStart ?? same?.prequeueStart;
  const start = o.start ?? same?.start;
  if (prequeueStart === undefined || start === undefined) {
    const other = current ? ` (the room's event is ${current.eventId}: --no-event removes it)` : '';
    throw new CliError(`${o.eventId} is a new event: give --prequeue-start TIME and --start TIME${other}`, EXIT.usage);
  }
  const end = o.end === null ? undefined : (o.end ?? same?.end);
  const atEnd = o.atEnd ?? same?.atEnd;
  check({ eventId: o.eventId, prequeueStart, start, ...(end !== undefined ? { end } : {}), ...(atEnd ? { atEnd } : {}) }, now);
  return { eventId: o.eventId, prequeueStart: isoOf(prequeueStart), start: isoOf(start), ...(end !== undefined ? { end: isoOf(end) } : {}), ...(atEnd ? { atEnd } : {}) };
}

function phaseText(e: PublicEvent, now: number): string {
  switch (e.phase) {
    case 'scheduled':
      return `scheduled, the pre-queue opens in ${durationText(e.prequeueStart - now)}`;
    case 'prequeue':
      return `pre-queue open (arrivals wait, nobody is admitted), the draw in ${durationText(e.start - now)}`;
    case 'drawing':
      return 'drawing the lottery (nobody is admitted until the draw is recorded)';
    case 'live':
      return `live: admitting the ${e.entries ?? 0} drawn in their drawn order, then arrivals in order`;
    case 'ended':
      return `ended: the room ${e.atEnd === 'close' ? 'closes' : 'lets everyone through (passthrough)'}`;
  }
}

/** What `rooms get` prints about a room's event. */
export function eventLines(roomId: string, e: PublicEvent, now: number): string[] {
  const end = e.end !== undefined ? `, ends ${isoOf(e.end)} (then ${e.atEnd})` : ', no end';
  return [
    `  event ${e.eventId}: ${phaseText(e, now)}`,
    `    pre-queue from ${isoOf(e.prequeueStart)}, draw at ${isoOf(e.start)}${end}`,
    `    commitment ${e.commitment}`,
    e.seed !== undefined
      ? `    seed ${e.seed}, drawn ${e.drawnAt !== undefined ? isoOf(e.drawnAt) : '?'} (${e.entries ?? 0} entries): waiting-room lottery verify --room ${roomId} --receipt FILE`
      : '    seed revealed at the draw',
  ];
}

/** The `rooms list` cell of a room's event. */
export const eventCell = (e: PublicEvent | undefined): string => (e ? `${e.eventId} ${e.phase}` : '-');
