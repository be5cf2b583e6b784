/**
 * Where the pass-signing key set comes from: a Secrets Manager secret on AWS (cached), or the
 * `WR_PASS_KEYS` environment variable locally. Also key generation and rotation with jose.
 *
 * The stored key set is `{ current, next, previous }` (see `domain/pass-keys.ts`): `current`
 * signs, `next` is published ahead and signs after the next rotation, `previous` are the public
 * halves of replaced keys. A set written before `next` existed (`{ current, previous }`) still
 * parses, and gains a `next` at its next rotation.
 *
 * The key set holds a private key: nothing here logs it, and no error message quotes it (not
 * even a JSON parse error, whose message would echo the start of the input).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { exportJWK, generateKeyPair } from 'jose';
import * as z from 'zod';
import { systemClock, type Clock } from '../domain/ports.js';
import {
  MAX_PREVIOUS_PASS_KEYS,
  PASS_ALGORITHM,
  passKeyIds,
  rotatePassKeySet,
  type PassKeySet,
  type PassPrivateJwk,
} from '../domain/passes/pass-keys.js';
import { PASS_KEYS_ENV } from '../shared/env-names.js';

export { PASS_KEYS_ENV, PASS_KEYS_SECRET_ENV } from '../shared/env-names.js';

export interface PassKeySource {
  getKeySet(): Promise<PassKeySet>;
}

/** A key set that is missing, is not JSON, or does not have the expected shape. */
export class InvalidPassKeysError extends Error {
  override name = 'InvalidPassKeysError';
}

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');
const publicJwkShape = {
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: base64url,
  y: base64url,
  kid: z.string().min(1).max(128),
  alg: z.literal(PASS_ALGORITHM),
  use: z.literal('sig').default('sig'),
};
/** z.object drops unknown members, so a `d` slipped into `previous` is discarded, never published. */
const publicJwkSchema = z.object(publicJwkShape);
const privateJwkSchema = z.object({ ...publicJwkShape, d: base64url });
const keySetSchema = z.object({
  current: privateJwkSchema,
  /** Optional: key sets written before `next` existed have none. */
  next: privateJwkSchema.optional(),
  previous: z.array(publicJwkSchema).max(20).default([]),
});

/**
 * Parses and validates a key set. `origin` names where it came from (an environment variable or
 * a secret ARN) so that the error says what to fix; the value itself is never quoted.
 */
export function parsePassKeySet(text: string | undefined, origin: string): PassKeySet {
  if (text === undefined || text.trim() === '') throw new InvalidPassKeysError(`${origin} is empty: expected a pass key set as JSON`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InvalidPassKeysError(`${origin} is not valid JSON: expected {"current": <private ES256 JWK>, "next": <private ES256 JWK>, "previous": [<public JWK>...]}`);
  }
  const result = keySetSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new InvalidPassKeysError(`${origin} is not a valid pass key set: ${problems.join('; ')}`);
  }
  const { current, next, previous } = result.data;
  const keySet: PassKeySet = next ? { current, next, previous } : { current, previous };
  const kids = passKeyIds(keySet);
  if (new Set(kids).size !== kids.length) throw new InvalidPassKeysError(`${origin} is not a valid pass key set: duplicate kid`);
  return keySet;
}

/** The key set as the JSON string stored in the secret or in `WR_PASS_KEYS`: current, next, previous. */
export function serializePassKeySet(keySet: PassKeySet): string {
  const { current, next, previous } = keySet;
  return JSON.stringify(next ? { current, next, previous } : { current, previous });
}

/** The key set from `WR_PASS_KEYS`, parsed once at construction: a bad value fails at start-up. */
export class EnvKeySource implements PassKeySource {
  private readonly keySet: PassKeySet;

  constructor(env: NodeJS.ProcessEnv = process.env, variable = PASS_KEYS_ENV) {
    const value = env[variable];
    if (value === undefined) throw new InvalidPassKeysError(`${variable} is not set`);
    this.keySet = parsePassKeySet(value, variable);
  }

  async getKeySet(): Promise<PassKeySet> {
    return this.keySet;
  }
}

export interface SecretsManagerKeySourceOptions {
  /** How long a fetched key set is used before it is read again. Default 5 minutes. */
  ttlMs?: number;
  /** After a failed refresh, how long the stale key set is used before the next attempt. Default 30 s. */
  retryAfterErrorMs?: number;
  clock?: Clock;
}

export const DEFAULT_KEY_CACHE_TTL_MS = 5 * 60_000;

/**
 * The key set from a Secrets Manager secret, read at most once per TTL per execution environment.
 * Concurrent callers share one in-flight read. If a refresh fails while a key set is cached, the
 * cached one keeps being used (and the read retried later) rather than failing every request.
 */
