/**
 * Rotates the edge pass key (issue 9; adapters/edge-key-store.ts): the key already in the gate's
 * KeyValueStore as `next` signs from now on (once each function's 5-minute cache expires), a
 * fresh `next` is published, the replaced key stays published for a while. Rotate at least
 * 5 minutes apart (the signing functions' key cache), so no signing key is dropped from the store
 * while a pass it signed is still out.
 *
 *   aws lambda invoke --function-name <RotateEdgePassKeyFunctionName> --payload '{}' out.json
 *
 * As the onEvent handler of a CDK custom-resource Provider: Create and Update write the first key
 * set when there is none and bring the store in line with the set (a redeploy never rotates);
 * Delete changes nothing. Returns `{ kid, nextKid, previousKids, initialized, stored, removed }`;
 * keys are never logged or returned.
 *
 * Environment: EDGE_PASS_KEYS_SECRET_ARN, EDGE_PASS_KVS_ARN.
 */
import { CloudFrontKeyValueStoreClient } from '@aws-sdk/client-cloudfront-keyvaluestore';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { rotateEdgeKeys, type EdgeRotationResult } from '../adapters/edge-key-store.js';
import { readEnv, required } from '../shared/env.js';
import { createLogger } from '../shared/logger.js';

const logger = createLogger('waiting-room-rotate-edge-pass-key');
const env = readEnv({ EDGE_PASS_KEYS_SECRET_ARN: required(), EDGE_PASS_KVS_ARN: required() });
// The KeyValueStore data API is global: its SigV4A signature names no region, the client needs one.
const deps = { secrets: new SecretsManagerClient({}), kvs: new CloudFrontKeyValueStoreClient({ region: 'us-east-1' }), secretArn: env.EDGE_PASS_KEYS_SECRET_ARN, kvsArn: env.EDGE_PASS_KVS_ARN };

const customResourceEvent = z.object({ RequestType: z.enum(['Create', 'Update', 'Delete']), PhysicalResourceId: z.string().optional() });

export async function handler(event: unknown): Promise<EdgeRotationResult | { PhysicalResourceId: string; Data?: { kid: string } }> {
  const asCustomResource = customResourceEvent.safeParse(event);
  if (asCustomResource.success) {
    if (asCustomResource.data.RequestType === 'Delete') return { PhysicalResourceId: asCustomResource.data.PhysicalResourceId ?? env.EDGE_PASS_KEYS_SECRET_ARN };
    const result = await rotateEdgeKeys(deps, { initializeOnly: true });
    logger.info('edge pass keys checked at deploy time', { kid: result.kid, initialized: result.initialized, stored: result.stored, removed: result.removed });
    return { PhysicalResourceId: env.EDGE_PASS_KEYS_SECRET_ARN, Data: { kid: result.kid } };
  }
  if (!z.object({}).strict().safeParse(event ?? {}).success) throw new Error('Invalid event: expected {}');
  const result = await rotateEdgeKeys(deps, { initializeOnly: false });
  logger.info(result.initialized ? 'edge pass keys initialized' : 'edge pass key rotated', { kid: result.kid, nextKid: result.nextKid, previousKids: result.previousKids });
  return result;
}
