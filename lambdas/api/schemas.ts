/**
 * The API's shapes as zod schemas (DESIGN §3): path parameters, request bodies, and every body a
 * route answers with, success and error. They are the one source for both sides of the API: the
 * handlers validate requests with them (lambdas/shared/http.ts, lambdas/handlers/*.ts), and the
 * OpenAPI document (./document.ts) is generated from them with zod's own `z.toJSONSchema`.
 *
 * An HTTP API has no request models of its own (only REST APIs do): the function validates, with
 * these schemas, before any table is read; the document's request bodies and parameters are what
 * the same schemas say. The response schemas are not checked at run time; their TypeScript types
 * are checked against the domain's (`_ShapesMatchTheDomain` below), and the integration test
 * validates real answers against the document.
 *
 * Response objects list every field the server sends (`additionalProperties: false` in the
 * document, zod's output default): a field added to a view fails the tests until it is described
 * here. Clients should still ignore fields they do not know, as new ones may come.
 */
import * as z from 'zod';
import {
  MAX_CAPACITY,
  MAX_NEW_VISITORS_PER_MINUTE,
  MAX_ROOM_MESSAGE_LENGTH,
  ROOM_ID_PATTERN,
  QUEUE_MODES,
  ROOM_STATES,
  EVENT_END_ACTIONS,
  EVENT_PHASES,
  SECRET_PATTERN,
  TOKEN_ID_PATTERN,
  roomMessageProblem,
  type RoomChange,
  type RoomStatus,
  type TokenView,
} from '../domain/index.js';
import { PASS_ALGORITHM, type PassJwks } from '../domain/passes/pass-keys.js';

/**
 * The schemas the document names (its `components.schemas`), by id: request bodies as the
 * handlers read them (zod's input side), responses as the server writes them (the output side).
 */
export const requestComponents = z.registry<{ id: string }>();
export const responseComponents = z.registry<{ id: string }>();
const namedIn =
  (registry: typeof requestComponents) =>
  <T extends z.ZodType>(id: string, schema: T): T => {
    registry.add(schema, { id });
    return schema;
  };
const request = namedIn(requestComponents);
const response = namedIn(responseComponents);

// Path parameters

export const roomIdSchema = z
  .string()
  .regex(ROOM_ID_PATTERN, 'must be 1-64 letters, digits, "-" or "_"')
  .meta({ description: 'A room id: 1-64 letters, digits, "-" or "_", starting with a letter or digit.', examples: ['shop'] });
export const tokenIdSchema = z
  .string()
  .regex(TOKEN_ID_PATTERN, 'must be a 22-character token id')
  .meta({ description: 'A token id: 16 random bytes in base64url (22 characters). Public: it may appear in URLs and logs.' });

// Request bodies

/** Largest request body accepted, in bytes (413 beyond). */
export const MAX_BODY_BYTES = 4096;

/** The body of routes that take none: nothing, or an empty JSON object. */
export const emptyBodySchema = request('EmptyBody', z.strictObject({}).meta({ description: 'No body, or an empty JSON object.' }));

/** The operator's message to the line, as the API takes it (the domain's rule, lambdas/domain/rooms/room-message.ts). */
const roomMessageSchema = z
  .string()
  .superRefine((text, context) => {
    const problem = roomMessageProblem(text);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  })
  // What the refinement says about length, in JSON Schema (which counts code points, as the domain does).
  .meta({ maxLength: MAX_ROOM_MESSAGE_LENGTH });

/** A time as the admin API takes it: an ISO 8601 date-time with a zone (Z or ±hh:mm), as epoch milliseconds for the domain. */
const eventTime = (description: string) =>
  z.iso
    .datetime({ offset: true })
    .transform((text) => Date.parse(text))
    .describe(description);

export const eventScheduleSchema = request(
  'EventSchedule',
  z
    .strictObject({
      eventId: roomIdSchema.describe('The event\'s id: 1-64 letters, digits, "-" or "_", starting with a letter or digit. Part of every lottery entry.'),
      prequeueStart: eventTime('When the pre-queue opens: from then on arrivals wait (each with a signed lottery receipt) and nobody is admitted until the draw.'),
      start: eventTime('When the pre-queue closes: the seed is revealed, the pre-queue ordered by the lottery, and admissions start; later arrivals join behind it in arrival order.'),
      end: eventTime('When the event ends, if it does: then the room closes, or lets everyone through (atEnd).').optional(),
      atEnd: z.enum(EVENT_END_ACTIONS).optional().describe('What the room does at end: close (the default) or passthrough (everyone goes in, counted).'),
    })
    .meta({ description: 'A scheduled event with a verifiable lottery of its pre-queue.' }),
);

