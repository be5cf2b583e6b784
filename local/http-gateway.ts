/**
 * Plays API Gateway for the local runtime: each request on a route of the template becomes an
 * API Gateway proxy event (REST, v1) for the same handler Lambda runs, and the handler's result
 * becomes the response. Locally /admin needs no signature (on AWS it needs IAM SigV4).
 * Other paths are served by `extraRoutes` (the pages, the demo origin) or answered 404.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { LocalFunction } from './lambda-host.js';
import type { RouteDefinition } from './template.js';

/** API Gateway's own payload limit. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface LocalRoute {
  definition: RouteDefinition;
  fn: LocalFunction;
  pattern: RegExp;
  names: string[];
}

export type ExtraRoute = (request: http.IncomingMessage, response: http.ServerResponse, url: URL) => Promise<boolean> | boolean;

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Authorization,Content-Type',
  'Access-Control-Allow-Methods': 'GET,POST,PUT,DELETE,OPTIONS',
};

export function compileRoute(definition: RouteDefinition, fn: LocalFunction): LocalRoute {
  const names: string[] = [];
  const source = definition.resource
    .split('/')
    .map((part) => {
      const name = /^\{(.+?)\+?\}$/.exec(part)?.[1];
      if (!name) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(name);
      return '([^/]+)';
    })
    .join('/');
  return { definition, fn, pattern: new RegExp(`^${source}$`), names };
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json', ...CORS });
  response.end(JSON.stringify(body));
}

async function readBody(request: http.IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function toProxyEvent(request: http.IncomingMessage, url: URL, route: LocalRoute, params: Record<string, string>, body: Buffer): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const [name, value] = [request.rawHeaders[i]!, request.rawHeaders[i + 1]!];
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    (multiQuery[k] ??= []).push(v);
  }
  const text = body.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(body);
  return {
    resource: route.definition.resource,
    path: url.pathname,
    httpMethod: request.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
    pathParameters: route.names.length ? params : null,
    stageVariables: null,
    body: body.length === 0 ? null : isText ? text : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !isText,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${request.httpVersion}`,
      httpMethod: request.method ?? 'GET',
      identity: { sourceIp: request.socket.remoteAddress ?? '127.0.0.1', userAgent: request.headers['user-agent'] ?? null } as APIGatewayProxyEvent['requestContext']['identity'],
      path: url.pathname,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: route.definition.resource,
    },
  };
}

export class HttpGateway {
  private server?: http.Server;

  constructor(
    private readonly routes: LocalRoute[],
    private readonly extraRoutes: ExtraRoute[] = [],
    private readonly onError?: (message: string, error: unknown) => void,
  ) {}

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    this.server = http.createServer((request, response) => {
      this.handle(request, response).catch((error) => {
        this.onError?.('gateway error', error);
        if (!response.headersSent) sendJson(response, 500, { error: { code: 'INTERNAL', message: 'Internal error' } });
        else response.end();
      });
    });
    this.server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const matching = this.routes
      .map((route) => ({ route, match: route.pattern.exec(url.pathname) }))
      .filter((m): m is { route: LocalRoute; match: RegExpExecArray } => m.match !== null);
    if (matching.length > 0) {
      if (request.method === 'OPTIONS') {
        response.writeHead(204, { ...CORS, 'Access-Control-Max-Age': '600' });
        response.end();
        return;
      }
      const hit = matching.find((m) => m.route.definition.method === request.method);
      if (!hit) {
        sendJson(response, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${request.method} is not allowed on ${url.pathname}` } });
        return;
      }
      const body = await readBody(request);
      if (body === 'too-large') {
        sendJson(response, 413, { error: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body is larger than 10 MB' } });
        return;
      }
      const params = Object.fromEntries(hit.route.names.map((name, i) => [name, decodeURIComponent(hit.match[i + 1]!)]));
      const event = toProxyEvent(request, url, hit.route, params, body);
      let result: APIGatewayProxyResult;
      try {
        result = await hit.route.fn.invoke<APIGatewayProxyResult>(event);
      } catch (error) {
        // What API Gateway answers when the integration fails.
        this.onError?.(`${hit.route.fn.name} failed`, error);
        sendJson(response, 502, { error: { code: 'BAD_GATEWAY', message: 'Internal server error' } });
        return;
      }
      const headers: Record<string, string | string[]> = { ...(result.headers as Record<string, string>) };
      for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) headers[k] = v.map(String);
      response.writeHead(result.statusCode, headers);
      response.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
      return;
    }
    for (const extra of this.extraRoutes) {
      if (await extra(request, response, url)) return;
    }
    sendJson(response, 404, { error: { code: 'NOT_FOUND', message: `No route for ${request.method} ${url.pathname}` } });
  }
}
