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
import { publicPassJwk, type PassKeySet } from '../../../lambdas/domain/pass-keys.js';
import { keySourceFromEnv, passIssuerFromEnv } from '../../../lambdas/shared/passes.js';
import { ROOM, TOKEN_ID } from './fixtures.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:wr-pass-keys-AbCdEf';
const subject = { roomId: ROOM, tokenId: TOKEN_ID, ticket: 1 };
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

    // After the TTL the secret is read again and the new key signs.
    clock.t += 1;
    expect(decodeProtectedHeader((await issuer.issue(subject, clock.now())).pass).kid).toBe(rotated.current.kid);
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
    expect(() => new EnvKeySource({ WR_PASS_KEYS: '' })).toThrow(/WR_PASS_KEYS is empty/);
    expect(() => new EnvKeySource({})).toThrow(/WR_PASS_KEYS is not set/);
  });

  it('rejects duplicate kids', async () => {
    const dup = { current: keySet.current, previous: [publicPassJwk(keySet.current)] };
    expect(() => parsePassKeySet(JSON.stringify(dup), 'WR_PASS_KEYS')).toThrow(/duplicate kid/);
  });

  it('drops a private member wrongly stored in previous', async () => {
    const old = await generateKeySet();
    const text = JSON.stringify({ current: keySet.current, previous: [old.current] });
    const parsed = parsePassKeySet(text, 'WR_PASS_KEYS');
    expect(parsed.previous[0]).not.toHaveProperty('d');
  });
});

describe('rotating the key set in its secret', () => {
  it('writes the rotated set as a new version: new current, old public key kept', async () => {
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
    expect(written.current.kid).not.toBe(keySet.current.kid);
    expect(written.previous).toEqual([publicPassJwk(keySet.current)]);
    expect(result).toEqual({ kid: written.current.kid, previousKids: [keySet.current.kid], initialized: false });
  });

  it('refuses to overwrite a secret that holds no key set unless asked to initialize', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'generated-placeholder-password' });
    sm.on(PutSecretValueCommand).resolves({});
    await expect(rotateKeySetSecret(new SecretsManagerClient({}), SECRET_ARN)).rejects.toThrow(/--init/);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);

    const result = await rotateKeySetSecret(new SecretsManagerClient({}), SECRET_ARN, { initialize: true });
    expect(result).toMatchObject({ previousKids: [], initialized: true });
    expect(parsePassKeySet(sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input.SecretString, 'written').current.kid).toBe(result.kid);
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
    expect(result).toEqual({ kid: keySet.current.kid, previousKids: [], initialized: false });
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
    expect(decodeProtectedHeader(issued.pass).kid).toBe(keySet.current.kid);
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