export class SecretsManagerKeySource implements PassKeySource {
  private cached?: { keySet: PassKeySet; refreshAt: number };
  private inFlight?: Promise<PassKeySet>;
  private readonly ttlMs: number;
  private readonly retryAfterErrorMs: number;
  private readonly clock: Clock;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    options: SecretsManagerKeySourceOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_KEY_CACHE_TTL_MS;
    this.retryAfterErrorMs = options.retryAfterErrorMs ?? 30_000;
    this.clock = options.clock ?? systemClock;
  }

  async getKeySet(): Promise<PassKeySet> {
    const now = this.clock.now();
    if (this.cached && now < this.cached.refreshAt) return this.cached.keySet;
    this.inFlight ??= this.refresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async refresh(): Promise<PassKeySet> {
    try {
      const keySet = await readKeySetSecret(this.client, this.secretId);
      this.cached = { keySet, refreshAt: this.clock.now() + this.ttlMs };
      return keySet;
    } catch (error) {
      if (!this.cached) throw error;
      this.cached = { keySet: this.cached.keySet, refreshAt: this.clock.now() + this.retryAfterErrorMs };
      return this.cached.keySet;
    }
  }
}

/** Reads and validates the key set stored in a secret (its AWSCURRENT version). */
export async function readKeySetSecret(client: SecretsManagerClient, secretId: string): Promise<PassKeySet> {
  const output = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  return parsePassKeySet(output.SecretString, `The secret ${secretId}`);
}

/** A random key id: 16 base64url characters (96 bits). */
export function randomKid(): string {
  return randomBytes(12).toString('base64url');
}

/** A fresh ES256 signing key as a private JWK with a random kid. */
export async function generatePassKey(): Promise<PassPrivateJwk> {
  const { privateKey } = await generateKeyPair(PASS_ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const key = privateJwkSchema.parse({ ...jwk, kid: randomKid(), alg: PASS_ALGORITHM, use: 'sig' });
  return key;
}

/** A new key set: a fresh signing key, a fresh next key published ahead, no previous keys. */
export async function generateKeySet(): Promise<PassKeySet> {
  const [current, next] = await Promise.all([generatePassKey(), generatePassKey()]);
  return { current, next, previous: [] };
}

/**
 * The key set after one rotation (see `rotatePassKeySet`): `next` becomes current, a freshly
 * generated key becomes `next`. A set without `next` also gets a fresh current key.
 */
export async function rotateKeySet(keySet: PassKeySet, maxPrevious = MAX_PREVIOUS_PASS_KEYS): Promise<PassKeySet> {
  const next = await generatePassKey();
  const current = keySet.next ? undefined : await generatePassKey();
  return rotatePassKeySet(keySet, current ? { next, current } : { next }, maxPrevious);
}

export interface RotationResult {
  /** The kid now signing passes (once each signing function's key cache expires). */
  kid: string;
  /** The kid published ahead, which the next rotation makes current; absent from an old-format set. */
  nextKid?: string;
  /** The replaced kids still published for verification, newest first. */
  previousKids: string[];
  /**
   * True when the signing key was already in the JWKS before this call (it was `next`), so
   * origins know it. False for a fresh key set, or for the first rotation of a set that had no
   * `next`: origins then learn the new kid from a refetch, up to `MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS`.
   */
  prepublished: boolean;
  /** True when the secret held no valid key set and a fresh one was written instead. */
  initialized: boolean;
}

function rotationResult(keySet: PassKeySet, prepublished: boolean, initialized: boolean): RotationResult {
  return {
    kid: keySet.current.kid,
    ...(keySet.next ? { nextKid: keySet.next.kid } : {}),
    previousKids: keySet.previous.map((k) => k.kid),
    prepublished,
    initialized,
  };
}

export interface RotateSecretOptions {
  /**
   * When the secret holds no valid key set (no value yet, or a placeholder), write a fresh one
   * instead of failing. A valid key set is always rotated, never replaced.
   */
  initialize?: boolean;
  /** Only initialize: leave a valid key set as it is (for a deploy-time custom resource). */
  initializeOnly?: boolean;
  maxPrevious?: number;
}

/**
 * Rotates the key set stored in a secret: reads it, rotates it, writes the result as a new
 * AWSCURRENT version. Functions pick the new signing key up when their cache expires (5 minutes);
 * it has been in the JWKS since the previous rotation (as `next`), so origins already know it.
 * The old signing key stays in the JWKS so passes it signed keep verifying until they expire.
 * Rotate at most once per `MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS` (16 minutes).
 */
export async function rotateKeySetSecret(
  client: SecretsManagerClient,
  secretId: string,
  options: RotateSecretOptions = {},
): Promise<RotationResult> {
  let existing: PassKeySet | undefined;
  try {
    existing = await readKeySetSecret(client, secretId);
  } catch (error) {
    const noValue = error instanceof Error && error.name === 'ResourceNotFoundException' && /staging label|secret value/i.test(error.message);
    if (!(error instanceof InvalidPassKeysError) && !noValue) throw error;
    if (!options.initialize && !options.initializeOnly) {
      const why = error instanceof InvalidPassKeysError ? error.message : `The secret ${secretId} has no value yet`;
      throw new InvalidPassKeysError(`${why}. To write a fresh key set into it, rotate with the initialize option (--init).`);
    }
  }
  // A valid key set, even one without `next`, is left as it is: it keeps signing.
  if (existing && options.initializeOnly) return rotationResult(existing, true, false);
  const written = existing ? await rotateKeySet(existing, options.maxPrevious) : await generateKeySet();
  await client.send(
    new PutSecretValueCommand({ SecretId: secretId, SecretString: serializePassKeySet(written), ClientRequestToken: randomUUID() }),
  );
  return rotationResult(written, existing?.next !== undefined, existing === undefined);
}