export const roomChangeSchema = request(
  'RoomChange',
  z
    .strictObject({
      capacity: z.number().int().min(0).max(MAX_CAPACITY).optional().describe('Seats: how many visitors may be admitted at once. Required to create a room.'),
      state: z.enum(ROOM_STATES).optional().describe('open: joins and admissions · paused: joins, no admissions · closed: no joins, no admissions.'),
      message: roomMessageSchema
        .nullable()
        .optional()
        .describe(
          `A message to the line, shown on the waiting page and returned in the status: plain text on one line, at most ${MAX_ROOM_MESSAGE_LENGTH} characters (no control or bidirectional control characters), stored trimmed. null or "" clears it.`,
        ),
      mode: z
        .enum(QUEUE_MODES)
        .optional()
        .describe(
          'How visitors are let in. fifo (the default): in ticket order · passthrough: everyone admitted at their first heartbeat, seats and rate limit not applied but counted (measure demand before turning the room on) · reject: no new tickets (409 ROOM_NOT_ACCEPTING with the message: sold out), those already in line go on in order · random: each free seat goes to a visitor drawn at random among the live waiting ones (everyone waiting heartbeats); a waiting position is the number in line.',
        ),
      newVisitorsPerMinute: z
        .number()
        .int()
        .min(1)
        .max(MAX_NEW_VISITORS_PER_MINUTE)
        .nullable()
        .optional()
        .describe(
          'At most this many admissions a minute, spread evenly, besides the seats (whichever binds); null removes the limit. Over any minute at most 13/12 of it plus one (a quiet spell lets 5 s worth in at once).',
        ),
      revokePasses: z
        .boolean()
        .optional()
        .describe(
          'true: an emergency stop. Every visitor admitted so far has its admission revoked: refused at its next heartbeat (410 ADMISSION_REVOKED, its seat freed), its pass no longer renewed. With any state; {"state":"paused","revokePasses":true} queues everyone.',
        ),
      event: eventScheduleSchema
        .nullable()
        .optional()
        .describe(
          'A scheduled event: a pre-queue from prequeueStart to start, ordered at start by a lottery anyone can check (the commitment to its seed is public at once, the seed at the draw), then the room until end. While its pre-queue is open, start may move to a time not yet past, and end and atEnd may change; while its draw runs, only end and atEnd. null removes it (cancelling its lottery: the pre-queue keeps arrival order).',
        ),
    })
    .refine(
      (change) => Object.values(change).some((value) => value !== undefined),
      'give capacity, state, message, mode, newVisitorsPerMinute, revokePasses or event',
    )
    // What the refinement says, in JSON Schema: at least one of the properties.
    .meta({
      description: 'Creates a room (capacity required) or changes its capacity, state, message, mode and rate limit; revokePasses stops it in an emergency.',
      minProperties: 1,
      examples: [
        { capacity: 200 },
        { state: 'paused' },
        { message: 'Saturday is sold out' },
        { mode: 'reject', message: 'Saturday is sold out' },
        { newVisitorsPerMinute: 600 },
        { state: 'paused', revokePasses: true },
        { event: { eventId: 'drop-1', prequeueStart: '2026-12-05T09:30:00Z', start: '2026-12-05T10:00:00Z', end: '2026-12-05T12:00:00Z', atEnd: 'close' } },
      ],
    }),
);

// Responses

const count = (description: string) => z.number().int().min(0).describe(description);
const seconds = (description: string) => z.number().positive().describe(description);
const isoTime = (description: string) => z.iso.datetime().describe(description);

