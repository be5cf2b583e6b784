/**
 * GET /openapi.json: the OpenAPI 3.1 document of the API (lambdas/api/document.ts), built once per
 * environment. The same bytes for every caller and every host (no `servers`: OpenAPI's default,
 * the root the document is served from, is the API's root), so browsers and CDNs may keep it.
 */
import { openApiDocument } from '../api/document.js';
import { createLogger } from '../shared/logger.js';
import { httpHandler, type HttpResponse } from '../shared/http.js';

/** Five minutes: the document only changes with a deployment. */
export const OPENAPI_CACHE_CONTROL = 'public, max-age=300';

const logger = createLogger('waiting-room-openapi');
const body = JSON.stringify(openApiDocument());

export const handler = httpHandler(
  logger,
  async (): Promise<HttpResponse> => ({ statusCode: 200, headers: { 'Content-Type': 'application/json', 'Cache-Control': OPENAPI_CACHE_CONTROL }, body }),
);
