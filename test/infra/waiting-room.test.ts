import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WaitingRoom } from '../../lib/waiting-room.js';
import { WaitingRoomStack } from '../../lib/waiting-room-stack.js';
import { nagViolations, synthWaitingRoom, type Synthesized } from '../helpers/synth.js';

let synthesized: Synthesized;
let template: Template;
type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };

beforeAll(() => {
  // Bundled for real: this is the template `cdk deploy` would use, checked by cdk-nag.
  synthesized = synthWaitingRoom({ checkerTimeout: Duration.seconds(20), rooms: [{ roomId: 'shop', capacity: 200 }] });
  template = synthesized.template;
});

const logicalIdOf = (type: string, match: (r: Resource) => boolean): string => {
  const found = Object.entries(template.findResources(type) as Record<string, Resource>).filter(([, r]) => match(r));
  expect(found, `one ${type} expected`).toHaveLength(1);
  return found[0]![0];
};
const functionId = (entry: string) => logicalIdOf('AWS::Lambda::Function', (r) => r.Metadata?.['WaitingRoom:Entry'] === `lambdas/handlers/${entry}.ts`);
const policyStatementsOf = (fnLogicalId: string) => {
  const fn = template.findResources('AWS::Lambda::Function')[fnLogicalId] as Resource;
  const roleId = ((fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'])[0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy') as Record<string, Resource>).filter((p) =>
    (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId),
  );
  return policies.flatMap((p) => (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
};
const actionsOf = (fnLogicalId: string) => policyStatementsOf(fnLogicalId).flatMap((s) => ([] as string[]).concat(s.Action));

describe('tables', () => {
  it('streams new and old images of tokens, with a TTL safety net and the sparse, sharded line index', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'tokenId', KeyType: 'HASH' }],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      // One index only: partitioned by "<roomId>#<shard>", sorted by ticket, keys only.
      GlobalSecondaryIndexes: [
        {
          IndexName: 'line-by-shard',
          KeySchema: [
            { AttributeName: 'lineShard', KeyType: 'HASH' },
            { AttributeName: 'lineTicket', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'lineShard', AttributeType: 'S' },
        { AttributeName: 'lineTicket', AttributeType: 'N' },
      ]),
    });
  });

  it('keeps all three tables encrypted, recoverable and on demand', () => {
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table') as Record<string, Resource>);
    expect(tables).toHaveLength(3);
    for (const table of tables) {
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    }
    const keys = tables.map((t) => (t.Properties.KeySchema as { AttributeName: string }[])[0]!.AttributeName).sort();
    expect(keys).toEqual(['roomId', 'roomId', 'tokenId']);
  });

  it('retains tables when the stack is deleted, unless told otherwise', () => {
    template.allResources('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('check loop wiring', () => {
  it('feeds only new tokens from the stream to the enqueuer, with bisection, bounded retries, partial responses and an on-failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId('enqueue-checks') },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Tokens'), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'] }) }] },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('StreamFailures'), 'Arn'] } } },
    });
  });

  it('redrives check messages to a DLQ, with a visibility timeout six times the checker timeout', () => {
    const checker = template.findResources('AWS::Lambda::Function')[functionId('check-tokens')] as Resource;
    expect(checker.Properties.Timeout).toBe(20);
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 120,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('CheckDlq'), 'Arn'] }, maxReceiveCount: 5 },
      SqsManagedSseEnabled: true,
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId('check-tokens') },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('CheckQueue'), 'Arn'] },
      BatchSize: 10,
      // Up to a second to gather a batch; the domain schedules checks that second early (CHECK_DELIVERY_SLACK_MS).
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('refuses plain-HTTP access to every queue', () => {
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy') as Record<string, Resource>);
    for (const queue of queues) {
      const policy = policies.find((p) => JSON.stringify(p.Properties.Queues).includes(queue));
      expect(JSON.stringify(policy?.Properties.PolicyDocument), `queue ${queue}`).toContain('"aws:SecureTransport":"false"');
    }
  });
});

