import type { CheckQueue, Clock, LotteryDraws, IdSource, PassIssuer, PassVerifier, WaitingCounts, WaitingRoomEvents, WaitingRoomStore } from './ports.js';
import type { LotteryReceiptIssuer } from './events/lottery.js';
import { RoomViews } from './rooms/room-views.js';
import { TicketDispenser } from './line/tickets.js';
import type { Timings } from './timings.js';

/** Everything a use case needs, injected: no AWS import below this line. */
export interface DomainDeps {
  store: WaitingRoomStore;
  clock: Clock;
  timings: Timings;
  ids: IdSource;
  /** Room views cached in this function environment (at most a second old). */
  views: RoomViews;
  /** This function environment's ticket blocks. */
  tickets: TicketDispenser;
  passes?: PassIssuer;
  /** Verifies admission passes (the origin frees a seat with one); without it, passes are off. */
  passVerifier?: PassVerifier;
  /** Signs pre-queued visitors' lottery receipts (events.ts); without it, joins in a pre-queue get none. */
  lotteryReceipts?: LotteryReceiptIssuer;
  /** Kept lottery draws (the public route serves their publications). */
  draws?: LotteryDraws;
  /** The check queue, where this function may send checks (the checker, and functions that free seats): admissions re-arm check loops through it. */
  checks?: CheckQueue;
  /** Counted waiting visitors per room, for the public status. */
  waitingCounts?: WaitingCounts;
  events?: WaitingRoomEvents;
  /** Waits between retries of a conflicting transaction, and for a deadline less than a second away; tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /** Source of jitter in [0, 1); tests pass a fixed one. */
  random?: () => number;
}

/** Options of one function environment's caches (tests and the scale model shorten or vary them). */
export interface EnvironmentOptions {
  roomViewMaxAgeMs?: number;
  ticketBlockMs?: number;
}

/** The per-environment parts of DomainDeps (room views, ticket blocks), built around a store and a clock. */
export function environmentOf(store: WaitingRoomStore, clock: Clock, options: EnvironmentOptions = {}): Pick<DomainDeps, 'views' | 'tickets'> {
  return {
    views: new RoomViews(store, clock, options.roomViewMaxAgeMs),
    tickets: new TicketDispenser(store, clock, options.ticketBlockMs),
  };
}

export const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
