/**
 * Plays the HTTP API for the local runtime: each request on a route of the template becomes a
 * payload format 2.0 event for the same handler Lambda runs, and the handler's result becomes the
 * response, as API Gateway maps it. CORS is the API's own (./http-api-cors.ts); load is shed as
 * ./load-shedding.ts says. The IAM routes (/admin) need a SigV4 signature by the local credentials,
 * as on AWS (./sigv4-check.ts), unless the gateway is told to take them unsigned.
 * Other paths are served by `extraRoutes` (the pages, the demo origin) or answered 404.
 *
 * Event shape (APIGatewayProxyEventV2): version '2.0', routeKey, rawPath, rawQueryString,
 * cookies (from Cookie headers, which leave `headers`), headers with lowercased names (repeated
 * ones joined with commas), queryStringParameters (repeated ones joined with commas),
 * pathParameters (decoded), body (base64 with isBase64Encoded unless a text content type), and
 * requestContext { accountId, apiId, domainName, domainPrefix, http { method, path, protocol,
 * sourceIp, userAgent }, requestId, routeKey, stage '$default', time, timeEpoch }. Fields without
 * a value are left out, as API Gateway does.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { isPreflight, preflightHeaders, withCorsHeaders } from './http-api-cors.js';
import { LOCAL_ACCOUNT } from './intrinsics.js';
import type { LocalFunction } from './lambda-host.js';
import { listenForBursts } from './listen.js';
import { ConcurrencyLimit, TokenBucket, type SheddingOptions } from './load-shedding.js';
import { iamRefusal } from './sigv4-check.js';
import type { CorsDefinition, RouteDefinition } from './template.js';

/** API Gateway's own payload limit. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface LocalRoute {
  definition: RouteDefinition;
  fn: LocalFunction;
  pattern: RegExp;
  names: string[];
}

export type ExtraRoute = (request: http.IncomingMessage, response: http.ServerResponse, url: URL) => Promise<boolean> | boolean;

export function compileRoute(definition: RouteDefinition, fn: LocalFunction): LocalRoute {
  const names: string[] = [];
  const source = definition.path
    .split('/')
    .map((part) => {
      const match = /^\{(.+?)(\+?)\}$/.exec(part);
      if (!match) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(match[1]!);
      return match[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { definition, fn, pattern: new RegExp(`^${source}$`), names };
}

function send(response: http.ServerResponse, status: number, headers: Record<string, string | string[]>, body: string | Buffer = ''): void {
  response.writeHead(status, headers);
  response.end(body);
}

/** The local runtime's own JSON error (paths that are not API routes). */
function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  send(response, status, { 'Content-Type': 'application/json' }, JSON.stringify(body));
}

