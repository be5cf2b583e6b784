/**
 * The edge gate (lib/gate): the distribution in front of a site, as `cdk synth -c originDomain=...`
 * makes it through bin/app.ts, and with every option on (WAF, custom domain, access logs, the page
 * built for real). Pinned: behaviors and origins, the two CloudFront Functions and the
 * KeyValueStore, the private page bucket behind Origin Access Control and its deployment, the
 * status cache policy, the security headers, the web ACL; cdk-nag clean; bad props refused in one
 * message.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateFromContext } from '../../lib/gate/context.js';
import { WaitingRoomGate } from '../../lib/gate/gate.js';
import { GATE_FUNCTION_FILE } from '../../lib/gate/gate-code.js';
import { validateWaitingRoomGateProps, type WaitingRoomGateProps } from '../../lib/gate/props.js';
import { JOIN_PATH_REGEX } from '../../lib/gate/waf.js';
import { gatePageHtml } from '../../lib/gate/waiting-page.js';
import { REPO_ROOT } from '../../lib/paths.js';
import { nagViolations } from '../helpers/synth.js';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Behavior = Record<string, unknown> & { PathPattern?: string; TargetOriginId: string };
type Origin = Record<string, unknown> & { Id: string; DomainName: unknown };

const API_URL = 'https://abc123.execute-api.us-east-1.amazonaws.com/';
const CERTIFICATE_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
const temporary: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

const only = <T>(items: Record<string, T>, what: string): [string, T] => {
  const entries = Object.entries(items);
  expect(entries, `one ${what}`).toHaveLength(1);
  return entries[0]!;
};
/** The gate's resources of a type (the stack's status cache has a distribution of its own). */
const gateResources = (template: Template, type: string) =>
  Object.fromEntries(Object.entries(template.findResources(type) as Record<string, Resource>).filter(([id]) => id.startsWith('Gate')));
const logicalIdOf = (template: Template, type: string) => only(gateResources(template, type), type)[0];
const distributionConfig = (template: Template) =>
  only(gateResources(template, 'AWS::CloudFront::Distribution'), 'gate distribution')[1].Properties.DistributionConfig as Record<string, unknown>;

/** The block between the markers in the gate's source: it must be gone from the deployed code. */
const sourcePlaceholder = (): string => {
  const source = readFileSync(GATE_FUNCTION_FILE, 'utf8');
  return source.slice(source.indexOf('// <config>') + '// <config>'.length, source.indexOf('// </config>')).trim();
};

