/**
 * Edge passes from the API: off without EDGE_PASS_ISSUER; once admitted, the answer's cookie is a
 * pass the gate's rules accept (edge/edge-pass.ts verifyEdgePass) for that room, issuer and token,
 * living as long as the ES256 pass; nothing while waiting; a leave's cookie clears it; bad key
 * sets refused without quoting them.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { generateEdgePassKey, verifyEdgePass } from '../../../edge/edge-pass.js';
import type { TokenView } from '../../../lambdas/domain/index.js';
import { edgePassIssuerFromEnv, parseEdgePassKeySet } from '../../../lambdas/shared/edge-passes.js';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const TOKEN_ID = 'p2TpY-90aOm6Yiesw94dUA';
const current = generateEdgePassKey('k1');
const KEYS = JSON.stringify({ current, previous: [] });
const admitted = { roomId: 'shop', tokenId: TOKEN_ID, ticket: 3, state: 'admitted', pass: 'x.y.z', passExpiresAt: NOW + 60_000 } as TokenView;

const cookieValue = (setCookie: string) => /^wr_pass_shop=([^;]*);/.exec(setCookie)![1]!;

describe('edge passes from the API', () => {
  it('are off unless the room is behind a gate', () => {
    expect(edgePassIssuerFromEnv({})).toBeUndefined();
    expect(() => edgePassIssuerFromEnv({ EDGE_PASS_ISSUER: 'gate' })).toThrow(/neither EDGE_PASS_KEYS_SECRET_ARN nor WR_EDGE_PASS_KEYS/);
  });

  it('set, once admitted, a cookie the gate accepts for this room, issuer and token, as long-lived as the pass', async () => {
    const issuer = edgePassIssuerFromEnv({ EDGE_PASS_ISSUER: 'waiting-room:Shop/Gate', WR_EDGE_PASS_KEYS: KEYS, EDGE_PASS_INSECURE_COOKIE: 'true' })!;
    const [cookie, ...more] = await issuer.cookiesFor(admitted, NOW);
    expect(more).toEqual([]);
    expect(cookie).toMatch(/^wr_pass_shop=[\w-]+\.[\w-]+\.[\w-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=60$/);
    const verdict = verifyEdgePass(cookieValue(cookie!), { issuer: 'waiting-room:Shop/Gate', roomId: 'shop', now: NOW + 1000, keys: (kid) => (kid === 'k1' ? current.secret : undefined) });
    expect(verdict).toMatchObject({ ok: true, claims: { sub: TOKEN_ID, room: 'shop', exp: NOW / 1000 + 60 } });
    expect(verifyEdgePass(cookieValue(cookie!), { issuer: 'waiting-room:Shop/Gate', roomId: 'other', now: NOW, keys: () => current.secret })).toMatchObject({ ok: false, reason: 'WRONG_ROOM' });
  });

  it('set nothing while waiting, and clear the cookie on a leave; Secure unless asked otherwise', async () => {
    const issuer = edgePassIssuerFromEnv({ EDGE_PASS_ISSUER: 'gate', WR_EDGE_PASS_KEYS: KEYS })!;
    await expect(issuer.cookiesFor({ ...admitted, state: 'waiting', pass: undefined, passExpiresAt: undefined } as TokenView, NOW)).resolves.toEqual([]);
    expect(issuer.clearedCookie('shop')).toBe('wr_pass_shop=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure');
    expect((await issuer.cookiesFor(admitted, NOW))[0]).toMatch(/; Secure$/);
  });

  it('read the key set from its secret on AWS, cached', async () => {
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: KEYS });
    const issuer = edgePassIssuerFromEnv({ EDGE_PASS_ISSUER: 'gate', EDGE_PASS_KEYS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:edge' }, () => NOW)!;
    await issuer.cookiesFor(admitted, NOW);
    await issuer.cookiesFor(admitted, NOW);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    secrets.restore();
  });

  it('refuse a key set that is not one, without quoting it', () => {
    for (const bad of ['not json {secret}', '{}', JSON.stringify({ current: { kid: 'k1', secret: 'short' }, previous: [] }), JSON.stringify({ current, previous: [{ kid: 'bad kid', secret: current.secret }] })]) {
      expect(() => parseEdgePassKeySet(bad)).toThrow(/edge pass key set/);
      try {
        parseEdgePassKeySet(bad);
      } catch (error) {
        expect((error as Error).message).not.toContain(current.secret);
        expect((error as Error).message).not.toContain('{secret}');
      }
    }
    expect(parseEdgePassKeySet(KEYS)).toEqual({ current, previous: [] });
  });
});