/** A request's body, or 'too-large' past `maxBytes` (the rest is left unread). */
export async function readBody(request: http.IncomingMessage, maxBytes = MAX_PAYLOAD_BYTES): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Content types whose bodies API Gateway passes as text; any other body arrives base64-encoded. */
const TEXT_CONTENT_TYPE = /^\s*(text\/|application\/(json|javascript|xml|[\w.-]+\+(json|xml))\s*(;|$))/i;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** requestContext.time as API Gateway writes it: 12/Mar/2020:19:03:58 +0000. */
function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** A path segment decoded, or undefined when its percent-encoding is malformed. */
export function decodedSegment(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The request's headers by lower-case name, repeated ones joined with commas (as signed). */
function lowerCaseHeaders(request: http.IncomingMessage): Record<string, string> {
  const headers = dictionary();
  for (let i = 0; i < request.rawHeaders.length; i += 2) joinValue(headers, request.rawHeaders[i]!.toLowerCase(), request.rawHeaders[i + 1]!);
  return headers;
}

/** A record without a prototype, so that any key is its own. */
function dictionary(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

/** Repeated names are joined with commas, as API Gateway does. */
function joinValue(into: Record<string, string>, name: string, value: string): void {
  into[name] = Object.hasOwn(into, name) ? `${into[name]},${value}` : value;
}

export function toHttpApiEvent(
  request: http.IncomingMessage,
  route: LocalRoute,
  params: Record<string, string>,
  body: Buffer,
  now = Date.now(),
): APIGatewayProxyEventV2 {
  const target = request.url ?? '/';
  const queryAt = target.indexOf('?');
  const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
  const rawQueryString = queryAt < 0 ? '' : target.slice(queryAt + 1);

  // Names are data: a header or query key named __proto__ or constructor is an own property like
  // any other (as in the JSON API Gateway sends), never a lookup on Object.prototype.
  const headers = dictionary();
  const cookies: string[] = [];
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const [name, value] = [request.rawHeaders[i]!.toLowerCase(), request.rawHeaders[i + 1]!];
    if (name === 'cookie') cookies.push(...value.split(';').map((c) => c.trim()).filter(Boolean));
    else joinValue(headers, name, value);
  }
  const query = dictionary();
  for (const [key, value] of new URLSearchParams(rawQueryString)) joinValue(query, key, value);

  const text = body.toString('utf8');
  const asText = TEXT_CONTENT_TYPE.test(headers['content-type'] ?? '') && Buffer.from(text, 'utf8').equals(body);
  const method = request.method ?? 'GET';
  const host = headers.host ?? 'localhost';
  return {
    version: '2.0',
    routeKey: route.definition.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(route.names.length > 0 ? { pathParameters: params } : {}),
    ...(body.length > 0 ? { body: asText ? text : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !asText,
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0]!,
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: route.definition.routeKey,
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now,
    },
  };
}

export interface GatewayResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

const BAD_ENCODING = { error: { code: 'BAD_REQUEST', message: 'Malformed percent-encoding in the path' } };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** API Gateway's own answer when the function failed or its result cannot be mapped. */
const INTERNAL_ERROR: GatewayResponse = {
  statusCode: 500,
  headers: { 'Content-Type': 'application/json' },
  body: Buffer.from(JSON.stringify({ message: 'Internal Server Error' })),
};

/**
 * A function's result as the HTTP API maps it for payload 2.0: a result with a statusCode gives
 * its status, headers, cookies (one Set-Cookie each) and body (decoded when isBase64Encoded);
 * anything else is a 200 application/json whose body is the string returned, or the JSON of
 * whatever else was returned.
 */
export function fromHttpApiResult(result: unknown): GatewayResponse {
  if (!isRecord(result) || !('statusCode' in result)) {
    const body = typeof result === 'string' ? result : (JSON.stringify(result) ?? '');
    return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: Buffer.from(body) };
  }
  const statusCode = Number(result.statusCode);
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) return INTERNAL_ERROR;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(isRecord(result.headers) ? result.headers : {})) {
    if (value !== undefined && value !== null) headers[name] = String(value);
  }
  const cookies = Array.isArray(result.cookies) ? result.cookies.map(String) : [];
  if (cookies.length > 0) headers['Set-Cookie'] = cookies;
  const raw = typeof result.body === 'string' ? result.body : '';
  return { statusCode, headers, body: result.isBase64Encoded === true ? Buffer.from(raw, 'base64') : Buffer.from(raw) };
}

/** API Gateway's own answer beyond the stage's throttling (plus Retry-After, which API Gateway leaves out). */
function stageThrottled(retryAfterSeconds: number): GatewayResponse {
  return {
    statusCode: 429,
    headers: { 'Content-Type': 'application/json', 'Retry-After': String(retryAfterSeconds) },
    body: Buffer.from(JSON.stringify({ message: 'Too Many Requests' })),
  };
}

/** The API's own error shape, for a request its function had no room for. */
const FUNCTION_BUSY: GatewayResponse = {
  statusCode: 429,
  headers: { 'Content-Type': 'application/json', 'Retry-After': '1' },
  body: Buffer.from(JSON.stringify({ error: { code: 'THROTTLED', message: 'Too many requests, try again shortly' } })),
};

export class HttpGateway {
  private server?: http.Server;
  private readonly bucket?: TokenBucket;
  private readonly limits = new Map<LocalFunction, ConcurrencyLimit>();

  constructor(
    private readonly routes: LocalRoute[],
    private readonly extraRoutes: ExtraRoute[] = [],
    private readonly onError?: (message: string, error: unknown) => void,
    /** The API's CORS configuration (corsOf the template); without one, no CORS headers at all. */
    private readonly cors?: CorsDefinition,
    /** How load is shed; without it, never (every request waits for its function). */
    private readonly shedding?: SheddingOptions,
    /** Take IAM routes without a signature (quick local experiments; API Gateway never does). */
    private readonly unsignedIam = false,
  ) {
    if (shedding?.stage) this.bucket = new TokenBucket(shedding.stage.rateLimit, shedding.stage.burstLimit);
    if (shedding) for (const route of routes) if (!this.limits.has(route.fn)) this.limits.set(route.fn, new ConcurrencyLimit(shedding.concurrencyPerFunction));
  }