describe('functions', () => {
  it('run Node.js 22 on arm64, log JSON without START/END/REPORT lines, are not traced by default, and tell the local runtime their entry', () => {
    const ours = Object.values(template.findResources('AWS::Lambda::Function') as Record<string, Resource>).filter((f) => f.Metadata?.['WaitingRoom:Entry']);
    expect(ours.map((f) => f.Metadata!['WaitingRoom:Entry']).sort()).toEqual(
      ['admin', 'check-tokens', 'enqueue-checks', 'get-token', 'heartbeat', 'join', 'jwks', 'leave', 'metrics-publisher', 'openapi', 'room-status', 'rotate-pass-key', 'stats-aggregator'].map(
        (h) => `lambdas/handlers/${h}.ts`,
      ),
    );
    for (const f of ours) {
      expect(f.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: { LogFormat: 'JSON', SystemLogLevel: 'WARN', ApplicationLogLevel: 'INFO' },
      });
      expect(f.Properties.TracingConfig).toBeUndefined();
      expect((f.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
        // The same level for the local runtime, where Lambda sets no AWS_LAMBDA_LOG_LEVEL.
        POWERTOOLS_LOG_LEVEL: 'INFO',
        WR_HEARTBEAT_TIMEOUT_SECONDS: '20',
        WR_CHECK_DELAY_SECONDS: '10',
        WR_HEARTBEAT_INTERVAL_SECONDS: '5',
      });
    }
  });

  it('grant each function only the table actions it performs, on named tables and the named index', () => {
    const tableActions = (entry: string) =>
      policyStatementsOf(functionId(entry))
        .map((s) => ({ actions: ([] as string[]).concat(s.Action).filter((a) => a.startsWith('dynamodb:')).sort(), resource: JSON.stringify(s.Resource) }))
        .filter((s) => s.actions.length > 0);
    // On a table itself (not an index) whose logical id contains `name`.
    const on = (name: string) => (s: { resource: string }) => s.resource.includes(name) && !s.resource.includes('/index/');
    // Readers read a room with its ticket counter in one BatchGetItem, and the token (or the stats) with GetItem.
    const getToken = tableActions('get-token');
    expect(getToken.flatMap((s) => s.actions).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem']);
    expect(getToken.find(on('TablesRooms'))?.actions).toEqual(['dynamodb:BatchGetItem']);
    expect(getToken.find(on('TablesTokens'))?.actions).toEqual(['dynamodb:GetItem']);
    const roomStatus = tableActions('room-status');
    expect(roomStatus.flatMap((s) => s.actions).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:BatchGetItem', 'dynamodb:GetItem']);
    expect(roomStatus.find(on('TablesRooms'))?.actions).toEqual(['dynamodb:BatchGetItem']);
    // The waiting count (GetItem) and a kept lottery draw's parts (BatchGetItem).
    expect(roomStatus.find(on('TablesStats'))?.actions).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem']);
    // The store's writers (joins, signals, leaves, the checker, admin changes): what DynamoStore does, and Query on the line index only.
    for (const entry of ['join', 'heartbeat', 'leave', 'check-tokens']) {
      const statements = tableActions(entry);
      expect(statements.filter(on('TablesRooms')).map((s) => s.actions), entry).toEqual([['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem']]);
      expect(statements.filter(on('TablesTokens')).map((s) => s.actions), entry).toEqual([
        ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      ]);
      expect(statements.find((s) => s.resource.includes('/index/'))).toEqual({ actions: ['dynamodb:Query'], resource: expect.stringContaining('/index/line-by-shard') });
    }
    // Only the status reader, the stats writers and the fairness report (admin: the sample buckets, in one BatchGetItem) touch the stats table.
    for (const entry of ['join', 'get-token', 'heartbeat', 'leave', 'check-tokens']) {
      expect(tableActions(entry).filter(on('TablesStats')), entry).toEqual([]);
    }
    expect(tableActions('admin').filter(on('TablesStats')).map((s) => s.actions)).toEqual([['dynamodb:BatchGetItem']]);
    for (const entry of ['join', 'get-token', 'heartbeat', 'leave', 'room-status', 'admin', 'check-tokens', 'enqueue-checks']) {
      for (const statement of policyStatementsOf(functionId(entry))) {
        // ListStreams (added for stream consumers) supports no resource-level permission.
        const actions = ([] as string[]).concat(statement.Action).filter((a) => a !== 'dynamodb:ListStreams');
        if (actions.some((a) => a.startsWith('dynamodb:') || a.startsWith('sqs:'))) {
          expect(JSON.stringify(statement.Resource), `${entry}: ${actions.join()}`).not.toMatch(/"\*"|\/\*"/);
        }
      }
    }
  });

  it('let the stream consumers use the check queue, functions that free or re-arm seats only send to it, and the enqueuer write no table', () => {
    expect(actionsOf(functionId('enqueue-checks'))).toContain('sqs:SendMessage');
    expect(actionsOf(functionId('enqueue-checks')).filter((a) => /dynamodb:(Put|Update|Delete)/.test(a))).toEqual([]);
    expect(actionsOf(functionId('check-tokens'))).toEqual(expect.arrayContaining(['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage']));
    // Leave and admin free seats, heartbeat may admit a visitor whose check loop must be re-armed: they send checks.
    for (const entry of ['heartbeat', 'leave', 'admin']) {
      const sqs = actionsOf(functionId(entry)).filter((a) => a.startsWith('sqs:'));
      expect(sqs, entry).toContain('sqs:SendMessage');
      expect(sqs.filter((a) => /Receive|Delete/.test(a)), entry).toEqual([]);
    }
    for (const entry of ['join', 'get-token', 'room-status']) {
      expect(actionsOf(functionId(entry)).filter((a) => a.startsWith('sqs:')), entry).toEqual([]);
    }
    // The OpenAPI document is built from the code alone.
    expect(actionsOf(functionId('openapi'))).toEqual([]);
  });
});

describe('API', () => {
  const routes = () =>
    Object.values(template.findResources('AWS::ApiGatewayV2::Route') as Record<string, Resource>).map((r) => ({
      route: r.Properties.RouteKey as string,
      auth: r.Properties.AuthorizationType,
    }));

  it('is an HTTP API whose functions take payload format 2.0', () => {
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    const integrations = Object.values(template.findResources('AWS::ApiGatewayV2::Integration') as Record<string, Resource>);
    expect(integrations.length).toBeGreaterThan(0);
    for (const integration of integrations) expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
  });

  it('serves the routes of DESIGN §3, with IAM on /admin and the bearer secret checked in the function elsewhere', () => {
    expect(routes().sort((a, b) => a.route.localeCompare(b.route))).toEqual([
      { route: 'DELETE /rooms/{roomId}/tokens/{tokenId}', auth: 'NONE' },
      { route: 'GET /.well-known/jwks.json', auth: 'NONE' },
      { route: 'GET /admin/rooms', auth: 'AWS_IAM' },
      { route: 'GET /admin/rooms/{roomId}', auth: 'AWS_IAM' },
      { route: 'GET /admin/rooms/{roomId}/report', auth: 'AWS_IAM' },
      { route: 'GET /openapi.json', auth: 'NONE' },
      { route: 'GET /rooms/{roomId}/lottery', auth: 'NONE' },
      { route: 'GET /rooms/{roomId}/status', auth: 'NONE' },
      { route: 'GET /rooms/{roomId}/tokens/{tokenId}', auth: 'NONE' },
      { route: 'POST /admin/metrics/refresh', auth: 'AWS_IAM' },
      { route: 'POST /rooms/{roomId}/passes/revoke', auth: 'NONE' },
      { route: 'POST /rooms/{roomId}/tokens', auth: 'NONE' },
      { route: 'POST /rooms/{roomId}/tokens/{tokenId}/heartbeat', auth: 'NONE' },
      { route: 'POST /rooms/{roomId}/tokens/{tokenId}/keep-place', auth: 'NONE' },
      { route: 'PUT /admin/rooms/{roomId}', auth: 'AWS_IAM' },
    ]);
  });

  it("serves the origin's revoke route from the heartbeat function, which already holds the pass key set and the writes that free a seat", () => {
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration') as Record<string, Resource>;
    const targetOf = (routeKey: string) => {
      const route = Object.values(template.findResources('AWS::ApiGatewayV2::Route') as Record<string, Resource>).find((r) => r.Properties.RouteKey === routeKey)!;
      const integrationId = JSON.stringify(route.Properties.Target).match(/"Ref":"([^"]+)"/)?.[1];
      return JSON.stringify(integrations[integrationId!]?.Properties.IntegrationUri);
    };
    expect(targetOf('POST /rooms/{roomId}/passes/revoke')).toContain(functionId('heartbeat'));
    expect(targetOf('POST /rooms/{roomId}/passes/revoke')).toBe(targetOf('POST /rooms/{roomId}/tokens/{tokenId}/heartbeat'));
    // What revoking needs: the key set (verify), the removal and admission writes, the line, the check queue.
    expect(actionsOf(functionId('heartbeat'))).toEqual(
      expect.arrayContaining(['secretsmanager:GetSecretValue', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'sqs:SendMessage']),
    );
  });

  it('routes every admin route to the admin function', () => {
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration') as Record<string, Resource>;
    const admin = functionId('admin');
    for (const r of Object.values(template.findResources('AWS::ApiGatewayV2::Route') as Record<string, Resource>)) {
      const integrationId = JSON.stringify(r.Properties.Target).match(/"Ref":"([^"]+)"/)?.[1];
      const target = JSON.stringify(integrations[integrationId!]?.Properties.IntegrationUri);
      expect(target.includes(admin), r.Properties.RouteKey as string).toBe((r.Properties.RouteKey as string).includes(' /admin/'));
    }
  });

  it('answers CORS preflights itself, cached by browsers for 2 hours, and exposes the ETag', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: ['*'],
        AllowHeaders: Match.arrayWith(['Authorization', 'Content-Type', 'If-None-Match']),
        AllowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
        ExposeHeaders: Match.arrayWith(['ETag']),
        MaxAge: 7200,
      },
    });
    expect(routes().filter((r) => r.route.startsWith('OPTIONS '))).toEqual([]);
  });

  it('throttles the $default stage, without detailed per-route metrics', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 10000, ThrottlingBurstLimit: 5000, DetailedMetricsEnabled: false },
    });
  });

  it('writes no access log by default', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage') as Record<string, Resource>)[0]!;
    expect(stage.Properties.AccessLogSettings).toBeUndefined();
  });

  it('writes a JSON access log without bodies or headers when asked to, and cdk-nag stays clean', () => {
    const { template: t, outdir } = synthWaitingRoom({ apiAccessLogs: true, apiRateLimit: 50, apiBurstLimit: 100 }, { bundle: false });
    expect(nagViolations(outdir)).toEqual([]);
    const stage = Object.values(t.findResources('AWS::ApiGatewayV2::Stage') as Record<string, Resource>)[0]!;
    expect(stage.Properties.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
    const settings = stage.Properties.AccessLogSettings as { DestinationArn: { 'Fn::GetAtt': [string, string] }; Format: string };
    const logGroup = t.findResources('AWS::Logs::LogGroup')[settings.DestinationArn['Fn::GetAtt'][0]] as Resource;
    expect(logGroup.Properties.RetentionInDays).toBe(30);
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey', status: '$context.status' });
    expect(settings.Format).not.toMatch(/body|header|querystring|authorization/i);
  });

  it('publishes a base URL ending with "/" (no stage prefix) and the JWKS URL under it', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: { 'Fn::Join': [string, unknown[]] } }>;
    const text = (name: string) => outputs[name]!.Value['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<token>')).join('');
    expect(text('ApiUrl')).toMatch(/^https:\/\/<token>\.execute-api\.eu-west-1\.<token>\/$/);
    expect(text('JwksUrl')).toBe(`${text('ApiUrl')}.well-known/jwks.json`);
    expect(text('JoinExample')).toBe(`curl -X POST ${text('ApiUrl')}rooms/shop/tokens`);
  });
});

