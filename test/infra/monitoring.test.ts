/**
 * Monitoring as infrastructure (DESIGN §2 steps 4-6, §5.7): the stats aggregator's stream
 * mapping, the metrics loop (schedule, state machine definition, and that definition run by
 * aws-local-stepfunctions as the local runtime runs it), the admin topic, every alarm and what
 * the alarms cost, the opt-in dashboard and tracing, and the permissions around them. cdk-nag over
 * the bundled stack is in waiting-room.test.ts.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { WaitingRoom } from '../../lib/waiting-room.js';
import { synthWaitingRoom } from '../helpers/synth.js';

type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: Record<string, unknown>; Principal?: unknown };
type AslState = {
  Type: string;
  Resource?: string;
  Next?: string;
  End?: boolean;
  Seconds?: number;
  Retry?: { ErrorEquals: string[]; MaxAttempts: number; IntervalSeconds?: number; BackoffRate?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  Parameters?: Record<string, unknown>;
  ResultPath?: string | null;
  Choices?: { Next: string }[];
  Default?: string;
  Arguments?: unknown;
  QueryLanguage?: string;
};
type Asl = { StartAt: string; States: Record<string, AslState>; QueryLanguage?: string };

const ADMIN_EMAIL = 'alerts@example.org';
const ROOMS = [
  { roomId: 'shop', capacity: 3 },
  { roomId: 'tickets-2', capacity: 1 },
];
const LAMBDA_RETRY_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'States.TaskFailed',
  'States.Timeout',
];

let template: Template;
/** The same rooms with every opt-in: per-room alarms, the dashboard, tracing. */
let optedIn: Template;
beforeAll(() => {
  ({ template } = synthWaitingRoom({ adminEmail: ADMIN_EMAIL, rooms: ROOMS, alarms: { fullRoomMinutes: 10 } }, { bundle: false }));
  ({ template: optedIn } = synthWaitingRoom(
    { adminEmail: ADMIN_EMAIL, rooms: ROOMS, alarms: { fullRoomMinutes: 10, perRoom: true }, dashboard: true, tracing: true },
    { bundle: false },
  ));
});

const resources = (type: string, from: Template = template) => from.findResources(type) as Record<string, Resource>;
const onlyId = (type: string, match: (r: Resource) => boolean = () => true): string => {
  const found = Object.entries(resources(type)).filter(([, r]) => match(r));
  expect(found, `exactly one ${type} expected`).toHaveLength(1);
  return found[0]![0];
};
const functionId = (entry: string) => onlyId('AWS::Lambda::Function', (r) => r.Metadata?.['WaitingRoom:Entry'] === `lambdas/handlers/${entry}.ts`);
const ourFunctionIds = () =>
  Object.entries(resources('AWS::Lambda::Function'))
    .filter(([, r]) => r.Metadata?.['WaitingRoom:Entry'])
    .map(([id]) => id);
const stateMachineId = () => onlyId('AWS::StepFunctions::StateMachine');
const topicId = () => onlyId('AWS::SNS::Topic');
const topicRef = () => ({ Ref: topicId() });

