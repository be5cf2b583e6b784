/**
 * The OpenAPI document (lambdas/api/document.ts): valid OpenAPI 3.1 by a maintained validator,
 * generated from the very schemas the handlers validate with (it accepts and refuses what they
 * do), and describing every error answer the one error mapping can give. That the document's
 * routes are the stack's routes is test/infra/openapi.test.ts; that real answers conform is
 * test/integration/openapi.test.ts.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { API_VERSION, openApiDocument } from '../../../lambdas/api/document.js';
import { roomChangeSchema, roomIdSchema, tokenIdSchema } from '../../../lambdas/api/schemas.js';
import {
  AdmissionRevokedError,
  ContentionError,
  InvalidCredentialError,
  InvalidPassError,
  MissingCredentialError,
  MissingPassError,
  PassesNotConfiguredError,
  PayloadTooLargeError,
  RoomClosedError,
  RoomNotFoundError,
  TokenNotFoundError,
  ValidationError,
} from '../../../lambdas/domain/index.js';
import { errorToResponse } from '../../../lambdas/shared/http.js';
import { OpenApiConformance } from '../../helpers/openapi.js';

const document = openApiDocument();
const conformance = new OpenApiConformance(document);

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 by @seriousme/openapi-schema-validator', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(document.info.version).toBe(API_VERSION);
  });

  it('is refused by the same validator once broken, so the check above can fail', async () => {
    const broken = structuredClone(document) as unknown as { paths: Record<string, Record<string, { responses: unknown }>> };
    broken.paths['/openapi.json']!.get!.responses = { 200: { content: {} } }; // a response needs a description
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('is the same document every time, with a server only when one is given', () => {
    expect(openApiDocument()).toEqual(document);
    expect(document).not.toHaveProperty('servers');
    expect(openApiDocument({ serverUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/' }).servers).toEqual([
      { url: 'https://abc.execute-api.eu-west-1.amazonaws.com/' },
    ]);
  });

  it('asks for the SigV4 signature on /admin routes, the bearer secret on token routes, the pass on pass routes, and nothing elsewhere', () => {
    for (const routeKey of conformance.routeKeys()) {
      const [method, path] = routeKey.split(' ') as [string, string];
      const operation = document.paths[path]![method.toLowerCase() as 'get']!;
      const expected = path.startsWith('/admin/')
        ? [{ awsSigV4: [] }]
        : path.includes('{tokenId}')
          ? [{ visitorSecret: [] }]
          : path.includes('/passes/')
            ? [{ admissionPass: [] }, { admissionPassCookie: [] }]
            : undefined;
      expect(operation.security, routeKey).toEqual(expected);
    }
    expect(document.paths['/rooms/{roomId}/passes/revoke']?.post).toBeDefined();
    expect(document.components.securitySchemes.admissionPass).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(document.components.securitySchemes.admissionPassCookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'wr_pass' });
    expect(document.components.securitySchemes.visitorSecret).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.components.securitySchemes.awsSigV4).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization', 'x-amazon-apigateway-authtype': 'awsSigv4' });
  });

  it('lists 429 and 500 on every route, 400 on every route that takes input, and 413 on every route that takes a body', () => {
    for (const routeKey of conformance.routeKeys()) {
      const [method, path] = routeKey.split(' ') as [string, string];
      const operation = document.paths[path]![method.toLowerCase() as 'get']!;
      const statuses = Object.keys(operation.responses as object);
      expect(statuses, routeKey).toEqual(expect.arrayContaining(['429', '500']));
      expect(statuses.includes('400'), routeKey).toBe(path.includes('{') || operation.requestBody !== undefined);
      expect(statuses.includes('413'), routeKey).toBe(operation.requestBody !== undefined);
    }
  });
});

describe('one source for validation and description', () => {
  it('accepts and refuses the room changes the admin handler accepts and refuses', () => {
    const bodies: unknown[] = [
      { capacity: 5 }, { state: 'paused' }, { capacity: 0, state: 'closed' }, {}, { capacity: -1 }, { capacity: 1.5 }, { capacity: 2_000_000 }, { state: 'gone' },
      { capacity: 5, color: 'red' }, [], 'open',
      { message: 'Saturday is sold out' }, { message: null }, { message: '' }, { message: 'x'.repeat(280) }, { message: 'x'.repeat(281) }, { message: '🎟'.repeat(280) },
      { message: '🎟'.repeat(281) }, { message: 7 }, { revokePasses: true }, { state: 'paused', revokePasses: true }, { revokePasses: 'yes' },
    ];
    for (const body of bodies) {
      expect(conformance.acceptsBody('PUT /admin/rooms/{roomId}', body), JSON.stringify(body)).toBe(roomChangeSchema.safeParse(body).success);
    }
  });

  it('accepts the room and token ids the handlers accept, and no other', () => {
    const roomIds = ['shop', 'a', 'A-1_b', 'x'.repeat(64), 'x'.repeat(65), '-shop', '_a', 'bad!id', 'shop#tickets', ''];
    for (const id of roomIds) expect(conformance.acceptsParameter('GET /rooms/{roomId}/status', 'roomId', id), id).toBe(roomIdSchema.safeParse(id).success);
    const tokenIds = ['AAAAAAAAAAAAAAAAAAAAAA', 'abc-_DEF0123456789abcd', 'short', 'A'.repeat(23), `${'A'.repeat(21)}!`];
    for (const id of tokenIds) expect(conformance.acceptsParameter('GET /rooms/{roomId}/tokens/{tokenId}', 'tokenId', id), id).toBe(tokenIdSchema.safeParse(id).success);
  });

  it('takes an absent or empty body on routes without input, and refuses any other', () => {
    expect(conformance.acceptsBody('POST /rooms/{roomId}/tokens', {})).toBe(true);
    expect(conformance.acceptsBody('POST /rooms/{roomId}/tokens', { roomId: 'shop' })).toBe(false);
    expect(document.paths['/rooms/{roomId}/tokens']!.post!.requestBody).toMatchObject({ required: false });
    expect(document.paths['/admin/rooms/{roomId}']!.put!.requestBody).toMatchObject({ required: true });
  });
});

describe('error answers', () => {
  const errors: [string, unknown][] = [
    ['bad input', new ValidationError('Invalid path parameter', ['path.roomId: must be 1-64 letters, digits, "-" or "_"'])],
    ['no secret', new MissingCredentialError()],
    ['a wrong secret', new InvalidCredentialError()],
    ['an unknown room', new RoomNotFoundError('shop')],
    ['an unknown token', new TokenNotFoundError('AAAAAAAAAAAAAAAAAAAAAA')],
    ['no pass', new MissingPassError()],
    ['a pass that does not verify', new InvalidPassError('expired')],
    ['passes not configured', new PassesNotConfiguredError()],
    ['a revoked admission', new AdmissionRevokedError('AAAAAAAAAAAAAAAAAAAAAA')],
    ['a closed room', new RoomClosedError('shop')],
    ['a large body', new PayloadTooLargeError('Request body is larger than 4096 bytes')],
    ['contention', new ContentionError('shop')],
    ['a throttled datastore', Object.assign(new Error('slow down'), { name: 'ThrottlingException' })],
    ['a bug', new Error('boom')],
  ];

  it.each(errors)('describes the answer to %s on every route that lists its status', (_what, error) => {
    const response = errorToResponse(error);
    const routes = conformance.routeKeys().filter((routeKey) => {
      const [method, path] = routeKey.split(' ') as [string, string];
      return String(response.statusCode) in (document.paths[path]![method.toLowerCase() as 'get']!.responses as object);
    });
    expect(routes.length, `a route that lists ${response.statusCode}`).toBeGreaterThan(0);
    for (const routeKey of routes) expect(conformance.problems(routeKey, { status: response.statusCode, headers: response.headers, body: response.body })).toEqual([]);
  });
});

describe('the conformance check of real answers (test/helpers/openapi.ts)', () => {
  const status = {
    roomId: 'shop', state: 'open', capacity: 5, active: 1, waiting: 0, lastAdmittedTicket: 1, lastTicket: 1, frontZoneTicket: 6,
    ticketsPerSecond: 0.5, rateMeasured: false, estimatedWaitSeconds: 0, heartbeatIntervalSeconds: 5, keepPlaceIntervalSeconds: 300, epoch: 0, mode: "fifo", estimatedWaitLowSeconds: 0, estimatedWaitHighSeconds: 0, estimateCalibration: { lowFactor: 0.5, highFactor: 1, samples: 0 },
  };
  const headers = { 'Content-Type': 'application/json', ETag: '"abc"', 'Cache-Control': 'public, max-age=1' };
  const answer = (overrides: Partial<{ status: number; headers: Record<string, string>; body: string }> = {}) => ({ status: 200, headers, body: JSON.stringify(status), ...overrides });
  const route = 'GET /rooms/{roomId}/status';

  it('passes an answer that is what the document says', () => {
    expect(conformance.problems(route, answer())).toEqual([]);
    expect(conformance.problems(route, answer({ body: JSON.stringify({ ...status, message: 'Saturday is sold out' }) }))).toEqual([]);
    expect(conformance.problems(route, answer({ status: 304, body: '' }))).toEqual([]);
  });

  it('fails a status the document does not list for the route', () => {
    expect(conformance.problems(route, answer({ status: 401 }))).toEqual([expect.stringContaining('answered 401, which the document does not list')]);
  });

  it('fails a body with a field missing, a field more, or a field of the wrong type', () => {
    const { waiting: _waiting, ...missing } = status;
    expect(conformance.problems(route, answer({ body: JSON.stringify(missing) }))).toEqual([expect.stringContaining('"missingProperty":"waiting"')]);
    expect(conformance.problems(route, answer({ body: JSON.stringify({ ...status, secret: 'x' }) }))).toEqual([expect.stringContaining('"additionalProperty":"secret"')]);
    expect(conformance.problems(route, answer({ body: JSON.stringify({ ...status, capacity: '5' }) }))).toEqual([expect.stringContaining('/capacity')]);
  });

  it('fails a missing required header, a body where none is documented, and a body that is not JSON', () => {
    expect(conformance.problems(route, answer({ headers: { 'Content-Type': 'application/json', ETag: '"abc"' } }))).toEqual([expect.stringContaining('no Cache-Control header')]);
    expect(conformance.problems(route, answer({ status: 304 }))).toEqual([expect.stringContaining('a body where the document has none')]);
    expect(conformance.problems(route, answer({ body: 'ok' }))).toEqual([expect.stringContaining('not JSON')]);
  });
});