describe('admission pass keys', () => {
  it('keep the signing key set in Secrets Manager, written at deploy time by the rotate function', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const rotate = functionId('rotate-pass-key');
    const custom = Object.values(template.findResources('AWS::CloudFormation::CustomResource') as Record<string, Resource>);
    expect(custom).toHaveLength(1);
    expect(JSON.stringify(custom[0]!.Properties.secret)).toMatch(/KeySet/);
    expect(actionsOf(rotate)).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']));
    const fn = template.findResources('AWS::Lambda::Function')[rotate] as Resource;
    expect(fn.Metadata?.['WaitingRoom:LocalRuntime']).toBe('skip');
  });

  it('let only the functions that sign passes or publish the JWKS read the key set', () => {
    const readers = ['join', 'get-token', 'heartbeat', 'jwks', 'rotate-pass-key'];
    for (const entry of ['join', 'get-token', 'heartbeat', 'leave', 'room-status', 'admin', 'jwks', 'openapi', 'check-tokens', 'enqueue-checks', 'rotate-pass-key']) {
      const fn = template.findResources('AWS::Lambda::Function')[functionId(entry)] as Resource;
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect('PASS_KEYS_SECRET_ARN' in variables, entry).toBe(readers.includes(entry));
      expect(actionsOf(functionId(entry)).includes('secretsmanager:GetSecretValue'), entry).toBe(readers.includes(entry));
    }
  });
});

