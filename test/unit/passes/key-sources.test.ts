import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { decodeProtectedHeader } from 'jose';
import {
  DEFAULT_KEY_CACHE_TTL_MS,
  EnvKeySource,
  InvalidPassKeysError,
  SecretsManagerKeySource,
  generateKeySet,
  parsePassKeySet,
  rotateKeySet,
  rotateKeySetSecret,
  serializePassKeySet,
} from '../../../lambdas/adapters/pass-key-sources.js';
import { JosePassIssuer } from '../../../lambdas/adapters/pass-signer.js';
import {
  JWKS_KEY_CACHE_SECONDS,
  JWKS_MAX_AGE_SECONDS,
  MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS,
  VERIFIER_JWKS_CACHE_SECONDS,
  passJwksOf,
  publicPassJwk,
  type PassKeySet,
} from '../../../lambdas/domain/passes/pass-keys.js';
import { keySourceFromEnv, passIssuerFromEnv } from '../../../lambdas/shared/passes.js';
import { ROOM, TOKEN_ID } from './fixtures.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:wr-pass-keys-AbCdEf';
const subject = { roomId: ROOM, tokenId: TOKEN_ID, ticket: 1, epoch: 0 };
const sm = mockClient(SecretsManagerClient);

class FakeClock {
  constructor(public t = 1_700_000_000_000) {}
  now() {
    return this.t;
  }
}

let keySet: PassKeySet;
beforeEach(async () => {
  keySet = await generateKeySet();
});
afterEach(() => {
  sm.reset();
});

const secretHolding = (set: PassKeySet) => ({ SecretString: serializePassKeySet(set) });
/** A key set as written before `next` existed: `{ current, previous }`. */
const oldFormat = (set: PassKeySet) => JSON.stringify({ current: set.current, previous: set.previous });

