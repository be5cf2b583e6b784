import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { generateKeySet, parsePassKeySet, serializePassKeySet } from '../../../lambdas/adapters/pass-key-sources.js';
import { JosePassIssuer } from '../../../lambdas/adapters/pass-signer.js';
import { MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS, passJwksOf, publicPassJwk, type PassKeySet } from '../../../lambdas/domain/passes/pass-keys.js';
import { JWKS_CACHE_MAX_AGE_MS, clearJwksCache } from '../../../verifier/index.js';
import { apiEvent } from '../../helpers/events.js';
import { MutableKeySource, ROOM, TOKEN_ID, startJwksServer, type JwksServer } from './fixtures.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:wr-pass-keys-AbCdEf';
const METHOD_ARN = 'arn:aws:execute-api:us-east-1:000000000000:abc123/prod/GET/orders';
const sm = mockClient(SecretsManagerClient);
const savedEnv = { ...process.env };

let keySet: PassKeySet;
beforeEach(async () => {
  keySet = await generateKeySet();
  vi.resetModules();
});
afterEach(() => {
  sm.reset();
  clearJwksCache();
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
});

const jwksRequest = () => apiEvent({ method: 'GET', route: '/.well-known/jwks.json' });

describe('GET /.well-known/jwks.json', () => {
  it('publishes the public keys of WR_PASS_KEYS (current, next, previous), cacheable for 5 minutes', async () => {
    const rotated: PassKeySet = { current: keySet.current, next: keySet.next, previous: [publicPassJwk((await generateKeySet()).current)] };
    process.env.WR_PASS_KEYS = serializePassKeySet(rotated);
    const { handler } = await import('../../../lambdas/handlers/jwks.js');

    const response = await handler(jwksRequest());

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' });
    const body = JSON.parse(response.body) as { keys: Record<string, unknown>[] };
    expect(body).toEqual(passJwksOf(rotated));
    expect(body.keys.map((k) => k.kid)).toEqual([rotated.current.kid, rotated.next!.kid, rotated.previous[0]!.kid]);
    for (const key of body.keys) expect(key).not.toHaveProperty('d');
    expect(response.body).not.toContain(keySet.current.d);
    expect(response.body).not.toContain(keySet.next!.d);
  });

  it('publishes an old-format key set (no next): current and previous', async () => {
    const previous = [publicPassJwk((await generateKeySet()).current)];
    process.env.WR_PASS_KEYS = JSON.stringify({ current: keySet.current, previous });
    const { handler } = await import('../../../lambdas/handlers/jwks.js');
    const body = JSON.parse((await handler(jwksRequest())).body) as { keys: Record<string, unknown>[] };
    expect(body.keys.map((k) => k.kid)).toEqual([keySet.current.kid, previous[0]!.kid]);
    for (const key of body.keys) expect(key).not.toHaveProperty('d');
  });

  it('its caches and the verifier cache add up to the minimum interval between rotations', async () => {
    const { JWKS_CACHE_CONTROL, JWKS_KEY_CACHE_TTL_MS } = await import('../../../lambdas/handlers/jwks.js');
    const maxAge = Number(/max-age=(\d+)/.exec(JWKS_CACHE_CONTROL)?.[1]);
    expect(JWKS_KEY_CACHE_TTL_MS / 1000 + maxAge + JWKS_CACHE_MAX_AGE_MS / 1000).toBe(MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS);
    expect(MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS).toBe(16 * 60);
  });

  it('reads the key set from the secret of PASS_KEYS_SECRET_ARN', async () => {
    process.env.PASS_KEYS_SECRET_ARN = SECRET_ARN;
    sm.on(GetSecretValueCommand).resolves({ SecretString: serializePassKeySet(keySet) });
    const { handler } = await import('../../../lambdas/handlers/jwks.js');

    for (let i = 0; i < 3; i += 1) expect((await handler(jwksRequest())).statusCode).toBe(200);
    expect(JSON.parse((await handler(jwksRequest())).body)).toEqual(passJwksOf(keySet));
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('answers 404 when passes are not configured', async () => {
    delete process.env.WR_PASS_KEYS;
    delete process.env.PASS_KEYS_SECRET_ARN;
    const { handler } = await import('../../../lambdas/handlers/jwks.js');
    const response = await handler(jwksRequest());
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'PASSES_NOT_CONFIGURED', message: 'Admission passes are not configured' } });
  });

  it('answers 500 without detail when the secret cannot be read', async () => {
    process.env.PASS_KEYS_SECRET_ARN = SECRET_ARN;
    sm.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));
    const { handler } = await import('../../../lambdas/handlers/jwks.js');
    const response = await handler(jwksRequest());
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('AccessDenied');
  });
});