const statementsOfRole = (roleId: string): Statement[] =>
  Object.values(resources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
const roleOfFunction = (fnId: string) => ((resources('AWS::Lambda::Function')[fnId]!.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'])[0]!;
const statementsOf = (fnId: string) => statementsOfRole(roleOfFunction(fnId));
const actions = (s: Statement) => ([] as string[]).concat(s.Action);

/** A Fn::Join of strings and tokens as one string, each token a readable placeholder. */
function joined(value: unknown): string {
  if (typeof value === 'string') return value;
  const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const token = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      if (token.Ref) return `<${token.Ref}>`;
      if (token['Fn::GetAtt']) return `<${token['Fn::GetAtt'].join('.')}>`;
      throw new Error(`unexpected token ${JSON.stringify(part)}`);
    })
    .join(separator);
}
const definition = (): Asl => JSON.parse(joined(resources('AWS::StepFunctions::StateMachine')[stateMachineId()]!.Properties.DefinitionString)) as Asl;

const alarms = (from: Template = template) => Object.entries(resources('AWS::CloudWatch::Alarm', from));
const alarmsOn = (metricName: string, from: Template = template) =>
  alarms(from).filter(([, a]) => a.Properties.MetricName === metricName || JSON.stringify(a.Properties.Metrics ?? []).includes(`"MetricName":"${metricName}"`));
/** What an alarm bills: one alarm metric per metric it reads (a math expression bills each metric in it). */
const alarmMetrics = (alarm: Resource) =>
  alarm.Properties.MetricName !== undefined ? 1 : (alarm.Properties.Metrics as { MetricStat?: unknown }[]).filter((m) => m.MetricStat !== undefined).length;

describe('stats aggregator', () => {
  it('reads the token stream with a tumbling window, one batch per shard at a time, bisection, bounded retries, partial responses and an on-failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId('stats-aggregator') },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Tokens'), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      // Batches of up to a second: one stats write per room per second and shard, whatever the join rate.
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 1,
      TumblingWindowInSeconds: 60,
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('StatsAggregatorFailures'), 'Arn'] } } },
    });
  });

  it('is invoked only for new and removed tokens and admissions, never for heartbeats or check-loop writes', () => {
    const mapping = Object.values(resources('AWS::Lambda::EventSourceMapping')).find(
      (m) => (m.Properties.FunctionName as { Ref: string }).Ref === functionId('stats-aggregator'),
    )!;
    const patterns = (mapping.Properties.FilterCriteria as { Filters: { Pattern: string }[] }).Filters.map((f) => JSON.parse(f.Pattern) as unknown);
    expect(patterns).toEqual([
      { eventName: ['INSERT', 'REMOVE'] },
      { eventName: ['MODIFY'], dynamodb: { OldImage: { state: { S: ['WAITING'] } }, NewImage: { state: { S: ['ADMITTED'] } } } },
    ]);
  });

  it('gives its failure queue encryption and an SSL-only policy', () => {
    const ids = Object.keys(resources('AWS::SQS::Queue')).filter((id) => /StatsAggregatorFailures/.test(id));
    expect(ids).toHaveLength(1);
    const queue = ids[0]!;
    expect(resources('AWS::SQS::Queue')[queue]!.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    const policy = Object.values(resources('AWS::SQS::QueuePolicy')).find((p) => JSON.stringify(p.Properties.Queues).includes(queue));
    expect(JSON.stringify(policy?.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
  });

  it('may read and update the stats table, and nothing else of any table', () => {
    const aggregator = functionId('stats-aggregator');
    // Reading the stream (DescribeStream, GetRecords, GetShardIterator, ListStreams) is the event source's own grant.
    const tableStatements = statementsOf(aggregator)
      .filter((s) => actions(s).some((a) => /^dynamodb:(Get|Put|Update|Delete|Query|Scan|Batch)/.test(a) && a !== 'dynamodb:GetRecords' && a !== 'dynamodb:GetShardIterator'))
      .map((s) => ({ actions: actions(s).sort(), table: JSON.stringify(s.Resource).match(/Tables(Rooms|Tokens|Stats)[A-Z0-9]+","Arn"/)?.[1] }));
    expect(tableStatements).toEqual([{ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], table: 'Stats' }]);
    const variables = (resources('AWS::Lambda::Function')[aggregator]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(JSON.stringify(variables.STATS_TABLE)).toMatch(/TablesStats/);
  });
});

describe('metrics publisher', () => {
  it('may put metric data only into the waiting-room namespace', () => {
    const publisher = functionId('metrics-publisher');
    const putMetricData = statementsOf(publisher).filter((s) => actions(s).includes('cloudwatch:PutMetricData'));
    expect(putMetricData).toEqual([
      { Action: 'cloudwatch:PutMetricData', Effect: 'Allow', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'WaitingRoom' } } },
    ]);
    const variables = (resources('AWS::Lambda::Function')[publisher]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables.METRICS_NAMESPACE).toBe('WaitingRoom');
    expect(Object.keys(variables)).toEqual(expect.arrayContaining(['ROOMS_TABLE', 'STATS_TABLE', 'WR_HEARTBEAT_TIMEOUT_SECONDS']));
  });

  it('may scan, read and update the rooms (calibration, event draws and ends, the seats a draw opened), batch-read, update and put the stats (kept draws), read, move and admit waiting tokens and read the line, exactly what its adapters call', () => {
    const tableStatements = statementsOf(functionId('metrics-publisher'))
      .filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')))
      .map((s) => ({ actions: actions(s).sort(), table: JSON.stringify(s.Resource).match(/Tables(Rooms|Tokens|Stats)/)?.[1], index: JSON.stringify(s.Resource).includes('/index/') }));
    expect(tableStatements).toEqual([
      { actions: ['dynamodb:GetItem', 'dynamodb:Scan', 'dynamodb:UpdateItem'], table: 'Rooms', index: false },
      { actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], table: 'Stats', index: false },
      { actions: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'], table: 'Tokens', index: false },
      { actions: ['dynamodb:Query'], table: 'Tokens', index: true },
    ]);
  });

  it('may only send to the check queue, whose URL it is given: the admissions that fill the seats a draw opened re-arm check loops', () => {
    const publisher = functionId('metrics-publisher');
    const sqs = statementsOf(publisher).filter((s) => actions(s).some((a) => a.startsWith('sqs:')));
    expect(sqs.flatMap(actions).filter((a) => /Receive|Delete|Purge/.test(a))).toEqual([]);
    expect(sqs.flatMap(actions)).toContain('sqs:SendMessage');
    expect(JSON.stringify(sqs.map((s) => s.Resource))).toMatch(/CheckLoopCheckQueue(?!Dlq)/);
    const variables = (resources('AWS::Lambda::Function')[publisher]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(JSON.stringify(variables.CHECK_QUEUE_URL)).toMatch(/CheckLoopCheckQueue(?!Dlq)/);
  });
});

describe('metrics loop', () => {
  it('is an Express state machine logging every event without execution data, traced only when asked', () => {
    const machine = resources('AWS::StepFunctions::StateMachine')[stateMachineId()]!;
    expect(machine.Properties).toMatchObject({
      StateMachineType: 'EXPRESS',
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false, Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: expect.anything() } }] },
    });
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: false });
    const traced = Object.values(resources('AWS::StepFunctions::StateMachine', optedIn))[0]!;
    expect(traced.Properties.TracingConfiguration).toEqual({ Enabled: true });
    const logGroup = ((machine.Properties.LoggingConfiguration as { Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': string[] } } }[] })
      .Destinations[0]!.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'])[0]!;
    expect(resources('AWS::Logs::LogGroup')[logGroup]!.Properties.LogGroupName).toMatch(/^\/aws\/vendedlogs\/states\//);
  });

  it('is started every minute by an EventBridge schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { Ref: stateMachineId() }, RoleArn: Match.anyValue() })],
    });
  });

  it('runs the publisher 6 times, 10 s apart, each task naming the publisher ARN itself', () => {
    const asl = definition();
    const publisherArn = `<${functionId('metrics-publisher')}.Arn>`;
    const publishes = Object.entries(asl.States).filter(([, s]) => s.Type === 'Task' && s.Resource === publisherArn);
    expect(publishes.map(([name]) => name)).toEqual(['Publish 1', 'Publish 2', 'Publish 3', 'Publish 4', 'Publish 5', 'Publish 6']);
    const waits = Object.entries(asl.States).filter(([, s]) => s.Type === 'Wait');
    expect(waits).toHaveLength(5);
    for (const [, wait] of waits) expect(wait.Seconds).toBe(10);

    // The chain: Publish 1 → Every room idle? → Wait → Publish 2 → … → Publish 6 (end).
    expect(asl.StartAt).toBe('Publish 1');
    const choice = asl.States[asl.States['Publish 1']!.Next!]!;
    expect(choice.Type).toBe('Choice');
    expect(asl.States[choice.Default!]!.Type).toBe('Wait');
    expect(asl.States[choice.Default!]!.Next).toBe('Publish 2');
    for (let run = 2; run <= 5; run++) {
      const wait = asl.States[asl.States[`Publish ${run}`]!.Next!]!;
      expect(wait.Type).toBe('Wait');
      expect(wait.Next).toBe(`Publish ${run + 1}`);
    }
    expect(asl.States['Publish 6']!.End).toBe(true);
  });

  it("ends the execution after the first run when the publisher's summary says every room is idle", () => {
    const asl = definition();
    const first = asl.States['Publish 1']!;
    expect(first.ResultPath).toBe('$.firstRun');
    const choice = asl.States[first.Next!]!;
    // Only `idle: true` stops: a summary without the field (an older publisher) goes on.
    expect(choice.Choices).toEqual([
      { And: [{ Variable: '$.firstRun.idle', IsPresent: true }, { Variable: '$.firstRun.idle', BooleanEquals: true }], Next: expect.any(String) },
    ]);
    expect(asl.States[choice.Choices![0]!.Next]!.Type).toBe('Succeed');
    for (let run = 2; run <= 6; run++) expect(asl.States[`Publish ${run}`]!.ResultPath, `Publish ${run}`).toBeNull();
  });

  it('retries each publish twice with backoff on Lambda and task errors', () => {
    const asl = definition();
    for (let run = 1; run <= 6; run++) {
      const retry = asl.States[`Publish ${run}`]!.Retry!;
      expect(retry).toHaveLength(1);
      expect([...retry[0]!.ErrorEquals].sort()).toEqual([...LAMBDA_RETRY_ERRORS].sort());
      expect(retry[0]!.MaxAttempts).toBe(2);
      expect(retry[0]!.BackoffRate).toBeGreaterThan(1);
    }
  });

  it('notifies the admins through the alarm topic and then fails, once a publish has spent its retries', () => {
    const asl = definition();
    const catchers = Object.entries(asl.States)
      .filter(([name]) => name.startsWith('Publish '))
      .map(([, s]) => s.Catch);
    expect(catchers).toHaveLength(6);
    const notifyName = catchers[0]![0]!.Next;
    for (const catcher of catchers) expect(catcher).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: notifyName }]);

    const notify = asl.States[notifyName]!;
    expect(notify.Type).toBe('Task');
    expect(notify.Resource).toBe('arn:<AWS::Partition>:states:::sns:publish');
    expect(notify.Parameters).toMatchObject({ TopicArn: `<${topicId()}>`, Subject: expect.stringMatching(/metrics loop failed/i) });
    expect(notify.Parameters!['Message.$']).toMatch(/metrics loop failed[\s\S]*Check the logs of the metrics publisher/);
    const fail = asl.States[notify.Next!]!;
    expect(fail.Type).toBe('Fail');
  });

  it('is plain JSONPath: no JSONata, Map or Parallel state', () => {
    const asl = definition();
    expect(asl.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    for (const [name, state] of Object.entries(asl.States)) {
      expect(['Task', 'Wait', 'Choice', 'Fail', 'Pass', 'Succeed'], name).toContain(state.Type);
      expect(state.QueryLanguage, name).toBeUndefined();
      expect(state.Arguments, name).toBeUndefined();
    }
  });

  it('runs as the local runtime runs it: six publishes, one when every room is idle, or a notification then a failure', async () => {
    // aws-local-stepfunctions uses Promise.withResolvers (Node 22).
    const promise = Promise as unknown as { withResolvers?: unknown };
    promise.withResolvers ??= () => {
      let resolve!: (value: unknown) => void;
      let reject!: (reason?: unknown) => void;
      const p = new Promise((res, rej) => ((resolve = res), (reject = rej)));
      return { promise: p, resolve, reject };
    };
    const { StateMachine } = await import('aws-local-stepfunctions');
    const asl = JSON.parse(
      joined(resources('AWS::StepFunctions::StateMachine')[stateMachineId()]!.Properties.DefinitionString)
        .replace('<AWS::Partition>', 'aws')
        .replace(/<[A-Za-z0-9]+\.Arn>/g, 'arn:aws:lambda:eu-west-1:123456789012:function:publisher')
        .replace(/<([A-Za-z0-9]+)>/g, 'local-$1'),
    ) as Asl;
    const machine = new StateMachine(asl as never);
    const run = async (publisher: () => Promise<unknown>) => {
      let publishes = 0;
      const notifications: unknown[] = [];
      const overrides = { taskResourceLocalHandlers: {} as Record<string, unknown>, waitTimeOverrides: {} as Record<string, number>, retryIntervalOverrides: {} as Record<string, number> };
      for (const [name, state] of Object.entries(asl.States)) {
        if (state.Type === 'Wait') overrides.waitTimeOverrides[name] = 0;
        if (name.startsWith('Publish ')) {
          overrides.retryIntervalOverrides[name] = 0;
          overrides.taskResourceLocalHandlers[name] = async () => {
            publishes++;
            return publisher();
          };
        } else if (state.Type === 'Task') {
          overrides.taskResourceLocalHandlers[name] = async (input: unknown) => {
            notifications.push(input);
            return {};
          };
        }
      }
      const execution = machine.run({ trigger: 'test' }, { overrides: overrides as never });
      const outcome = await execution.result.then(
        () => 'succeeded',
        (error: Error) => `failed: ${error.message}`,
      );
      return { outcome, publishes, notifications };
    };

    const busy = await run(async () => ({ publishedAt: 1, rooms: 2, points: 21, idle: false }));
    expect(busy).toEqual({ outcome: 'succeeded', publishes: 6, notifications: [] });

    const idle = await run(async () => ({ publishedAt: 1, rooms: 2, points: 0, idle: true }));
    expect(idle).toEqual({ outcome: 'succeeded', publishes: 1, notifications: [] });

    // Only the first run decides: a room going idle later in the minute does not cut the minute short.
    let calls = 0;
    const idleLater = await run(async () => ({ publishedAt: 1, rooms: 1, points: 0, idle: ++calls > 1 }));
    expect(idleLater.publishes).toBe(6);

    const older = await run(async () => ({ publishedAt: 1, rooms: 2, points: 21 }));
    expect(older).toEqual({ outcome: 'succeeded', publishes: 6, notifications: [] });

    const broken = await run(async () => {
      throw Object.assign(new Error('stats table unreachable'), { name: 'Lambda.ServiceException' });
    });
    expect(broken.outcome).toMatch(/^failed/);
    expect(broken.publishes).toBe(3); // the first attempt and two retries
    expect(broken.notifications).toHaveLength(1);
    expect(broken.notifications[0]).toMatchObject({
      TopicArn: `local-${topicId()}`,
      Subject: expect.stringMatching(/metrics loop failed/i),
      Message: expect.stringMatching(/stats table unreachable/),
    });
  });

  it('may invoke the publisher and publish to the alarm topic, and nothing more', () => {
    const machine = resources('AWS::StepFunctions::StateMachine')[stateMachineId()]!;
    const roleId = (machine.Properties.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    const statements = statementsOfRole(roleId);
    const find = (action: string) => statements.filter((s) => actions(s).includes(action));
    expect(find('sns:Publish')).toEqual([expect.objectContaining({ Resource: topicRef() })]);
    expect(JSON.stringify(find('lambda:InvokeFunction'))).toContain(functionId('metrics-publisher'));
    expect(statements.flatMap(actions).filter((a) => /^(dynamodb|sqs|states|kms|xray):/.test(a))).toEqual([]);
  });
});

