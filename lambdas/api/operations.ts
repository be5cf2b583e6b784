/**
 * The API's operations, one per route of the HTTP API (lib/waiting-room.ts declares the same
 * routes, each with its function; a test checks that the two lists are the same): what each
 * takes, who may call it, and what it answers when it succeeds. ./document.ts turns this list into
 * the OpenAPI document, adding the error answers each kind of route can give:
 *   every route: 429 (throttled) and 500;
 *   a route with path parameters or a body: 400; with a body: 413;
 *   a visitor route (bearer secret) and a pass route (admission pass): 401; an admin route (SigV4):
 *   403, from API Gateway; and the ones listed in `errors` (404, 409, 410), which depend on what the
 *   route looks up.
 */
import type { z } from 'zod';
import {
  adminRoomListSchema,
  adminRoomSchema,
  emptyBodySchema,
  fairnessReportSchema,
  joinAnswerSchema,
  jwksSchema,
  metricsRefreshSchema,
  openApiDocumentSchema,
  roomChangeSchema,
  roomStatusSchema,
  lotteryPublicationSchema,
  tokenViewSchema,
} from './schemas.js';

/**
 * public: anyone · visitor: `Authorization: Bearer <secret>` · pass: the visitor's admission pass
 * (`Authorization: Bearer <pass>` or the `wr_pass` cookie), from the origin · admin: IAM, a SigV4-signed request.
 */
export type Caller = 'public' | 'visitor' | 'pass' | 'admin';

/** Response headers the document describes (components.headers). */
export type ResponseHeader = 'Location' | 'ETag' | 'CacheControl';

export interface SuccessAnswer {
  readonly status: 200 | 201 | 202 | 204 | 304;
  readonly description: string;
  /** The JSON body; none for 204 and 304. */
  readonly schema?: z.ZodType;
  readonly headers?: readonly ResponseHeader[];
}

export interface ApiOperation {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** As in the route key, e.g. /rooms/{roomId}/tokens; each {name} is a path parameter of ./schemas.ts. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: 'visitors' | 'rooms' | 'passes' | 'admin' | 'meta';
  readonly caller: Caller;
  /** The JSON body the route accepts; required unless it may be left out. */
  readonly body?: { readonly schema: z.ZodType; readonly required: boolean };
  /** The route answers 304 to a matching If-None-Match. */
  readonly conditional?: boolean;
  readonly success: readonly SuccessAnswer[];
  readonly errors?: readonly (404 | 409 | 410)[];
}

/** Routes that take no input accept an absent body or `{}`; anything else is a 400. */
const noBody = { schema: emptyBodySchema, required: false } as const;

const tokenView = (description: string): SuccessAnswer => ({ status: 200, description, schema: tokenViewSchema });

