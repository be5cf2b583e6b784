/**
 * The CLI's commands. Each returns what it found: `json` for --json (stable: the API's own
 * shapes, documented in the README) and `lines` for people.
 */
import { MAX_NEW_VISITORS_PER_MINUTE } from '../lambdas/domain/admission/admission-rate.js';
import { QUEUE_MODES, type PublicEvent, type QueueMode } from '../lambdas/domain/model.js';
import { roomMessageProblem } from '../lambdas/domain/rooms/room-message.js';
import type { AdminApi } from './admin-api.js';
import { flag, integerOption, option, type ParsedArgs } from './args.js';
import { CliError, EXIT } from './errors.js';
import { eventBodyOf, eventCell, eventLines, eventNeedsCurrent, eventOptionsOf, type EventOptions } from './room-event.js';

/** A room as GET /admin/rooms/{roomId} answers it. */
export interface AdminRoom {
  roomId: string;
  capacity: number;
  state: 'open' | 'paused' | 'closed';
  mode: QueueMode;
  /** At most this many admissions a minute, when set. */
  newVisitorsPerMinute?: number;
  activeCount: number;
  lastTicket: number;
  lastAdmittedTicket: number;
  admittedTotal: number;
  evictedTotal: number;
  /** Emergency stops so far. */
  epoch: number;
  /** The message to the line, when one is set. */
  message?: string;
  /** The scheduled event, when one is set (the seed only once drawn). */
  event?: PublicEvent;
  createdAt: string;
  updatedAt: string;
}

export interface Outcome {
  json: unknown;
  lines: string[];
}

const ROOM_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const STATES = new Set(['open', 'paused', 'closed']);

/** The room id at `at` among the words, checked as the API checks it. */
export function roomIdOf(args: ParsedArgs, at: number): string {
  const roomId = args.words[at];
  if (!roomId) throw new CliError('Which room? Give its id', EXIT.usage);
  if (!ROOM_ID.test(roomId)) throw new CliError(`${roomId} is not a room id (letters, digits, - and _, up to 64, starting with a letter or digit)`, EXIT.usage);
  return roomId;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd());
}

const roomRow = (r: AdminRoom) => [r.roomId, r.state, `${r.activeCount}/${r.capacity}`, String(r.lastTicket - r.lastAdmittedTicket), String(r.admittedTotal), String(r.evictedTotal)];
const ROOM_HEADER = ['ROOM', 'STATE', 'SEATS', 'IN LINE', 'ADMITTED', 'EVICTED'];

export async function roomsList(api: AdminApi): Promise<Outcome> {
  const { rooms } = await api.request<{ rooms: AdminRoom[] }>('GET', '/admin/rooms');
  const sorted = [...rooms].sort((a, b) => a.roomId.localeCompare(b.roomId));
  // The EVENT column only when a room has an event: `id phase`.
  const events = sorted.some((r) => r.event !== undefined);
  const rows = [events ? [...ROOM_HEADER, 'EVENT'] : ROOM_HEADER, ...sorted.map((r) => (events ? [...roomRow(r), eventCell(r.event)] : roomRow(r)))];
  return { json: { rooms: sorted }, lines: sorted.length === 0 ? ['No rooms yet: create one with `waiting-room rooms set ID --capacity N`'] : table(rows) };
}

function describeRoom(r: AdminRoom, now: number): string[] {
  return [
    `${r.roomId}: ${r.state}${r.mode !== undefined && r.mode !== 'fifo' ? ` (${r.mode})` : ''}, ${r.activeCount} of ${r.capacity} seats taken` +
      (r.newVisitorsPerMinute !== undefined ? `, at most ${r.newVisitorsPerMinute} admissions a minute` : ''),
    `  tickets issued up to ${r.lastTicket}, admitted up to ${r.lastAdmittedTicket} (at most ${Math.max(0, r.lastTicket - r.lastAdmittedTicket)} in line)`,
    `  admitted ${r.admittedTotal}, evicted ${r.evictedTotal} in all; created ${r.createdAt}, changed ${r.updatedAt}`,
    ...(r.epoch > 0 ? [`  emergency stops: ${r.epoch} (admissions before the last one are revoked)`] : []),
    ...(r.message !== undefined ? [`  message to the line: ${JSON.stringify(r.message)}`] : []),
    ...(r.event !== undefined ? eventLines(r.roomId, r.event, now) : []),
  ];
}

export async function roomsGet(api: AdminApi, args: ParsedArgs, now: number): Promise<Outcome> {
  const room = await api.request<AdminRoom>('GET', `/admin/rooms/${roomIdOf(args, 2)}`);
  return { json: room, lines: describeRoom(room, now) };
}

/**
 * The body of `rooms set`: --capacity, --state, --mode, --rate N or --no-rate, --message TEXT or
 * --clear-message, --revoke-passes; and the event options (cli/room-event.ts), whose body may need
 * the room's current event.
 */
