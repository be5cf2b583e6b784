/**
 * The steps that keep a ticket (zones.ts says which is due, leadership.ts when): a heartbeat or a
 * keep-place signal (POST with the secret, answered with a token view), or, far back, a read of the
 * room's shared status from which the place is worked out (with what its event means for the
 * ticket: event-reads.ts). Outcomes go back to the client, which applies them.
 */
import type { ClientState, ClosedReason, RoomStatus, TokenView, WaitingRoomError } from './api.js';
import type { EventReads } from './event-reads.js';
import { expectStatus, expectView, toWaitingRoomError } from './http.js';
import type { ClientRequests } from './requests.js';
import { cadenceOf, viewFromStatus, type StepKind } from './zones.js';

/** server: an answer to this tab's request · status: worked out from a status read · tab: from another tab. */
export type ViewSource = 'server' | 'status' | 'tab';

export interface StepsOptions extends ClientRequests {
  roomId: string;
  events: EventReads;
  state: () => ClientState;
  view: () => TokenView | undefined;
  applyView: (view: TokenView, source: ViewSource) => void;
  /** The room is gone (its status is 404). */
  roomClosed: (tokenId: string, reason: ClosedReason) => void;
  /** No credential is stored: another tab left or lost the ticket. */
  lost: () => void;
  /** A failed status read, retried in `retryInMs`. */
  readFailed: (error: WaitingRoomError, retryInMs: number) => void;
}

export class Steps {
  constructor(private readonly options: StepsOptions) {}

  take(kind: StepKind, epoch: number): Promise<void> {
    return kind === 'status' ? this.readStatusOnce(epoch) : this.signalOnce(kind, epoch);
  }

  /** A heartbeat, or a keep-place signal from far back: POST with the secret, answered with a token view. */
  private async signalOnce(kind: 'heartbeat' | 'keep-place', epoch: number): Promise<void> {
    const { credentials, http, urls, retries, memory, now } = this.options;
    const credential = credentials.read();
    if (!credential) {
      // Another tab left or lost the ticket; its message is on the way or was lost.
      this.options.lost();
      return;
    }
    const result = await retries.attempt(
      () => http.request('POST', `${urls.token(credential.tokenId)}/${kind}`, { secret: credential.secret }).then(expectView),
      epoch,
    );
    if (result.kind === 'cancelled' || epoch !== this.options.epoch()) return;
    if (result.kind === 'failed') {
      this.options.failed(result.error, credential.tokenId);
      return;
    }
    memory.signalled(credential.tokenId, now());
    this.options.applyView(result.value, 'server');
  }

  /**
   * Far back: reads the room's shared status (no credential, cacheable) and works out the place.
   * A failure is retried after a backoff (the loop takes keep-place signals meanwhile); a 404 means
   * the room is gone. Once the place is in the front zone, heartbeats at once.
   */
  private async readStatusOnce(epoch: number): Promise<void> {
    const { http, urls, reads, retries, events, now } = this.options;
    const view = this.options.view();
    if (!view || view.state !== 'waiting' || !(await retries.untilOnline(epoch))) return;
    let status: RoomStatus;
    try {
      status = expectStatus(await http.request('GET', urls.status, { cacheable: true }), this.options.roomId, reads.last);
    } catch (caught) {
      if (epoch !== this.options.epoch()) return;
      const error = toWaitingRoomError(caught);
      if (error.status === 404) {
        this.options.roomClosed(view.tokenId, 'closed');
        return;
      }
      // Every other failure is retried: a read cannot do harm, and giving up would also stop the
      // keep-place signals that hold the ticket.
      const retryInMs = reads.failed(now(), (failures) => retries.delay(failures, error.retryAfterMs));
      this.options.readFailed(error, retryInMs);
      return;
    }
    const current = this.options.view();
    if (epoch !== this.options.epoch() || !current) return;
    reads.succeeded(status, view.ticket, now());
    const draw = events.sawStatus(view.tokenId, status);
    if (draw !== undefined) {
      // The draw moved the pre-queue's tickets: this one's place follows from its new ticket only.
      if (!(await events.rereadAfterDraw(draw, epoch))) return;
    } else {
      this.options.applyView(viewFromStatus(current, status), 'status');
    }
    const after = this.options.view();
    if (epoch === this.options.epoch() && this.options.state() === 'waiting' && after && cadenceOf(after) === 'heartbeat') {
      await this.signalOnce('heartbeat', epoch);
    }
  }
}
