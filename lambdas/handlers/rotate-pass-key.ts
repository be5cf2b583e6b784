/**
 * Rotates the admission-pass signing key stored in the secret named by `PASS_KEYS_SECRET_ARN`:
 * the `next` key, published in the JWKS since the previous rotation, signs from now on (once each
 * function's 5-minute cache expires); a fresh `next` key is published; the old signing key's
 * public half stays published so the passes it signed keep verifying until they expire. Rotate at
 * most once every 16 minutes (`MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS`), so that every origin has
 * the new signing key before its first pass (see the timeline in `domain/pass-keys.ts`).
 *
 * Invoked by an administrator:
 *   aws lambda invoke --function-name <RotatePassKeyFunction> --payload '{}' out.json
 * Event `{}` rotates; `{"initialize": true}` also writes a fresh key set into a secret that holds
 * none yet (a valid key set is always rotated, never replaced). As the onEvent handler of a CDK
 * custom-resource Provider, Create writes the first key set if there is none, Update and Delete
 * change nothing (a valid key set, with or without `next`, is left as it is). Returns
 * `{ kid, nextKid, previousKids, prepublished, initialized }`; keys are never logged or returned.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { PASS_KEYS_SECRET_ENV, rotateKeySetSecret, type RotationResult } from '../adapters/pass-key-sources.js';
import { readEnv, required } from '../shared/env.js';
import { createLogger } from '../shared/logger.js';

const logger = createLogger('waiting-room-rotate-pass-key');
const client = new SecretsManagerClient({});
const env = readEnv({ [PASS_KEYS_SECRET_ENV]: required() });
const secretArn = env[PASS_KEYS_SECRET_ENV];

const adminEvent = z.object({ initialize: z.boolean().optional() }).strict();
const customResourceEvent = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  PhysicalResourceId: z.string().optional(),
});

export interface CustomResourceResult {
  PhysicalResourceId: string;
  Data?: { kid: string };
}

export async function handler(event: unknown): Promise<RotationResult | CustomResourceResult> {
  const asCustomResource = customResourceEvent.safeParse(event);
  if (asCustomResource.success) {
    const { RequestType } = asCustomResource.data;
    if (RequestType !== 'Create') return { PhysicalResourceId: asCustomResource.data.PhysicalResourceId ?? secretArn };
    const result = await rotateKeySetSecret(client, secretArn, { initializeOnly: true });
    logger.info('pass key set checked at deploy time', { kid: result.kid, initialized: result.initialized });
    return { PhysicalResourceId: secretArn, Data: { kid: result.kid } };
  }

  const parsed = adminEvent.safeParse(event ?? {});
  if (!parsed.success) throw new Error('Invalid event: expected {} or {"initialize": true}');
  const result = await rotateKeySetSecret(client, secretArn, { initialize: parsed.data.initialize ?? false });
  logger.info(result.initialized ? 'pass key set initialized' : 'pass key rotated', {
    kid: result.kid,
    nextKid: result.nextKid,
    previousKids: result.previousKids,
    prepublished: result.prepublished,
  });
  if (!result.initialized && !result.prepublished) {
    logger.warn('the key set had no next key: the new signing key was not published ahead, origins may refuse its passes until they refetch the JWKS', {
      kid: result.kid,
    });
  }
  return result;
}
