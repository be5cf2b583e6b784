/**
 * The gate's CloudFront distribution (lib/gate/gate.ts), played on one port of 127.0.0.1 by the
 * same function code: each request goes to the first behavior whose path pattern matches
 * (behaviors.ts), whose viewer-request function runs on the CloudFront event of the request
 * (edge/viewer-event.ts), then to that behavior's origin:
 *
 *   /waiting-room/api/rooms/* /status   route function → the API, through a 1-2 s cache (status-cache.ts)
 *   /waiting-room/api/*                 route function (prefix stripped) → the API
 *   /waiting-room, /waiting-room/*      route function (/waiting-room/ → index.html) → the page bucket (page-bucket.ts)
 *   everything else                     gate function (edge/gate-function.js) → the site (the demo origin)
 *
 * A function's own response (the gate's 302 to the waiting page, its 403 JSON) is written as it
 * is (`nodeResponseParts`). What a function lets through goes to the origin as that function
 * returned it (origin-request.ts: every header and cookie, Host naming the origin), and the
 * origin's answer comes back with every header, Set-Cookie included, plus the response headers
 * policy (response-headers.ts). A method a behavior does not allow is answered 403, an origin that
 * cannot be reached 502, as CloudFront answers them.
 */
import http from 'node:http';
import { isCloudFrontResponse, type CloudFrontRequest, type CloudFrontResponse } from '../../edge/cloudfront-event.js';
import type { GateConfig } from '../../edge/gate-code.js';
import { loadGate, nodeResponseParts, viewerRequestEvent, type GateHandler } from '../../edge/run-gate.js';
import { listenForBursts } from '../listen.js';
import { behaviorFor } from './behaviors.js';
import { originHeaders, originPath, viewerHeaders } from './origin-request.js';
import { ACCESS_DENIED, type PageBucket } from './page-bucket.js';
import { edgeResponseHeaders, type CacheResult } from './response-headers.js';
import { loadRouteFunction, type RouteFunction } from './route-function.js';
import { EdgeCache, type StoredAnswer } from './status-cache.js';

export interface DistributionOptions {
  readonly config: GateConfig;
  /** The gate's KeyValueStore, read on every request. */
  readonly kvs: ReadonlyMap<string, string>;
  /** The waiting-room API's port on 127.0.0.1 (the local API gateway). */
  readonly apiPort: number;
  /** The site's port on 127.0.0.1 (the demo origin). */
  readonly originPort: number;
  readonly bucket: PageBucket;
  /** Function failures (answered 503) and unexpected errors. */
  readonly onError?: (message: string, error: unknown) => void;
}

const text = (status: number, message: string) => ({ status, message, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });

export class LocalDistribution {
  private readonly gate: GateHandler;
  private readonly route: RouteFunction;
  private readonly statusCache = new EdgeCache();
  private readonly agent = new http.Agent({ keepAlive: true });
  private server?: http.Server;
  private readonly onError: (message: string, error: unknown) => void;

