/**
 * What a room's scheduled event (room-event.ts) asks of the ticket's reads: a ticket held by an
 * event whose times this browser has not read yet reads the status at once (to count down); each
 * status read remembers the event as it said it; once the status shows the draw, the ticket is
 * read once more (the draw may have changed it) before its place is worked out again.
 */
import type { RoomStatus, TokenView } from './api.js';
import { expectView } from './http.js';
import type { ClientRequests } from './requests.js';
import { drawToReread } from './room-event.js';

export interface EventReadsOptions extends ClientRequests {
  /** A view from the server, for the client to show. */
  applyView: (view: TokenView, source: 'server') => void;
}

export class EventReads {
  constructor(private readonly options: EventReadsOptions) {}

  /** A ticket held by an event whose times this browser has not read yet (a join into its pre-queue): read the status at once, to count down. */
  readSoon(tokenId: string): void {
    const { memory, reads, now } = this.options;
    if (memory.eventMemory(tokenId).heldBy !== undefined && memory.event(tokenId) === undefined) reads.nextAt = now();
  }

  /** Remembers the event a status read for `tokenId` says; returns when its draw was recorded, if the ticket must be read again after it. */
  sawStatus(tokenId: string, status: RoomStatus): number | undefined {
    const { memory } = this.options;
    memory.sawEvent(tokenId, status.event);
    return drawToReread(status.event, memory.eventMemory(tokenId));
  }

  /** Reads the token once after the event's draw recorded at `drawnAt` (its ticket may have changed); false when that failed or was cancelled. */
  async rereadAfterDraw(drawnAt: number, epoch: number): Promise<boolean> {
    const { credentials, http, urls, retries, memory } = this.options;
    const credential = credentials.read();
    if (!credential) return false; // left or lost meanwhile: the next signal finds out
    const read = await retries.attempt(() => http.request('GET', urls.token(credential.tokenId), { secret: credential.secret }).then(expectView), epoch);
    if (read.kind === 'cancelled' || epoch !== this.options.epoch()) return false;
    if (read.kind === 'failed') {
      this.options.failed(read.error, credential.tokenId);
      return false;
    }
    memory.rereadAfterDraw(credential.tokenId, drawnAt);
    this.options.applyView(read.value, 'server');
    return true;
  }
}