describe('rooms from props', () => {
  const seedCalls = (t: Template) => Object.values(t.findResources('Custom::AWS') as Record<string, Resource>).map((r) => JSON.stringify(r.Properties.Create));

  it('creates the listed rooms when missing, never resetting their counters, nor the capacity and state set since', () => {
    const [create] = seedCalls(template);
    expect(seedCalls(template)).toHaveLength(1);
    expect(create).toContain('shop');
    expect(create).toContain('#capacity = if_not_exists(#capacity, :capacity), #state = if_not_exists(#state, :state), #mode = if_not_exists(#mode, :mode)');
    expect(create).not.toContain('newVisitorsPerMinute');
    expect(create).toContain('activeCount = if_not_exists(activeCount, :zero)');
    expect(create).toContain('lineShards = if_not_exists(lineShards, :shards)');
    // Tickets live in their own counter item, which seeding never touches.
    expect(create).not.toContain('nextTicket');
  });

  it('creates no room unless asked (no demo room on AWS)', () => {
    expect(seedCalls(synthWaitingRoom({}, { bundle: false }).template)).toEqual([]);
  });

  it('gives a redeploy with the same rooms the same call (CloudFormation runs nothing), and sets capacity and state on every deploy only with resetRooms', () => {
    const rooms = [{ roomId: 'shop', capacity: 200 }];
    const again = seedCalls(synthWaitingRoom({ rooms }, { bundle: false }).template);
    expect(again).toEqual(seedCalls(synthWaitingRoom({ rooms }, { bundle: false }).template));
    const reset = seedCalls(synthWaitingRoom({ rooms, resetRooms: true }, { bundle: false }).template);
    expect(reset[0]).toContain('SET #capacity = :capacity, #state = :state, #mode = :mode, seededAt = :seededAt');
    expect(reset[0]).toContain('REMOVE newVisitorsPerMinute, rateSlotAt');
    const limited = seedCalls(synthWaitingRoom({ rooms: [{ roomId: 'shop', capacity: 200, mode: 'reject', newVisitorsPerMinute: 120 }] }, { bundle: false }).template);
    expect(limited[0]).toContain('newVisitorsPerMinute = if_not_exists(newVisitorsPerMinute, :rate)');
    expect(limited[0]).toMatch(/:mode.{0,20}reject/);
  });
});

