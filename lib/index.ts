/**
 * The constructs this project offers, for use in your own CDK app: the package's main entry
 * (`import { WaitingRoom } from 'serverless-waiting-room'`, compiled to dist/lib/index.js).
 */
export { WaitingRoom, validateWaitingRoomProps, type RoomDefinition, type WaitingRoomAlarms, type WaitingRoomProps } from './waiting-room.js';
export { WaitingRoomStack, type WaitingRoomStackProps } from './waiting-room-stack.js';
export { PassAuthorizer, type PassAuthorizerProps } from './pass-authorizer.js';
export { WaitingRoomGate } from './gate/gate.js';
export {
  validateWaitingRoomGateProps,
  GATE_API_PATH,
  GATE_PATH_PATTERNS,
  WAITING_PATH,
  type GateOriginByDomain,
  type GateRoom,
  type GateWafOptions,
  type WaitingRoomGateProps,
} from './gate/props.js';
export type { WaitingRoomStackGateProps } from './waiting-room-stack.js';
