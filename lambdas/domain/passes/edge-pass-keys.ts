/**
 * The edge pass key set (issue 9; edge/edge-pass.ts): HMAC keys that sign the edge passes the
 * gate checks. Plain data and pure functions; the secret and the KeyValueStore live in an adapter.
 *
 * Like the ES256 pass keys (./pass-keys.ts) the set holds `current` (signs), `next` (already in
 * the gate's KeyValueStore, signs after the next rotation) and `previous` (replaced keys, kept in
 * the store so that passes signed just before a rotation stay valid until they expire). The gate
 * reads its store at every edge location within seconds of a write, and an edge pass lives a
 * minute, so one previous key is enough when rotations are minutes apart.
 */

/** A key: its id and 32 random bytes in base64url (edge/edge-pass.ts EdgePassKey). */
export interface EdgeKey {
  kid: string;
  secret: string;
}

export interface EdgePassKeySet {
  current: EdgeKey;
  next?: EdgeKey;
  previous: EdgeKey[];
}

/** Replaced keys kept in the store: one pass lifetime's worth (rotations are minutes apart). */
export const MAX_PREVIOUS_EDGE_KEYS = 1;

/** The first key set: a signing key and the next one, both published at once. */
export function firstEdgePassKeySet(fresh: () => EdgeKey): EdgePassKeySet {
  return { current: fresh(), next: fresh(), previous: [] };
}

/** One rotation: `next` signs from now on, a fresh `next` is published, the old key is kept a while. */
export function rotateEdgePassKeySet(set: EdgePassKeySet, fresh: () => EdgeKey): EdgePassKeySet {
  return { current: set.next ?? fresh(), next: fresh(), previous: [set.current, ...set.previous].slice(0, MAX_PREVIOUS_EDGE_KEYS) };
}

/** Every key the gate must accept: current, next and the previous ones. */
export function publishedEdgeKeys(set: EdgePassKeySet): EdgeKey[] {
  return [set.current, ...(set.next ? [set.next] : []), ...set.previous];
}

/**
 * What to write to the gate's store so that it holds exactly the published keys: `puts` for
 * those missing or changed, `deletes` for store keys with our prefix that are no longer published.
 */
export function edgeStoreChanges(
  set: EdgePassKeySet,
  stored: ReadonlyMap<string, string>,
  storeKey: (kid: string) => string,
  prefix: string,
): { puts: { key: string; value: string }[]; deletes: string[] } {
  const wanted = new Map(publishedEdgeKeys(set).map((k) => [storeKey(k.kid), k.secret]));
  const puts = [...wanted].filter(([key, value]) => stored.get(key) !== value).map(([key, value]) => ({ key, value }));
  const deletes = [...stored.keys()].filter((key) => key.startsWith(prefix) && !wanted.has(key));
  return { puts, deletes };
}

/** What a rotation reports (the rotate function's answer, and `waiting-room keys rotate --edge --json`). Never a key. */
export interface EdgeRotationResult {
  kid: string;
  nextKid?: string;
  previousKids: string[];
  /** True when there was no key set yet and this wrote the first one. */
  initialized: boolean;
  /** Keys written to and removed from the gate's store. */
  stored: number;
  removed: number;
}
