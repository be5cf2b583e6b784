/**
 * The OpenAPI 3.1 document of the API, generated from the zod schemas the handlers validate with
 * (./schemas.ts) and the list of operations (./operations.ts). Served at GET /openapi.json
 * (lambdas/handlers/openapi.ts) and meant to be written into the package by a build step:
 * `openApiDocument()` is pure, the same document for the same code.
 *
 * The same schemas are the API's request models: an HTTP API has none of its own (only REST APIs
 * validate bodies against models), so the functions validate with these schemas, and the
 * document's parameters and request bodies are generated from them with `z.toJSONSchema`, JSON
 * Schema draft 2020-12, the dialect of OpenAPI 3.1. Nothing is described twice.
 *
 * Security: visitor routes take the secret as a bearer token (`visitorSecret`); the origin's pass
 * route takes the admission pass, as a bearer token or the `wr_pass` cookie; /admin routes are
 * IAM-authorized, a SigV4-signed request. OpenAPI has no scheme for SigV4, so `awsSigV4` is
 * written as API Gateway itself exports it: an apiKey in the Authorization header, marked
 * `x-amazon-apigateway-authtype: awsSigv4` (validators accept it; SigV4-aware tools read the mark).
 *
 * No `servers` unless given: OpenAPI's default is `/`, the root of wherever the document is
 * served, which is the API's own root on AWS (the `$default` stage) and locally alike.
 */
import * as z from 'zod';
import { API_OPERATIONS, type ApiOperation, type Caller, type ResponseHeader, type SuccessAnswer } from './operations.js';
import {
  MAX_BODY_BYTES,
  errorBodySchema,
  gatewayErrorSchema,
  requestComponents,
  responseComponents,
  roomIdSchema,
  tokenIdSchema,
} from './schemas.js';

/** The version of this description of the API (its contract), not of the package. */
export const API_VERSION = '1.0.0';

type JsonObject = Record<string, unknown>;
type Ref = { $ref: string };

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } };
  servers?: { url: string; description?: string }[];
  tags: { name: ApiOperation['tag']; description: string }[];
  paths: Record<string, Partial<Record<'get' | 'post' | 'put' | 'delete', JsonObject>>>;
  components: {
    schemas: Record<string, JsonObject>;
    responses: Record<string, JsonObject>;
    headers: Record<string, JsonObject>;
    securitySchemes: Record<string, JsonObject>;
  };
}

export interface OpenApiOptions {
  /** Where the API is (e.g. the stack's ApiUrl output): becomes the document's one server. @default none, i.e. "/" */
  serverUrl?: string;
}

const JSON_SCHEMA = { target: 'draft-2020-12' } as const;
const schemaUri = (id: string) => `#/components/schemas/${id}`;

/** A schema of a registry as JSON Schema, without the `$schema` and `$id` that belong to a standalone one. */
function embedded(schema: JsonObject): JsonObject {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
}

/** The named schemas: request bodies as the handlers read them, responses as they are written. */
function componentSchemas(): Record<string, JsonObject> {
  const convert = (registry: typeof requestComponents, io: 'input' | 'output') =>
    Object.entries(z.toJSONSchema(registry, { ...JSON_SCHEMA, io, uri: schemaUri }).schemas).map(([id, schema]) => [id, embedded(schema)] as const);
  return Object.fromEntries([...convert(requestComponents, 'input'), ...convert(responseComponents, 'output')].sort(([a], [b]) => a.localeCompare(b)));
}

/** A reference to a named schema. */
function ref(schema: z.ZodType): Ref {
  const id = requestComponents.get(schema)?.id ?? responseComponents.get(schema)?.id;
  if (!id) throw new Error('the API document names only the schemas of ./schemas.ts registries');
  return { $ref: schemaUri(id) };
}

const json = (schema: JsonObject) => ({ 'application/json': { schema } });
const inline = (schema: z.ZodType) => embedded(z.toJSONSchema(schema, { ...JSON_SCHEMA, io: 'input' }) as JsonObject);

const PATH_PARAMETERS: Record<string, z.ZodType> = { roomId: roomIdSchema, tokenId: tokenIdSchema };

