/**
 * Where the edge pass keys live on AWS (issue 9): the key set in a Secrets Manager secret, read by
 * the functions that sign edge passes (shared/edge-passes.ts), and every published key in the
 * gate's CloudFront KeyValueStore as `k.<kid>`, read by the gate function at the edge. A rotation
 * writes the store first (the new `next` and everything still valid), then the secret (which key
 * signs), so the gate always knows a key before any pass signed with it exists.
 *
 * The KeyValueStore data API is signed with SigV4A: the `@aws-sdk/signature-v4a` import below
 * registers the (pure JavaScript) signer the client needs. Keys are never logged or returned.
 */
import '@aws-sdk/signature-v4a';
import { DescribeKeyValueStoreCommand, ListKeysCommand, UpdateKeysCommand, type CloudFrontKeyValueStoreClient } from '@aws-sdk/client-cloudfront-keyvaluestore';
import { GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EDGE_PASS_KVS_KEY_PREFIX, edgePassKvsKey, generateEdgePassKey } from '../../edge/edge-pass.js';
import { edgeStoreChanges, firstEdgePassKeySet, rotateEdgePassKeySet, type EdgeKey, type EdgePassKeySet, type EdgeRotationResult } from '../domain/passes/edge-pass-keys.js';

export type { EdgeRotationResult } from '../domain/passes/edge-pass-keys.js';
import { InvalidEdgePassKeysError, parseEdgePassKeySet } from '../shared/edge-passes.js';

export interface EdgeKeyStoreDeps {
  secrets: Pick<SecretsManagerClient, 'send'>;
  kvs: Pick<CloudFrontKeyValueStoreClient, 'send'>;
  secretArn: string;
  kvsArn: string;
  /** A fresh key (a seam for tests). */
  fresh?: () => EdgeKey;
}

/** The stored key set, or undefined while the secret holds none yet (its generated placeholder). */
async function readKeySet(deps: EdgeKeyStoreDeps): Promise<EdgePassKeySet | undefined> {
  const { SecretString } = await deps.secrets.send(new GetSecretValueCommand({ SecretId: deps.secretArn }));
  try {
    return parseEdgePassKeySet(SecretString ?? '');
  } catch (error) {
    if (error instanceof InvalidEdgePassKeysError) return undefined;
    throw error;
  }
}

/** Makes the gate's store hold exactly the published keys (optimistic locking on the store's ETag). */
async function syncStore(deps: EdgeKeyStoreDeps, set: EdgePassKeySet): Promise<{ stored: number; removed: number }> {
  const { ETag } = await deps.kvs.send(new DescribeKeyValueStoreCommand({ KvsARN: deps.kvsArn }));
  const stored = new Map<string, string>();
  let nextToken: string | undefined;
  do {
    const page = await deps.kvs.send(new ListKeysCommand({ KvsARN: deps.kvsArn, ...(nextToken ? { NextToken: nextToken } : {}) }));
    for (const item of page.Items ?? []) if (item.Key !== undefined && item.Value !== undefined) stored.set(item.Key, item.Value);
    nextToken = page.NextToken;
  } while (nextToken);
  const { puts, deletes } = edgeStoreChanges(set, stored, edgePassKvsKey, EDGE_PASS_KVS_KEY_PREFIX);
  if (puts.length + deletes.length > 0) {
    await deps.kvs.send(
      new UpdateKeysCommand({
        KvsARN: deps.kvsArn,
        IfMatch: ETag,
        ...(puts.length > 0 ? { Puts: puts.map((p) => ({ Key: p.key, Value: p.value })) } : {}),
        ...(deletes.length > 0 ? { Deletes: deletes.map((key) => ({ Key: key })) } : {}),
      }),
    );
  }
  return { stored: puts.length, removed: deletes.length };
}

/**
 * Rotates the edge key set (or writes the first one), store first, then secret. With
 * `initializeOnly`, an existing set is not rotated: the store is brought in line with it (a
 * redeploy, or a store that was emptied).
 */
export async function rotateEdgeKeys(deps: EdgeKeyStoreDeps, options: { initializeOnly: boolean }): Promise<EdgeRotationResult> {
  const fresh = deps.fresh ?? (() => generateEdgePassKey());
  const existing = await readKeySet(deps);
  const set = existing ? (options.initializeOnly ? existing : rotateEdgePassKeySet(existing, fresh)) : firstEdgePassKeySet(fresh);
  const { stored, removed } = await syncStore(deps, set);
  if (set !== existing) await deps.secrets.send(new PutSecretValueCommand({ SecretId: deps.secretArn, SecretString: JSON.stringify(set) }));
  return { kid: set.current.kid, ...(set.next ? { nextKid: set.next.kid } : {}), previousKids: set.previous.map((k) => k.kid), initialized: !existing, stored, removed };
}
