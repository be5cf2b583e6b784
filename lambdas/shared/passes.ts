/**
 * The admission-pass wiring (DESIGN §7), built once per execution environment:
 * - on AWS, `PASS_KEYS_SECRET_ARN` names a Secrets Manager secret holding the key set (cached:
 *   5 minutes for the signing functions, 60 s for the JWKS function, which must see a rotation's
 *   new `next` key early; see the rotation timeline in `domain/pass-keys.ts`);
 * - locally, `WR_PASS_KEYS` holds the key set as JSON (the local runtime generates it at start-up);
 * - with neither, passes are off: token views carry no pass, the JWKS route answers 404, and so
 *   does the route that frees a seat with a pass.
 * Setting both is a configuration error. A malformed key set fails at start-up, naming the variable.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { PassIssuer, PassVerifier } from '../domain/index.js';
import {
  DEFAULT_KEY_CACHE_TTL_MS,
  EnvKeySource,
  PASS_KEYS_ENV,
  PASS_KEYS_SECRET_ENV,
  SecretsManagerKeySource,
  type PassKeySource,
} from '../adapters/pass-key-sources.js';
import { JoseLotteryReceiptSigner } from '../adapters/lottery-receipt-signer.js';
import type { LotteryReceiptIssuer } from '../domain/events/lottery.js';
import { JosePassIssuer } from '../adapters/pass-signer.js';
import { KeySetPassVerifier } from '../adapters/pass-verifier.js';
import { ConfigurationError, timingsFromEnv } from './env.js';

export interface KeySourceOptions {
  /** Cache lifetime of a key set read from Secrets Manager. Default 5 minutes. */
  cacheTtlMs?: number;
}

let secretsClient: SecretsManagerClient | undefined;
function secretsManager(): SecretsManagerClient {
  secretsClient ??= new SecretsManagerClient({});
  return secretsClient;
}

const sources = new Map<string, PassKeySource>();
/** Issuers per key source and pass lifetime. */
const issuers = new WeakMap<PassKeySource, Map<number, PassIssuer>>();

/** Which key set the environment configures, as a cache key; undefined when passes are off. */
function configuredKeys(env: NodeJS.ProcessEnv): { kind: 'secret'; arn: string } | { kind: 'env'; json: string } | undefined {
  const arn = env[PASS_KEYS_SECRET_ENV]?.trim();
  const json = env[PASS_KEYS_ENV];
  if (arn && json !== undefined && json !== '') {
    throw new ConfigurationError(`Invalid environment: set ${PASS_KEYS_SECRET_ENV} or ${PASS_KEYS_ENV}, not both`);
  }
  if (arn) return { kind: 'secret', arn };
  if (json !== undefined && json !== '') return { kind: 'env', json };
  return undefined;
}

/** The key source the environment configures, or undefined when passes are off. */
export function keySourceFromEnv(env: NodeJS.ProcessEnv = process.env, options: KeySourceOptions = {}): PassKeySource | undefined {
  const keys = configuredKeys(env);
  if (!keys) return undefined;
  const ttlMs = options.cacheTtlMs ?? DEFAULT_KEY_CACHE_TTL_MS;
  const cacheKey = keys.kind === 'secret' ? `secret:${keys.arn}:${ttlMs}` : `env:${keys.json}`;
  let source = sources.get(cacheKey);
  if (!source) {
    source =
      keys.kind === 'secret'
        ? new SecretsManagerKeySource(secretsManager(), keys.arn, { ttlMs })
        : new EnvKeySource({ [PASS_KEYS_ENV]: keys.json });
    sources.set(cacheKey, source);
  }
  return source;
}

/** The pass issuer for the API functions, or undefined when passes are off. */
export function passIssuerFromEnv(env: NodeJS.ProcessEnv = process.env): PassIssuer | undefined {
  const source = keySourceFromEnv(env);
  if (!source) return undefined;
  const { passTtlSeconds } = timingsFromEnv(env);
  let byTtl = issuers.get(source);
  if (!byTtl) {
    byTtl = new Map();
    issuers.set(source, byTtl);
  }
  let issuer = byTtl.get(passTtlSeconds);
  if (!issuer) {
    issuer = new JosePassIssuer(source, { ttlSeconds: passTtlSeconds });
    byTtl.set(passTtlSeconds, issuer);
  }
  return issuer;
}

/** One `make(source)` per key source the environment configures, built on first use; undefined when passes are off. */
function perKeySource<T extends object>(make: (source: PassKeySource) => T): (env?: NodeJS.ProcessEnv) => T | undefined {
  const built = new WeakMap<PassKeySource, T>();
  return (env = process.env) => {
    const source = keySourceFromEnv(env);
    if (!source) return undefined;
    let value = built.get(source);
    if (!value) {
      value = make(source);
      built.set(source, value);
    }
    return value;
  };
}

/** The pass verifier for the functions that free a seat with a pass (the same key set the issuer signs with), or undefined when passes are off. */
export const passVerifierFromEnv: (env?: NodeJS.ProcessEnv) => PassVerifier | undefined = perKeySource((source) => new KeySetPassVerifier(source));

/** The lottery receipt signer for the join function (the pass keys sign receipts, typed apart), or undefined when passes are off. */
export const lotteryReceiptsFromEnv: (env?: NodeJS.ProcessEnv) => LotteryReceiptIssuer | undefined = perKeySource((source) => new JoseLotteryReceiptSigner(source));
