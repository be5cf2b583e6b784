/**
 * Rooms: what operators create and change (capacity, state, the message to the line, the emergency
 * stop), and the public status of a room.
 */
import { Admissions } from '../admission/admission.js';
import { hasFreeSeat } from '../admission/free-seats.js';
import { rateLimitProblem } from '../admission/admission-rate.js';
import type { DomainDeps } from '../deps.js';
import { NoEventError, RoomNotFoundError, ValidationError } from '../errors.js';
import type { LotteryPublication } from '../events/lottery.js';
import { QUEUE_MODES, type QueueMode, type Room, type RoomState, type RoomStatus } from '../model.js';
import { estimateWaitSeconds, lineFacts, lineRate } from '../line/positions.js';
import { calibrationOfRoom, waitRangeIn } from '../line/estimate-calibration.js';
import { admitsUncapped, drawsAtRandom } from '../line/queue-modes.js';
import { lineLengthBound } from '../line/random-draw.js';
import { publicEventOf, scheduledEvent, type EventSchedule } from '../events/events.js';
import { normalizedRoomMessage, roomMessageProblem } from './room-message.js';
import type { Timings } from '../timings.js';

export const MAX_CAPACITY = 1_000_000;
/** Shards of a new room's line index: enough for 25,000 joins a second at 1,000 index writes a second per shard. */
export const DEFAULT_LINE_SHARDS = 32;
export const MAX_LINE_SHARDS = 256;

export interface RoomChange {
  capacity?: number;
  state?: RoomState;
  /** The message to the line (room-message.ts); null or "" clears it. */
  message?: string | null;
  /** How visitors are let in (queue-modes.ts). */
  mode?: QueueMode;
  /** At most this many admissions a minute (admission-rate.ts); null removes the limit. */
  newVisitorsPerMinute?: number | null;
  /**
   * An emergency stop: every visitor admitted so far has its admission revoked (departures.ts), with
   * any state; `{ state: 'paused', revokePasses: true }` queues everyone.
   */
  revokePasses?: boolean;
  /**
   * A scheduled event with a lottery (events.ts): a schedule sets it (the seed and its commitment
   * are made here), null removes it (cancelling its lottery).
   */
  event?: EventSchedule | null;
}

/** Drawn lottery publications one environment keeps (the oldest goes first). */
const KEPT_PUBLICATIONS = 8;

export class Rooms {
  private readonly admissions: Admissions;
  private readonly publications = new Map<string, LotteryPublication>();

  constructor(
    private readonly deps: DomainDeps,
    /** Shards of the line index for rooms created here. */
    private readonly lineShards: number = DEFAULT_LINE_SHARDS,
  ) {
    this.admissions = new Admissions(deps);
  }

  /**
   * Creates a room (capacity required) or changes its capacity, state and message, and stops it in
   * an emergency (revokePasses: a new epoch). A change that frees seats (more capacity, or
   * reopening) admits the next visitors at once, in the room's epoch as it now is.
   */
  async configure(roomId: string, change: RoomChange): Promise<{ room: Room; created: boolean }> {
    const { store, clock, views } = this.deps;
    if (change.capacity !== undefined && (!Number.isInteger(change.capacity) || change.capacity < 0 || change.capacity > MAX_CAPACITY)) {
      throw new ValidationError(`capacity must be a whole number from 0 to ${MAX_CAPACITY}`);
    }
    const problem =
      (typeof change.message === 'string' ? roomMessageProblem(change.message) : undefined) ??
      (typeof change.newVisitorsPerMinute === 'number' ? rateLimitProblem(change.newVisitorsPerMinute) : undefined) ??
      (change.mode !== undefined && !QUEUE_MODES.includes(change.mode) ? `mode must be one of ${QUEUE_MODES.join(', ')}` : undefined);
    if (problem) throw new ValidationError(problem);
    const before = await store.getRoom(roomId);
    if (!before && change.capacity === undefined) {
      throw new ValidationError(`Room ${roomId} does not exist yet: give a capacity to create it`);
    }
    const event = change.event === undefined ? undefined : change.event === null ? null : await scheduledEvent(before?.event, change.event, clock.now());
    const room = await store.upsertRoom({
      roomId,
      ...(change.capacity !== undefined ? { capacity: change.capacity } : {}),
      ...(change.state !== undefined ? { state: change.state } : {}),
      ...(change.message !== undefined ? { message: normalizedRoomMessage(change.message) } : {}),
      ...(change.mode !== undefined ? { mode: change.mode } : {}),
      ...(change.newVisitorsPerMinute !== undefined ? { newVisitorsPerMinute: change.newVisitorsPerMinute } : {}),
      ...(change.revokePasses ? { bumpEpoch: true } : {}),
      ...(event !== undefined ? { event } : {}),
      lineShards: this.lineShards,
      now: clock.now(),
    });
    if (!room) throw new RoomNotFoundError(roomId);
    views.offer(roomId, room);
    if (hasFreeSeat(room, clock.now())) {
      await this.admissions.fillSafely(roomId, { maxRounds: 20, budgetMs: 5_000 });
      return { room: (await store.getRoom(roomId)) ?? room, created: !before };
    }
    return { room, created: !before };
  }

