/**
 * Rooms: what operators create and change, and the public status of a room.
 */
import { Admissions } from './admission.js';
import type { DomainDeps } from './deps.js';
import { RoomNotFoundError, ValidationError } from './errors.js';
import type { Room, RoomState, RoomStatus } from './model.js';
import { estimateWaitSeconds, positionOf } from './positions.js';

export const MAX_CAPACITY = 1_000_000;

export interface RoomChange {
  capacity?: number;
  state?: RoomState;
}

export class Rooms {
  private readonly admissions: Admissions;

  constructor(private readonly deps: DomainDeps) {
    this.admissions = new Admissions(deps);
  }

  /**
   * Creates a room (capacity required) or changes its capacity and state. A change that frees
   * seats (more capacity, or reopening) admits the next visitors at once.
   */
  async configure(roomId: string, change: RoomChange): Promise<{ room: Room; created: boolean }> {
    const { store, clock } = this.deps;
    if (change.capacity !== undefined && (!Number.isInteger(change.capacity) || change.capacity < 0 || change.capacity > MAX_CAPACITY)) {
      throw new ValidationError(`capacity must be a whole number from 0 to ${MAX_CAPACITY}`);
    }
    const before = await store.getRoom(roomId);
    if (!before && change.capacity === undefined) {
      throw new ValidationError(`Room ${roomId} does not exist yet: give a capacity to create it`);
    }
    const room = await store.upsertRoom({ roomId, ...change, now: clock.now() });
    if (!room) throw new RoomNotFoundError(roomId);
    if (room.state === 'open' && room.activeCount < room.capacity) {
      await this.admissions.admitNextSafely(roomId);
      return { room: (await store.getRoom(roomId)) ?? room, created: !before };
    }
    return { room, created: !before };
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
   * Public status. `waiting` is the counted number when the caller has it (the stats table), else
   * the upper bound nextTicket - lastAdmittedTicket (it also counts visitors who left the line).
   */
  async status(roomId: string, countedWaiting?: number): Promise<RoomStatus> {
    const room = await this.get(roomId);
    return statusOf(room, this.deps.clock.now(), this.deps.timings, countedWaiting);
  }
}

export function statusOf(
  room: Room,
  now: number,
  timings: DomainDeps['timings'],
  countedWaiting?: number,
): RoomStatus {
  const waiting = countedWaiting ?? Math.max(0, room.nextTicket - room.lastAdmittedTicket);
  const nextPosition = positionOf(room.nextTicket + 1, room);
  const seatFree = room.state === 'open' && room.activeCount < room.capacity && waiting === 0;
  return {
    roomId: room.roomId,
    state: room.state,
    capacity: room.capacity,
    active: room.activeCount,
    waiting,
    lastAdmittedTicket: room.lastAdmittedTicket,
    estimatedWaitSeconds: seatFree ? 0 : estimateWaitSeconds(nextPosition, room, now, timings),
  };
}