describe('cdk synth -c originDomain=shop.example.com (bin/app.ts)', () => {
  let template: Template;
  let config: Record<string, unknown>;
  let behaviors: Behavior[];
  let origins: Origin[];
  const originOf = (behavior: Behavior | undefined) => origins.find((o) => o.Id === behavior?.TargetOriginId);
  const behavior = (pattern: string) => behaviors.find((b) => b.PathPattern === pattern);

  beforeAll(async () => {
    // What the CLI does: run the app with the context as JSON and an output directory. Bundling is
    // skipped (the Lambda functions and the page build); cdk-nag runs and fails the app on a finding.
    const outdir = tempDir('wr-gate-app-');
    const context = {
      originDomain: 'shop.example.com',
      adminEmail: 'ops@example.com',
      rooms: '[{"roomId":"shop","capacity":200}]',
      'aws:cdk:bundling-stacks': [],
    };
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bin', 'app.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
      maxBuffer: 16 * 1024 * 1024,
    });
    try {
      await run;
    } catch (error) {
      const found = nagViolations(outdir).map((v) => `${v.ruleName} at ${v.paths.join(', ')}`);
      throw new Error(`bin/app.ts failed: ${(error as Error).message}\n${found.join('\n')}`);
    }
    expect(nagViolations(outdir)).toEqual([]);
    template = Template.fromJSON(JSON.parse(readFileSync(path.join(outdir, 'WaitingRoom.template.json'), 'utf8')) as Record<string, unknown>);
    config = distributionConfig(template);
    behaviors = [config.DefaultCacheBehavior as Behavior, ...(config.CacheBehaviors as Behavior[])];
    origins = config.Origins as Origin[];
  });

  it('keeps the edge pass keys in a secret that the rotate function writes with the KeyValueStore, at deploy and on demand; heartbeat and leave sign with the gate\'s issuer', () => {
    type Fn = { Properties: { Environment?: { Variables: Record<string, unknown> }; Role: { 'Fn::GetAtt': [string, string] } }; Metadata?: Record<string, unknown> };
    const functions = template.findResources('AWS::Lambda::Function') as Record<string, Fn>;
    const byEntry = (entry: string) => only(Object.fromEntries(Object.entries(functions).filter(([, f]) => f.Metadata?.['WaitingRoom:Entry'] === `lambdas/handlers/${entry}.ts`)), entry);
    const [rotateId, rotate] = byEntry('rotate-edge-pass-key');
    const secretId = Object.keys(template.findResources('AWS::SecretsManager::Secret')).find((id) => id.includes('EdgePassKeys'))!;
    const storeId = logicalIdOf(template, 'AWS::CloudFront::KeyValueStore');
    expect(rotate.Properties.Environment!.Variables).toEqual({
      EDGE_PASS_KEYS_SECRET_ARN: { Ref: secretId },
      EDGE_PASS_KVS_ARN: { 'Fn::GetAtt': [storeId, 'Arn'] },
      NODE_OPTIONS: expect.any(String),
      POWERTOOLS_SERVICE_NAME: expect.any(String),
      POWERTOOLS_LOG_LEVEL: expect.any(String),
    });
    expect(rotate.Metadata?.['WaitingRoom:LocalRuntime']).toBe('skip');
    const policies = Object.values(template.findResources('AWS::IAM::Policy') as Record<string, { Properties: { PolicyDocument: unknown; Roles: { Ref: string }[] } }>);
    const rotatePolicy = JSON.stringify(policies.filter((p) => p.Properties.Roles.some((r) => r.Ref === rotate.Properties.Role['Fn::GetAtt'][0])).map((p) => p.Properties.PolicyDocument));
    expect(rotatePolicy).toContain('cloudfront-keyvaluestore:UpdateKeys');
    expect(rotatePolicy).toContain('secretsmanager:PutSecretValue');
    // At deploy: a custom resource on the rotate function, renewed with the store.
    const [, custom] = only(template.findResources('AWS::CloudFormation::CustomResource', { Properties: { store: Match.anyValue() } }), 'first edge keys');
    expect((custom as { Properties: Record<string, unknown> }).Properties).toMatchObject({ secret: { Ref: secretId }, store: { 'Fn::GetAtt': [storeId, 'Arn'] } });
    const issuer = (JSON.stringify(template.toJSON()).match(/waiting-room:WaitingRoom\/Gate/) ?? [''])[0];
    expect(issuer).toBe('waiting-room:WaitingRoom/Gate');
    for (const entry of ['heartbeat', 'leave']) {
      expect(byEntry(entry)[1].Properties.Environment!.Variables).toMatchObject({ EDGE_PASS_ISSUER: 'waiting-room:WaitingRoom/Gate', EDGE_PASS_KEYS_SECRET_ARN: { Ref: secretId } });
    }
    expect(byEntry('join')[1].Properties.Environment!.Variables.EDGE_PASS_ISSUER).toBeUndefined();
    template.hasOutput('RotateEdgePassKeyFunctionName', { Value: { Ref: rotateId } });
  });

  it('routes the waiting room by path, most specific first, and everything else to the site', () => {
    expect((config.CacheBehaviors as Behavior[]).map((b) => b.PathPattern)).toEqual([
      '/waiting-room/api/rooms/*/status',
      '/waiting-room/api/*',
      '/waiting-room',
      '/waiting-room/*',
    ]);
    expect(config).toMatchObject({ HttpVersion: 'http2and3', PriceClass: 'PriceClass_100', Enabled: true });
    expect(config.WebACLId).toBeUndefined();
    expect(config.Aliases).toBeUndefined();
  });

  it('sends the default behavior to the origin by domain name, over HTTPS, every method, behind the gate function', () => {
    const site = config.DefaultCacheBehavior as Behavior;
    expect(originOf(site)).toMatchObject({ DomainName: 'shop.example.com', CustomOriginConfig: { OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] } });
    expect(site).toMatchObject({
      ViewerProtocolPolicy: 'redirect-to-https',
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      CachePolicyId: '4cc15a8a-d715-48a4-82b8-cc0b614638fe', // UseOriginCacheControlHeaders-QueryStrings
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac', // AllViewerExceptHostHeader
      FunctionAssociations: [{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [expect.stringMatching('GateGateFunction'), 'FunctionARN'] } }],
    });
  });

  it('sends /waiting-room/api/* to the API (its domain taken from the API URL), uncached, through the route function', () => {
    const api = behavior('/waiting-room/api/*');
    const status = behavior('/waiting-room/api/rooms/*/status');
    const apiOrigin = originOf(api);
    expect(apiOrigin).toMatchObject({
      DomainName: { 'Fn::Select': [2, { 'Fn::Split': ['/', expect.anything()] }] },
      CustomOriginConfig: { OriginProtocolPolicy: 'https-only' },
    });
    expect(JSON.stringify(apiOrigin?.DomainName)).toContain('execute-api');
    expect(originOf(status)?.DomainName).toEqual(apiOrigin?.DomainName);
    expect(api).toMatchObject({
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // CachingDisabled
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
    });
    const routeFunction = Object.keys(template.findResources('AWS::CloudFront::Function')).find((id) => id.includes('RouteFunction'));
    for (const routed of [api, status, behavior('/waiting-room'), behavior('/waiting-room/*')]) {
      expect(routed?.FunctionAssociations).toEqual([{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [routeFunction, 'FunctionARN'] } }]);
    }
  });

  it('caches the room status for a second, keyed on the path alone (the status cache\'s own policy)', () => {
    const status = behavior('/waiting-room/api/rooms/*/status');
    expect(status).toMatchObject({ AllowedMethods: ['GET', 'HEAD', 'OPTIONS'], Compress: true, CachePolicyId: { Ref: expect.stringMatching('StatusCachePolicy') } });
    const policyId = (status?.CachePolicyId as { Ref: string }).Ref;
    const policy = template.findResources('AWS::CloudFront::CachePolicy')[policyId] as Resource;
    expect(policy.Properties.CachePolicyConfig).toMatchObject({
      MinTTL: 0,
      DefaultTTL: 1,
      MaxTTL: 2,
      ParametersInCacheKeyAndForwardedToOrigin: {
        QueryStringsConfig: { QueryStringBehavior: 'none' },
        HeadersConfig: { HeaderBehavior: 'none' },
        CookiesConfig: { CookieBehavior: 'none' },
      },
    });
    // One policy for the status, shared with the status cache's distribution (custom cache policies are a per-account quota).
    expect(Object.keys(template.findResources('AWS::CloudFront::CachePolicy'))).toHaveLength(1);
  });

  it('serves /waiting-room and /waiting-room/* from the private bucket through Origin Access Control', () => {
    for (const page of [behavior('/waiting-room'), behavior('/waiting-room/*')]) {
      expect(page).toMatchObject({ ViewerProtocolPolicy: 'redirect-to-https', AllowedMethods: ['GET', 'HEAD'], CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6' });
      expect(originOf(page)).toMatchObject({
        DomainName: { 'Fn::GetAtt': [expect.stringMatching('GatePageBucket'), 'RegionalDomainName'] },
        OriginAccessControlId: { 'Fn::GetAtt': [expect.stringMatching('OriginAccessControl'), 'Id'] },
        S3OriginConfig: { OriginAccessIdentity: '' },
      });
    }
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
    const bucketId = (originOf(behavior('/waiting-room/*'))?.DomainName as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    expect(template.findResources('AWS::S3::Bucket')[bucketId]).toMatchObject({
      Properties: {
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      },
    });
  });

  it('lets only CloudFront, for this distribution, read the page bucket, and only over TLS', () => {
    const distributionId = logicalIdOf(template, 'AWS::CloudFront::Distribution');
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy') as Record<string, Resource>).filter((p) =>
      JSON.stringify(p.Properties.Bucket).includes('GatePageBucket'),
    );
    expect(policies).toHaveLength(1);
    const statements = (policies[0]!.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toEqual([
      {
        Action: 's3:GetObject',
        Effect: 'Allow',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Resource: expect.anything(),
        Condition: { StringEquals: { 'AWS:SourceArn': expect.anything() } },
      },
    ]);
    expect(JSON.stringify(allows[0]!.Condition)).toContain(`{"Ref":"${distributionId}"}`);
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });

  it('deploys the page under waiting-room/ and empties the edge caches of /waiting-room/* on each deploy', () => {
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketName: { Ref: Match.stringLikeRegexp('GatePageBucket') },
      DestinationBucketKeyPrefix: 'waiting-room/',
      Prune: true,
      RetainOnDelete: false,
      DistributionId: { Ref: logicalIdOf(template, 'AWS::CloudFront::Distribution') },
      DistributionPaths: ['/waiting-room/*'],
      SystemMetadata: { 'cache-control': 'public, max-age=60' },
    });
  });

  it('runs the gate function (runtime 2.0) with the KeyValueStore of edge-pass keys and the rooms injected', () => {
    const kvs = logicalIdOf(template, 'AWS::CloudFront::KeyValueStore');
    const functions = template.findResources('AWS::CloudFront::Function') as Record<string, Resource>;
    const [, gate] = only(
      Object.fromEntries(Object.entries(functions).filter(([id]) => id.includes('GateFunction'))),
      'gate function',
    );
    expect(gate.Properties.FunctionConfig).toEqual({
      Comment: expect.any(String),
      Runtime: 'cloudfront-js-2.0',
      KeyValueStoreAssociations: [{ KeyValueStoreARN: { 'Fn::GetAtt': [kvs, 'Arn'] } }],
    });
    const code = gate.Properties.FunctionCode as string;
    expect(code).toContain(
      'const CONFIG = {"issuer":"waiting-room:WaitingRoom/Gate","waitingPath":"/waiting-room/","apiPath":"/waiting-room/api/","rooms":[{"roomId":"shop","paths":["/*"]}],"unprotected":["/robots.txt","/favicon.ico"],"maxLifetimeSeconds":900};',
    );
    expect(code).not.toContain('// <config>');
    expect(code).not.toContain(sourcePlaceholder());
    expect(Buffer.byteLength(code)).toBeLessThanOrEqual(10_240);
    const [, route] = only(Object.fromEntries(Object.entries(functions).filter(([id]) => id.includes('RouteFunction'))), 'route function');
    expect(route.Properties.FunctionConfig).toEqual({ Comment: expect.any(String), Runtime: 'cloudfront-js-2.0' });
    expect(route.Properties.FunctionCode).toBe(readFileSync(path.join(REPO_ROOT, 'edge', 'route-function.js'), 'utf8'));
  });

  it('answers every behavior with the security headers, leaving the origin\'s own values in place', () => {
    const policy = logicalIdOf(template, 'AWS::CloudFront::ResponseHeadersPolicy');
    for (const b of behaviors) expect(b.ResponseHeadersPolicyId).toEqual({ Ref: policy });
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: {
        SecurityHeadersConfig: {
          StrictTransportSecurity: { AccessControlMaxAgeSec: 31_536_000, IncludeSubdomains: false, Override: false },
          ContentTypeOptions: { Override: false },
          FrameOptions: { FrameOption: 'SAMEORIGIN', Override: false },
          ReferrerPolicy: { ReferrerPolicy: 'strict-origin-when-cross-origin', Override: false },
        },
      },
    });
  });

  it('outputs the gate URL and the KeyValueStore ARN', () => {
    template.hasOutput('GateUrl', { Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::CloudFront::Distribution'), 'DomainName'] }, '/']] } });
    template.hasOutput('GateKeyValueStoreArn', { Value: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::CloudFront::KeyValueStore'), 'Arn'] } });
  });
});

describe('the gate with every option: WAF, custom domain, access logs, the page built', () => {
  let template: Template;
  let outdir: string;
  let gate: WaitingRoomGate;

  beforeAll(() => {
    outdir = tempDir('wr-gate-full-');
    const app = new App({ outdir });
    const stack = new Stack(app, 'GateFull', { env: { account: '123456789012', region: 'us-east-1' } });
    gate = new WaitingRoomGate(stack, 'Gate', {
      apiUrl: API_URL,
      origin: { domainName: 'origin.shop.example.com', originPath: '/live', headers: { 'x-from-gate': 'secret-value' } },
      rooms: [
        { roomId: 'sale', paths: ['/sale/*', '/checkout'] },
        { roomId: 'shop', paths: ['/*'] },
      ],
      unprotected: ['/health', '/static/*'],
      maxPassLifetime: Duration.minutes(10),
      domainNames: ['shop.example.com', 'www.shop.example.com'],
      certificate: Certificate.fromCertificateArn(stack, 'Certificate', CERTIFICATE_ARN),
      accessLogs: true,
      waf: true,
      originShieldRegion: 'us-east-1',
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try {
      app.synth();
    } catch (error) {
      const found = nagViolations(outdir).map((v) => `${v.ruleName} at ${v.paths.join(', ')}`);
      throw new Error(`${(error as Error).message}\n${found.join('\n')}`);
    }
    template = Template.fromStack(stack);
  });

  it('passes cdk-nag, every finding fixed or acknowledged', () => {
    expect(nagViolations(outdir)).toEqual([]);
  });

  it('limits joins per IP (20 in 5 minutes, 429 beyond) and runs the AWS managed common rule set, body size only counted', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'CLOUDFRONT',
      DefaultAction: { Allow: {} },
      Rules: [
        {
          Name: 'JoinsPerIp',
          Priority: 0,
          Action: { Block: { CustomResponse: { ResponseCode: 429 } } },
          Statement: {
            RateBasedStatement: {
              AggregateKeyType: 'IP',
              EvaluationWindowSec: 300,
              Limit: 20,
              ScopeDownStatement: {
                AndStatement: {
                  Statements: [
                    { ByteMatchStatement: { FieldToMatch: { Method: {} }, PositionalConstraint: 'EXACTLY', SearchString: 'POST', TextTransformations: [{ Priority: 0, Type: 'NONE' }] } },
                    { RegexMatchStatement: { FieldToMatch: { UriPath: {} }, RegexString: JOIN_PATH_REGEX, TextTransformations: [{ Priority: 0, Type: 'URL_DECODE' }] } },
                  ],
                },
              },
            },
          },
          VisibilityConfig: Match.objectLike({ CloudWatchMetricsEnabled: true }),
        },
        {
          Name: 'AWSManagedRulesCommonRuleSet',
          Priority: 1,
          OverrideAction: { None: {} },
          Statement: {
            ManagedRuleGroupStatement: {
              VendorName: 'AWS',
              Name: 'AWSManagedRulesCommonRuleSet',
              RuleActionOverrides: [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }],
            },
          },
          VisibilityConfig: Match.objectLike({ SampledRequestsEnabled: true }),
        },
      ],
    });
    expect(distributionConfig(template).WebACLId).toEqual({ 'Fn::GetAtt': [logicalIdOf(template, 'AWS::WAFv2::WebACL'), 'Arn'] });
    expect(gate.webAcl).toBeDefined();
  });

  it('counts joins only: a POST to a room\'s /tokens, not heartbeats, leaves or the status', () => {
    const join = new RegExp(JOIN_PATH_REGEX);
    expect(['/waiting-room/api/rooms/shop/tokens', '/waiting-room/api/rooms/shop/tokens/'].every((p) => join.test(p))).toBe(true);
    for (const other of ['/waiting-room/api/rooms/shop/tokens/abc/heartbeat', '/waiting-room/api/rooms/shop/tokens/abc', '/waiting-room/api/rooms/shop/status', '/rooms/shop/tokens']) {
      expect(join.test(other), other).toBe(false);
    }
  });

  it('answers on the site\'s own domains with the certificate, TLSv1.2_2021 at least', () => {
    expect(distributionConfig(template)).toMatchObject({
      Aliases: ['shop.example.com', 'www.shop.example.com'],
      ViewerCertificate: { AcmCertificateArn: CERTIFICATE_ARN, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' },
    });
    expect(gate.url).toBe('https://shop.example.com/');
  });

  it('logs requests into a bucket that CloudFront can write with its ACL, kept 90 days', () => {
    const logBucket = Object.entries(template.findResources('AWS::S3::Bucket') as Record<string, Resource>).find(([id]) => id.includes('LogBucket'));
    expect(logBucket?.[1].Properties).toMatchObject({
      OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [{ ExpirationInDays: 90, Status: 'Enabled' }] },
    });
    expect(distributionConfig(template).Logging).toEqual({ Bucket: { 'Fn::GetAtt': [logBucket?.[0], 'RegionalDomainName'] }, Prefix: 'cloudfront/' });
    template.hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: { DestinationBucketName: { Ref: logBucket?.[0] }, LogFilePrefix: 's3/' } });
  });

  it('passes the origin path and the origin\'s secret header, and fetches the status through Origin Shield', () => {
    const origins = distributionConfig(template).Origins as Origin[];
    expect(origins).toContainEqual(expect.objectContaining({ DomainName: 'origin.shop.example.com', OriginPath: '/live', OriginCustomHeaders: [{ HeaderName: 'x-from-gate', HeaderValue: 'secret-value' }] }));
    const api = origins.filter((o) => o.DomainName === 'abc123.execute-api.us-east-1.amazonaws.com');
    expect(api).toHaveLength(2);
    expect(api.map((o) => o.OriginShield ?? null)).toContainEqual({ Enabled: true, OriginShieldRegion: 'us-east-1' });
    const status = (distributionConfig(template).CacheBehaviors as Behavior[]).find((b) => b.PathPattern === '/waiting-room/api/rooms/*/status');
    expect(origins.find((o) => o.Id === status?.TargetOriginId)?.OriginShield).toEqual({ Enabled: true, OriginShieldRegion: 'us-east-1' });
  });

  it('gives the gate function every room, the unprotected paths and the pass lifetime', () => {
    expect(gate.config).toEqual({
      issuer: 'waiting-room:GateFull/Gate',
      waitingPath: '/waiting-room/',
      apiPath: '/waiting-room/api/',
      rooms: [
        { roomId: 'sale', paths: ['/sale/*', '/checkout'] },
        { roomId: 'shop', paths: ['/*'] },
      ],
      unprotected: ['/health', '/static/*'],
      maxLifetimeSeconds: 600,
    });
    const code = (Object.values(template.findResources('AWS::CloudFront::Function') as Record<string, Resource>).find((f) =>
      String(f.Properties.FunctionCode).includes('const CONFIG ='),
    )?.Properties.FunctionCode ?? '') as string;
    expect(code).toContain(`const CONFIG = ${JSON.stringify(gate.config)};`);
  });

  it('deploys the built page, rewritten for /waiting-room/: assets under it, the API at /waiting-room/api', () => {
    const deployment = Object.values(template.findResources('Custom::CDKBucketDeployment') as Record<string, Resource>)[0]!;
    const key = (deployment.Properties.SourceObjectKeys as string[])[0]!;
    const staged = path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    expect(existsSync(staged), staged).toBe(true);
    expect(readdirSync(staged).sort()).toEqual(['assets', 'index.html']);
    expect(readdirSync(path.join(staged, 'assets')).sort()).toEqual(['client.js', 'styles.css', 'waiting-room.js']);
    const html = readFileSync(path.join(staged, 'index.html'), 'utf8');
    expect(html).toContain('href="/waiting-room/assets/styles.css"');
    expect(html).toContain('src="/waiting-room/assets/waiting-room.js"');
    expect(html).toContain('data-api-base="/waiting-room/api"');
    expect(html).not.toMatch(/(?:href|src)="\/assets\//);
    expect(readFileSync(path.join(staged, 'assets', 'waiting-room.js'), 'utf8')).not.toContain('sourceMappingURL');
  });

  it('grants the key rotation the KeyValueStore actions it needs, on this store only', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Rotation', { env: { region: 'eu-west-1' } });
    const gate = new WaitingRoomGate(stack, 'Gate', { apiUrl: API_URL, origin: { domainName: 'origin.example.com' }, rooms: [{ roomId: 'shop', paths: ['/*'] }] });
    const rotation = new Role(stack, 'Rotation', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    gate.grantPassKeyWrites(rotation);
    const synthesized = Template.fromStack(stack);
    const policies = Object.values(synthesized.findResources('AWS::IAM::Policy') as Record<string, Resource>).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes('Rotation'),
    );
    expect(policies.flatMap((p) => (p.Properties.PolicyDocument as { Statement: unknown[] }).Statement)).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'cloudfront-keyvaluestore:DescribeKeyValueStore',
          'cloudfront-keyvaluestore:GetKey',
          'cloudfront-keyvaluestore:ListKeys',
          'cloudfront-keyvaluestore:PutKey',
          'cloudfront-keyvaluestore:DeleteKey',
          'cloudfront-keyvaluestore:UpdateKeys',
        ],
        Resource: { 'Fn::GetAtt': [logicalIdOf(synthesized, 'AWS::CloudFront::KeyValueStore'), 'Arn'] },
      },
    ]);
  });
});

