/** The constructs this project offers, for use in your own CDK app. */
export { WaitingRoom, validateWaitingRoomProps, type RoomDefinition, type WaitingRoomProps } from './waiting-room.js';
export { WaitingRoomStack, type WaitingRoomStackProps } from './waiting-room-stack.js';
export { PassAuthorizer, type PassAuthorizerProps } from './pass-authorizer.js';