export const API_OPERATIONS: readonly ApiOperation[] = [
  {
    method: 'POST',
    path: '/rooms/{roomId}/tokens',
    operationId: 'joinRoom',
    summary: 'Join the line',
    description: 'Takes a ticket. The answer carries the secret, this once: keep it, every token route needs it.',
    tag: 'visitors',
    caller: 'public',
    body: noBody,
    success: [{ status: 201, description: 'Joined: the token view and the secret.', schema: joinAnswerSchema, headers: ['Location'] }],
    errors: [404, 409],
  },
  {
    method: 'GET',
    path: '/rooms/{roomId}/tokens/{tokenId}',
    operationId: 'getToken',
    summary: 'Read state and position (no side effect)',
    description: 'An admitted visitor whose admission an emergency stop revoked is answered 410 (ADMISSION_REVOKED).',
    tag: 'visitors',
    caller: 'visitor',
    success: [tokenView('The token view.')],
    errors: [404, 410],
  },
  {
    method: 'DELETE',
    path: '/rooms/{roomId}/tokens/{tokenId}',
    operationId: 'leaveRoom',
    summary: 'Leave (a seat held goes to the next visitor at once)',
    tag: 'visitors',
    caller: 'visitor',
    success: [{ status: 204, description: 'Left.' }],
    errors: [404],
  },
  {
    method: 'POST',
    path: '/rooms/{roomId}/tokens/{tokenId}/heartbeat',
    operationId: 'heartbeat',
    summary: 'I am still here (front zone and admitted visitors)',
    description:
      'A waiting visitor first in line takes a free seat; an admitted one gets a fresh pass, unless an emergency stop revoked its admission: then 410 (ADMISSION_REVOKED), its token removed and its seat given to the next in line.',
    tag: 'visitors',
    caller: 'visitor',
    body: noBody,
    success: [tokenView('The token view after the heartbeat.')],
    errors: [404, 410],
  },
  {
    method: 'POST',
    path: '/rooms/{roomId}/tokens/{tokenId}/keep-place',
    operationId: 'keepPlace',
    summary: 'Keep my place (far-back visitors, minutes apart)',
    description: 'Never admits: a visitor who reaches the front zone heartbeats instead.',
    tag: 'visitors',
    caller: 'visitor',
    body: noBody,
    success: [tokenView('The token view after the signal.')],
    errors: [404],
  },
  {
    method: 'GET',
    path: '/rooms/{roomId}/status',
    operationId: 'getRoomStatus',
    summary: 'Public room status',
    description: 'The same bytes for every visitor, cacheable for a second: a far-back page works out its own place from it.',
    tag: 'rooms',
    caller: 'public',
    conditional: true,
    success: [
      { status: 200, description: 'The room status.', schema: roomStatusSchema, headers: ['ETag', 'CacheControl'] },
      { status: 304, description: 'The If-None-Match header names the current bytes.', headers: ['ETag', 'CacheControl'] },
    ],
    errors: [404],
  },
  {
    method: 'GET',
    path: '/rooms/{roomId}/lottery',
    operationId: 'getLottery',
    summary: "The room's event lottery, as published",
    description:
      'Before the draw: the commitment to the seed alone (no entries). From the draw on: the seed and every entry, sorted, the same for everyone: a pre-queued visitor checks its place with its receipt (/lottery.html, `waiting-room lottery verify`).',
    tag: 'rooms',
    caller: 'public',
    success: [{ status: 200, description: 'The publication.', schema: lotteryPublicationSchema, headers: ['CacheControl'] }],
    errors: [404],
  },
  {
    method: 'POST',
    path: '/rooms/{roomId}/passes/revoke',
    operationId: 'revokePass',
    summary: "Free the seat of the pass's visitor (the origin: checkout complete)",
    description:
      "The origin sends the visitor's admission pass (`Authorization: Bearer <pass>`, or the `wr_pass` cookie as the browser sent it). The pass is verified for this room (signature, issuer, expiry) and its token removed as a leave removes it: the seat goes to the next visitor in line at once. Idempotent: a pass whose visitor already left answers 204 too.",
    tag: 'passes',
    caller: 'pass',
    body: noBody,
    success: [{ status: 204, description: 'The seat is free (or was already).' }],
    errors: [404],
  },
  {
    method: 'GET',
    path: '/.well-known/jwks.json',
    operationId: 'getPassKeys',
    summary: 'Public keys that verify admission passes',
    tag: 'passes',
    caller: 'public',
    success: [{ status: 200, description: 'The JSON Web Key Set.', schema: jwksSchema, headers: ['CacheControl'] }],
    errors: [404],
  },
  {
    method: 'GET',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This description of the API (OpenAPI 3.1)',
    tag: 'meta',
    caller: 'public',
    success: [{ status: 200, description: 'The OpenAPI document.', schema: openApiDocumentSchema, headers: ['CacheControl'] }],
  },
  {
    method: 'GET',
    path: '/admin/rooms',
    operationId: 'listRooms',
    summary: 'List rooms',
    tag: 'admin',
    caller: 'admin',
    success: [{ status: 200, description: 'Every room.', schema: adminRoomListSchema }],
  },
  {
    method: 'GET',
    path: '/admin/rooms/{roomId}',
    operationId: 'getRoom',
    summary: 'Read a room',
    tag: 'admin',
    caller: 'admin',
    success: [{ status: 200, description: 'The room.', schema: adminRoomSchema }],
    errors: [404],
  },
  {
    method: 'GET',
    path: '/admin/rooms/{roomId}/report',
    operationId: 'getRoomReport',
    summary: "A room's fairness and accuracy over the last hour",
    description:
      'Kendall tau and gamma between arrival and admission order, p50/p90 wait, abandonment, and the estimate shown at the join against the real wait; from samples of the token stream (at most 250 a minute, weighted beyond).',
    tag: 'admin',
    caller: 'admin',
    success: [{ status: 200, description: 'The report.', schema: fairnessReportSchema }],
    errors: [404],
  },
  {
    method: 'PUT',
    path: '/admin/rooms/{roomId}',
    operationId: 'putRoom',
    summary: 'Create a room, or change its capacity, state and message; stop it in an emergency',
    description:
      'A change that frees seats (more capacity, or reopening) admits the next visitors at once. revokePasses ends the admission of every visitor admitted so far (each refused at its next heartbeat, within one pass lifetime at most).',
    tag: 'admin',
    caller: 'admin',
    body: { schema: roomChangeSchema, required: true },
    success: [
      { status: 200, description: 'Changed.', schema: adminRoomSchema },
      { status: 201, description: 'Created.', schema: adminRoomSchema },
    ],
    errors: [404],
  },
  {
    method: 'POST',
    path: '/admin/metrics/refresh',
    operationId: 'refreshMetrics',
    summary: 'Publish the metrics now',
    description: 'Starts a run of the metrics state machine instead of waiting for the next scheduled one.',
    tag: 'admin',
    caller: 'admin',
    body: noBody,
    success: [{ status: 202, description: 'Started.', schema: metricsRefreshSchema }],
  },
];
