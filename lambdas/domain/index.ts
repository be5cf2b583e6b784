/**
 * The domain's public surface. The rules live in one folder per part, with what they all share
 * here at the top (model.ts, ports.ts, deps.ts, errors.ts, id-patterns.ts, timings.ts):
 * - visitors/: a visit (join, heartbeat, read, leave) and its credentials;
 * - line/: tickets, the sharded line, places and estimates, queueing modes, the random draw;
 * - admission/: free seats, one admission transaction, a visitor's own admission, the admitter;
 * - check-loop/: the per-token check (eviction or the next check) and the stall watch;
 * - rooms/: a room's configuration, its cached views, the operator's message;
 * - reporting/: stats from the token stream, metrics, the fairness report;
 * - events/: scheduled events, their draw and lottery, and its verifier;
 * - passes/: the admission pass and edge pass key sets.
 */
export * from './model.js';
export * from './errors.js';
export * from './ports.js';
export * from './timings.js';
export * from './line/positions.js';
export * from './visitors/credentials.js';
export * from './deps.js';
export { Admissions, type FillOptions, type FillResult } from './admission/admission.js';
export { MAX_ADMIT_ATTEMPTS } from './admission/admission-batch.js';
export { MAX_ADMIT_BATCH } from './admission/free-seats.js';
export { SEEN_BY_FILLER_MS } from './admission/self-admission.js';
export { isLive, lineShardOf, readHead, type Head, type HeadQuery } from './line/line.js';
export { ROOM_VIEW_MAX_AGE_MS, RoomViews } from './rooms/room-views.js';
export { MAX_TICKET_BLOCK, TICKET_BLOCK_MS, TicketDispenser, type TicketCounter } from './line/tickets.js';
export { Visitors, type JoinResult } from './visitors/visitors.js';
export { CHECK_DELIVERY_SLACK_MS, CheckLoop, nextDelaySeconds, type CheckOutcome } from './check-loop/check-loop.js';
export { MAX_DEFER_MS, STALL_MS, StallWatch } from './check-loop/stall-watch.js';
export { DEFAULT_LINE_SHARDS, MAX_CAPACITY, MAX_LINE_SHARDS, Rooms, statusOf, type RoomChange } from './rooms/rooms.js';
export { Departures, admissionRevoked, type DepartureOutcome, type DepartureReason } from './visitors/departures.js';
export { MAX_ROOM_MESSAGE_LENGTH, messageLength, normalizedRoomMessage, roomMessageProblem } from './rooms/room-message.js';
export { MAX_NEW_VISITORS_PER_MINUTE, RATE_BURST_MS, nextSlotAt, rateAllowance, rateLimitPerSecond, rateLimitProblem, type RateAllowance } from './admission/admission-rate.js';
export { DEFAULT_QUEUE_MODE, admitsUncapped, everyoneInFront, queueModeOf, refusesJoins } from './line/queue-modes.js';
export * from './reporting/fairness.js';
export { CALIBRATION_INTERVAL_MS, RoomCalibrator, calibrationDue, calibrationOfRoom, waitRangeIn, type CalibrationStore } from './line/estimate-calibration.js';
export { MAX_LOOKUPS_PER_ROUND, drawAttempts, drawLive, lineLengthBound, randomPlace, type Draw, type DrawQuery } from './line/random-draw.js';
export {
  DRAW_SETTLE_MS,
  boundaryKeyOf,
  eventClosesJoins,
  eventHoldsAdmissions,
  eventPhase,
  eventScheduleProblem,
  eventStepDueWithin,
  joinsPrequeue,
  phaseOf,
  publicEventOf,
  scheduledEvent,
  ticketCutOf,
  type EventSchedule,
} from './events/events.js';
export { DRAW_BUDGET_MS, EventRunner, advancingEvents, type EventRunnerDeps, type EventStep } from './events/event-draw.js';
export { EVENT_LOOKAHEAD_MS } from './reporting/metrics.js';
