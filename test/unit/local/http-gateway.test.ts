/**
 * The local runtime's HTTP API: the payload 2.0 events it builds, how it maps results, its
 * built-in CORS, and how it reads routes and CORS from the template.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpGateway, compileRoute } from '../../../local/http-gateway.js';
import type { LocalFunction } from '../../../local/lambda-host.js';
import { corsOf, routesOf, type CfnTemplate, type CorsDefinition, type RouteDefinition } from '../../../local/template.js';
import { rawRequest } from '../../helpers/raw-http.js';
import { signedAdminHeaders } from '../../helpers/visitor.js';

const CORS: CorsDefinition = {
  allowOrigins: ['*'],
  allowHeaders: ['Authorization', 'Content-Type', 'If-None-Match'],
  allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
  exposeHeaders: ['ETag', 'Retry-After'],
  maxAgeSeconds: 7200,
  allowCredentials: false,
};

/** A stand-in for a loaded function: records its events, answers what the test tells it to. */
function fakeFunction(name: string) {
  const fake = {
    name,
    events: [] as APIGatewayProxyEventV2[],
    answer: (_event: APIGatewayProxyEventV2): unknown => ({ statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{}' }),
    async invoke<T>(event: unknown): Promise<T> {
      fake.events.push(event as APIGatewayProxyEventV2);
      return (await fake.answer(event as APIGatewayProxyEventV2)) as T;
    },
  };
  return fake;
}

const route = (routeKey: string, functionLogicalId: string, authorization = 'NONE'): RouteDefinition => {
  const [method, path] = routeKey.split(' ') as [string, string];
  return { routeKey, method, path, functionLogicalId, authorization };
};

const tokens = fakeFunction('Tokens');
const admin = fakeFunction('Admin');
let gateway: HttpGateway;
let port: number;

beforeAll(async () => {
  gateway = new HttpGateway(
    [
      compileRoute(route('POST /rooms/{roomId}/tokens', 'Tokens'), tokens as unknown as LocalFunction),
      compileRoute(route('GET /rooms/{roomId}/tokens/{tokenId}', 'Tokens'), tokens as unknown as LocalFunction),
      compileRoute(route('PUT /admin/rooms/{roomId}', 'Admin', 'AWS_IAM'), admin as unknown as LocalFunction),
      compileRoute(route('GET /files/{path+}', 'Tokens'), tokens as unknown as LocalFunction),
    ],
    [],
    () => undefined,
    CORS,
    undefined,
    true, // IAM routes unsigned here (--unsigned-admin); the check itself: 'IAM authorization' below
  );
  port = await gateway.listen(0);
});
afterAll(async () => {
  await gateway.close();
});
beforeEach(() => {
  for (const fake of [tokens, admin]) {
    fake.events.length = 0;
    fake.answer = () => ({ statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{}' });
  }
});

describe('the events it builds (payload format 2.0)', () => {
  it('carry the route key, raw path and query, lowercased headers and decoded path parameters', async () => {
    await rawRequest(port, 'GET', '/rooms/caf%C3%A9/tokens/abc?x=1&y=two%20words&x=2', { Authorization: 'Bearer s3cret', 'X-Trace': ['a', 'b'], 'User-Agent': 'unit' });
    const event = tokens.events[0]!;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /rooms/{roomId}/tokens/{tokenId}',
      rawPath: '/rooms/caf%C3%A9/tokens/abc',
      rawQueryString: 'x=1&y=two%20words&x=2',
      queryStringParameters: { x: '1,2', y: 'two words' },
      pathParameters: { roomId: 'café', tokenId: 'abc' },
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({ authorization: 'Bearer s3cret', 'x-trace': 'a,b', 'user-agent': 'unit' });
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(event.body).toBeUndefined();
    expect(event.requestContext).toMatchObject({
      accountId: '000000000000',
      routeKey: 'GET /rooms/{roomId}/tokens/{tokenId}',
      stage: '$default',
      http: { method: 'GET', path: '/rooms/caf%C3%A9/tokens/abc', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'unit' },
    });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(5_000);
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('move cookies out of the headers into `cookies`, and leave out what has no value', async () => {
    await rawRequest(port, 'POST', '/rooms/shop/tokens', { Cookie: ['a=1; b=2', 'c=3'] });
    const event = tokens.events[0]!;
    expect(event.cookies).toEqual(['a=1', 'b=2', 'c=3']);
    expect(event.headers.cookie).toBeUndefined();
    expect('queryStringParameters' in event).toBe(false);
    expect(event.rawQueryString).toBe('');
  });

  it('pass a text body as text and any other body base64-encoded', async () => {
    await rawRequest(port, 'PUT', '/admin/rooms/shop', { 'Content-Type': 'application/json; charset=utf-8' }, '{"capacity":2}');
    await rawRequest(port, 'PUT', '/admin/rooms/shop', { 'Content-Type': 'application/x-www-form-urlencoded' }, '{"capacity":3}');
    await rawRequest(port, 'PUT', '/admin/rooms/shop', { 'Content-Type': 'application/octet-stream' }, Buffer.from([0xff, 0x00, 0x01]));
    const [json, form, binary] = admin.events;
    expect(json).toMatchObject({ routeKey: 'PUT /admin/rooms/{roomId}', body: '{"capacity":2}', isBase64Encoded: false });
    expect(form).toMatchObject({ body: Buffer.from('{"capacity":3}').toString('base64'), isBase64Encoded: true });
    expect(binary).toMatchObject({ body: Buffer.from([0xff, 0x00, 0x01]).toString('base64'), isBase64Encoded: true });
  });

  it('call IAM routes without a signature when told to (npm start -- --unsigned-admin)', async () => {
    expect((await rawRequest(port, 'PUT', '/admin/rooms/shop', {}, '{}')).status).toBe(200);
    expect(admin.events).toHaveLength(1);
  });

  it('IAM authorization: refuse an unsigned call to an IAM route without running its function, and run a signed one', async () => {
    const checked = new HttpGateway([compileRoute(route('PUT /admin/rooms/{roomId}', 'Admin', 'AWS_IAM'), admin as unknown as LocalFunction)], [], () => undefined, CORS);
    const checkedPort = await checked.listen(0);
    try {
      const unsigned = await rawRequest(checkedPort, 'PUT', '/admin/rooms/shop', { 'Content-Type': 'application/json' }, '{}');
      expect(unsigned.status).toBe(403);
      expect(JSON.parse(unsigned.body)).toEqual({ message: 'Forbidden' });
      expect(admin.events).toHaveLength(0);
      const url = `http://127.0.0.1:${checkedPort}/admin/rooms/shop`;
      const headers = await signedAdminHeaders(url, 'PUT', '{}', { 'content-type': 'application/json' });
      expect((await rawRequest(checkedPort, 'PUT', '/admin/rooms/shop', headers, '{}')).status).toBe(200);
      expect(admin.events).toHaveLength(1);
    } finally {
      await checked.close();
    }
  });

  it('match a greedy {name+} parameter across segments', async () => {
    await rawRequest(port, 'GET', '/files/a/b/c.txt');
    expect(tokens.events[0]!.pathParameters).toEqual({ path: 'a/b/c.txt' });
  });
});

describe('the results it maps, as the HTTP API does', () => {
  it('sends statusCode, headers, body, and one Set-Cookie per cookie', async () => {
    tokens.answer = () => ({ statusCode: 201, headers: { 'Content-Type': 'application/json', Location: '/x' }, cookies: ['a=1; Path=/', 'b=2'], body: '{"ok":true}' });
    const answer = await rawRequest(port, 'POST', '/rooms/shop/tokens');
    expect(answer).toMatchObject({ status: 201, body: '{"ok":true}' });
    expect(answer.headers).toMatchObject({ 'content-type': 'application/json', location: '/x', 'set-cookie': ['a=1; Path=/', 'b=2'] });
  });

  it('decodes a base64 body', async () => {
    tokens.answer = () => ({ statusCode: 200, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('hello').toString('base64'), isBase64Encoded: true });
    expect((await rawRequest(port, 'POST', '/rooms/shop/tokens')).body).toBe('hello');
  });

  it('answers a 304 without a body', async () => {
    tokens.answer = () => ({ statusCode: 304, headers: { ETag: '"v1"' } });
    const answer = await rawRequest(port, 'GET', '/rooms/shop/tokens/abc', { 'If-None-Match': '"v1"' });
    expect(answer).toMatchObject({ status: 304, body: '' });
    expect(answer.headers.etag).toBe('"v1"');
    expect(tokens.events[0]!.headers['if-none-match']).toBe('"v1"');
  });

  it('takes a result without statusCode for a 200 JSON body: the object as JSON, a string as it is', async () => {
    tokens.answer = () => ({ hello: 'world' });
    const object = await rawRequest(port, 'POST', '/rooms/shop/tokens');
    expect(object).toMatchObject({ status: 200, body: '{"hello":"world"}' });
    expect(object.headers['content-type']).toBe('application/json');
    tokens.answer = () => 'plain words';
    expect(await rawRequest(port, 'POST', '/rooms/shop/tokens')).toMatchObject({ status: 200, body: 'plain words' });
  });

  it("answers API Gateway's own 500 when the function throws or returns a result it cannot map", async () => {
    tokens.answer = () => {
      throw new Error('boom at /var/task/index.mjs:1:1');
    };
    const thrown = await rawRequest(port, 'POST', '/rooms/shop/tokens');
    expect(thrown).toMatchObject({ status: 500, body: JSON.stringify({ message: 'Internal Server Error' }) });
    tokens.answer = () => ({ statusCode: 'soon' });
    expect((await rawRequest(port, 'POST', '/rooms/shop/tokens')).status).toBe(500);
  });

  it('answers 404 for a method the path has no route for, without calling a function', async () => {
    expect((await rawRequest(port, 'DELETE', '/rooms/shop/tokens')).status).toBe(404);
    expect(tokens.events).toHaveLength(0);
  });
});

describe('bad input at the gateway', () => {
  it.each(['/rooms/%E0%A4%A/tokens', '/rooms/%/tokens', '/rooms/%zz/tokens', '/rooms/a%2/tokens', '/rooms/%C0%AF/tokens'])(
    'answers 400 for the malformed percent-encoding of %s, without calling a function',
    async (path) => {
      const answer = await rawRequest(port, 'POST', path);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toEqual({ error: { code: 'BAD_REQUEST', message: 'Malformed percent-encoding in the path' } });
      expect(tokens.events).toHaveLength(0);
    },
  );

  it('treats header and query names such as __proto__ and constructor as data, like any other name', async () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    const query = names.map((n) => `${n}=q-${n}`).join('&');
    await rawRequest(port, 'GET', `/rooms/shop/tokens/abc?${query}&constructor=again`, Object.fromEntries(names.map((n) => [n, `h-${n}`])));
    const event = tokens.events[0]!;
    for (const name of names) {
      const header = name.toLowerCase(); // header names arrive lowercased
      expect(Object.hasOwn(event.headers, header), `header ${header}`).toBe(true);
      expect(event.headers[header]).toBe(`h-${name}`);
      expect(Object.hasOwn(event.queryStringParameters!, name), `query ${name}`).toBe(true);
    }
    expect(event.queryStringParameters!.constructor).toBe('q-constructor,again');
    expect(event.queryStringParameters!.__proto__).toBe('q-__proto__');
  });

  it('closes the connection after a 413, so the next request on a keep-alive client is answered at once', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const send = (body?: Buffer) =>
        new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/rooms/shop/tokens', agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
          });
          req.on('error', reject);
          req.end(body);
        });
      const big = await send(Buffer.alloc(11 * 1024 * 1024, 'x'));
      expect(big).toEqual({ status: 413, connection: 'close' });
      // Without the close, this request would wait behind the unread rest of the first body (the
      // server's keep-alive timeout, 5 s): the race makes that a failure rather than a slow pass.
      const next = await Promise.race([send(Buffer.from('{}')), new Promise((resolve) => setTimeout(() => resolve('no answer within 3 s'), 3_000))]);
      expect(next).toMatchObject({ status: 200 });
    } finally {
      agent.destroy();
    }
  });
});