describe('SecretsManagerKeySource', () => {
  it('reads the secret once for many passes, and again after the TTL', async () => {
    sm.on(GetSecretValueCommand).resolves(secretHolding(keySet));
    const clock = new FakeClock();
    const source = new SecretsManagerKeySource(new SecretsManagerClient({}), SECRET_ARN, { ttlMs: 300_000, clock });
    const issuer = new JosePassIssuer(source, { ttlSeconds: 60 });

    for (let i = 0; i < 20; i += 1) await issuer.issue(subject, clock.now());
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(sm.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({ SecretId: SECRET_ARN });

    // A rotation happens; within the TTL the cached key still signs.
    const rotated = await rotateKeySet(keySet);
    sm.on(GetSecretValueCommand).resolves(secretHolding(rotated));
    clock.t += 299_999;
    expect(decodeProtectedHeader((await issuer.issue(subject, clock.now())).pass).kid).toBe(keySet.current.kid);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);

    // After the TTL the secret is read again and the new key signs: the next key published ahead.
    clock.t += 1;
    expect(decodeProtectedHeader((await issuer.issue(subject, clock.now())).pass).kid).toBe(rotated.current.kid);
    expect(rotated.current.kid).toBe(keySet.next?.kid);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('shares one read between concurrent callers', async () => {
    sm.on(GetSecretValueCommand).resolves(secretHolding(keySet));
    const source = new SecretsManagerKeySource(new SecretsManagerClient({}), SECRET_ARN, { clock: new FakeClock() });
    const sets = await Promise.all(Array.from({ length: 10 }, () => source.getKeySet()));
    expect(new Set(sets).size).toBe(1);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('keeps using the cached key set when a refresh fails, and retries later', async () => {
    const clock = new FakeClock();
    const source = new SecretsManagerKeySource(new SecretsManagerClient({}), SECRET_ARN, { ttlMs: 1000, retryAfterErrorMs: 500, clock });
    sm.on(GetSecretValueCommand).resolvesOnce(secretHolding(keySet)).rejects(new Error('Secrets Manager is down'));
    await source.getKeySet();
    clock.t += 1000;
    await expect(source.getKeySet()).resolves.toMatchObject({ current: { kid: keySet.current.kid } });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    clock.t += 499;
    await source.getKeySet();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    clock.t += 1;
    await source.getKeySet();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });

  it('fails when the first read fails, and tries again on the next call', async () => {
    sm.on(GetSecretValueCommand).rejectsOnce(new Error('AccessDenied')).resolves(secretHolding(keySet));
    const source = new SecretsManagerKeySource(new SecretsManagerClient({}), SECRET_ARN, { clock: new FakeClock() });
    await expect(source.getKeySet()).rejects.toThrow('AccessDenied');
    await expect(source.getKeySet()).resolves.toMatchObject({ current: { kid: keySet.current.kid } });
  });

  it('rejects a secret that is not a key set, naming the secret but not quoting it', async () => {
    const value = `{"current": {"kty": "EC", "d": "TOP-SECRET-VALUE"`;
    sm.on(GetSecretValueCommand).resolves({ SecretString: value });
    const source = new SecretsManagerKeySource(new SecretsManagerClient({}), SECRET_ARN, { clock: new FakeClock() });
    const error = (await source.getKeySet().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(InvalidPassKeysError);
    expect(error.message).toContain(SECRET_ARN);
    expect(error.message).not.toContain('TOP-SECRET');
  });
});

describe('EnvKeySource', () => {
  it('serves the key set from WR_PASS_KEYS', async () => {
    const source = new EnvKeySource({ WR_PASS_KEYS: serializePassKeySet(keySet) });
    await expect(source.getKeySet()).resolves.toEqual(keySet);
  });

  it('rejects malformed JSON with a message naming WR_PASS_KEYS and not quoting the value', () => {
    const value = '{"current": {"d": "TOP-SECRET-VALUE", ';
    const make = () => new EnvKeySource({ WR_PASS_KEYS: value });
    expect(make).toThrow(InvalidPassKeysError);
    expect(make).toThrow(/WR_PASS_KEYS is not valid JSON/);
    expect(make).toThrow(expect.objectContaining({ message: expect.not.stringContaining('TOP-SECRET') }));
  });

  it('rejects a key set of the wrong shape, naming the variable and the member', () => {
    const noPrivate = { current: publicPassJwk(keySet.current), previous: [] };
    expect(() => new EnvKeySource({ WR_PASS_KEYS: JSON.stringify(noPrivate) })).toThrow(/WR_PASS_KEYS is not a valid pass key set: current\.d/);
    const rsa = { current: { ...keySet.current, alg: 'RS256' } };
    expect(() => new EnvKeySource({ WR_PASS_KEYS: JSON.stringify(rsa) })).toThrow(/WR_PASS_KEYS.*current\.alg/);
    // `next` is a signing key to be: its private half is required too.
    const publicNext = { current: keySet.current, next: publicPassJwk(keySet.next!), previous: [] };
    expect(() => new EnvKeySource({ WR_PASS_KEYS: JSON.stringify(publicNext) })).toThrow(/WR_PASS_KEYS is not a valid pass key set: next\.d/);
    expect(() => new EnvKeySource({ WR_PASS_KEYS: '' })).toThrow(/WR_PASS_KEYS is empty/);
    expect(() => new EnvKeySource({})).toThrow(/WR_PASS_KEYS is not set/);
  });

  it('rejects duplicate kids', async () => {
    const dup = { current: keySet.current, previous: [publicPassJwk(keySet.current)] };
    expect(() => parsePassKeySet(JSON.stringify(dup), 'WR_PASS_KEYS')).toThrow(/duplicate kid/);
    const nextIsCurrent = { current: keySet.current, next: keySet.current, previous: [] };
    expect(() => parsePassKeySet(JSON.stringify(nextIsCurrent), 'WR_PASS_KEYS')).toThrow(/duplicate kid/);
    const nextIsPrevious = { current: keySet.current, next: keySet.next, previous: [publicPassJwk(keySet.next!)] };
    expect(() => parsePassKeySet(JSON.stringify(nextIsPrevious), 'WR_PASS_KEYS')).toThrow(/duplicate kid/);
  });

  it('round-trips a key set: current, next, previous', async () => {
    const rotated = await rotateKeySet(keySet);
    const text = serializePassKeySet(rotated);
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['current', 'next', 'previous']);
    expect(parsePassKeySet(text, 'WR_PASS_KEYS')).toEqual(rotated);
  });

  it('parses an old-format key set (no next), and signs with its current key', async () => {
    const text = oldFormat(keySet);
    const parsed = parsePassKeySet(text, 'WR_PASS_KEYS');
    expect(parsed).not.toHaveProperty('next');
    expect(parsed.current).toEqual(keySet.current);
    expect(serializePassKeySet(parsed)).not.toContain('"next"');
    expect(passJwksOf(parsed).keys.map((k) => k.kid)).toEqual([keySet.current.kid]);
    const issuer = new JosePassIssuer(new EnvKeySource({ WR_PASS_KEYS: text }), { ttlSeconds: 60 });
    expect(decodeProtectedHeader((await issuer.issue(subject, Date.now())).pass).kid).toBe(keySet.current.kid);
  });

  it('drops a private member wrongly stored in previous', async () => {
    const old = await generateKeySet();
    const text = JSON.stringify({ current: keySet.current, previous: [old.current] });
    const parsed = parsePassKeySet(text, 'WR_PASS_KEYS');
    expect(parsed.previous[0]).not.toHaveProperty('d');
  });
});

describe('rotating the key set in its secret', () => {
  it('writes the rotated set as a new version: next becomes current, a fresh next, old public key kept', async () => {
    sm.on(GetSecretValueCommand).resolves(secretHolding(keySet));
    sm.on(PutSecretValueCommand).resolves({});
    const result = await rotateKeySetSecret(new SecretsManagerClient({}), SECRET_ARN);

    const put = sm.commandCalls(PutSecretValueCommand);
    expect(put).toHaveLength(1);
    const input = put[0]!.args[0].input;
    expect(input.SecretId).toBe(SECRET_ARN);
    expect(input.ClientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
    const written = parsePassKeySet(input.SecretString, 'written');
    expect(written.current.kid).toBe(result.kid);
    expect(written.current).toEqual(keySet.next);
    expect(written.next).toBeDefined();
    expect([keySet.current.kid, keySet.next!.kid]).not.toContain(written.next!.kid);
    expect(written.previous).toEqual([publicPassJwk(keySet.current)]);
    expect(result).toEqual({
      kid: keySet.next!.kid,
      nextKid: written.next!.kid,
      previousKids: [keySet.current.kid],
      prepublished: true,
      initialized: false,
    });
  });

  it('rotates an old-format key set (no next): a fresh current key, and a next from now on', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: oldFormat(keySet) });
    sm.on(PutSecretValueCommand).resolves({});
    const result = await rotateKeySetSecret(new SecretsManagerClient({}), SECRET_ARN);
    const written = parsePassKeySet(sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input.SecretString, 'written');
    expect(written.next).toBeDefined();
    expect(written.current.kid).not.toBe(keySet.current.kid);
    expect(written.previous).toEqual([publicPassJwk(keySet.current)]);
    // The new signing key was not published ahead, and the result says so.
    expect(result).toEqual({
      kid: written.current.kid,
      nextKid: written.next!.kid,
      previousKids: [keySet.current.kid],
      prepublished: false,
      initialized: false,
    });
  });

  it('refuses to overwrite a secret that holds no key set unless asked to initialize', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'generated-placeholder-password' });
    sm.on(PutSecretValueCommand).resolves({});
    await expect(rotateKeySetSecret(new SecretsManagerClient({}), SECRET_ARN)).rejects.toThrow(/--init/);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);

    const result = await rotateKeySetSecret(new SecretsManagerClient({}), SECRET_ARN, { initialize: true });
    expect(result).toMatchObject({ previousKids: [], prepublished: false, initialized: true });
    const written = parsePassKeySet(sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input.SecretString, 'written');
    expect(written.current.kid).toBe(result.kid);
    expect(written.next?.kid).toBe(result.nextKid);
    expect(result.nextKid).toBeDefined();
  });

  it('initializes a secret that has no value yet', async () => {
    sm.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT", $metadata: {} }),
    );
    sm.on(PutSecretValueCommand).resolves({});
    await expect(rotateKeySetSecret(new SecretsManagerClient({}), SECRET_ARN, { initialize: true })).resolves.toMatchObject({ initialized: true });
  });

  it('does not swallow a missing secret', async () => {
    sm.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }),
    );
    await expect(rotateKeySetSecret(new SecretsManagerClient({}), SECRET_ARN, { initialize: true })).rejects.toThrow(ResourceNotFoundException);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('initializeOnly leaves a valid key set alone', async () => {
    sm.on(GetSecretValueCommand).resolves(secretHolding(keySet));
    const result = await rotateKeySetSecret(new SecretsManagerClient({}), SECRET_ARN, { initializeOnly: true });
    expect(result).toEqual({ kid: keySet.current.kid, nextKid: keySet.next!.kid, previousKids: [], prepublished: true, initialized: false });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('initializeOnly leaves a valid old-format key set alone too (it gains next at its next rotation)', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: oldFormat(keySet) });
    const result = await rotateKeySetSecret(new SecretsManagerClient({}), SECRET_ARN, { initializeOnly: true });
    expect(result).toEqual({ kid: keySet.current.kid, previousKids: [], prepublished: true, initialized: false });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });
});