describe('gate props', () => {
  const valid: WaitingRoomGateProps = { apiUrl: API_URL, origin: { domainName: 'origin.shop.example.com' }, rooms: [{ roomId: 'shop', paths: ['/*'] }] };
  const problemsOf = (props: WaitingRoomGateProps, region = 'eu-west-1', certificateRegion?: string): string[] => {
    try {
      validateWaitingRoomGateProps(props, { region, ...(certificateRegion ? { certificateRegion } : {}) });
      return [];
    } catch (error) {
      const message = (error as Error).message;
      expect(message.startsWith('Invalid WaitingRoomGate props:\n- ')).toBe(true);
      return message.split('\n- ').slice(1);
    }
  };

  it('accepts a room protecting every path', () => {
    expect(problemsOf(valid)).toEqual([]);
  });

  it('refuses bad props, listing every problem in one message', () => {
    const problems = problemsOf({
      apiUrl: 'http://abc/',
      origin: { domainName: 'https://shop.example.com', originPath: 'live/' },
      rooms: [
        { roomId: '-bad', paths: ['/*'] },
        { roomId: 'shop', paths: ['shop/*', '/a*b', '/waiting-room/x', '/*'] },
        { roomId: 'shop', paths: [] },
      ],
      unprotected: ['/ok', '/sp ace'],
      maxPassLifetime: Duration.hours(2),
      domainNames: ['shop.example.com'],
      waf: { joinsPer5MinutesPerIp: 5 },
    });
    expect(problems).toEqual([
      'apiUrl must be the API\'s base URL, https://<host>/ (got "http://abc/")',
      'origin.domainName must be a domain name without scheme or path, e.g. origin.shop.example.com (got "https://shop.example.com")',
      'origin.originPath must start with "/" and not end with one (got "live/")',
      'room id "-bad" must be 1-64 letters, digits, "-" or "_", starting with a letter or digit',
      'room shop: path "shop/*" must start with "/"',
      'room shop: path "/a*b" may hold one "*", only at its end',
      'room shop: path /waiting-room/x is under /waiting-room, the waiting room\'s own paths, which the gate never holds back',
      'path /* is protected twice (by rooms -bad and shop)',
      'room shop is listed twice',
      'room shop: paths must list at least one path, e.g. ["/*"]',
      'unprotected: path "/sp ace" may not contain spaces, "?", "#" or non-ASCII characters',
      'maxPassLifetime must be whole seconds from 1 s to 60 minutes (got 7200 s)',
      'domainNames need a certificate (an ACM certificate in us-east-1 that covers them)',
      'waf.joinsPer5MinutesPerIp must be a whole number of at least 10, WAF\'s smallest rate limit (got 5)',
      'waf needs the stack in us-east-1, where web ACLs for CloudFront are created (this stack is in eu-west-1): deploy the stack to us-east-1, or create the web ACL in a us-east-1 stack and pass webAclArn',
    ]);
  });

  it('refuses a certificate outside us-east-1, an origin that is the gate itself, and neither API nor room', () => {
    const certificate = Certificate.fromCertificateArn(new Stack(), 'C', 'arn:aws:acm:eu-west-1:123456789012:certificate/x');
    expect(problemsOf({ ...valid, domainNames: ['origin.shop.example.com'], certificate }, 'eu-west-1', 'eu-west-1')).toEqual([
      'origin.domainName origin.shop.example.com is also one of domainNames: the distribution would be its own origin; point the origin at the site\'s servers',
      'certificate must be in us-east-1, where CloudFront reads certificates (it is in eu-west-1): request or import it there',
    ]);
    expect(problemsOf({ origin: valid.origin, rooms: [] })).toEqual([
      "give waitingRoom (a WaitingRoom construct) or apiUrl (the waiting-room API's base URL)",
      'rooms must list at least one room and the paths it protects, e.g. [{ roomId: "shop", paths: ["/*"] }]',
    ]);
  });

  it('refuses WAF in a stack whose region is unknown at synth, saying how to fix it', () => {
    const stack = new Stack(new App(), 'Agnostic');
    expect(() => new WaitingRoomGate(stack, 'Gate', { ...valid, waf: true })).toThrow(/waf needs the stack in us-east-1 .* region is not known at synth: give the stack env: \{ region: "us-east-1" \}/);
  });

  it('refuses a gate function over CloudFront Functions\' 10 KB once configured, and one without its config block', () => {
    const dir = tempDir('wr-gate-code-');
    const big = path.join(dir, 'big.js');
    writeFileSync(big, `// <config>\nconst CONFIG = {};\n// </config>\nfunction handler(event) { return event.request; }\n// ${'x'.repeat(10_300)}\n`);
    const stack = () => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S', { env: { region: 'eu-west-1' } });
    expect(() => new WaitingRoomGate(stack(), 'Gate', { ...valid, gateFunctionPath: big })).toThrow(/over CloudFront Functions' 10240/);
    const unmarked = path.join(dir, 'unmarked.js');
    writeFileSync(unmarked, 'function handler(event) { return event.request; }\n');
    expect(() => new WaitingRoomGate(stack(), 'Gate', { ...valid, gateFunctionPath: unmarked })).toThrow(/must hold one "\/\/ <config>" \.\.\. "\/\/ <\/config>" block/);
    expect(() => new WaitingRoomGate(stack(), 'Gate', { ...valid, gateFunctionPath: path.join(dir, 'missing.js') })).toThrow(/gate function's code was not found/);
  });

  it('refuses a built page it cannot rewrite', () => {
    expect(() => gatePageHtml('<link href="/assets/a.css"><body>')).toThrow(/no data-api-base attribute/);
  });
});

describe('gate context (bin/app.ts)', () => {
  const contextOf = (values: Record<string, unknown>) => (key: string) => values[key];

  it('is off without originDomain, and protects every path with the one room by default', () => {
    expect(gateFromContext(contextOf({}), [{ roomId: 'shop' }])).toBeUndefined();
    expect(gateFromContext(contextOf({ originDomain: 'shop.example.com' }), [{ roomId: 'shop' }])).toEqual({
      origin: { domainName: 'shop.example.com' },
      rooms: [{ roomId: 'shop', paths: ['/*'] }],
    });
  });

  it('reads the rooms\' paths, WAF, the domain and its certificate, and access logs', () => {
    expect(
      gateFromContext(
        contextOf({
          originDomain: 'origin.example.com',
          gateRooms: '[{"roomId":"a","paths":["/a/*"]},{"roomId":"b","paths":["/*"]}]',
          gateUnprotected: '["/health"]',
          gateWaf: '{"joinsPer5MinutesPerIp":50}',
          gateDomain: 'shop.example.com, www.shop.example.com',
          gateCertificateArn: CERTIFICATE_ARN,
          gateAccessLogs: 'true',
        }),
        [],
      ),
    ).toEqual({
      origin: { domainName: 'origin.example.com' },
      rooms: [
        { roomId: 'a', paths: ['/a/*'] },
        { roomId: 'b', paths: ['/*'] },
      ],
      unprotected: ['/health'],
      waf: { joinsPer5MinutesPerIp: 50 },
      domainNames: ['shop.example.com', 'www.shop.example.com'],
      certificateArn: CERTIFICATE_ARN,
      accessLogs: true,
    });
    expect(gateFromContext(contextOf({ originDomain: 'o.example.com', gateWaf: 'true' }), [{ roomId: 'shop' }])?.waf).toBe(true);
  });

  it('asks which paths each room protects when there are several, and for originDomain when gate settings come without it', () => {
    expect(() => gateFromContext(contextOf({ originDomain: 'o.example.com' }), [{ roomId: 'a' }, { roomId: 'b' }])).toThrow(/rooms lists 2 rooms: say which paths each protects with -c gateRooms=/);
    expect(() => gateFromContext(contextOf({ originDomain: 'o.example.com' }), [])).toThrow(/needs a room to wait in/);
    expect(() => gateFromContext(contextOf({ gateWaf: 'true' }), [])).toThrow(/gateWaf set the edge gate up, which needs -c originDomain/);
    expect(() => gateFromContext(contextOf({ originDomain: 'o.example.com', gateRooms: '[oops' }), [])).toThrow(/-c gateRooms must be JSON/);
  });
});
