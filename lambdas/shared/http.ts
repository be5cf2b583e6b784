/**
 * HTTP plumbing for the API handlers (HTTP API, payload format 2.0): request parsing and
 * validation (zod, with the API's schemas from lambdas/api/schemas.ts, which the OpenAPI document
 * describes), and the one mapping of errors to statuses and JSON bodies (DESIGN §3). No
 * stack trace ever leaves. CORS is the API's own (lib/constructs/api.ts): API Gateway answers
 * preflights and adds the CORS headers to these responses, ignoring any a function would add.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { withInvocation } from './logger.js';
import * as z from 'zod';
import { MAX_BODY_BYTES, emptyBodySchema } from '../api/schemas.js';
import {
  AdmissionRevokedError,
  ContentionError,
  DomainError,
  InvalidCredentialError,
  InvalidPassError,
  MissingCredentialError,
  MissingPassError,
  PassesNotConfiguredError,
  PayloadTooLargeError,
  RoomClosedError,
  RoomNotAcceptingError,
  RoomNotFoundError,
  NoEventError,
  SECRET_PATTERN,
  TokenNotFoundError,
  ValidationError,
} from '../domain/index.js';

/** What the API handlers answer: a payload 2.0 result, always with headers and a (possibly empty) body. */
export interface HttpResponse extends APIGatewayProxyStructuredResultV2 {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** An error answer (errorBodySchema in lambdas/api/schemas.ts describes it, with every code). */
export interface ErrorBody {
  error: { code: string; message: string; details?: string[] };
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

export function noContent(): HttpResponse {
  return { statusCode: 204, headers: { 'Cache-Control': 'no-store' }, body: '' };
}

function errorResponse(statusCode: number, code: string, message: string, details?: string[], headers?: Record<string, string>) {
  const body: ErrorBody = { error: { code, message, ...(details && details.length > 0 ? { details } : {}) } };
  return json(statusCode, body, headers);
}

const THROTTLING_ERRORS = new Set([
  'ThrottlingException',
  'TransactionConflictException', // an item stayed busy with another transaction through our retries
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

/** The one mapping from errors to HTTP responses. Unknown errors are 500 with no detail. */
export function errorToResponse(error: unknown, logger?: Logger): HttpResponse {
  if (error instanceof DomainError) {
    if (error instanceof ValidationError) return errorResponse(400, error.code, error.message, error.issues);
    if (error instanceof MissingCredentialError || error instanceof InvalidCredentialError || error instanceof MissingPassError || error instanceof InvalidPassError) {
      return errorResponse(401, error.code, error.message, undefined, { 'WWW-Authenticate': 'Bearer' });
    }
    if (error instanceof RoomNotFoundError || error instanceof TokenNotFoundError || error instanceof PassesNotConfiguredError || error instanceof NoEventError) {
      return errorResponse(404, error.code, error.message);
    }
    if (error instanceof AdmissionRevokedError) return errorResponse(410, error.code, error.message);
    if (error instanceof RoomClosedError || error instanceof RoomNotAcceptingError) return errorResponse(409, error.code, error.message);
    if (error instanceof PayloadTooLargeError) return errorResponse(413, error.code, error.message);
    if (error instanceof ContentionError) return errorResponse(429, 'THROTTLED', error.message, undefined, { 'Retry-After': '1' });
  }
  if (error instanceof Error && THROTTLING_ERRORS.has(error.name)) {
    logger?.warn('throttled by a downstream service', { error: error.name });
    return errorResponse(429, 'THROTTLED', 'Too many requests, try again shortly', undefined, { 'Retry-After': '1' });
  }
  logger?.error('unexpected error', error as Error);
  return errorResponse(500, 'INTERNAL', 'Internal error');
}

function formatIssues(error: z.ZodError, where: string): string[] {
  return error.issues.map((issue) => `${where}${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
}

/** Validates path parameters; a bad one is a 400 naming the parameter. */
export function pathParams<T extends z.ZodRawShape>(event: APIGatewayProxyEventV2, shape: T): z.infer<z.ZodObject<T>> {
  const result = z.object(shape).safeParse(event.pathParameters ?? {});
  if (!result.success) throw new ValidationError('Invalid path parameter', formatIssues(result.error, 'path'));
  return result.data;
}

/** The raw body as text, after the size limit (413). */
function bodyText(event: APIGatewayProxyEventV2): string {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`Request body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  return text;
}

/** Parses and validates a JSON body. An empty body is treated as `{}`. */
export function jsonBody<T extends z.ZodType>(event: APIGatewayProxyEventV2, schema: T): z.infer<T> {
  const text = bodyText(event).trim();
  let parsed: unknown = {};
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ValidationError('Request body is not valid JSON');
    }
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new ValidationError('Invalid request body', formatIssues(result.error, 'body'));
  return result.data;
}

/** Routes without a body accept none, or an empty JSON object. */
export function noBody(event: APIGatewayProxyEventV2): void {
  jsonBody(event, emptyBodySchema);
}

/** A request header: HTTP APIs deliver header names lowercased, repeated headers joined with commas. */
function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  return event.headers?.[name.toLowerCase()];
}

/** Whether an If-None-Match header names `etag` (or `*`): the caller already has these bytes. */
export function ifNoneMatch(event: APIGatewayProxyEventV2, etag: string): boolean {
  const value = header(event, 'if-none-match');
  if (!value) return false;
  const weakless = (tag: string) => tag.trim().replace(/^W\//, '');
  return value.split(',').some((tag) => tag.trim() === '*' || weakless(tag) === weakless(etag));
}

/** The visitor's secret from `Authorization: Bearer <secret>`: 401 when missing or malformed. */
export function bearerSecret(event: APIGatewayProxyEventV2): string {
  const value = header(event, 'authorization');
  if (value === undefined || value.trim() === '') throw new MissingCredentialError();
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
  if (!match || !SECRET_PATTERN.test(match[1]!)) throw new InvalidCredentialError();
  return match[1]!;
}

/**
 * Wraps an API handler: everything thrown becomes the mapped JSON error; the request id and the
 * route's ids go into every log line.
 */
export function httpHandler(
  logger: Logger,
  handle: (event: APIGatewayProxyEventV2) => Promise<HttpResponse>,
): (event: APIGatewayProxyEventV2, context?: Context) => Promise<HttpResponse> {
  return (event, context) => {
    const { roomId, tokenId } = event.pathParameters ?? {};
    // Every line names the Lambda request, the function and whether this was a cold start, and
    // the route's ids (public, but from the caller: kept short).
    const keys = { requestId: event.requestContext?.requestId, roomId: roomId?.slice(0, 64), tokenId: tokenId?.slice(0, 64) };
    return withInvocation(logger, context, keys, async () => {
      try {
        return await handle(event);
      } catch (error) {
        return errorToResponse(error, logger);
      }
    });
  };
}