export const tokenViewSchema = response(
  'TokenView',
  z
    .object({
      roomId: roomIdSchema,
      tokenId: tokenIdSchema,
      ticket: z.number().int().min(1).describe('The ticket taken at the join: tickets follow arrival order.'),
      state: z.enum(['waiting', 'admitted']),
      position: count('Tickets ahead not admitted yet, plus one (0 once admitted): an upper bound that only goes down.'),
      estimatedWaitSeconds: count('Estimated wait before admission, in seconds: an upper bound.'),
      estimatedWaitLowSeconds: count('The range of waits to show, from this...'),
      estimatedWaitHighSeconds: count("...to this: the estimate calibrated by the room's measured waits of the last hour."),
      roomState: z.enum(ROOM_STATES).describe("The room's state: a waiting visitor learns of a pause or a close."),
      mode: z.enum(QUEUE_MODES).describe("The room's queueing mode."),
      zone: z.enum(['front', 'far']).describe('front: heartbeat every heartbeatIntervalSeconds · far: poll the room status, keep-place every keepPlaceIntervalSeconds.'),
      heartbeatIntervalSeconds: seconds('How often to send a heartbeat while in the front zone or admitted.'),
      keepPlaceIntervalSeconds: seconds('How often to send keep-place while far from the front.'),
      heartbeatNow: z.literal(true).optional().describe('A seat looks free for this ticket: heartbeat at once to take it (a join admits nobody).'),
      pass: z.string().optional().describe('Once admitted: the admission pass, a JWT (ES256) the protected origin verifies with the JWKS.'),
      passExpiresAt: z.number().int().optional().describe('When the pass expires, epoch milliseconds; every heartbeat renews it.'),
      message: z.string().optional().describe("The operator's message to the line, when one is set: plain text, show it as text, never as HTML."),
      lotteryReceipt: z
        .string()
        .optional()
        .describe("On a join's answer in an event's pre-queue: the visitor's signed lottery receipt (an ES256 JWT, typ wr-lottery-receipt+jwt): keep it, and check it against the published draw (/lottery.html, `waiting-room lottery verify`)."),
      lotteryEventId: z.string().optional().describe("On a join's answer in an event's pre-queue: the event whose lottery this visitor is in."),
    })
    .meta({ description: "A visitor's state and place in line." }),
);

export const joinAnswerSchema = response(
  'JoinAnswer',
  tokenViewSchema
    .extend({
      secret: z.string().regex(SECRET_PATTERN).describe('32 random bytes in base64url: send as `Authorization: Bearer <secret>`. Returned this once, never again.'),
    })
    .meta({ description: 'The token view of a new visitor, and its secret.' }),
);

const epochMs = (description: string) => z.number().int().describe(description);

export const publicEventSchema = response(
  'PublicEvent',
  z
    .object({
      eventId: z.string(),
      phase: z
        .enum(EVENT_PHASES)
        .describe('scheduled: before the pre-queue · prequeue: arrivals wait, nobody admitted · drawing: the pre-queue is being ordered · live: admissions in the drawn order, then arrival order · ended.'),
      prequeueStart: epochMs('When the pre-queue opens, epoch milliseconds.'),
      start: epochMs('When the pre-queue closes and the draw is made, epoch milliseconds.'),
      end: epochMs('When the event ends, epoch milliseconds.').optional(),
      atEnd: z.enum(EVENT_END_ACTIONS).describe('What the room does at end: close, or passthrough.'),
      commitment: z.string().describe('SHA-256 of the lottery seed (64 hex digits), public before the pre-queue opens.'),
      seed: z.string().optional().describe('The lottery seed (64 hex digits), revealed with the draw: SHA-256 of its bytes is the commitment.'),
      drawnAt: epochMs('When the draw was recorded, epoch milliseconds.').optional(),
      entries: count('Entries in the draw (GET /rooms/{roomId}/lottery publishes them).').optional(),
    })
    .meta({ description: 'A scheduled event as the public sees it: its phase, times and lottery commitment (the seed once drawn).' }),
);

export const lotteryPublicationSchema = response(
  'LotteryPublication',
  z
    .object({
      roomId: roomIdSchema,
      eventId: z.string(),
      commitment: z.string().describe('SHA-256 of the seed\'s 32 bytes, 64 hex digits: published when the event was set.'),
      seed: z.string().optional().describe('The seed, 64 hex digits, once drawn.'),
      entries: z
        .array(z.string())
        .describe('Every drawn entry (SHA-256 of `wr-lottery-v1\\n<room>\\n<event>\\n<ticket>\\n<token>`), sorted; empty before the draw. No personal data.'),
      closedAt: z.number().int().optional().describe('When the pre-queue closed (the event\'s start), epoch milliseconds, once drawn.'),
    })
    .meta({ description: "An event's lottery as published: check a receipt against it with /lottery.html or `waiting-room lottery verify` (verifier/LOTTERY.md)." }),
);