  /** Invocations of each API function running now and waiting for a slot (tests, the bench). */
  load(): Record<string, { active: number; waiting: number }> {
    return Object.fromEntries([...this.limits].map(([fn, limit]) => [fn.name, { active: limit.active, waiting: limit.waiting }]));
  }

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    this.server = http.createServer((request, response) => {
      this.handle(request, response).catch((error) => {
        this.onError?.('gateway error', error);
        if (!response.headersSent) sendJson(response, 500, { error: { code: 'INTERNAL', message: 'Internal error' } });
        else response.end();
      });
    });
    this.server.keepAliveTimeout = 5000;
    return listenForBursts(this.server, port, host);
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Set when the runtime can no longer serve (an emulator died): every request gets 503 saying why. */
  private broken?: string;

  /** From now on, answers every request with 503 and `reason`, instead of failing route by route. */
  fail(reason: string): void {
    this.broken = reason;
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (this.broken !== undefined) {
      sendJson(response, 503, { error: { code: 'UNAVAILABLE', message: this.broken } });
      return;
    }
    const url = new URL(request.url ?? '/', 'http://localhost');
    const matching = this.routes
      .map((route) => ({ route, match: route.pattern.exec(url.pathname) }))
      .filter((m): m is { route: LocalRoute; match: RegExpExecArray } => m.match !== null);
    if (matching.length > 0 && isPreflight(request)) {
      send(response, 204, preflightHeaders(this.cors, request));
      return;
    }
    const hit =
      matching.find((m) => m.route.definition.method === request.method) ?? matching.find((m) => m.route.definition.method === 'ANY');
    if (hit) {
      const answer = await this.invoke(request, hit.route, hit.match);
      send(response, answer.statusCode, withCorsHeaders(this.cors, request, answer.headers), answer.body);
      return;
    }
    for (const extra of this.extraRoutes) {
      if (await extra(request, response, url)) return;
    }
    sendJson(response, 404, { error: { code: 'NOT_FOUND', message: `No route for ${request.method} ${url.pathname}` } });
  }

  private async invoke(request: http.IncomingMessage, route: LocalRoute, match: RegExpExecArray): Promise<GatewayResponse> {
    const values = route.names.map((_name, i) => decodedSegment(match[i + 1]!));
    if (values.some((value) => value === undefined)) {
      // Nothing to hand a function: the path names no parameter value (API Gateway answers 400 too).
      return { statusCode: 400, headers: { 'Content-Type': 'application/json' }, body: Buffer.from(JSON.stringify(BAD_ENCODING)) };
    }
    const body = await readBody(request);
    if (body === 'too-large') {
      // The rest of the body is still on the connection: close it, so a client's next request
      // goes on a fresh one instead of waiting behind unread bytes.
      return {
        statusCode: 413,
        headers: { 'Content-Type': 'application/json', Connection: 'close' },
        body: Buffer.from(JSON.stringify({ message: 'Request Entity Too Large' })),
      };
    }
    const params = Object.fromEntries(route.names.map((name, i) => [name, values[i]!]));
    if (route.definition.authorization === 'AWS_IAM' && !this.unsignedIam) {
      const refusal = await iamRefusal({ method: request.method ?? 'GET', target: request.url ?? '/', headers: lowerCaseHeaders(request), body });
      if (refusal) return { statusCode: 403, headers: { 'Content-Type': 'application/json' }, body: Buffer.from(JSON.stringify({ message: refusal })) };
    }
    if (this.bucket && !this.bucket.take()) return stageThrottled(this.bucket.retryAfterSeconds());
    const limit = this.limits.get(route.fn);
    const release = limit ? await limit.acquire(this.shedding!.maxWaitMs) : () => undefined;
    if (!release) return FUNCTION_BUSY;
    try {
      return fromHttpApiResult(await route.fn.invoke<unknown>(toHttpApiEvent(request, route, params, body)));
    } catch (error) {
      // What the HTTP API answers when the integration fails.
      this.onError?.(`${route.fn.name} failed`, error);
      return INTERNAL_ERROR;
    } finally {
      release();
    }
  }
}