  constructor(private readonly options: DistributionOptions) {
    this.onError = options.onError ?? (() => undefined);
    this.gate = loadGate({ config: options.config, kvs: options.kvs, onError: (error) => this.onError('the gate function failed (CloudFront answers 503)', error) });
    this.route = loadRouteFunction(undefined, (error) => this.onError('the route function failed (CloudFront answers 503)', error));
  }

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    const server = http.createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.onError('local edge error', error);
        if (!response.headersSent) this.writeText(response, request, text(502, 'Bad Gateway'), 'Error');
        else response.destroy();
      });
    });
    server.keepAliveTimeout = 5000;
    const taken = await listenForBursts(server, port, host);
    this.server = server;
    return taken;
  }

  async close(): Promise<void> {
    this.agent.destroy();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const event = viewerRequestEvent(request);
    const behavior = behaviorFor(event.request.uri);
    if (!behavior.methods.includes(event.request.method)) {
      request.resume();
      this.writeText(response, request, text(403, 'This distribution is not configured to allow the HTTP request method that was used for this request.'), 'Error');
      return;
    }
    const result = behavior.name === 'default' ? await this.gate(event) : this.route(event);
    if (isCloudFrontResponse(result)) {
      request.resume();
      this.writeGenerated(response, request, result);
      return;
    }
    const viewerIp = event.viewer.ip;
    switch (behavior.name) {
      case 'default':
        return this.forward(request, response, result, this.options.originPort, viewerIp);
      case 'page':
      case 'pageAssets':
        request.resume();
        return this.serveObject(response, request, result.uri);
      case 'status':
        if (result.method === 'GET') {
          request.resume();
          return this.serveCached(response, result, viewerIp);
        }
        return this.forward(request, response, result, this.options.apiPort, viewerIp);
      case 'api':
        return this.forward(request, response, result, this.options.apiPort, viewerIp);
    }
  }

  /** A response a viewer-request function generated, as CloudFront writes it. */
  private writeGenerated(response: http.ServerResponse, request: http.IncomingMessage, generated: CloudFrontResponse): void {
    const parts = nodeResponseParts(generated);
    response.writeHead(parts.statusCode, parts.statusMessage, edgeResponseHeaders(parts.headers, 'FunctionGeneratedResponse'));
    response.end(request.method === 'HEAD' ? undefined : parts.body);
  }

  private writeText(response: http.ServerResponse, request: http.IncomingMessage, answer: ReturnType<typeof text>, result: CacheResult): void {
    response.writeHead(answer.status, edgeResponseHeaders(answer.headers, result));
    response.end(request.method === 'HEAD' ? undefined : answer.message);
  }

  /** The page bucket's object at the routed URI (S3 through Origin Access Control). */
  private async serveObject(response: http.ServerResponse, request: http.IncomingMessage, uri: string): Promise<void> {
    const found = await this.options.bucket.get(uri.slice(1));
    const object = found ?? ACCESS_DENIED;
    const status = found ? 200 : 403;
    response.writeHead(status, edgeResponseHeaders({ ...object.headers, 'content-length': String(object.body.length) }, found ? 'Miss' : 'Error'));
    response.end(request.method === 'HEAD' ? undefined : object.body);
  }

  /**
   * The room status, from the edge cache when it holds a fresh copy. As CloudFront does, the cache
   * asks the origin for the whole object (the viewer's conditional headers stay out of the origin
   * request) and answers a viewer's matching If-None-Match itself, 304.
   */
  private async serveCached(response: http.ServerResponse, request: CloudFrontRequest, viewerIp: string): Promise<void> {
    const port = this.options.apiPort;
    const { 'if-none-match': viewerTag, 'if-modified-since': _since, ...unconditional } = request.headers;
    const { answer, hit, ageSeconds } = await this.statusCache.lookup(request.uri, () => this.fetchWhole({ ...request, headers: unconditional }, port, viewerIp));
    const headers = viewerHeaders(answer.headers);
    if (hit) headers.age = String(ageSeconds);
    const etag = answer.headers.etag;
    const notModified = answer.status === 200 && etag !== undefined && viewerTag !== undefined && viewerTag.value.split(',').some((t) => t.trim() === etag || t.trim() === '*');
    const result = hit ? 'Hit' : answer.status >= 400 ? 'Error' : 'Miss';
    if (notModified) {
      delete headers['content-length'];
      delete headers['content-type'];
      response.writeHead(304, edgeResponseHeaders(headers, result));
      response.end();
      return;
    }
    response.writeHead(answer.status, answer.statusMessage, edgeResponseHeaders(headers, result));
    response.end(answer.body);
  }

  private originRequest(request: CloudFrontRequest, port: number, viewerIp: string): http.RequestOptions {
    return {
      host: '127.0.0.1',
      port,
      method: request.method,
      path: originPath(request),
      headers: originHeaders(request, { host: `127.0.0.1:${port}`, viewerIp }),
      agent: this.agent,
    };
  }

  /** An origin's whole answer to a request without a body (for the cache). */
  private fetchWhole(request: CloudFrontRequest, port: number, viewerIp: string): Promise<StoredAnswer> {
    return new Promise((resolve, reject) => {
      const upstream = http.request(this.originRequest(request, port, viewerIp), (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('error', reject);
        answer.on('end', () => resolve({ status: answer.statusCode ?? 502, statusMessage: answer.statusMessage, headers: answer.headers, body: Buffer.concat(chunks) }));
      });
      upstream.on('error', reject);
      upstream.end();
    });
  }

  /** Streams the request to an origin and its answer back, headers and all. */
  private forward(viewer: http.IncomingMessage, response: http.ServerResponse, request: CloudFrontRequest, port: number, viewerIp: string): Promise<void> {
    return new Promise((resolve) => {
      const upstream = http.request(this.originRequest(request, port, viewerIp), (answer) => {
        const status = answer.statusCode ?? 502;
        response.writeHead(status, answer.statusMessage, edgeResponseHeaders(viewerHeaders(answer.headers), status >= 400 ? 'Error' : 'Miss'));
        answer.pipe(response);
        answer.on('end', () => resolve());
        answer.on('error', () => {
          response.destroy();
          resolve();
        });
      });
      upstream.on('error', (error) => {
        if (!response.headersSent) {
          this.onError(`the local edge could not reach 127.0.0.1:${port}`, error);
          this.writeText(response, viewer, text(502, 'Bad Gateway'), 'Error');
        } else {
          response.destroy();
        }
        resolve();
      });
      response.on('close', () => {
        if (!response.writableFinished) upstream.destroy();
      });
      viewer.pipe(upstream);
    });
  }
}
