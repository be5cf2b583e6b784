/**
 * What the client's request-making collaborators (steps.ts, event-reads.ts) share: where to send,
 * how, what the browser keeps, and how to hand back an outcome. The client builds it once.
 */
import type { WaitingRoomError } from './api.js';
import type { CredentialStore } from './credentials.js';
import type { Http } from './http.js';
import type { LineMemory } from './line-memory.js';
import type { RoomUrls } from './options.js';
import type { Retries } from './retries.js';
import type { StatusReads } from './zones.js';

export interface ClientRequests {
  urls: RoomUrls;
  http: Http;
  credentials: CredentialStore;
  memory: LineMemory;
  reads: StatusReads;
  retries: Retries;
  now: () => number;
  /** The client's epoch: bumped to cancel everything in flight. */
  epoch: () => number;
  /** A request failed for good. */
  failed: (error: WaitingRoomError, tokenId: string) => void;
}
