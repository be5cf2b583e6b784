/**
 * The gate's configuration in the local runtime: what WaitingRoomGate (lib/gate/gate.ts) would
 * give the gate function for the local rooms, with the same paths and the same unprotected list,
 * and the local issuer.
 */
import { checkGateConfig, defaultGateConfig, type GateConfig, type GateRoom } from '../../edge/gate-code.js';
import { DEFAULT_UNPROTECTED_PATHS, GATE_API_PATH, WAITING_PAGE_PATH } from '../../lib/gate/props.js';

/**
 * The rooms of the local site when none are given: the first room protects every path (`/*`);
 * each other room protects `/<roomId>/*`, listed before it, since the first room with a matching
 * pattern owns a path.
 */
export function defaultGateRooms(roomIds: readonly string[]): GateRoom[] {
  const [first, ...others] = roomIds;
  if (first === undefined) return [];
  return [...others.map((roomId) => ({ roomId, paths: [`/${roomId}/*`] })), { roomId: first, paths: ['/*'] }];
}

/** The configuration, checked (a bad room or pattern fails here with its name). */
export function localGateConfig(rooms: readonly GateRoom[], issuer: string): GateConfig {
  return checkGateConfig({
    ...defaultGateConfig(rooms, DEFAULT_UNPROTECTED_PATHS),
    issuer,
    waitingPath: WAITING_PAGE_PATH,
    apiPath: `${GATE_API_PATH}/`,
  });
}
