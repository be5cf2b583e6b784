import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { describe, expect, it } from 'vitest';
import { PassAuthorizer } from '../../lib/pass-authorizer.js';

describe('PassAuthorizer (for your own API)', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Shop');
  const api = new RestApi(stack, 'ShopApi');
  const gate = new PassAuthorizer(stack, 'Gate', { jwksUrl: 'https://example.com/v1/.well-known/jwks.json', roomId: 'shop' });
  api.root.addResource('checkout').addMethod('POST', new MockIntegration(), { authorizer: gate.authorizer });
  const template = Template.fromStack(stack);

  it('is a REQUEST authorizer whose results are never cached (a cached Allow would outlive the pass)', () => {
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'REQUEST', AuthorizerResultTtlInSeconds: 0 });
  });

  it('verifies passes for the given room against the given JWKS', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ PASS_JWKS_URL: 'https://example.com/v1/.well-known/jwks.json', PASS_ROOM_ID: 'shop' }) },
      Runtime: 'nodejs22.x',
    });
  });

  it('guards the method it is attached to', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as { Properties: Record<string, unknown> }[];
    const post = methods.find((m) => m.Properties.HttpMethod === 'POST');
    expect(post?.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: expect.stringMatching(/^GateAuthorizer/) } });
  });
});
