/**
 * The local edge's pass keys (issue 9): a key set made afresh for each run, as the key-rotation
 * function would make the first one, handed to both sides of the gate:
 *
 *   - the API's functions sign edge passes with `current`: they get the set as JSON in
 *     WR_EDGE_PASS_KEYS, with EDGE_PASS_ISSUER and EDGE_PASS_INSECURE_COOKIE=true (the local edge
 *     speaks http, where a Secure cookie would never be sent back), read when they are imported;
 *   - the gate reads its KeyValueStore: a Map holding every published key as `k.<kid>` → secret
 *     (`current` and `next`, as the rotation publishes them one rotation ahead).
 *
 * The secrets stay in this process: never printed, never served.
 */
import { edgePassKvsKey, generateEdgePassKey } from '../../edge/edge-pass.js';
import type { EdgePassKeySet } from '../../lambdas/shared/edge-passes.js';

/** The `iss` of the local gate's passes (a deployed gate's is `waiting-room:<stack>/<path>`). */
export const LOCAL_GATE_ISSUER = 'waiting-room:local';

export interface LocalEdgeKeys {
  readonly issuer: string;
  readonly set: EdgePassKeySet;
  /** The gate's KeyValueStore. The caller may change it (a rotation): the gate reads it on every request. */
  readonly kvs: Map<string, string>;
  /** What the API's functions need in process.env, before they are loaded. */
  readonly environment: Readonly<Record<string, string>>;
}

/** A fresh key set (a current and a next key, nothing previous), its store and its environment. */
export function localEdgeKeys(issuer: string = LOCAL_GATE_ISSUER): LocalEdgeKeys {
  const set: EdgePassKeySet = { current: generateEdgePassKey(), next: generateEdgePassKey(), previous: [] };
  const published = [set.current, ...(set.next ? [set.next] : []), ...set.previous];
  return {
    issuer,
    set,
    kvs: new Map(published.map((key) => [edgePassKvsKey(key.kid), key.secret])),
    environment: {
      EDGE_PASS_ISSUER: issuer,
      WR_EDGE_PASS_KEYS: JSON.stringify(set),
      // Secrets Manager is not emulated: should the template name the edge key secret, the set above wins.
      EDGE_PASS_KEYS_SECRET_ARN: '',
      EDGE_PASS_INSECURE_COOKIE: 'true',
    },
  };
}