describe('pass wiring from the environment', () => {
  it('turns passes off when no key set is configured', () => {
    expect(keySourceFromEnv({})).toBeUndefined();
    expect(passIssuerFromEnv({})).toBeUndefined();
  });

  it('signs with the key set of WR_PASS_KEYS and the pass lifetime of WR_PASS_TTL_SECONDS', async () => {
    const env = { WR_PASS_KEYS: serializePassKeySet(keySet), WR_PASS_TTL_SECONDS: '30' };
    const issuer = passIssuerFromEnv(env);
    expect(issuer).toBeDefined();
    expect(passIssuerFromEnv(env)).toBe(issuer);
    const issued = await issuer!.issue(subject, 1_700_000_000_000);
    expect(issued.expiresAt).toBe(1_700_000_030_000);
    // Always the current key, never the next one (which is only published).
    expect(decodeProtectedHeader(issued.pass).kid).toBe(keySet.current.kid);
    expect(decodeProtectedHeader(issued.pass).kid).not.toBe(keySet.next?.kid);
  });

  it('reads the secret named by PASS_KEYS_SECRET_ARN', async () => {
    sm.on(GetSecretValueCommand).resolves(secretHolding(keySet));
    const source = keySourceFromEnv({ PASS_KEYS_SECRET_ARN: SECRET_ARN });
    expect(source).toBeInstanceOf(SecretsManagerKeySource);
    await expect(source!.getKeySet()).resolves.toEqual(keySet);
    expect(sm.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({ SecretId: SECRET_ARN });
  });

  it('fails fast on a malformed WR_PASS_KEYS, or on both variables set', () => {
    expect(() => passIssuerFromEnv({ WR_PASS_KEYS: 'nope' })).toThrow(/WR_PASS_KEYS/);
    expect(() => keySourceFromEnv({ WR_PASS_KEYS: serializePassKeySet(keySet), PASS_KEYS_SECRET_ARN: SECRET_ARN })).toThrow(
      /PASS_KEYS_SECRET_ARN or WR_PASS_KEYS, not both/,
    );
  });
});

describe('rotation timeline, with every cache on the way', () => {
  const STEP_S = 5;
  const PASS_TTL_S = 60;
  /** How old the JWKS function's answer behind an origin's copy may be: HTTP cache max-age + verifier cache. */
  const ORIGIN_LAG_S = JWKS_MAX_AGE_SECONDS + VERIFIER_JWKS_CACHE_SECONDS;

  /**
   * Simulates a secret rotated every `intervalS` seconds, read by a signing function (5-minute key
   * cache) and by the JWKS function (60 s), first read at the given moments (the phases of their
   * caches). An origin's copy of the JWKS at time t is an answer the JWKS function gave at some
   * time in [t - ORIGIN_LAG_S, t]. Returns the moments t at which the kid signing at t is missing
   * from such an answer, or from one given while the pass it signed is still valid.
   */
  async function unknownKidMoments(intervalS: number, phases: { signerS: number; jwksS: number }): Promise<number[]> {
    let secret = serializePassKeySet(await generateKeySet());
    sm.reset();
    sm.on(GetSecretValueCommand).callsFake(() => ({ SecretString: secret }));
    sm.on(PutSecretValueCommand).callsFake((input: { SecretString?: string }) => {
      secret = input.SecretString ?? '';
      return {};
    });
    const client = new SecretsManagerClient({});
    const clock = new FakeClock(0);
    const signer = new SecretsManagerKeySource(client, SECRET_ARN, { ttlMs: DEFAULT_KEY_CACHE_TTL_MS, clock });
    const jwksFunction = new SecretsManagerKeySource(client, SECRET_ARN, { ttlMs: JWKS_KEY_CACHE_SECONDS * 1000, clock });
    // The first key set is written at 0, so its next key is published one interval before it signs.
    const rotations = [1, 2, 3, 4].map((i) => i * intervalS);
    const end = rotations[rotations.length - 1]! + 2 * ORIGIN_LAG_S;
    const signing = new Map<number, string>();
    const served = new Map<number, Set<string>>();
    for (let t = 0; t <= end; t += STEP_S) {
      clock.t = t * 1000;
      if (rotations.includes(t)) await rotateKeySetSecret(client, SECRET_ARN);
      if (t >= phases.signerS) signing.set(t, (await signer.getKeySet()).current.kid);
      if (t >= phases.jwksS) served.set(t, new Set(passJwksOf(await jwksFunction.getKeySet()).keys.map((k) => k.kid)));
    }
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(rotations.length);

    const missing: number[] = [];
    for (const [t, kid] of signing) {
      if (t - ORIGIN_LAG_S < phases.jwksS || t + PASS_TTL_S > end) continue;
      for (let s = t - ORIGIN_LAG_S; s <= t + PASS_TTL_S; s += STEP_S) {
        if (!served.get(s)!.has(kid)) {
          missing.push(t);
          break;
        }
      }
    }
    return missing;
  }

  // Cache phases that stress the timeline: the JWKS function reading just before a rotation
  // (stale for the 60 s after it), the signer reading just after one (switching at once).
  const phaseSets = [0, 5, 65, 125, 185, 245].flatMap((signerS) => [0, 5, 30, 55].map((jwksS) => ({ signerS, jwksS })));

  it(`the minimum interval is the sum of the caches: ${MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS / 60} minutes`, () => {
    expect(MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS).toBe(JWKS_KEY_CACHE_SECONDS + JWKS_MAX_AGE_SECONDS + VERIFIER_JWKS_CACHE_SECONDS);
    expect(MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS).toBe(16 * 60);
  });

  it('with rotations at the minimum interval, no origin ever holds a JWKS without the kid that signs', async () => {
    for (const phases of phaseSets) {
      expect({ phases, missing: await unknownKidMoments(MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS, phases) }).toEqual({ phases, missing: [] });
    }
  });

  it('and the bound is tight: rotating a minute sooner, some origin may meet an unknown kid', async () => {
    let missing = 0;
    for (const phases of phaseSets) missing += (await unknownKidMoments(MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS - 60, phases)).length;
    expect(missing).toBeGreaterThan(0);
  });
});
