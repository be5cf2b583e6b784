/**
 * The constructs this project offers, for use in your own CDK app: the package's main entry
 * (`import { WaitingRoom } from 'serverless-waiting-room'`, compiled to dist/lib/index.js).
 */
export { WaitingRoom, validateWaitingRoomProps, type RoomDefinition, type WaitingRoomAlarms, type WaitingRoomProps } from './waiting-room.js';
export { WaitingRoomStack, type WaitingRoomStackProps } from './waiting-room-stack.js';
export { PassAuthorizer, type PassAuthorizerProps } from './pass-authorizer.js';
