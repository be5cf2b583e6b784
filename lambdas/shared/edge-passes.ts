/**
 * Edge passes from the API (issue 9, edge/edge-pass.ts): when the waiting room sits behind the
 * edge gate, every answer that admits a visitor (a heartbeat, keep-place) also sets the visitor's
 * edge pass cookie for the room, `wr_pass_<roomId>` (HttpOnly, first-party: the API is under the
 * site's own domain), signed with the gate's current HMAC key and living as long as the ES256
 * pass it goes with. A leave clears it.
 *
 * Configured by the environment, and off without it:
 *   EDGE_PASS_ISSUER            the gate's issuer (WaitingRoomGate sets it)
 *   EDGE_PASS_KEYS_SECRET_ARN   the secret holding the edge key set (AWS), or
 *   WR_EDGE_PASS_KEYS           the edge key set as JSON (local runtime)
 *   EDGE_PASS_INSECURE_COOKIE   'true' leaves out Secure (http://127.0.0.1 only)
 *
 * The key set is `{ current: {kid, secret}, next?: {kid, secret}, previous: [{kid, secret}] }`:
 * `current` signs; the gate reads every key from its KeyValueStore, where the rotation puts
 * `next` one rotation ahead and keeps replaced keys for a pass lifetime. No key is ever logged.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { edgePassCookie, mintEdgePass, EDGE_PASS_KID_PATTERN, EDGE_PASS_SECRET_PATTERN, type EdgePassKey } from '../../edge/edge-pass.js';
import type { EdgePassKeySet } from '../domain/passes/edge-pass-keys.js';
import type { TokenView } from '../domain/index.js';

export type { EdgePassKeySet } from '../domain/passes/edge-pass-keys.js';

export class InvalidEdgePassKeysError extends Error {
  override name = 'InvalidEdgePassKeysError';
}

/** Parses a stored key set; the message never quotes the input (it holds secrets). */
export function parseEdgePassKeySet(text: string): EdgePassKeySet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidEdgePassKeysError('The edge pass key set is not JSON');
  }
  const isKey = (k: unknown): k is EdgePassKey =>
    typeof k === 'object' && k !== null && EDGE_PASS_KID_PATTERN.test(String((k as EdgePassKey).kid)) && EDGE_PASS_SECRET_PATTERN.test(String((k as EdgePassKey).secret));
  const set = value as Partial<EdgePassKeySet> | null;
  if (!set || !isKey(set.current) || (set.next !== undefined && !isKey(set.next)) || !Array.isArray(set.previous) || !set.previous.every(isKey)) {
    throw new InvalidEdgePassKeysError('The edge pass key set must be {current, next?, previous: []} of {kid, secret (32 bytes, base64url)}');
  }
  return { current: set.current, ...(set.next ? { next: set.next } : {}), previous: set.previous };
}

export interface EdgePassIssuer {
  /** The Set-Cookie values for an answer with this view: the pass once admitted, none while waiting. */
  cookiesFor(view: TokenView, now: number): Promise<string[]>;
  /** The Set-Cookie value that removes the room's pass (a leave). */
  clearedCookie(roomId: string): string;
}

export interface EdgePassIssuerOptions {
  issuer: string;
  keys: () => Promise<EdgePassKeySet>;
  secure: boolean;
}

export function edgePassIssuer(options: EdgePassIssuerOptions): EdgePassIssuer {
  return {
    async cookiesFor(view, now) {
      if (view.state !== 'admitted' || view.passExpiresAt === undefined) return [];
      const ttlSeconds = Math.max(1, Math.floor((view.passExpiresAt - now) / 1000));
      const { current } = await options.keys();
      const pass = mintEdgePass({ issuer: options.issuer, roomId: view.roomId, tokenId: view.tokenId, now, ttlSeconds, key: current });
      return [edgePassCookie(view.roomId, pass, { maxAgeSeconds: ttlSeconds, secure: options.secure })];
    },
    clearedCookie: (roomId) => edgePassCookie(roomId, '', { maxAgeSeconds: 0, secure: options.secure }),
  };
}

/** How long a function keeps the key set it read from Secrets Manager (as the ES256 keys). */
const KEY_CACHE_MS = 5 * 60_000;

/** The issuer the environment configures, or undefined when the room is not behind a gate. */
export function edgePassIssuerFromEnv(env: NodeJS.ProcessEnv = process.env, now: () => number = Date.now): EdgePassIssuer | undefined {
  const issuer = env.EDGE_PASS_ISSUER;
  if (!issuer) return undefined;
  const secretArn = env.EDGE_PASS_KEYS_SECRET_ARN;
  const local = env.WR_EDGE_PASS_KEYS;
  if (!secretArn && !local) throw new InvalidEdgePassKeysError('EDGE_PASS_ISSUER is set but neither EDGE_PASS_KEYS_SECRET_ARN nor WR_EDGE_PASS_KEYS is');
  let cached: { keys: EdgePassKeySet; until: number } | undefined;
  const client = secretArn ? new SecretsManagerClient({}) : undefined;
  const keys = async (): Promise<EdgePassKeySet> => {
    if (!secretArn) return parseEdgePassKeySet(local!);
    if (cached && cached.until > now()) return cached.keys;
    const { SecretString } = await client!.send(new GetSecretValueCommand({ SecretId: secretArn }));
    cached = { keys: parseEdgePassKeySet(SecretString ?? ''), until: now() + KEY_CACHE_MS };
    return cached.keys;
  };
  return edgePassIssuer({ issuer, keys, secure: env.EDGE_PASS_INSECURE_COOKIE !== 'true' });
}
