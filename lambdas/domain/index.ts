/** The domain's public surface. */
export * from './model.js';
export * from './errors.js';
export * from './ports.js';
export * from './timings.js';
export * from './positions.js';
export * from './credentials.js';
export * from './deps.js';
export { Admissions, CANDIDATE_SLACK, MAX_ADMISSIONS_PER_CALL, MAX_ADMIT_ATTEMPTS, type LineMember } from './admission.js';
export { Visitors, type JoinResult } from './visitors.js';
export { CheckLoop, type CheckOutcome } from './check-loop.js';
export { MAX_CAPACITY, Rooms, statusOf, type RoomChange } from './rooms.js';
