/**
 * The fake API with a room's scheduled event on top (lambdas/domain/events/events.ts, as the server
 * answers): the event in every status, every waiting view far back until the draw, a lottery
 * receipt on a join in the pre-queue, and a draw that moves the pre-queue's tickets.
 */
import type { PublicEvent } from '../../../lambdas/domain/model.js';
import type { FetchLike, ResponseLike } from '../../../web/src/client.js';
import { T0 } from './harness.js';
import type { FakeApi } from './fakes.js';

export const RECEIPT = 'eyJhbGciOiJFUzI1NiJ9.eyJ0aWNrZXQiOjF9.c2lnbmF0dXJl';

/** An event whose pre-queue opened before the test began and which starts `startsIn` ms into it. */
export function prequeueEvent(startsIn: number): PublicEvent {
  return { eventId: 'drop-1', phase: 'prequeue', prequeueStart: T0 - 60_000, start: T0 + startsIn, atEnd: 'close', commitment: 'c'.repeat(64) };
}

const answer = (response: ResponseLike, body: unknown): ResponseLike => ({ status: response.status, headers: response.headers, text: async () => JSON.stringify(body) });

export class EventRoom {
  /** The event as the server would say it now (the test moves it through its phases). */
  event: PublicEvent | undefined;

  constructor(private readonly api: FakeApi) {}

  readonly fetch: FetchLike = async (url, init) => {
    const response = await this.api.fetch(url, init);
    const text = await response.text();
    if (response.status >= 300 || text === '') return answer(response, text === '' ? undefined : JSON.parse(text));
    const body = JSON.parse(text) as Record<string, unknown>;
    const path = new URL(url).pathname;
    const event = this.event;
    if (path.endsWith('/status')) {
      if (event) body.event = event;
    } else if (typeof body.tokenId === 'string') {
      if ((event?.phase === 'prequeue' || event?.phase === 'drawing') && body.state === 'waiting') body.zone = 'far';
      if (init.method === 'POST' && path.endsWith('/tokens') && event?.phase === 'prequeue') {
        body.lotteryEventId = event.eventId;
        body.lotteryReceipt = RECEIPT;
      }
    }
    return answer(response, body);
  };

  /** The start has passed: the draw is being made. */
  startDrawing(): void {
    this.event = { ...this.event!, phase: 'drawing' };
  }

  /** The draw: each token given its drawn ticket, then the draw recorded at `at` (ms into the test). */
  draw(tickets: ReadonlyMap<string, number>, at: number): void {
    for (const [tokenId, ticket] of tickets) this.api.tokens.get(tokenId)!.ticket = ticket;
    this.event = { ...this.event!, phase: 'live', seed: 'a'.repeat(64), drawnAt: T0 + at, entries: tickets.size };
  }
}
