/**
 * Which room's pass a path needs, by the rules of edge/README.md "Paths", written again on the
 * Node side for the demo origin: the origin checks every request it receives on its own, so it is
 * a witness of what the gate let through, not a second copy of the gate. (The unit tests hold the
 * two to the same answers.)
 *
 * The waiting page's and the API's prefixes ("/x/" or "/x": "/x", "/x/" and everything under
 * "/x/") and the unprotected patterns need no pass; otherwise the first room with a matching
 * pattern owns the path ("/a*" every path starting with "/a", any other pattern one path exactly).
 */
import type { GateConfig } from '../../edge/gate-code.js';

const matches = (pattern: string, path: string) => (pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern);

const under = (prefix: string, path: string) => {
  const slashed = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return path.startsWith(slashed) || `${path}/` === slashed;
};

/** The room whose pass `path` needs, or null when it needs none. */
export function roomOfPath(config: GateConfig, path: string): string | null {
  if (under(config.waitingPath, path) || under(config.apiPath, path) || config.unprotected.some((p) => matches(p, path))) return null;
  return config.rooms.find((room) => room.paths.some((p) => matches(p, path)))?.roomId ?? null;
}