function parametersOf(operation: ApiOperation): JsonObject[] {
  const names = [...operation.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const parameters: JsonObject[] = names.map((name) => {
    const schema = PATH_PARAMETERS[name];
    if (!schema) throw new Error(`${operation.method} ${operation.path}: no schema for the path parameter ${name}`);
    return { name, in: 'path', required: true, description: schema.description, schema: inline(schema) };
  });
  if (operation.conditional) {
    parameters.push({
      name: 'If-None-Match',
      in: 'header',
      required: false,
      description: 'The ETag of the answer the caller has: 304 and no body when it is still current.',
      schema: { type: 'string' },
    });
  }
  return parameters;
}

const HEADER_NAMES: Record<ResponseHeader | 'RetryAfter' | 'WwwAuthenticate', string> = {
  Location: 'Location',
  ETag: 'ETag',
  CacheControl: 'Cache-Control',
  RetryAfter: 'Retry-After',
  WwwAuthenticate: 'WWW-Authenticate',
};
const headerRefs = (ids: readonly (keyof typeof HEADER_NAMES)[]) =>
  Object.fromEntries(ids.map((id) => [HEADER_NAMES[id], { $ref: `#/components/headers/${id}` }]));

const HEADERS: Record<keyof typeof HEADER_NAMES, JsonObject> = {
  Location: { description: "The new token's path, relative to the API's root.", required: true, schema: { type: 'string' } },
  ETag: { description: 'Names these bytes: send it back in If-None-Match.', required: true, schema: { type: 'string' } },
  CacheControl: { description: 'How long browsers and CDNs may keep the answer.', required: true, schema: { type: 'string' } },
  RetryAfter: {
    description: "Seconds to wait before trying again. API Gateway's own stage throttling sends none: wait a second or so then.",
    required: false,
    schema: { type: 'integer', minimum: 0 },
  },
  WwwAuthenticate: { description: 'The scheme the route expects.', required: true, schema: { type: 'string', const: 'Bearer' } },
};

/** Error answers by status, each a `components.responses` entry. */
const ERROR_RESPONSES = {
  400: ['BadRequest', 'Malformed input: a path parameter that does not match its pattern, or a body the route does not take (BAD_REQUEST; `details` says what).'],
  401: [
    'Unauthorized',
    'No usable bearer secret (MISSING_CREDENTIAL), or one that does not match the token (INVALID_CREDENTIAL); on the pass route, no admission pass (MISSING_PASS) or one that does not verify for the room: forged, expired, malformed or another room\'s (INVALID_PASS).',
  ],
  403: ['Forbidden', 'API Gateway refused the request: no valid SigV4 signature, or credentials not allowed to invoke the route.'],
  404: [
    'NotFound',
    'Unknown room (ROOM_NOT_FOUND), or a token that is unknown, has left or was removed after going silent (TOKEN_NOT_FOUND); for the JWKS and the pass route, admission passes are not configured (PASSES_NOT_CONFIGURED); for the lottery, the room has no scheduled event (NO_EVENT).',
  ],
  409: ['Conflict', 'The room takes no new visitors: closed (ROOM_CLOSED), or in reject mode (ROOM_NOT_ACCEPTING: sold out, the message says why).'],
  410: ['Gone', 'An emergency stop of the room revoked this admission (ADMISSION_REVOKED): the visitor may join the line again.'],
  413: ['PayloadTooLarge', `The body is larger than ${MAX_BODY_BYTES} bytes (PAYLOAD_TOO_LARGE); past API Gateway's own limit (10 MB), its own answer.`],
  429: ['Throttled', "Too many requests: a busy room or datastore (THROTTLED), or API Gateway's stage throttling (its own answer). Try again after Retry-After."],
  500: ['InternalError', 'A bug (INTERNAL), or a failed integration (API Gateway\'s own answer). Never a stack trace.'],
} as const;
type ErrorStatus = keyof typeof ERROR_RESPONSES;

function errorResponses(): Record<string, JsonObject> {
  const functionOrGateway = { anyOf: [ref(errorBodySchema), ref(gatewayErrorSchema)] };
  const bodies: Record<ErrorStatus, JsonObject> = {
    400: ref(errorBodySchema),
    401: ref(errorBodySchema),
    403: ref(gatewayErrorSchema),
    404: ref(errorBodySchema),
    409: ref(errorBodySchema),
    410: ref(errorBodySchema),
    413: functionOrGateway,
    429: functionOrGateway,
    500: functionOrGateway,
  };
  const headers: Partial<Record<ErrorStatus, JsonObject>> = { 401: headerRefs(['WwwAuthenticate']), 429: headerRefs(['RetryAfter']) };
  return Object.fromEntries(
    (Object.keys(ERROR_RESPONSES).map(Number) as ErrorStatus[]).map((status) => {
      const [id, description] = ERROR_RESPONSES[status];
      return [id, { description, ...(headers[status] ? { headers: headers[status] } : {}), content: json(bodies[status]) }];
    }),
  );
}

/** The error statuses a route answers with: see ./operations.ts for the rules. */
function errorStatusesOf(operation: ApiOperation): ErrorStatus[] {
  const takesInput = operation.body !== undefined || operation.path.includes('{');
  const statuses = new Set<ErrorStatus>([429, 500, ...(operation.errors ?? [])]);
  if (takesInput) statuses.add(400);
  if (operation.body) statuses.add(413);
  if (operation.caller === 'visitor' || operation.caller === 'pass') statuses.add(401);
  if (operation.caller === 'admin') statuses.add(403);
  return [...statuses].sort((a, b) => a - b);
}

function successResponse(answer: SuccessAnswer): JsonObject {
  return {
    description: answer.description,
    ...(answer.headers ? { headers: headerRefs(answer.headers) } : {}),
    ...(answer.schema ? { content: json(ref(answer.schema)) } : {}),
  };
}

const SECURITY: Record<Caller, JsonObject[] | undefined> = {
  public: undefined,
  visitor: [{ visitorSecret: [] }],
  // Either one: the alternatives of an OpenAPI security requirement.
  pass: [{ admissionPass: [] }, { admissionPassCookie: [] }],
  admin: [{ awsSigV4: [] }],
};

function operationObject(operation: ApiOperation): JsonObject {
  const parameters = parametersOf(operation);
  const security = SECURITY[operation.caller];
  const responses = Object.fromEntries([
    ...operation.success.map((answer) => [String(answer.status), successResponse(answer)] as const),
    ...errorStatusesOf(operation).map((status) => [String(status), { $ref: `#/components/responses/${ERROR_RESPONSES[status][0]}` }] as const),
  ]);
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    tags: [operation.tag],
    ...(security ? { security } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body ? { requestBody: { required: operation.body.required, content: json(ref(operation.body.schema)) } } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of every route of the API. */
export function openApiDocument(options: OpenApiOptions = {}): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const operation of API_OPERATIONS) {
    const item = (paths[operation.path] ??= {});
    const method = operation.method.toLowerCase() as Lowercase<ApiOperation['method']>;
    if (item[method]) throw new Error(`${operation.method} ${operation.path} is described twice`);
    item[method] = operationObject(operation);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Serverless waiting room',
      version: API_VERSION,
      description:
        'A virtual waiting room: visitors take numbered tickets, keep their place with heartbeats, and are admitted in order as seats free up, with a signed pass the protected origin verifies. Errors are `{"error":{"code","message"}}`, except API Gateway\'s own (`{"message"}`).',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    tags: [
      { name: 'visitors', description: 'Join, read, heartbeat, keep place, leave: a visitor with its token.' },
      { name: 'rooms', description: 'Public room status.' },
      { name: 'passes', description: 'What a protected origin needs: the keys that verify admission passes, and the route that frees a seat with one.' },
      { name: 'admin', description: 'Create and configure rooms, run the metrics (IAM, SigV4).' },
      { name: 'meta', description: 'This document.' },
    ],
    paths,
    components: {
      schemas: componentSchemas(),
      responses: errorResponses(),
      headers: HEADERS,
      securitySchemes: {
        visitorSecret: {
          type: 'http',
          scheme: 'bearer',
          description: "The visitor's secret from the join answer (32 bytes, base64url): `Authorization: Bearer <secret>`.",
        },
        admissionPass: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: "The visitor's admission pass (an ES256 JWT from its token view): `Authorization: Bearer <pass>`.",
        },
        admissionPassCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: 'wr_pass',
          description: "The visitor's admission pass in the `wr_pass` cookie, as the browser sends it (read before the Authorization header).",
        },
        awsSigV4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'AWS Signature Version 4 (service execute-api) with IAM credentials allowed to invoke the route; the CLI and the admin console sign for you.',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
      },
    },
  };
}