describe('status cache', () => {
  it('puts CloudFront in front of the API, caching only the room status, for a second, keyed on the path', () => {
    const distributions = Object.values(template.findResources('AWS::CloudFront::Distribution') as Record<string, Resource>);
    expect(distributions).toHaveLength(1);
    const config = distributions[0]!.Properties.DistributionConfig as Record<string, unknown>;
    const behaviors = config.CacheBehaviors as { PathPattern: string; CachePolicyId: unknown; AllowedMethods: string[] }[];
    expect(behaviors.map((b) => b.PathPattern)).toEqual(['/rooms/*/status']);
    expect(behaviors[0]!.AllowedMethods).toEqual(['GET', 'HEAD', 'OPTIONS']);
    const policies = Object.values(template.findResources('AWS::CloudFront::CachePolicy') as Record<string, Resource>);
    expect(policies).toHaveLength(1);
    expect(policies[0]!.Properties.CachePolicyConfig).toMatchObject({
      MinTTL: 0,
      DefaultTTL: 1,
      MaxTTL: 2,
      ParametersInCacheKeyAndForwardedToOrigin: {
        QueryStringsConfig: { QueryStringBehavior: 'none' },
        HeadersConfig: { HeaderBehavior: 'none' },
        CookiesConfig: { CookieBehavior: 'none' },
      },
    });
    // Everything else: not cached, the viewer's headers (Authorization) forwarded.
    expect(JSON.stringify((config.DefaultCacheBehavior as Record<string, unknown>).CachePolicyId)).toContain('4135ea2d-6df8-44a3-9df3-4b5a84be39ad');
  });

  it('says where waiting pages read the status', () => {
    template.hasOutput('StatusUrl', {});
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('reports no unacknowledged error for the deployable stack', () => {
    expect(nagViolations(synthesized.outdir)).toEqual([]);
  });

  it('would fail synthesis on a finding nobody acknowledged', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'wr-nag-'));
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Careless');
    new WaitingRoom(stack, 'WaitingRoom', { adminEmail: 'ops@example.com' });
    new Queue(stack, 'PlainQueue');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/SQS queue/);
    expect(nagViolations(outdir).map((v) => v.ruleName).sort()).toEqual(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']);
  });
});