/** The kernel's count of connections dropped because a listening socket's queue was full (Linux's TcpExt ListenOverflows). */
function listenOverflows(): number {
  const [names, values] = readFileSync('/proc/net/netstat', 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('TcpExt:'))
    .map((line) => line.split(/\s+/).slice(1));
  return Number(values![names!.indexOf('ListenOverflows')]);
}

describe('a burst of connections', () => {
  it('is held by the kernel while the gateway is busy: none of 1,200 connections made at once is dropped (Node keeps only 511)', async () => {
    const before = listenOverflows();
    const sockets = Array.from({ length: 1_200 }, () => net.connect(port, '127.0.0.1'));
    const connected = Promise.all(sockets.map((socket) => new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))));
    await new Promise((resolve) => setImmediate(resolve)); // the connects are sent
    const busyUntil = Date.now() + 300; // the gateway accepts nothing meanwhile: only the listen queue holds them
    while (Date.now() < busyUntil);
    await connected;
    const dropped = listenOverflows() - before;
    for (const socket of sockets) socket.destroy();
    expect(dropped).toBe(0);
  });
});

describe('CORS, from the CorsConfiguration', () => {
  const preflight = (origin = 'https://shop.example.com') =>
    rawRequest(port, 'OPTIONS', '/rooms/shop/tokens/abc', { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' });

  it('answers preflights itself, cached for 2 hours, without calling a function', async () => {
    const answer = await preflight();
    expect(answer.status).toBe(204);
    expect(answer.headers).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET,POST,PUT,DELETE,OPTIONS',
      'access-control-allow-headers': 'Authorization,Content-Type,If-None-Match',
      'access-control-max-age': '7200',
    });
    expect(tokens.events).toHaveLength(0);
  });

  it("adds the API's CORS headers to a function's answer and drops the function's own", async () => {
    tokens.answer = () => ({ statusCode: 200, headers: { 'Access-Control-Allow-Origin': 'https://evil.example', ETag: '"v2"' }, body: '{}' });
    const answer = await rawRequest(port, 'GET', '/rooms/shop/tokens/abc', { Origin: 'https://shop.example.com' });
    expect(answer.headers).toMatchObject({ 'access-control-allow-origin': '*', 'access-control-expose-headers': 'ETag,Retry-After', etag: '"v2"' });
  });

  it('sends no CORS header to a request without an Origin', async () => {
    tokens.answer = () => ({ statusCode: 200, headers: { 'Access-Control-Allow-Origin': '*' }, body: '{}' });
    const answer = await rawRequest(port, 'GET', '/rooms/shop/tokens/abc');
    expect(Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('echoes an allowed origin from a list (with Vary: Origin), and answers others without CORS headers', async () => {
    const listed = new HttpGateway(
      [compileRoute(route('GET /rooms/{roomId}/tokens/{tokenId}', 'Tokens'), tokens as unknown as LocalFunction)],
      [],
      () => undefined,
      { ...CORS, allowOrigins: ['https://shop.example.com', 'https://*.example.org'] },
    );
    const listedPort = await listed.listen(0);
    try {
      const ask = (origin: string) =>
        rawRequest(listedPort, 'OPTIONS', '/rooms/shop/tokens/abc', { Origin: origin, 'Access-Control-Request-Method': 'GET' });
      expect((await ask('https://shop.example.com')).headers).toMatchObject({ 'access-control-allow-origin': 'https://shop.example.com', vary: 'Origin' });
      expect((await ask('https://www.example.org')).headers['access-control-allow-origin']).toBe('https://www.example.org');
      const refused = await ask('https://elsewhere.example.net');
      expect(refused.status).toBe(204);
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
      const actual = await rawRequest(listedPort, 'GET', '/rooms/shop/tokens/abc', { Origin: 'https://elsewhere.example.net' });
      expect(actual.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await listed.close();
    }
  });
});

describe('the template, as the local runtime reads it', () => {
  const template: CfnTemplate = {
    Resources: {
      Api: {
        Type: 'AWS::ApiGatewayV2::Api',
        Properties: {
          ProtocolType: 'HTTP',
          CorsConfiguration: { AllowOrigins: ['*'], AllowHeaders: ['Authorization'], AllowMethods: ['GET'], ExposeHeaders: ['ETag'], MaxAge: 7200 },
        },
      },
      JoinFn: { Type: 'AWS::Lambda::Function', Metadata: { 'WaitingRoom:Entry': 'lambdas/handlers/join.ts' }, Properties: { Handler: 'index.handler' } },
      JoinIntegration: {
        Type: 'AWS::ApiGatewayV2::Integration',
        Properties: { ApiId: { Ref: 'Api' }, IntegrationType: 'AWS_PROXY', IntegrationUri: { 'Fn::GetAtt': ['JoinFn', 'Arn'] }, PayloadFormatVersion: '2.0' },
      },
      JoinRoute: {
        Type: 'AWS::ApiGatewayV2::Route',
        Properties: { ApiId: { Ref: 'Api' }, RouteKey: 'POST /rooms/{roomId}/tokens', AuthorizationType: 'AWS_IAM', Target: { 'Fn::Join': ['', ['integrations/', { Ref: 'JoinIntegration' }]] } },
      },
    },
  };

  it('reads each route with its route key, authorization and the function of its integration', () => {
    expect(routesOf(template)).toEqual([
      { routeKey: 'POST /rooms/{roomId}/tokens', method: 'POST', path: '/rooms/{roomId}/tokens', functionLogicalId: 'JoinFn', authorization: 'AWS_IAM' },
    ]);
  });

  it('refuses an integration with another payload format', () => {
    const v1 = structuredClone(template);
    v1.Resources.JoinIntegration!.Properties!.PayloadFormatVersion = '1.0';
    expect(() => routesOf(v1)).toThrow(/payload format 1\.0/);
  });

  it('reads the CORS configuration', () => {
    expect(corsOf(template)).toEqual({
      allowOrigins: ['*'],
      allowHeaders: ['Authorization'],
      allowMethods: ['GET'],
      exposeHeaders: ['ETag'],
      maxAgeSeconds: 7200,
      allowCredentials: false,
    });
  });
});
