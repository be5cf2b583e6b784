/**
 * Factories for the edge gate's tests: a fixed clock, keys in a KeyValueStore, a gate
 * configuration, passes minted or forged field by field, CloudFront viewer-request events, and
 * readers for what the gate answered.
 */
import { createHmac } from 'node:crypto';
import { expect } from 'vitest';
import type { CloudFrontRequest, CloudFrontResponse, CloudFrontValue, CloudFrontViewerRequestEvent, ViewerRequestResult } from '../../../edge/cloudfront-event.js';
import { isCloudFrontResponse } from '../../../edge/cloudfront-event.js';
import { edgePassKvsKey, generateEdgePassKey, mintEdgePass, type EdgePassKey } from '../../../edge/edge-pass.js';
import { defaultGateConfig, type GateConfig } from '../../../edge/gate-code.js';
import { evaluateGate, type LoadedGate } from '../../../edge/run-gate.js';

export const ISSUER = 'waiting-room';
export const ROOM = 'shop';
export const OTHER_ROOM = 'concert';
export const TOKEN_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** 2030-01-01T00:00:00Z, in epoch milliseconds. */
export const NOW = Date.UTC(2030, 0, 1);
export const NOW_S = NOW / 1000;

/** Two rooms: the shop (a prefix and an exact path) and the concert (a bare prefix); assets and /health open. */
export const CONFIG: GateConfig = defaultGateConfig(
  [
    { roomId: ROOM, paths: ['/shop/*', '/checkout'] },
    { roomId: OTHER_ROOM, paths: ['/concert*'] },
  ],
  ['/assets/*', '/health'],
);

/** The signing key and the one it replaced (still in the store for one pass lifetime). */
export const CURRENT_KEY: EdgePassKey = generateEdgePassKey('current-1');
export const PREVIOUS_KEY: EdgePassKey = generateEdgePassKey('previous-0');

/** A KeyValueStore holding `keys` as `k.<kid>` = secret. */
export function kvsOf(...keys: EdgePassKey[]): Map<string, string> {
  return new Map(keys.map((k) => [edgePassKvsKey(k.kid), k.secret]));
}

/** A valid pass for the shop, minted now with the current key, unless told otherwise. */
export function mint(overrides: Partial<Parameters<typeof mintEdgePass>[0]> = {}): string {
  return mintEdgePass({ issuer: ISSUER, roomId: ROOM, tokenId: TOKEN_ID, now: NOW, ttlSeconds: 300, key: CURRENT_KEY, ...overrides });
}

const b64 = (text: string) => Buffer.from(text).toString('base64url');

/** The claims of a valid pass, to edit. */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: ISSUER, room: ROOM, sub: TOKEN_ID, iat: NOW_S, nbf: NOW_S, exp: NOW_S + 300, ...overrides };
}

/** A token of any header and payload text, signed HS256 with `secret` (the current key unless given). */
export function signText(headerText: string, payloadText: string, secret: string = CURRENT_KEY.secret): string {
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  return `${input}.${createHmac('sha256', Buffer.from(secret, 'base64url')).update(input).digest('base64url')}`;
}

/** A token of the given header and claims (JSON), signed with `secret`. */
export function forge(options: { header?: Record<string, unknown>; claims?: Record<string, unknown>; secret?: string } = {}): string {
  const header = options.header ?? { alg: 'HS256', typ: 'JWT', kid: CURRENT_KEY.kid };
  return signText(JSON.stringify(header), JSON.stringify(options.claims ?? claims()), options.secret);
}

export interface EventOptions {
  uri?: string;
  method?: string;
  accept?: string;
  /** Cookies by name: a string, or a list when sent more than once. */
  cookies?: Record<string, string | string[]>;
  querystring?: Record<string, CloudFrontValue>;
}

/** A viewer-request event as CloudFront builds it (an API client's GET of /shop/item unless told otherwise). */
export function viewerEvent(options: EventOptions = {}): CloudFrontViewerRequestEvent {
  const cookies: Record<string, CloudFrontValue> = {};
  for (const [name, value] of Object.entries(options.cookies ?? {})) {
    const values = typeof value === 'string' ? [value] : value;
    cookies[name] = { value: values[0] ?? '', ...(values.length > 1 ? { multiValue: values.map((v) => ({ value: v })) } : {}) };
  }
  const request: CloudFrontRequest = {
    method: options.method ?? 'GET',
    uri: options.uri ?? '/shop/item',
    querystring: options.querystring ?? {},
    headers: { host: { value: 'shop.example.com' }, accept: { value: options.accept ?? 'application/json' } },
    cookies,
  };
  return { version: '1.0', context: { eventType: 'viewer-request' }, viewer: { ip: '198.51.100.7' }, request };
}

/** The event of a request carrying `value` as the shop's pass cookie. */
export function withPass(value: string | string[], options: EventOptions = {}): CloudFrontViewerRequestEvent {
  return viewerEvent({ ...options, cookies: { [`wr_pass_${ROOM}`]: value, ...options.cookies } });
}

/** The gate over `kvs`, at the fixed clock; anything it throws fails the test. */
export function gateWith(kvs: Map<string, string>, config: GateConfig = CONFIG): LoadedGate {
  return evaluateGate({
    config,
    kvs,
    now: () => NOW,
    onError: (error) => {
      throw new Error(`The gate threw (CloudFront would answer 503): ${String(error)}`);
    },
  });
}

/** The generated response, failing the test when the request was let through. */
export function responseOf(result: ViewerRequestResult): CloudFrontResponse {
  expect(isCloudFrontResponse(result), 'the gate let the request through').toBe(true);
  return result as CloudFrontResponse;
}

/** The JSON body of a generated response. */
export function jsonBody(result: ViewerRequestResult): unknown {
  const body = responseOf(result).body;
  expect(typeof body === 'object' && body?.encoding === 'text').toBe(true);
  return JSON.parse((body as { data: string }).data) as unknown;
}

/** The refusal reason of a 403 answer. */
export function reasonOf(result: ViewerRequestResult): string {
  expect(responseOf(result).statusCode).toBe(403);
  return (jsonBody(result) as { error: { reason: string } }).error.reason;
}