export const roomStatusSchema = response(
  'RoomStatus',
  z
    .object({
      roomId: roomIdSchema,
      state: z.enum(ROOM_STATES),
      mode: z.enum(QUEUE_MODES).describe('fifo, passthrough (everyone goes in, counted), reject (no new tickets: show the message) or random (seats drawn at random among the live visitors in line).'),
      capacity: count('Seats.'),
      newVisitorsPerMinute: z.number().int().min(1).optional().describe('The admission rate limit, when the room has one.'),
      active: count('Seats taken (authoritative).'),
      waiting: count('Visitors in line, as counted from the token stream (converges to the truth).'),
      lastAdmittedTicket: count('The highest ticket admitted so far.'),
      lastTicket: count('The last ticket issued or reserved.'),
      frontZoneTicket: count('Waiting tickets up to this one are in the front zone and heartbeat; the others keep their place.'),
      ticketsPerSecond: z.number().min(0).describe('How fast lastAdmittedTicket advances, tickets per second.'),
      rateMeasured: z.boolean().describe('Whether ticketsPerSecond was measured from recent admissions (else assumed from the capacity).'),
      estimatedWaitSeconds: count('Estimated wait of a visitor joining now, in seconds: an upper bound.'),
      estimatedWaitLowSeconds: count('The range of waits of a visitor joining now, from this...'),
      estimatedWaitHighSeconds: count('...to this.'),
      estimateCalibration: z
        .object({
          lowFactor: z.number().min(0).describe('The range starts at the estimate × this.'),
          highFactor: z.number().min(0).describe('The range ends at the estimate × this.'),
          samples: count('Admitted visitors of the last hour behind the factors; under 30, the factors are defaults derived from abandonment.'),
        })
        .describe('How a page turns its own estimate (from its ticket) into the range it shows.'),
      heartbeatIntervalSeconds: seconds('How often a front-zone visitor heartbeats.'),
      keepPlaceIntervalSeconds: seconds('How often a far-back visitor sends keep-place.'),
      epoch: count("The room's epoch: each emergency stop adds one, and a pass whose `ep` claim is lower was revoked (an origin that reads this may refuse it at once)."),
      message: z.string().optional().describe("The operator's message to the line, when one is set: plain text, show it as text, never as HTML. Part of the bytes, hence of the ETag."),
      event: publicEventSchema.optional().describe("The room's scheduled event, when one is set: a page counts down to start during the pre-queue."),
    })
    .meta({ description: 'The public status of a room: the same bytes for every visitor, enough for a page to work out its own place from its ticket.' }),
);

export const adminRoomSchema = response(
  'AdminRoom',
  z
    .object({
      roomId: roomIdSchema,
      capacity: count('Seats.'),
      state: z.enum(ROOM_STATES),
      mode: z.enum(QUEUE_MODES).describe('How visitors are let in.'),
      newVisitorsPerMinute: z.number().int().min(1).optional().describe('At most this many admissions a minute, when set.'),
      activeCount: count('Seats taken.'),
      lastTicket: count('The last ticket issued or reserved (0 before the first join).'),
      lastAdmittedTicket: count('The highest ticket admitted so far.'),
      admittedTotal: count('Visitors admitted since the room was created.'),
      evictedTotal: count('Visitors removed after going silent (not counting those who left).'),
      epoch: count('Emergency stops so far (revokePasses): visitors admitted in an earlier epoch are refused.'),
      message: z.string().optional().describe("The message to the line, when one is set."),
      event: publicEventSchema.optional().describe('The scheduled event, when one is set (the seed only once drawn).'),
      createdAt: isoTime('When the room was created.'),
      updatedAt: isoTime('When the room last changed.'),
    })
    .meta({ description: 'A room as operators see it.' }),
);
export type AdminRoom = z.output<typeof adminRoomSchema>;

const share = (description: string) => z.number().min(0).max(1).nullable().describe(description);
const nullableSeconds = (description: string) => z.number().min(0).nullable().describe(description);
const ratio = (description: string) => z.number().min(0).nullable().describe(description);

