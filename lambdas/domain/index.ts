/** The domain's public surface. */
export * from './model.js';
export * from './errors.js';
export * from './ports.js';
export * from './timings.js';
export * from './positions.js';
export * from './credentials.js';
export * from './deps.js';
export { Admissions, type FillOptions, type FillResult } from './admission.js';
export { MAX_ADMIT_ATTEMPTS } from './admission-batch.js';
export { MAX_ADMIT_BATCH } from './free-seats.js';
export { SEEN_BY_FILLER_MS } from './self-admission.js';
export { isLive, lineShardOf, readHead, type Head, type HeadQuery } from './line.js';
export { ROOM_VIEW_MAX_AGE_MS, RoomViews } from './room-views.js';
export { MAX_TICKET_BLOCK, TICKET_BLOCK_MS, TicketDispenser, type TicketCounter } from './tickets.js';
export { Visitors, type JoinResult } from './visitors.js';
export { CHECK_DELIVERY_SLACK_MS, CheckLoop, nextDelaySeconds, type CheckOutcome } from './check-loop.js';
export { MAX_DEFER_MS, STALL_MS, StallWatch } from './stall-watch.js';
export { DEFAULT_LINE_SHARDS, MAX_CAPACITY, MAX_LINE_SHARDS, Rooms, statusOf, type RoomChange } from './rooms.js';
export { Departures, admissionRevoked, type DepartureOutcome, type DepartureReason } from './departures.js';
export { MAX_ROOM_MESSAGE_LENGTH, messageLength, normalizedRoomMessage, roomMessageProblem } from './room-message.js';
export { MAX_NEW_VISITORS_PER_MINUTE, RATE_BURST_MS, nextSlotAt, rateAllowance, rateLimitPerSecond, rateLimitProblem, type RateAllowance } from './admission-rate.js';
export { DEFAULT_QUEUE_MODE, admitsUncapped, everyoneInFront, queueModeOf, refusesJoins } from './queue-modes.js';
export * from './fairness.js';
export { CALIBRATION_INTERVAL_MS, RoomCalibrator, calibrationDue, calibrationOfRoom, waitRangeIn, type CalibrationStore } from './estimate-calibration.js';
export { MAX_LOOKUPS_PER_ROUND, drawAttempts, drawLive, lineLengthBound, randomPlace, type Draw, type DrawQuery } from './random-draw.js';
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
} from './events.js';
export { DRAW_BUDGET_MS, EventRunner, advancingEvents, type EventRunnerDeps, type EventStep } from './event-draw.js';
export { EVENT_LOOKAHEAD_MS } from './metrics.js';
