/**
 * Types of journey.js, for the TypeScript tests that drive it (the module itself is plain
 * JavaScript because k6 and Artillery load it as it is). The token view and the room status are
 * the domain's own shapes.
 */
import type { RoomStatus, TokenView } from '../lambdas/domain/model.js';

export type StepKind = 'join' | 'status' | 'keep-place' | 'heartbeat' | 'leave';
export type Count = 'joined' | 'front' | 'admitted' | 'left' | 'gave_up' | 'evicted' | 'throttled' | 'server_errors';
export type Mode = 'new' | 'far' | 'front' | 'admitted' | 'done';
export type Outcome = 'left' | 'gave_up' | 'evicted';

export interface Step {
  kind: StepKind;
  /** When it is due, epoch milliseconds. */
  at: number;
  /** A leave because the visitor's patience ran out. */
  givingUp?: true;
}

/** An answer as a driver hands it over: the status, the body's text, and two headers. */
export interface Answer {
  status: number;
  body: string;
  retryAfter?: string | undefined;
  etag?: string | undefined;
}

export const MAX_ESTIMATE_SECONDS: number;
export const MIN_POLL_SECONDS: number;
export const MAX_POLL_SECONDS: number;
export const MAX_FAILURES_IN_A_ROW: number;
export const COUNTS: readonly Count[];
export const STEPS: readonly StepKind[];
export const METHOD: Readonly<Record<StepKind, 'GET' | 'POST' | 'DELETE'>>;

export function positionOf(ticket: number, status: Pick<RoomStatus, 'lastAdmittedTicket'>): number;
export function estimateWaitSeconds(position: number, ticketsPerSecond: number): number;
export function placeOf(ticket: number, status: Pick<RoomStatus, 'lastAdmittedTicket' | 'frontZoneTicket' | 'ticketsPerSecond'>): Pick<TokenView, 'position' | 'estimatedWaitSeconds' | 'zone'>;
export function nextKeepPlaceAt(ticket: number, lastSignalAt: number, intervalSeconds: number): number;
export function farPollDelaySeconds(ticket: number, status: Pick<RoomStatus, 'lastAdmittedTicket' | 'frontZoneTicket' | 'ticketsPerSecond'>): number;
export function firstReadDelaySeconds(estimatedWaitSeconds: number): number;
export function pathOf(kind: StepKind, roomId: string, tokenId: string): string;
export function baseUrl(url: string | undefined): string;

export class UnexpectedAnswer extends Error {}

export interface JourneyOptions {
  staySeconds: number;
  maxWaitSeconds: number;
  count?: (name: Count) => void;
  random?: () => number;
}

export class Journey {
  constructor(options: JourneyOptions);
  readonly mode: Mode;
  readonly done: boolean;
  readonly tokenId: string;
  readonly secret: string;
  readonly ticket: number;
  readonly reachedFront: boolean;
  readonly wasAdmitted: boolean;
  readonly outcome: Outcome | undefined;
  readonly etag: string;
  next(now: number): Step | undefined;
  answer(step: Step, answer: Answer, sentAt: number, now: number): void;
}
