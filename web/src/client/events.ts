/**
 * What the client tells the page: each event's name and payload (subscribe with
 * `WaitingRoomClient.on`).
 */
import type { ClientState, ClosedReason, TokenView, WaitingRoomError } from './api.js';

export interface EvictedEvent {
  tokenId?: string;
  /** not-found: the server no longer knows the token (silent too long, or removed) · no-credential: no ticket is stored. */
  reason: 'not-found' | 'no-credential';
}

/** The room turned the visitor away (state `closed`). */
export interface ClosedEvent {
  /** The ticket this browser held, when the room stopped a visitor already in line. */
  tokenId?: string;
  /**
   * closed: the room is closed · not-accepting: it takes no new visitors (reject mode: sold out) but
   * lets the line already in it go on. Also `client.closedReason` while the state is `closed`.
   */
  reason: ClosedReason;
}

export interface LeftEvent {
  tokenId?: string;
  /** false when another tab of this browser left the line. */
  byThisTab: boolean;
}

export interface ErrorEvent {
  error: WaitingRoomError;
  /** false: the client retries by itself in `retryInMs`; true: it gave up (state `failed`). */
  fatal: boolean;
  retryInMs?: number;
}

export interface WaitingRoomEvents {
  position: TokenView;
  admitted: TokenView;
  evicted: EvictedEvent;
  closed: ClosedEvent;
  left: LeftEvent;
  error: ErrorEvent;
  offline: Record<string, never>;
  online: Record<string, never>;
  state: ClientState;
}

export type WaitingRoomEvent = keyof WaitingRoomEvents;