describe('tracing', () => {
  it('is off unless asked for, and then on for every function of the waiting room and the metrics loop', () => {
    for (const id of ourFunctionIds()) expect(resources('AWS::Lambda::Function')[id]!.Properties.TracingConfig, id).toBeUndefined();
    const traced = Object.entries(resources('AWS::Lambda::Function', optedIn)).filter(([, r]) => r.Metadata?.['WaitingRoom:Entry']);
    expect(traced).toHaveLength(13);
    for (const [id, fn] of traced) expect(fn.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
  });
});

describe('on-demand run', () => {
  it('lets the admin function start executions of the metrics state machine, and of nothing else', () => {
    const admin = functionId('admin');
    const states = statementsOf(admin).filter((s) => actions(s).some((a) => a.startsWith('states:')));
    expect(states).toEqual([{ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: stateMachineId() } }]);
    const variables = (resources('AWS::Lambda::Function')[admin]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables.STATE_MACHINE_ARN).toEqual({ Ref: stateMachineId() });
    for (const fn of ourFunctionIds().filter((id) => id !== admin)) {
      expect(statementsOf(fn).flatMap(actions).filter((a) => a.startsWith('states:')), fn).toEqual([]);
    }
  });
});

describe('admin topic', () => {
  it('e-mails the address given in the props', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: ADMIN_EMAIL, TopicArn: topicRef() });
  });

  it('has no KMS key ($1 a month) and no server-side encryption, but refuses plain HTTP and lets CloudWatch alarms publish', () => {
    expect(resources('AWS::KMS::Key')).toEqual({});
    expect(resources('AWS::KMS::Key', optedIn)).toEqual({});
    expect(resources('AWS::SNS::Topic')[topicId()]!.Properties.KmsMasterKeyId).toBeUndefined();

    const policy = Object.values(resources('AWS::SNS::TopicPolicy')).find((p) => JSON.stringify(p.Properties.Topics).includes(topicId()))!;
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    // The topic policy replaces SNS's default one: CloudWatch alarms of this account need an explicit allow.
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'sns:Publish',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Condition: expect.objectContaining({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
      }),
    );
  });
});