describe('the admin e-mail', () => {
  it('becomes a CloudFormation parameter with an e-mail pattern when the stack is synthesized without one', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new WaitingRoomStack(app, 'NoEmail', { waitingRoom: {} });
    const t = Template.fromStack(stack);
    t.hasParameter('AdminEmail', { Type: 'String', AllowedPattern: Match.stringLikeRegexp('@'), ConstraintDescription: Match.stringLikeRegexp('e-mail') });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: { Ref: 'AdminEmail' } });
    expect(new RegExp(t.toJSON().Parameters.AdminEmail.AllowedPattern).test('ops@example.com')).toBe(true);
    expect(new RegExp(t.toJSON().Parameters.AdminEmail.AllowedPattern).test('not-an-address')).toBe(false);
  });

  it('is used as given otherwise, with no parameter', () => {
    expect(template.toJSON().Parameters?.AdminEmail).toBeUndefined();
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });
});

describe('props', () => {
  const make = (props: Record<string, unknown>) => () =>
    new WaitingRoom(new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S'), 'W', { adminEmail: 'ops@example.com', ...props });

  it('refuses a missing or malformed admin e-mail with a clear message', () => {
    expect(make({ adminEmail: '' })).toThrow(/adminEmail must be an e-mail address.*-c adminEmail=/);
    expect(make({ adminEmail: 'not-an-address' })).toThrow(/adminEmail/);
  });

  it('refuses timings the check loop cannot honour', () => {
    expect(make({ timings: { checkDelaySeconds: 901 } })).toThrow(/checkDelaySeconds/);
    expect(make({ timings: { heartbeatIntervalSeconds: 30 } })).toThrow(/heartbeatIntervalSeconds/);
  });

  it('refuses bad rooms, listing every problem at once', () => {
    expect(make({ rooms: [{ roomId: 'a b', capacity: 1 }, { roomId: 'x', capacity: -2 }] })).toThrow(/room id "a b"[\s\S]*capacity must be a whole number/);
    expect(make({ rooms: [{ roomId: 'y', capacity: 1, mode: 'lottery' as never, newVisitorsPerMinute: 0 }] })).toThrow(
      /room y: mode must be one of fifo, passthrough, reject[\s\S]*room y: newVisitorsPerMinute must be a whole number from 1 to 60000/,
    );
  });

  it('passes custom timings to every function', () => {
    const { template: t } = synthWaitingRoom({ timings: { heartbeatTimeoutSeconds: 40, checkDelaySeconds: 15 } }, { bundle: false });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ WR_HEARTBEAT_TIMEOUT_SECONDS: '40', WR_CHECK_DELAY_SECONDS: '15' }) },
    });
  });
});
