/**
 * The edge pass keys on AWS, without AWS: the first set publishes a signing key and the next one;
 * a rotation makes `next` sign, publishes a fresh `next` and keeps one replaced key; the gate's
 * store is written before the secret (the gate knows a key before any pass it signs exists), with
 * the store's ETag, and ends holding exactly the published keys; a redeploy never rotates.
 */
import { DescribeKeyValueStoreCommand, ListKeysCommand, UpdateKeysCommand, CloudFrontKeyValueStoreClient } from '@aws-sdk/client-cloudfront-keyvaluestore';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateEdgePassKey } from '../../../edge/edge-pass.js';
import { rotateEdgeKeys } from '../../../lambdas/adapters/edge-key-store.js';
import { edgeStoreChanges, firstEdgePassKeySet, rotateEdgePassKeySet, type EdgeKey } from '../../../lambdas/domain/passes/edge-pass-keys.js';

let counter = 0;
const fresh = (): EdgeKey => generateEdgePassKey(`k${++counter}`);

describe('the edge key set', () => {
  it('starts with a signing key and the next one, and rotates next into signing, keeping one replaced key', () => {
    counter = 0;
    const first = firstEdgePassKeySet(fresh);
    expect([first.current.kid, first.next?.kid, first.previous]).toEqual(['k1', 'k2', []]);
    const second = rotateEdgePassKeySet(first, fresh);
    expect([second.current.kid, second.next?.kid, second.previous.map((k) => k.kid)]).toEqual(['k2', 'k3', ['k1']]);
    const third = rotateEdgePassKeySet(second, fresh);
    expect([third.current.kid, third.next?.kid, third.previous.map((k) => k.kid)]).toEqual(['k3', 'k4', ['k2']]);
  });

  it('says what the store must gain and lose to hold exactly the published keys, leaving keys of others alone', () => {
    counter = 0;
    const set = rotateEdgePassKeySet(firstEdgePassKeySet(fresh), fresh); // k2 signs, k3 next, k1 previous
    const stored = new Map([['k.k1', set.previous[0]!.secret], ['k.k0', 'old'], ['k.k2', 'stale value'], ['other', 'x']]);
    const { puts, deletes } = edgeStoreChanges(set, stored, (kid) => `k.${kid}`, 'k.');
    expect(puts.map((p) => p.key).sort()).toEqual(['k.k2', 'k.k3']);
    expect(deletes).toEqual(['k.k0']);
  });
});

describe('rotating on AWS', () => {
  const secrets = mockClient(SecretsManagerClient);
  const kvs = mockClient(CloudFrontKeyValueStoreClient);
  const order: string[] = [];
  const deps = () => ({ secrets: new SecretsManagerClient({ region: 'eu-west-1' }), kvs: new CloudFrontKeyValueStoreClient({ region: 'us-east-1' }), secretArn: 'arn:secret', kvsArn: 'arn:kvs', fresh });
  beforeEach(() => {
    counter = 0;
    order.length = 0;
    secrets.reset();
    kvs.reset();
    kvs.on(DescribeKeyValueStoreCommand).resolves({ ETag: 'etag-1', KvsARN: 'arn:kvs', Created: new Date() });
    kvs.on(UpdateKeysCommand).callsFake(() => (order.push('store'), { ETag: 'etag-2', ItemCount: 0, TotalSizeInBytes: 0 }));
    secrets.on(PutSecretValueCommand).callsFake(() => (order.push('secret'), {}));
  });
  afterEach(() => {
    secrets.restore();
    kvs.restore();
  });

  it('writes the first keys to the store, then the secret', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'generated placeholder' });
    kvs.on(ListKeysCommand).resolves({ Items: [] });
    const result = await rotateEdgeKeys(deps(), { initializeOnly: true });
    expect(result).toMatchObject({ kid: 'k1', nextKid: 'k2', previousKids: [], initialized: true, stored: 2, removed: 0 });
    expect(order).toEqual(['store', 'secret']);
    const update = kvs.commandCalls(UpdateKeysCommand)[0]!.args[0].input;
    expect(update).toMatchObject({ KvsARN: 'arn:kvs', IfMatch: 'etag-1' });
    expect(update.Puts!.map((p) => p.Key).sort()).toEqual(['k.k1', 'k.k2']);
    const written = JSON.parse(secrets.commandCalls(PutSecretValueCommand)[0]!.args[0].input.SecretString!) as { current: EdgeKey };
    expect(written.current).toEqual({ kid: 'k1', secret: update.Puts!.find((p) => p.Key === 'k.k1')!.Value });
  });

  it('rotates on demand, and a redeploy only brings the store in line (no rotation, no secret write)', async () => {
    const set = firstEdgePassKeySet(fresh); // k1, k2
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(set) });
    kvs.on(ListKeysCommand).resolves({ Items: [{ Key: 'k.k1', Value: set.current.secret }] }); // k2 went missing
    const redeploy = await rotateEdgeKeys(deps(), { initializeOnly: true });
    expect(redeploy).toMatchObject({ kid: 'k1', nextKid: 'k2', initialized: false, stored: 1, removed: 0 });
    expect(order).toEqual(['store']);

    order.length = 0;
    kvs.on(ListKeysCommand).resolves({ Items: [{ Key: 'k.k1', Value: set.current.secret }, { Key: 'k.k2', Value: set.next!.secret }] });
    const rotated = await rotateEdgeKeys(deps(), { initializeOnly: false });
    expect(rotated).toMatchObject({ kid: 'k2', nextKid: 'k3', previousKids: ['k1'], initialized: false, stored: 1, removed: 0 });
    expect(order).toEqual(['store', 'secret']);
  });
});