describe('alarms', () => {
  it('notify the admin topic on ALARM and on OK, and each says what it means and what to do', () => {
    expect(alarms()).toHaveLength(9);
    for (const [id, alarm] of [...alarms(), ...alarms(optedIn)]) {
      expect(alarm.Properties.AlarmActions, id).toEqual([topicRef()]);
      expect(alarm.Properties.OKActions, id).toEqual([topicRef()]);
      expect(alarm.Properties.TreatMissingData, id).toMatch(/^(notBreaching|ignore)$/);
      expect(joined(alarm.Properties.AlarmDescription).length, id).toBeGreaterThan(80);
    }
  });

  it('bill at most 10 alarm metrics with the default props ($1.00 a month), a math expression counting each metric it reads', () => {
    const { template: defaults } = synthWaitingRoom({}, { bundle: false });
    const billed = alarms(defaults).map(([id, alarm]) => [id.replace(/^WaitingRoom|[0-9A-F]{8}$/g, ''), alarmMetrics(alarm)] as const);
    expect(Object.fromEntries(billed)).toEqual({
      CheckLoopCheckDlqNotEmpty: 1,
      CheckLoopEnqueuerStreamFailuresNotEmpty: 1,
      CheckLoopEnqueuerIteratorAge: 1,
      StatsAggregatorStatsStreamFailuresNotEmpty: 1,
      StatsAggregatorIteratorAge: 1,
      MetricsLoopExecutionsFailed: 2,
      MetricsLoopWaitingUsersHigh: 1,
      MetricsLoopAllRoomsFull: 1,
      ApiServerErrors: 1,
    });
    expect(billed.reduce((sum, [, n]) => sum + n, 0)).toBeLessThanOrEqual(10);
  });

  it('treat missing data on the published metrics as not breaching: an idle room publishes nothing', () => {
    const onCustomMetrics = alarms(optedIn).filter(([, a]) => a.Properties.Namespace === 'WaitingRoom');
    expect(onCustomMetrics.length).toBeGreaterThanOrEqual(4);
    for (const [id, a] of onCustomMetrics) expect(a.Properties.TreatMissingData, id).toBe('notBreaching');
  });

  it('watch the service-wide line, with no dimension', () => {
    const [[, alarm]] = alarmsOn('WaitingUsers') as [[string, Resource]];
    expect(alarmsOn('WaitingUsers')).toHaveLength(1);
    expect(alarm.Properties).toMatchObject({ Namespace: 'WaitingRoom', Statistic: 'Maximum', Period: 60, Threshold: 1000, ComparisonOperator: 'GreaterThanThreshold' });
    expect(alarm.Properties.Dimensions).toBeUndefined();
  });

  it('watch the whole service at 100 % utilization, and each room listed in the props only with perRoom', () => {
    expect(alarmsOn('Utilization').map(([, a]) => a.Properties.Dimensions ?? null)).toEqual([null]);
    const full = alarmsOn('Utilization', optedIn).map(([, a]) => a.Properties);
    expect(full.map((p) => JSON.stringify(p.Dimensions ?? null)).sort()).toEqual(
      [null, [{ Name: 'RoomId', Value: 'shop' }], [{ Name: 'RoomId', Value: 'tickets-2' }]].map((d) => JSON.stringify(d)).sort(),
    );
    for (const p of full) {
      expect(p).toMatchObject({ Namespace: 'WaitingRoom', Threshold: 100, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 10, DatapointsToAlarm: 10, Period: 60 });
    }
  });

  it('have no "metrics stopped" alarm, which could not tell idle from broken: failed executions say broken', () => {
    expect(alarmsOn('ActiveUsers', optedIn)).toEqual([]);
    expect(alarms(optedIn).filter(([, a]) => a.Properties.Statistic === 'SampleCount')).toEqual([]);
  });

  it('raise an alarm as soon as any failure queue holds a message', () => {
    const queues = alarmsOn('ApproximateNumberOfMessagesVisible').map(([, a]) => {
      expect(a.Properties).toMatchObject({ Namespace: 'AWS/SQS', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      return ((a.Properties.Dimensions as { Value: { 'Fn::GetAtt': string[] } }[])[0]!.Value['Fn::GetAtt'])[0]!;
    });
    expect(queues).toHaveLength(3);
    expect(queues.map((q) => q.match(/CheckDlq|CheckLoopStreamFailures|StatsAggregatorFailures/)?.[0]).sort()).toEqual([
      'CheckDlq',
      'CheckLoopStreamFailures',
      'StatsAggregatorFailures',
    ]);
  });

  it('have no errors-and-throttles alarm per function: their failures raise the 5XX, queue, iterator-age and execution alarms', () => {
    expect(ourFunctionIds()).toHaveLength(13);
    for (const name of ['Errors', 'Throttles']) expect(alarmsOn(name, optedIn), name).toEqual([]);
  });

  it('raise an alarm when a token-stream consumer falls behind', () => {
    const consumers = alarmsOn('IteratorAge').map(([, a]) => {
      expect(a.Properties).toMatchObject({ Statistic: 'Maximum', Threshold: 60_000, ComparisonOperator: 'GreaterThanThreshold' });
      return (a.Properties.Dimensions as { Value: { Ref: string } }[])[0]!.Value.Ref;
    });
    expect(consumers.sort()).toEqual([functionId('enqueue-checks'), functionId('stats-aggregator')].sort());
  });

  it('raise an alarm on a failed metrics-loop execution', () => {
    const failed = alarmsOn('ExecutionsFailed');
    expect(failed).toHaveLength(1);
    expect(JSON.stringify(failed[0]![1].Properties.Metrics)).toContain(JSON.stringify({ Name: 'StateMachineArn', Value: { Ref: stateMachineId() } }));
    expect(failed[0]![1].Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('raise an alarm on API 5XX responses above a small threshold', () => {
    const api = alarmsOn('5xx');
    expect(api).toHaveLength(1);
    expect(api[0]![1].Properties).toMatchObject({ Namespace: 'AWS/ApiGateway', Statistic: 'Sum', Threshold: 5 });
  });
});

describe('dashboard', () => {
  it('is not made unless asked for ($3 a month)', () => {
    expect(resources('AWS::CloudWatch::Dashboard')).toEqual({});
    expect(template.toJSON().Outputs.DashboardName).toBeUndefined();
  });

  it('graphs every room and the service, the pipeline health, and shows the status of every alarm', () => {
    const dashboards = Object.values(resources('AWS::CloudWatch::Dashboard', optedIn));
    expect(dashboards).toHaveLength(1);
    const body = joined(dashboards[0]!.Properties.DashboardBody);
    expect(alarms(optedIn)).toHaveLength(11);
    for (const [id] of alarms(optedIn)) expect(body, id).toContain(`<${id}.Arn>`);
    expect(body).toContain('"type":"alarm"');
    for (const roomId of ['shop', 'tickets-2']) expect(body).toContain(`"WaitingUsers","RoomId","${roomId}"`);
    for (const name of ['WaitingUsers', 'ActiveUsers', 'Capacity', 'AdmissionsPerMinute', 'EvictionsPerMinute', 'ApproximateNumberOfMessagesVisible', 'Errors', 'Throttles', '5xx']) {
      expect(body).toContain(`"${name}"`);
    }
  });
});

describe('stack outputs', () => {
  it('tell the operator the topic, the dashboard (when there is one), the state machine and the rotate function', () => {
    template.hasOutput('AlarmTopicArn', { Value: topicRef() });
    optedIn.hasOutput('DashboardName', { Value: { Ref: Object.keys(resources('AWS::CloudWatch::Dashboard', optedIn))[0]! } });
    template.hasOutput('StateMachineArn', { Value: { Ref: stateMachineId() } });
    template.hasOutput('RotatePassKeyFunctionName', { Value: { Ref: functionId('rotate-pass-key') } });
  });

  it('list every failure queue as JSON, with the source queue of the DLQ and what each one loses (waiting-room dlq)', () => {
    const queueId = (prefix: string) => Object.keys(resources('AWS::SQS::Queue')).find((id) => id.startsWith(prefix));
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const listed = JSON.parse(joined(outputs.FailureQueues!.Value)) as { name: string; url: string; sourceUrl?: string; lost: string }[];
    expect(listed.map((q) => [q.name, q.url, q.sourceUrl])).toEqual([
      ['CheckDlq', `<${queueId('WaitingRoomCheckLoopCheckDlq')}>`, `<${queueId('WaitingRoomCheckLoopCheckQueue')}>`],
      ['EnqueuerStreamFailures', `<${queueId('WaitingRoomCheckLoopStreamFailures')}>`, undefined],
      ['StatsStreamFailures', `<${queueId('WaitingRoomStatsAggregatorFailures')}>`, undefined],
    ]);
    // Each says what is lost in the words of its alarm.
    for (const queue of listed) {
      const [, alarm] = alarms().find(([id]) => id.includes(`${queue.name}NotEmpty`))!;
      expect(joined(alarm.Properties.AlarmDescription)).toContain(queue.lost);
    }
  });
});

describe('alarm props', () => {
  const make = (alarmsProps: Record<string, unknown>) => () =>
    new WaitingRoom(new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S'), 'W', { adminEmail: 'ops@example.com', alarms: alarmsProps });

  it('refuses thresholds that are not positive numbers, and minutes that are not whole, listing every problem at once', () => {
    expect(make({ waitingUsersThreshold: 0, fullRoomMinutes: 2.5, iteratorAgeSeconds: -1 })).toThrow(
      /alarms\.waitingUsersThreshold must be a positive number \(got 0\)[\s\S]*alarms\.fullRoomMinutes must be a whole number of minutes[\s\S]*alarms\.iteratorAgeSeconds must be a positive number/,
    );
    expect(make({ waitingUsersMinutes: 1441 })).toThrow(/waitingUsersMinutes must be a whole number of minutes from 1 to 1440/);
    expect(make({ apiServerErrorsPerMinute: '5' })).toThrow(/apiServerErrorsPerMinute must be a positive number \(got "5"\)/);
    expect(make({ waitingUsers: 10 })).toThrow(/alarms\.waitingUsers is not a known alarm setting/);
    expect(make({ perRoom: 'yes' })).toThrow(/alarms\.perRoom must be true or false \(got "yes"\)/);
  });

  it('says why a removed setting went', () => {
    expect(make({ metricsMissingMinutes: 3 })).toThrow(/alarms\.metricsMissingMinutes was removed: the "metrics stopped" alarm is gone.*MetricsLoopExecutionsFailed/);
  });

  it('accepts valid thresholds', () => {
    expect(make({ waitingUsersThreshold: 50, waitingUsersMinutes: 2, fullRoomMinutes: 1, iteratorAgeSeconds: 30, apiServerErrorsPerMinute: 1, perRoom: true })).not.toThrow();
  });
});