function roomChangeOf(args: ParsedArgs, now: number): { change: Record<string, unknown>; event: EventOptions | null | undefined } {
  const capacity = integerOption(args, 'capacity', 0, 1_000_000);
  const state = option(args, 'state');
  if (state !== undefined && !STATES.has(state)) throw new CliError(`--state must be open, paused or closed (got ${state})`, EXIT.usage);
  const message = option(args, 'message');
  const clearMessage = flag(args, 'clear-message');
  if (message !== undefined && clearMessage) throw new CliError('Give --message TEXT or --clear-message, not both', EXIT.usage);
  const problem = message !== undefined ? roomMessageProblem(message) : undefined;
  if (problem) throw new CliError(`--${problem}`, EXIT.usage);
  const mode = option(args, 'mode');
  if (mode !== undefined && !(QUEUE_MODES as readonly string[]).includes(mode)) throw new CliError(`--mode must be ${QUEUE_MODES.join(', ')} (got ${mode})`, EXIT.usage);
  const rate = integerOption(args, 'rate', 1, MAX_NEW_VISITORS_PER_MINUTE);
  const noRate = flag(args, 'no-rate');
  if (rate !== undefined && noRate) throw new CliError('Give --rate N or --no-rate, not both', EXIT.usage);
  const revokePasses = flag(args, 'revoke-passes');
  const event = eventOptionsOf(args, now);
  const change = {
    ...(capacity !== undefined ? { capacity } : {}),
    ...(state !== undefined ? { state } : {}),
    ...(mode !== undefined ? { mode } : {}),
    ...(rate !== undefined ? { newVisitorsPerMinute: rate } : noRate ? { newVisitorsPerMinute: null } : {}),
    ...(message !== undefined ? { message } : clearMessage ? { message: null } : {}),
    ...(revokePasses ? { revokePasses: true } : {}),
  };
  if (Object.keys(change).length === 0 && event === undefined) {
    throw new CliError(
      'Nothing to set: give --capacity N, --state open|paused|closed, --mode fifo|passthrough|reject|random, --rate N, --no-rate, --message TEXT, --clear-message, --revoke-passes, --event ID (with --prequeue-start TIME --start TIME) or --no-event',
      EXIT.usage,
    );
  }
  return { change, event };
}

/** The room's event, to keep what --event leaves out (a room not created yet has none). */
async function currentEventOf(api: AdminApi, roomId: string): Promise<PublicEvent | undefined> {
  try {
    return (await api.request<AdminRoom>('GET', `/admin/rooms/${roomId}`)).event;
  } catch (error) {
    if (error instanceof CliError && error.exitCode === EXIT.notFound) return undefined;
    throw error;
  }
}

export async function roomsSet(api: AdminApi, args: ParsedArgs, now: number): Promise<Outcome> {
  const roomId = roomIdOf(args, 2);
  const { change, event } = roomChangeOf(args, now);
  if (event !== undefined) change.event = event && eventBodyOf(event, eventNeedsCurrent(event) ? await currentEventOf(api, roomId) : undefined, now);
  const room = await api.request<AdminRoom>('PUT', `/admin/rooms/${roomId}`, change);
  return { json: room, lines: describeRoom(room, now) };
}

/**
 * `rooms stop ID`: the emergency stop that queues everyone, `{"state":"paused","revokePasses":true}`:
 * nobody is admitted until the room reopens, and every visitor inside is refused within one pass lifetime.
 */
export async function roomsStop(api: AdminApi, args: ParsedArgs, now: number): Promise<Outcome> {
  const roomId = roomIdOf(args, 2);
  const room = await api.request<AdminRoom>('PUT', `/admin/rooms/${roomId}`, { state: 'paused', revokePasses: true });
  return {
    json: room,
    lines: [`Stopped ${roomId}: paused, and the admission of everyone inside revoked (epoch ${room.epoch}); reopen with \`rooms set ${roomId} --state open\``, ...describeRoom(room, now)],
  };
}

export async function metricsRefresh(api: AdminApi): Promise<Outcome> {
  const started = await api.request<{ executionArn: string; startedAt: string }>('POST', '/admin/metrics/refresh');
  return { json: started, lines: [`Metrics run started at ${started.startedAt}: ${started.executionArn}`] };
}

/** One reading of `rooms watch`: the room's seats and counts, and the public status's line length. */
export interface WatchReading {
  at: string;
  room: AdminRoom;
  waiting: number | undefined;
  estimatedWaitSeconds: number | undefined;
}

export function watchLine(r: WatchReading): string {
  const { room } = r;
  const wait = r.estimatedWaitSeconds === undefined ? '' : `, next wait about ${Math.round(r.estimatedWaitSeconds)} s`;
  return `${r.at.slice(11, 19)}  ${room.roomId} ${room.state}  seats ${room.activeCount}/${room.capacity}  waiting ${r.waiting ?? '?'}${wait}  admitted ${room.admittedTotal}  evicted ${room.evictedTotal}`;
}

/**
 * `rooms watch ID`: a reading every --every seconds (default 3), printed as it comes (a line, or
 * a JSON object per line with --json), --count times or until interrupted.
 */
export async function roomsWatch(api: AdminApi, args: ParsedArgs, print: (reading: WatchReading) => void, sleep: (ms: number) => Promise<void>, stopped: () => boolean): Promise<void> {
  const roomId = roomIdOf(args, 2);
  const everyS = integerOption(args, 'every', 1, 3_600) ?? 3;
  const count = integerOption(args, 'count', 1, 1_000_000);
  for (let i = 0; count === undefined || i < count; i++) {
    if (stopped()) return;
    const room = await api.request<AdminRoom>('GET', `/admin/rooms/${roomId}`);
    // The public status (no signature) says how many really wait and the estimate a newcomer sees.
    const status = await fetch(`${api.baseUrl}/rooms/${roomId}/status`)
      .then((r) => (r.ok ? (r.json() as Promise<{ waiting?: number; estimatedWaitSeconds?: number }>) : undefined))
      .catch(() => undefined);
    print({ at: new Date().toISOString(), room, waiting: status?.waiting, estimatedWaitSeconds: status?.estimatedWaitSeconds });
    if (count !== undefined && i === count - 1) return;
    await sleep(everyS * 1_000);
  }
}