describe('pass authorizer', () => {
  let server: JwksServer;
  let issuer: JosePassIssuer;

  beforeAll(async () => {
    server = await startJwksServer({ keys: [] });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.set(passJwksOf(keySet));
    issuer = new JosePassIssuer(new MutableKeySource(keySet), { ttlSeconds: 60 });
    process.env.PASS_JWKS_URL = server.url;
    process.env.PASS_ROOM_ID = ROOM;
  });

  const authorizer = async () => (await import('../../../lambdas/handlers/pass-authorizer.js')).handler;
  const passFor = async (roomId = ROOM, now = Date.now()) => (await issuer.issue({ roomId, tokenId: TOKEN_ID, ticket: 9, epoch: 0 }, now)).pass;

  function restEvent(headers: Record<string, string>): APIGatewayRequestAuthorizerEvent {
    return {
      type: 'REQUEST',
      methodArn: METHOD_ARN,
      resource: '/orders',
      path: '/orders',
      httpMethod: 'GET',
      headers,
      multiValueHeaders: null,
      pathParameters: null,
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      stageVariables: null,
      requestContext: {} as APIGatewayRequestAuthorizerEvent['requestContext'],
    };
  }

  const allow = (resource = METHOD_ARN): APIGatewayAuthorizerResult => ({
    principalId: TOKEN_ID,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: resource }] },
    context: { roomId: ROOM, tokenId: TOKEN_ID, ticket: 9, epoch: 0 },
  });

  it('allows a valid pass from the wr_pass cookie, with the pass claims as context', async () => {
    const handler = await authorizer();
    await expect(handler(restEvent({ Cookie: `theme=dark; wr_pass=${await passFor()}` }))).resolves.toEqual(allow());
  });

  it('allows a valid pass from Authorization: Bearer', async () => {
    const handler = await authorizer();
    await expect(handler(restEvent({ authorization: `Bearer ${await passFor()}` }))).resolves.toEqual(allow());
  });

  it('allows a valid pass on an HTTP API (routeArn, cookies array)', async () => {
    const handler = await authorizer();
    const routeArn = 'arn:aws:execute-api:us-east-1:000000000000:abc123/$default/GET/orders';
    const event = {
      version: '2.0',
      type: 'REQUEST',
      routeArn,
      identitySource: [],
      routeKey: 'GET /orders',
      rawPath: '/orders',
      rawQueryString: '',
      cookies: ['theme=dark', `wr_pass=${await passFor()}`],
      headers: {},
      requestContext: {} as APIGatewayRequestAuthorizerEventV2['requestContext'],
    } satisfies APIGatewayRequestAuthorizerEventV2;
    await expect(handler(event)).resolves.toEqual(allow(routeArn));
  });

  it('denies (403) a valid pass for another room', async () => {
    const handler = await authorizer();
    const result = await handler(restEvent({ Cookie: `wr_pass=${await passFor('other-room')}` }));
    expect(result.policyDocument.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: METHOD_ARN }]);
    expect(result.context).toBeUndefined();
  });

  it('answers Unauthorized (401) without a pass, or with an expired, forged or malformed one', async () => {
    const handler = await authorizer();
    const forger = new JosePassIssuer(new MutableKeySource({ current: { ...(await generateKeySet()).current, kid: keySet.current.kid }, previous: [] }), {
      ttlSeconds: 60,
    });
    const forged = (await forger.issue({ roomId: ROOM, tokenId: TOKEN_ID, ticket: 9, epoch: 0 }, Date.now())).pass;
    const refused: Record<string, string>[] = [
      {},
      { Cookie: 'theme=dark' },
      { Cookie: `wr_pass=${await passFor(ROOM, Date.now() - 10 * 60_000)}` },
      { Cookie: `wr_pass=${forged}` },
      { Authorization: 'Bearer not-a-pass' },
    ];
    for (const headers of refused) await expect(handler(restEvent(headers))).rejects.toThrow(/^Unauthorized$/);
  });

  it('fails closed (500, not 401) when the JWKS cannot be loaded', async () => {
    const handler = await authorizer();
    server.set({ status: 503 });
    const error = (await handler(restEvent({ Cookie: `wr_pass=${await passFor()}` })).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).not.toBe('Unauthorized');
  });

  it('fails at start-up without PASS_ROOM_ID or with a bad PASS_JWKS_URL', async () => {
    delete process.env.PASS_ROOM_ID;
    await expect(authorizer()).rejects.toThrow(/PASS_ROOM_ID/);
    vi.resetModules();
    process.env.PASS_ROOM_ID = ROOM;
    process.env.PASS_JWKS_URL = 'not a url';
    await expect(authorizer()).rejects.toThrow(/PASS_JWKS_URL/);
  });
});

