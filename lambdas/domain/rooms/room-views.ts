/**
 * Room views cached per function environment (DESIGN §8, issue "no strongly consistent room read
 * per request"): joins, heartbeats, reads and the status use a view of the room at most
 * `maxAgeMs` old. The view is only ever a hint: every decision that matters (a seat taken, a
 * ticket admitted) is a condition of the write that makes it, checked by the store.
 *
 * Concurrent callers share one read (single flight); a missing room is cached too, so a flood of
 * requests for an unknown room reaches the table at most once per `maxAgeMs`.
 */
import type { Room } from '../model.js';
import type { Clock, WaitingRoomStore } from '../ports.js';

/** How old a cached room view may be. */
export const ROOM_VIEW_MAX_AGE_MS = 1_000;

interface Entry {
  room: Room | undefined;
  /** When the read that produced it was sent: its age counts from there. */
  readAt: number;
}

export class RoomViews {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<Entry>>();

  constructor(
    private readonly store: Pick<WaitingRoomStore, 'getRoom'>,
    private readonly clock: Clock,
    readonly maxAgeMs: number = ROOM_VIEW_MAX_AGE_MS,
  ) {}

  /** The room as of at most maxAgeMs ago, or undefined when it does not exist. */
  async get(roomId: string): Promise<Room | undefined> {
    return (await this.read(roomId)).room;
  }

  /** The cached view and when it was read: what is computed from the view at that time is the same for its whole life. */
  async read(roomId: string): Promise<{ room: Room | undefined; readAt: number }> {
    const entry = this.entries.get(roomId);
    if (entry && this.clock.now() - entry.readAt < this.maxAgeMs) return entry;
    let pending = this.inFlight.get(roomId);
    if (!pending) {
      const readAt = this.clock.now();
      pending = this.store.getRoom(roomId).then(
        (room) => {
          this.offer(roomId, room, readAt);
          this.inFlight.delete(roomId);
          return { room, readAt };
        },
        (error: unknown) => {
          this.inFlight.delete(roomId);
          throw error;
        },
      );
      this.inFlight.set(roomId, pending);
    }
    return pending;
  }

  /** Offers a view read elsewhere (a lease taken, a room configured): kept if it is newer than the cached one. */
  offer(roomId: string, room: Room | undefined, readAt: number = this.clock.now()): void {
    const current = this.entries.get(roomId);
    if (!current || current.readAt <= readAt) this.entries.set(roomId, { room, readAt });
  }

  /** Applies this environment's own write to the cached view (its age unchanged): a join that admitted itself shows in the next one's position. */
  patch(roomId: string, change: (room: Room) => Room): void {
    const entry = this.entries.get(roomId);
    if (entry?.room) this.entries.set(roomId, { room: change(entry.room), readAt: entry.readAt });
  }

  /** Forgets a room's view, so the next get reads it. */
  forget(roomId: string): void {
    this.entries.delete(roomId);
  }
}