  /**
   * The published lottery of the room's event (GET /rooms/{roomId}/lottery): before the draw the
   * commitment alone (no entries, no seed), once drawn the whole publication as kept by the draw.
   */
  async lottery(roomId: string): Promise<{ publication: LotteryPublication; drawn: boolean }> {
    const { views, draws } = this.deps;
    const room = await views.get(roomId);
    if (!room) throw new RoomNotFoundError(roomId);
    const event = room.event;
    if (!event) throw new NoEventError(roomId);
    const pending = { publication: { roomId, eventId: event.eventId, commitment: event.commitment, entries: [] }, drawn: false };
    if (!event.draw || !draws) return pending;
    // A drawn lottery never changes: kept in this environment, so a crowd checking its places at
    // once costs one read of the kept draw per environment, not one per request.
    const key = `${roomId}#${event.eventId}#${event.commitment}`;
    let publication = this.publications.get(key);
    if (!publication) {
      const kept = await draws.get(roomId, event.eventId, event.commitment);
      if (!kept) return pending;
      const { roomId: r, eventId, commitment, seed, entries, closedAt } = kept.publication;
      publication = { roomId: r, eventId, commitment, seed, entries, closedAt };
      if (this.publications.size >= KEPT_PUBLICATIONS) this.publications.delete(this.publications.keys().next().value!);
      this.publications.set(key, publication);
    }
    return { publication, drawn: true };
  }

  async get(roomId: string): Promise<Room> {
    const room = await this.deps.store.getRoom(roomId);
    if (!room) throw new RoomNotFoundError(roomId);
    return room;
  }

  async list(): Promise<Room[]> {
    const rooms = await this.deps.store.listRooms();
    return rooms.sort((a, b) => a.roomId.localeCompare(b.roomId));
  }

  /**
   * Public status, from this environment's cached view of the room and the counted waiting
   * visitors, computed as of the view's read: the same bytes (and ETag) for the view's whole life.
   */
  async status(roomId: string): Promise<RoomStatus> {
    const { views, waitingCounts, timings } = this.deps;
    const { room, readAt } = await views.read(roomId);
    if (!room) throw new RoomNotFoundError(roomId);
    const counted = await waitingCounts?.waiting(roomId);
    return statusOf(room, readAt, timings, counted);
  }
}

/**
 * A room's public status. `waiting` is the counted number when known (the stats table), else the
 * upper bound lastTicket - lastAdmittedTicket (it also counts gaps and visitors who left).
 */
export function statusOf(
  room: Room,
  now: number,
  timings: Pick<Timings, 'assumedVisitSeconds' | 'frontZoneSeconds' | 'heartbeatIntervalSeconds' | 'keepPlaceIntervalSeconds'>,
  countedWaiting?: number,
): RoomStatus {
  const facts = lineFacts(room, now, timings);
  // (Random: tickets below lastAdmittedTicket may still wait; the bound is issued minus admitted.)
  const waiting = Math.max(0, countedWaiting ?? (drawsAtRandom(room) ? lineLengthBound(room) : room.nextTicket - room.lastAdmittedTicket));
  const seatFree = (room.state === 'open' && room.activeCount < room.capacity && waiting === 0) || (room.state === 'open' && admitsUncapped(room));
  // A new arrival's wait: the counted line at the admission rate, or (not counted yet) its ticket
  // distance at the ticket rate; both upper bounds of the same thing.
  const rate = lineRate(room, now, timings);
  const wait =
    countedWaiting !== undefined || drawsAtRandom(room)
      ? estimateWaitSeconds(waiting + 1, rate.admissionsPerSecond)
      : estimateWaitSeconds(room.nextTicket + 1 - room.lastAdmittedTicket, rate.ticketsPerSecond);
  const range = waitRangeIn(room, seatFree ? 0 : wait);
  return {
    roomId: room.roomId,
    state: room.state,
    mode: room.mode,
    capacity: room.capacity,
    ...(room.newVisitorsPerMinute !== undefined ? { newVisitorsPerMinute: room.newVisitorsPerMinute } : {}),
    active: room.activeCount,
    waiting,
    lastAdmittedTicket: room.lastAdmittedTicket,
    lastTicket: room.nextTicket,
    frontZoneTicket: facts.frontZoneTicket,
    ticketsPerSecond: Math.round(facts.ticketsPerSecond * 1000) / 1000,
    rateMeasured: facts.rateMeasured,
    estimatedWaitSeconds: seatFree ? 0 : wait,
    estimatedWaitLowSeconds: range.lowSeconds,
    estimatedWaitHighSeconds: range.highSeconds,
    estimateCalibration: calibrationOfRoom(room),
    heartbeatIntervalSeconds: timings.heartbeatIntervalSeconds,
    keepPlaceIntervalSeconds: timings.keepPlaceIntervalSeconds,
    epoch: room.epoch,
    // Part of the bytes, hence of the ETag: a new message is a new status.
    ...(room.message !== undefined ? { message: room.message } : {}),
    // The phase moves with the clock: a status computed across a phase change is a new status.
    ...(room.event ? { event: publicEventOf(room.event, now) } : {}),
  };
}
