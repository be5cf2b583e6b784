import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../lambdas/api/document.js';
import { OPENAPI_CACHE_CONTROL, handler } from '../../../lambdas/handlers/openapi.js';
import { apiEvent } from '../../helpers/events.js';
import { OpenApiConformance } from '../../helpers/openapi.js';

describe('GET /openapi.json', () => {
  it('answers 200 with the OpenAPI document, cacheable for 5 minutes, as the document describes itself', async () => {
    const response = await handler(apiEvent({ method: 'GET', route: '/openapi.json' }));

    expect(response.statusCode).toBe(200);
    expect(response.headers).toEqual({ 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' });
    expect(OPENAPI_CACHE_CONTROL).toBe('public, max-age=300');
    expect(JSON.parse(response.body)).toEqual(openApiDocument());
    expect(new OpenApiConformance(openApiDocument()).problems('GET /openapi.json', { status: response.statusCode, headers: response.headers, body: response.body })).toEqual([]);
  });
});
