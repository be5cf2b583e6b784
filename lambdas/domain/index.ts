/** The domain's public surface. */
export * from './model.js';
export * from './errors.js';
export * from './ports.js';
export * from './timings.js';
export * from './positions.js';
export * from './credentials.js';
export * from './deps.js';
export { Admissions, MAX_ADMIT_ATTEMPTS, MAX_ADMIT_BATCH, type FillOptions, type FillResult } from './admission.js';
export { isLive, lineShardOf, readHead, type Head, type HeadQuery } from './line.js';
export { ROOM_VIEW_MAX_AGE_MS, RoomViews } from './room-views.js';
export { MAX_TICKET_BLOCK, TICKET_BLOCK_MS, TicketDispenser, type TicketCounter } from './tickets.js';
export { Visitors, type JoinResult } from './visitors.js';
export { CHECK_DELIVERY_SLACK_MS, CheckLoop, nextDelaySeconds, type CheckOutcome } from './check-loop.js';
export { MAX_DEFER_MS, STALL_MS, StallWatch } from './stall-watch.js';
export { DEFAULT_LINE_SHARDS, MAX_CAPACITY, MAX_LINE_SHARDS, Rooms, statusOf, type RoomChange } from './rooms.js';
export { Departures, admissionRevoked, type DepartureOutcome, type DepartureReason } from './departures.js';
export { MAX_ROOM_MESSAGE_LENGTH, messageLength, normalizedRoomMessage, roomMessageProblem } from './room-message.js';
