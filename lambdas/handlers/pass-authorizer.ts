/**
 * An API Gateway REQUEST Lambda authorizer for your own API behind the waiting room: a request
 * passes only with a valid admission pass for `PASS_ROOM_ID` (DESIGN §7), read from the `wr_pass`
 * cookie, else from `Authorization: Bearer <pass>`, and verified offline against `PASS_JWKS_URL`.
 *
 * Outcomes, as API Gateway expects them:
 * - valid pass → Allow policy for this `methodArn` (or `routeArn` for an HTTP API), principalId
 *   the token id, context `{ roomId, tokenId, ticket, epoch }` (`$context.authorizer.tokenId`...);
 * - pass for another room → Deny policy: API Gateway answers 403;
 * - no pass, or an expired, forged, malformed or unknown-key pass → throws `Error('Unauthorized')`:
 *   API Gateway answers 401 (send the visitor back to the waiting room);
 * - the JWKS cannot be loaded → throws another error: API Gateway answers 500 (fails closed).
 *
 * Offline, it cannot know the room's epoch: a pass that an emergency stop revoked is refused once it
 * expires (passTtlSeconds, 60 s by default; heartbeats no longer renew it). The backend may compare
 * the context's `epoch` with the room status's own, where it must refuse such a pass at once.
 *
 * Configure the authorizer with result caching off (`resultsCacheTtl: Duration.seconds(0)` in
 * CDK): a cached Allow would outlive the pass, and without caching the identity sources are
 * optional, so the cookie or the Authorization header may be absent.
 *
 * Environment: PASS_JWKS_URL (required, the waiting room's /.well-known/jwks.json),
 * PASS_ROOM_ID (required), PASS_ISSUER (default "waiting-room"),
 * PASS_CLOCK_TOLERANCE_SECONDS (default 5).
 */
import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
} from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import {
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_PASS_ISSUER,
  PassRejectedError,
  passFromHeaders,
  verifyPass,
  type FetchLike,
  type PassClaims,
} from '../../verifier/index.js';
import { readEnv, required } from '../shared/env.js';
import { createLogger } from '../shared/logger.js';

export type PassAuthorizerEvent = APIGatewayRequestAuthorizerEvent | APIGatewayRequestAuthorizerEventV2;

export interface PassAuthorizerOptions {
  jwksUrl: string | URL;
  roomId: string;
  issuer?: string;
  clockToleranceSeconds?: number;
  fetch?: FetchLike;
}

export interface PassAuthorizerContext {
  [key: string]: string | number;
  roomId: string;
  tokenId: string;
  ticket: number;
  /** The room's epoch the visitor was admitted in (the pass's `ep`). */
  epoch: number;
}

function policy(principalId: string, effect: 'Allow' | 'Deny', resource: string): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }] },
  };
}

/** The request's headers, with an HTTP API's separate `cookies` array folded into `Cookie`. */
function requestHeaders(event: PassAuthorizerEvent): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = { ...(event.headers ?? {}) };
  if ('cookies' in event && Array.isArray(event.cookies) && event.cookies.length > 0) {
    const existing = Object.entries(headers).find(([k]) => k.toLowerCase() === 'cookie')?.[1];
    for (const key of Object.keys(headers)) if (key.toLowerCase() === 'cookie') delete headers[key];
    headers.cookie = [existing, ...event.cookies].filter((v): v is string => !!v).join('; ');
  }
  return headers;
}

export function createPassAuthorizer(
  options: PassAuthorizerOptions,
  logger: Logger,
): (event: PassAuthorizerEvent) => Promise<APIGatewayAuthorizerResult> {
  return async (event) => {
    const resource = 'methodArn' in event ? event.methodArn : event.routeArn;
    const pass = passFromHeaders(requestHeaders(event));
    let claims: PassClaims;
    try {
      if (pass === undefined) throw new PassRejectedError('missing', 'No admission pass');
      claims = await verifyPass(pass, options);
    } catch (error) {
      if (!(error instanceof PassRejectedError)) throw error;
      if (error.reason === 'jwks-unavailable') {
        logger.error('pass refused: the waiting room key set is unavailable', { reason: error.reason });
        throw new Error('The waiting room key set is unavailable');
      }
      if (error.reason === 'wrong-room') {
        logger.info('pass refused', { reason: error.reason });
        return policy('wrong-room', 'Deny', resource);
      }
      logger.info('pass refused', { reason: error.reason });
      throw new Error('Unauthorized');
    }
    const context: PassAuthorizerContext = { roomId: claims.roomId, tokenId: claims.tokenId, ticket: claims.ticket, epoch: claims.epoch };
    logger.debug('pass accepted', { roomId: claims.roomId, tokenId: claims.tokenId, kid: claims.keyId });
    return { ...policy(claims.tokenId, 'Allow', resource), context };
  };
}

const env = readEnv({
  PASS_JWKS_URL: z.url({ protocol: /^https?$/, error: 'must be the http(s) URL of the JWKS' }),
  PASS_ROOM_ID: required(),
  PASS_ISSUER: z.string().min(1).default(DEFAULT_PASS_ISSUER),
  PASS_CLOCK_TOLERANCE_SECONDS: z.coerce.number().min(0).max(300).default(DEFAULT_CLOCK_TOLERANCE_SECONDS),
});

export const handler = createPassAuthorizer(
  {
    jwksUrl: env.PASS_JWKS_URL,
    roomId: env.PASS_ROOM_ID,
    issuer: env.PASS_ISSUER,
    clockToleranceSeconds: env.PASS_CLOCK_TOLERANCE_SECONDS,
  },
  createLogger('waiting-room-pass-authorizer'),
);
