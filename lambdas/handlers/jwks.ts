/**
 * GET /.well-known/jwks.json: the public keys that verify admission passes (DESIGN §7). Only
 * public members are published (no private `d`): the current key, the next key (published one
 * rotation ahead, it signs nothing yet) and the keys current replaced. 404 when passes are not
 * configured.
 *
 * Its two caches (the key set for 60 s here, the answer for 300 s in HTTP caches and CDNs) and
 * the verifier's 10-minute JWKS cache add up to the minimum interval between rotations
 * (`MIN_PASS_KEY_ROTATION_INTERVAL_SECONDS`, 16 minutes): lengthening one lengthens it.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { PassKeySource } from '../adapters/pass-key-sources.js';
import { JWKS_KEY_CACHE_SECONDS, JWKS_MAX_AGE_SECONDS, passJwksOf } from '../domain/passes/pass-keys.js';
import { createLogger } from '../shared/logger.js';
import { httpHandler, json, type HttpResponse } from '../shared/http.js';
import { keySourceFromEnv } from '../shared/passes.js';

/** How long the function keeps the key set read from Secrets Manager: short, so a rotation shows quickly. */
export const JWKS_KEY_CACHE_TTL_MS = JWKS_KEY_CACHE_SECONDS * 1000;
export const JWKS_CACHE_CONTROL = `public, max-age=${JWKS_MAX_AGE_SECONDS}`;

export function createJwksHandler(
  source: PassKeySource | undefined,
  logger: Logger,
): (event: APIGatewayProxyEventV2) => Promise<HttpResponse> {
  return httpHandler(logger, async () => {
    if (!source) {
      return json(404, { error: { code: 'PASSES_NOT_CONFIGURED', message: 'Admission passes are not configured' } });
    }
    const jwks = passJwksOf(await source.getKeySet());
    logger.debug('served the JWKS', { kids: jwks.keys.map((k) => k.kid) });
    return json(200, jwks, { 'Cache-Control': JWKS_CACHE_CONTROL });
  });
}

const logger = createLogger('waiting-room-jwks');
export const handler = createJwksHandler(keySourceFromEnv(process.env, { cacheTtlMs: JWKS_KEY_CACHE_TTL_MS }), logger);