export const fairnessReportSchema = response(
  'FairnessReport',
  z
    .object({
      roomId: roomIdSchema,
      windowStart: isoTime('The report covers visitors admitted or removed from then...'),
      windowEnd: isoTime('...to now (the last hour).'),
      admitted: z.number().min(0).describe('Visitors admitted in the window (an estimate when `exact` is false: busy minutes are sampled).'),
      abandoned: z.number().min(0).describe('Visitors removed while waiting in the window (left, or went silent).'),
      samples: count('Visitors sampled behind these figures.'),
      exact: z.boolean().describe('Every visitor of the window was sampled.'),
      kendallTau: z.number().min(-1).max(1).nullable().describe("Kendall's tau-b between ticket order and admission order: 1 is arrival order exactly; batched admissions (ties) keep it a little below 1."),
      orderGamma: z.number().min(-1).max(1).nullable().describe("Goodman and Kruskal's gamma over the same pairs: 1 when no visitor went in before one with a lower ticket, whatever the batching."),
      waitP50Seconds: nullableSeconds('Median wait, join to admission.'),
      waitP90Seconds: nullableSeconds('90th percentile of the wait.'),
      abandonmentRate: share('abandoned ÷ (admitted + abandoned).'),
      predicted: z
        .object({
          samples: count('Admitted visitors whose join showed an estimate.'),
          ratioSamples: count('Of them, those whose estimate was at least 10 s (the ratios below).'),
          medianRatio: ratio('Median of actual ÷ estimated wait (below 1: the estimate, an upper bound, was pessimistic).'),
          p10Ratio: ratio('10th percentile of actual ÷ estimated.'),
          p90Ratio: ratio('90th percentile of actual ÷ estimated.'),
          meanAbsoluteErrorSeconds: nullableSeconds('Mean of |actual - estimated|.'),
          rangeSamples: count('Admitted visitors whose join showed a range.'),
          withinRangeShare: share('Share of them whose wait fell within the range shown.'),
        })
        .describe('How good the estimate shown at the join was.'),
    })
    .meta({ description: "A room's fairness and accuracy over the last hour, from the token stream's samples." }),
);
export type FairnessReportView = z.output<typeof fairnessReportSchema>;

export const adminRoomListSchema = response('AdminRoomList', z.object({ rooms: z.array(adminRoomSchema).describe('Every room, by id.') }));

export const metricsRefreshSchema = response(
  'MetricsRefresh',
  z
    .object({
      executionArn: z.string().describe('The metrics state machine execution just started.'),
      startedAt: isoTime('When it started.'),
    })
    .meta({ description: 'A metrics run, started now instead of at the next scheduled one.' }),
);
export type MetricsRefresh = z.output<typeof metricsRefreshSchema>;

export const jwksSchema = response(
  'Jwks',
  z
    .object({
      keys: z.array(
        z.object({
          kty: z.literal('EC'),
          crv: z.literal('P-256'),
          x: z.string(),
          y: z.string(),
          kid: z.string(),
          alg: z.literal(PASS_ALGORITHM),
          use: z.literal('sig'),
        }),
      ),
    })
    .meta({ description: 'The public keys that verify admission passes (RFC 7517): the signing key, the next one, and recently replaced ones.' }),
);

/** Every `code` a function's error answer may carry. */
export const ERROR_CODES = [
  'BAD_REQUEST',
  'MISSING_CREDENTIAL',
  'INVALID_CREDENTIAL',
  'MISSING_PASS',
  'INVALID_PASS',
  'ROOM_NOT_FOUND',
  'TOKEN_NOT_FOUND',
  'PASSES_NOT_CONFIGURED',
  'NO_EVENT',
  'ROOM_CLOSED',
  'ROOM_NOT_ACCEPTING',
  'ADMISSION_REVOKED',
  'PAYLOAD_TOO_LARGE',
  'THROTTLED',
  'INTERNAL',
] as const;

export const errorBodySchema = response(
  'Error',
  z
    .object({
      error: z.object({
        code: z.enum(ERROR_CODES).describe('Stable, for programs.'),
        message: z.string().describe('For people; may change.'),
        details: z.array(z.string()).optional().describe('What was wrong with the input, one line per problem (400 only).'),
      }),
    })
    .meta({ description: "A function's error answer. Never a stack trace." }),
);

export const gatewayErrorSchema = response(
  'GatewayError',
  z
    .object({ message: z.string() })
    .meta({ description: "API Gateway's own error answer (throttled stage, refused signature, failed integration): it keeps API Gateway's shape." }),
);

export const openApiDocumentSchema = response(
  'OpenApiDocument',
  z
    .looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) })
    .meta({ description: 'This document: OpenAPI 3.1.' }),
);

/** Each pair holds when the schema's type and the domain's are the same both ways. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
type _ShapesMatchTheDomain = [
  Holds<Same<z.output<typeof tokenViewSchema>, TokenView>>,
  Holds<Same<z.output<typeof roomStatusSchema>, RoomStatus>>,
  Holds<Same<z.output<typeof roomChangeSchema>, RoomChange>>,
  Holds<Same<z.output<typeof jwksSchema>, PassJwks>>,
];