describe('rotate-pass-key function', () => {
  beforeEach(() => {
    process.env.PASS_KEYS_SECRET_ARN = SECRET_ARN;
    sm.on(GetSecretValueCommand).resolves({ SecretString: serializePassKeySet(keySet) });
    sm.on(PutSecretValueCommand).resolves({});
  });
  const rotate = async () => (await import('../../../lambdas/handlers/rotate-pass-key.js')).handler;

  it('rotates the key in the secret and returns the kids, never the keys', async () => {
    const handler = await rotate();
    const result = await handler({});
    const written = parsePassKeySet(sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input.SecretString, 'written');
    expect(written.current.kid).toBe(keySet.next!.kid);
    expect(result).toEqual({
      kid: written.current.kid,
      nextKid: written.next!.kid,
      previousKids: [keySet.current.kid],
      prepublished: true,
      initialized: false,
    });
    expect(JSON.stringify(result)).not.toContain(written.current.d);
    expect(JSON.stringify(result)).not.toContain(written.next!.d);
  });

  it('rotates an old-format key set, and gives it a next key', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ current: keySet.current, previous: [] }) });
    const handler = await rotate();
    const result = await handler({});
    const written = parsePassKeySet(sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input.SecretString, 'written');
    expect(written.next).toBeDefined();
    expect(result).toEqual({
      kid: written.current.kid,
      nextKid: written.next!.kid,
      previousKids: [keySet.current.kid],
      prepublished: false,
      initialized: false,
    });
  });

  it('on a custom-resource Create, writes a key set only if there is none', async () => {
    const handler = await rotate();
    await expect(handler({ RequestType: 'Create' })).resolves.toEqual({ PhysicalResourceId: SECRET_ARN, Data: { kid: keySet.current.kid } });
    await expect(handler({ RequestType: 'Update', PhysicalResourceId: SECRET_ARN })).resolves.toEqual({ PhysicalResourceId: SECRET_ARN });
    // An old-format key set is valid too: left as it is.
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ current: keySet.current, previous: [] }) });
    await expect(handler({ RequestType: 'Create' })).resolves.toEqual({ PhysicalResourceId: SECRET_ARN, Data: { kid: keySet.current.kid } });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('on a custom-resource Create, initializes a secret holding a placeholder', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'generated-placeholder-password' });
    const handler = await rotate();
    const result = await handler({ RequestType: 'Create' });
    const written = parsePassKeySet(sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input.SecretString, 'written');
    expect(result).toEqual({ PhysicalResourceId: SECRET_ARN, Data: { kid: written.current.kid } });
    expect(written.next).toBeDefined();
  });

  it('rejects an unknown event', async () => {
    const handler = await rotate();
    await expect(handler({ rotate: 'yes' })).rejects.toThrow(/Invalid event/);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('fails at start-up without PASS_KEYS_SECRET_ARN', async () => {
    delete process.env.PASS_KEYS_SECRET_ARN;
    await expect(rotate()).rejects.toThrow(/PASS_KEYS_SECRET_ARN/);
  });
});
