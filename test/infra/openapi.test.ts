/**
 * The OpenAPI document describes the stack's HTTP API, route for route: every route of the
 * synthesized template is in the document with the same method and path, and the document has
 * no route the stack lacks. Its admin routes are the template's IAM routes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../lambdas/api/document.js';
import { OpenApiConformance } from '../helpers/openapi.js';
import { synthWaitingRoom } from '../helpers/synth.js';

type Resource = { Properties: Record<string, unknown> };
let templateRoutes: { routeKey: string; authorization: unknown }[];

beforeAll(() => {
  const { template } = synthWaitingRoom({}, { bundle: false });
  templateRoutes = Object.values(template.findResources('AWS::ApiGatewayV2::Route') as Record<string, Resource>).map((r) => ({
    routeKey: r.Properties.RouteKey as string,
    authorization: r.Properties.AuthorizationType,
  }));
});

describe('the OpenAPI document and the stack', () => {
  const documented = new OpenApiConformance(openApiDocument()).routeKeys();

  it('describe the same routes, with the same methods and paths', () => {
    expect(templateRoutes.length).toBeGreaterThan(0);
    expect([...documented].sort()).toEqual(templateRoutes.map((r) => r.routeKey).sort());
  });

  it('agree on which routes need a SigV4 signature', () => {
    const document = openApiDocument();
    for (const { routeKey, authorization } of templateRoutes) {
      const [method, path] = routeKey.split(' ') as [string, string];
      const security = document.paths[path]?.[method.toLowerCase() as 'get']?.security;
      expect(JSON.stringify(security ?? []).includes('awsSigV4'), routeKey).toBe(authorization === 'AWS_IAM');
    }
  });
});
