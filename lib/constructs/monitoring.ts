/**
 * Monitoring (DESIGN §2 steps 4-6, §5.7): the stats aggregator on the token stream, the metrics
 * loop (EventBridge schedule → Step Functions → metrics publisher, 6 runs a minute, 10 s apart),
 * the admin SNS topic with its e-mail subscription, the CloudWatch alarms and the dashboard.
 * Metric names, namespace and dimensions come from lambdas/shared/metric-names.ts, which the
 * publisher also reads, so an alarm always watches a metric that is actually published.
 *
 * ## Express or Standard: the cost of one execution a minute
 * List prices (us-east-1) at the time of writing; a 30-day month holds 60 × 24 × 30 = 43,200
 * scheduled executions. The Lambda cost (6 × 43,200 = 259,200 publisher runs) is the same either way.
 * - Standard bills state transitions, $0.025 per 1,000, 4,000 free a month. One run enters
 *   6 Task + 5 Wait = 11 states (a retry adds one more): 43,200 × 11 = 475,200 transitions;
 *   (475,200 - 4,000) × $0.000025 ≈ $11.78 a month.
 * - Express bills requests, $1.00 per million, and duration, $0.00001667 per GB-second, in 64 MB
 *   steps (this small definition and payload need the minimum) and 100 ms steps. A run lasts
 *   5 × 10 s of waits + 6 invocations of about 0.2-1 s ≈ 56 s:
 *   requests 43,200 × $0.000001 ≈ $0.04; duration 43,200 × 56 s × 0.0625 GB = 151,200 GB-s
 *   × $0.00001667 ≈ $2.52; its logs (level ALL without execution data: about 42 events of about
 *   0.4 KB a run, 0.7 GB a month × $0.50 per GB ingested) ≈ $0.36. Total ≈ $2.92 a month.
 * Express is about 4 times cheaper, and fits: a run is far below its 5-minute limit, and its
 * at-least-once semantics are harmless because the publisher is idempotent (gauges are snapshots,
 * rates are claimed with a conditional write: lambdas/domain/metrics.ts). What Express lacks, an
 * execution history in the console, its log group and the failed-executions alarm make up for.
 *
 * ## The definition (JSONPath: the local runtime runs it with aws-local-stepfunctions)
 *   Publish 1 → Wait 10 s after Publish 1 → Publish 2 → … → Wait 10 s after Publish 5 → Publish 6 (end)
 * Each Publish is a Task whose Resource is the publisher's ARN itself (so the local runtime binds it
 * by ARN), retried twice with backoff on Lambda and task errors; when the retries are spent, a
 * Catch goes to `Notify admins` (SNS publish to the alarm topic) and then `Metrics loop failed` (Fail).
 */
import { Aws, Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { FilterCriteria, FilterRule, StartingPosition, type CfnFunction, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  DefinitionBody,
  Fail,
  JsonPath,
  LogLevel,
  QueryLanguage,
  StateMachine,
  StateMachineType,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
  type IChainable,
  type INextable,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke, SnsPublish } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { Token, TokenState } from '../../lambdas/domain/index.js';
import { METRIC, METRICS_INTERVAL_SECONDS, METRICS_NAMESPACE, METRIC_STATISTIC, roomDimensions, type MetricName } from '../../lambdas/shared/metric-names.js';
import { WaitingRoomFunction } from './function.js';
import { grantTable } from './table-access.js';

/** Alarm thresholds of the waiting room. Every value must be a positive number. */
export interface WaitingRoomAlarms {
  /** Visitors waiting across all rooms above which an alarm is raised. @default 1000 */
  waitingUsersThreshold?: number;
  /** Consecutive minutes above waitingUsersThreshold before the alarm fires (whole number, 1-1440). @default 5 */
  waitingUsersMinutes?: number;
  /** Consecutive minutes a room (or the whole service) stays at 100 % utilization before its alarm fires (whole number, 1-1440). @default 15 */
  fullRoomMinutes?: number;
  /** Consecutive minutes without any published metric before the "metrics stopped" alarm fires (whole number, 1-1440). @default 3 */
  metricsMissingMinutes?: number;
  /** Age in seconds of the oldest token-stream record a consumer has not processed, above which its alarm fires. @default 60 */
  iteratorAgeSeconds?: number;
  /** API Gateway 5XX responses per minute above which an alarm fires. @default 5 */
  apiServerErrorsPerMinute?: number;
}

export const DEFAULT_ALARMS: Readonly<Required<WaitingRoomAlarms>> = Object.freeze({
  waitingUsersThreshold: 1000,
  waitingUsersMinutes: 5,
  fullRoomMinutes: 15,
  metricsMissingMinutes: 3,
  iteratorAgeSeconds: 60,
  apiServerErrorsPerMinute: 5,
});

/** An alarm with a period under an hour may look back at most one day (PutMetricAlarm: period × evaluation periods ≤ 86,400 s). */
const MAX_ALARM_MINUTES = 1440;

/** The problems with a set of alarm thresholds; empty when they are usable. */
export function alarmProblems(alarms: WaitingRoomAlarms | undefined): string[] {
  if (alarms !== undefined && (typeof alarms !== 'object' || alarms === null || Array.isArray(alarms))) {
    return [`alarms must be an object of thresholds such as { "waitingUsersThreshold": 500 } (got ${JSON.stringify(alarms)})`];
  }
  const problems: string[] = [];
  const given = alarms ?? {};
  for (const key of Object.keys(given)) {
    if (!(key in DEFAULT_ALARMS)) problems.push(`alarms.${key} is not a known alarm setting (known: ${Object.keys(DEFAULT_ALARMS).join(', ')})`);
  }
  for (const key of Object.keys(DEFAULT_ALARMS) as (keyof WaitingRoomAlarms)[]) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      problems.push(`alarms.${key} must be a positive number (got ${JSON.stringify(value)})`);
    } else if (key.endsWith('Minutes') && (!Number.isInteger(value) || value > MAX_ALARM_MINUTES)) {
      problems.push(`alarms.${key} must be a whole number of minutes from 1 to ${MAX_ALARM_MINUTES} (got ${value})`);
    }
  }
  return problems;
}

export interface MonitoringProps {
  /** Where alarm notifications and metrics-loop failures are e-mailed. */
  adminEmail: string;
  rooms: Table;
  tokens: Table;
  stats: Table;
  /** The timings as environment variables (lambdas/shared/env.ts), given to every function. */
  timingsEnvironment: Record<string, string>;
  /** Rooms created at deploy time: each gets its own graphs and full-room alarm. */
  roomIds: readonly string[];
  /** Attempts at a failing token-stream batch before it is set aside in the failure queue. */
  streamRetryAttempts: number;
  alarms: Required<WaitingRoomAlarms>;
  /** The other functions of the waiting room, by name (PascalCase): each gets an errors-and-throttles alarm. */
  functions: Readonly<Record<string, IFunction>>;
  /** The other queues where failed messages end, by name (PascalCase): each gets a not-empty alarm. */
  failureQueues: Readonly<Record<string, IQueue>>;
  /** The other token-stream consumers, by name (PascalCase): each gets an iterator-age alarm. */
  streamConsumers: Readonly<Record<string, IFunction>>;
  /** The API's 5XX responses (Sum per minute): alarmed above `apiServerErrorsPerMinute` and charted. */
  apiServerErrors: IMetric;
}

/** Lambda and Step Functions errors after which a publish is worth retrying. */
export const PUBLISH_RETRY_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'States.TaskFailed',
  'States.Timeout',
] as const;

/** Runs of the publisher per execution: one execution a minute, a run every METRICS_INTERVAL_SECONDS. */
export const PUBLISH_RUNS = 60 / METRICS_INTERVAL_SECONDS;

/** Names of the states, as the definition and the local runtime see them. */
export const METRICS_LOOP_STATES = {
  publish: (run: number) => `Publish ${run}`,
  wait: (afterRun: number) => `Wait ${METRICS_INTERVAL_SECONDS} s after Publish ${afterRun}`,
  notify: 'Notify admins',
  fail: 'Metrics loop failed',
} as const;

/** The one attribute of a token item whose changes the stats aggregator counts. */
const STATE_ATTRIBUTE = 'state' satisfies keyof Token;
const WAITING: TokenState = 'WAITING';
const ADMITTED: TokenState = 'ADMITTED';

const MINUTE = Duration.minutes(1);

export class Monitoring extends Construct {
  /** Token stream → stats table: per-room counts (DESIGN §2.4). */
  readonly statsAggregator: WaitingRoomFunction;
  /** Where stats batches that failed every retry are described (Lambda on-failure destination). */
  readonly statsFailureQueue: Queue;
  /** Stats table → CloudWatch metrics, run by the state machine (DESIGN §2.5). */
  readonly metricsPublisher: WaitingRoomFunction;
  /** Express state machine running the publisher 6 times, 10 s apart. */
  readonly stateMachine: StateMachine;
  readonly stateMachineLogs: LogGroup;
  /** EventBridge rule starting the state machine every minute. */
  readonly schedule: Rule;
  /** Customer-managed key of the alarm topic (CloudWatch cannot publish to a topic under the AWS managed aws/sns key). */
  readonly alarmTopicKey: Key;
  /** Admin notifications: every alarm's ALARM and OK, and metrics-loop failures. E-mailed to the admin. */
  readonly alarmTopic: Topic;
  /** Every alarm of the waiting room, each notifying alarmTopic on ALARM and on OK. */
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  private readonly alarmAction: SnsAction;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);

    // ---- Admin topic: KMS-encrypted with a key CloudWatch may use, SSL only, e-mail subscription.
    this.alarmTopicKey = new Key(this, 'AlarmTopicKey', {
      description: 'Waiting room: encrypts the admin alarm topic; CloudWatch alarms and the metrics loop may use it',
      enableKeyRotation: true,
      // Messages are transient: nothing outlives the topic that this key would have to decrypt.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const alarmsOfThisAccount = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
    };
    this.alarmTopicKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToEncryptedTopic',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: alarmsOfThisAccount,
      }),
    );
    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'Waiting room alarms',
      masterKey: this.alarmTopicKey,
      enforceSSL: true,
    });
    // The topic policy replaces SNS's default one, so CloudWatch alarms need an explicit allow.
    this.alarmTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: alarmsOfThisAccount,
      }),
    );
    this.alarmTopic.addSubscription(new EmailSubscription(props.adminEmail));
    this.alarmAction = new SnsAction(this.alarmTopic);

    // ---- Stats aggregator on the token stream.
    this.statsFailureQueue = new Queue(this, 'StatsFailures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.statsFailureQueue).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason: 'This queue is itself the end of the line for failed stats batches; its depth raises an alarm.',
    });
    this.statsAggregator = new WaitingRoomFunction(this, 'StatsAggregator', {
      handler: 'stats-aggregator',
      description: 'Token stream → stats table: per-room waiting and active counts and totals',
      environment: { ...props.timingsEnvironment, STATS_TABLE: props.stats.tableName },
    });
    this.statsAggregator.addEventSource(
      new DynamoEventSource(props.tokens, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        // Lambda names the shard (event.shardId) only when the mapping has a tumbling window;
        // the aggregator's exactly-once counting relies on it (lambdas/adapters/dynamo-stats.ts).
        tumblingWindow: Duration.seconds(60),
        parallelizationFactor: 1,
        bisectBatchOnError: true,
        retryAttempts: props.streamRetryAttempts,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.statsFailureQueue),
        // Heartbeats and check-loop steps are MODIFYs that keep the state: they never invoke it.
        filters: [
          FilterCriteria.filter({ eventName: FilterRule.or('INSERT', 'REMOVE') }),
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('MODIFY'),
            dynamodb: {
              OldImage: { [STATE_ATTRIBUTE]: { S: FilterRule.isEqual(WAITING) } },
              NewImage: { [STATE_ATTRIBUTE]: { S: FilterRule.isEqual(ADMITTED) } },
            },
          }),
        ],
      }),
    );
    grantTable(this.statsAggregator, props.stats, ['GetItem', 'UpdateItem']);

    // ---- Metrics publisher.
    this.metricsPublisher = new WaitingRoomFunction(this, 'MetricsPublisher', {
      handler: 'metrics-publisher',
      description: 'Stats table → CloudWatch metrics, run 6 times a minute by the metrics state machine',
      environment: {
        ...props.timingsEnvironment,
        ROOMS_TABLE: props.rooms.tableName,
        STATS_TABLE: props.stats.tableName,
        METRICS_NAMESPACE,
      },
    });
    // DynamoRoomsSource scans the rooms; DynamoStatsStore batch-reads stats and claims rates with UpdateItem.
    grantTable(this.metricsPublisher, props.rooms, ['Scan']);
    grantTable(this.metricsPublisher, props.stats, ['BatchGetItem', 'UpdateItem']);
    this.metricsPublisher.addToRolePolicy(
      new PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } },
      }),
    );
    Validations.of(this.metricsPublisher).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: `cloudwatch:PutMetricData has no resource-level permission, so it is limited with the cloudwatch:namespace condition to ${METRICS_NAMESPACE}; X-Ray tracing actions have none either.`,
    });

    // ---- Metrics loop.
    this.stateMachineLogs = new LogGroup(this, 'MetricsLoopLogs', {
      // The /aws/vendedlogs/ prefix keeps Step Functions from growing the account's log resource policy.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 180, separator: '-' })}-metrics-loop`,
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = this.metricsLoop(this.stateMachineLogs);
    this.schedule = new Rule(this, 'EveryMinute', {
      description: 'Starts the waiting-room metrics loop every minute',
      schedule: Schedule.rate(MINUTE),
      targets: [
        new SfnStateMachine(this.stateMachine, {
          input: RuleTargetInput.fromObject({ trigger: 'schedule' }),
          // A start later than this would overlap the next one: drop it, the next minute comes.
          maxEventAge: MINUTE,
          retryAttempts: 2,
        }),
      ],
    });

    // ---- Alarms and dashboard.
    this.addAlarms(props);
    this.dashboard = this.buildDashboard(props);
  }

  private metricsLoop(logs: LogGroup): StateMachine {

    const notify = SnsPublish.jsonPath(this, 'NotifyAdmins', {
      stateName: METRICS_LOOP_STATES.notify,
      topic: this.alarmTopic,
      subject: 'Waiting room: metrics loop failed',
      message: TaskInput.fromText(
        JsonPath.format(
          'The waiting-room metrics loop failed after its retries, so CloudWatch metrics (and the alarms on them) stop being updated until a later run succeeds. ' +
            `Check the logs of the metrics publisher function ${this.metricsPublisher.functionName}, ` +
            `the state machine log group ${logs.logGroupName}, and that the rooms and stats tables can be read. Error: {}`,
          JsonPath.jsonToString(JsonPath.objectAt('$.error')),
        ),
      ),
      resultPath: JsonPath.DISCARD,
    });
    notify.addRetry({ errors: ['States.ALL'], maxAttempts: 2, interval: Duration.seconds(1), backoffRate: 2 });
    const failed = Fail.jsonPath(this, 'MetricsLoopFailed', {
      stateName: METRICS_LOOP_STATES.fail,
      error: 'MetricsPublishFailed',
      cause: 'The metrics publisher kept failing after its retries; the admins were notified.',
    });
    notify.next(failed);

    let definition: IChainable | undefined;
    let last: INextable | undefined;
    for (let run = 1; run <= PUBLISH_RUNS; run++) {
      const publish = LambdaInvoke.jsonPath(this, `Publish${run}`, {
        stateName: METRICS_LOOP_STATES.publish(run),
        lambdaFunction: this.metricsPublisher,
        // Resource = the function's ARN itself (no lambda:invoke wrapper): the local runtime binds it by ARN.
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        taskTimeout: Timeout.duration(Duration.seconds(30)),
        resultPath: JsonPath.DISCARD,
      });
      publish.addRetry({ errors: [...PUBLISH_RETRY_ERRORS], maxAttempts: 2, interval: Duration.seconds(1), backoffRate: 2 });
      publish.addCatch(notify, { errors: ['States.ALL'], resultPath: '$.error' });
      if (last) {
        const wait = Wait.jsonPath(this, `WaitAfterPublish${run - 1}`, {
          stateName: METRICS_LOOP_STATES.wait(run - 1),
          time: WaitTime.duration(Duration.seconds(METRICS_INTERVAL_SECONDS)),
        });
        last.next(wait);
        wait.next(publish);
      }
      definition ??= publish;
      last = publish;
    }

    const stateMachine = new StateMachine(this, 'MetricsLoop', {
      comment: `Runs the metrics publisher ${PUBLISH_RUNS} times, ${METRICS_INTERVAL_SECONDS} s apart (DESIGN §2.5)`,
      stateMachineType: StateMachineType.EXPRESS,
      queryLanguage: QueryLanguage.JSON_PATH,
      definitionBody: DefinitionBody.fromChainable(definition!),
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    Validations.of(stateMachine).acknowledge(
      {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.metricsPublisher.node.defaultChild as CfnFunction)}.Arn>:*]`,
        reason: 'Step Functions may invoke any version of the one metrics publisher function it runs.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason: 'Log delivery (logs:*LogDelivery*, DescribeLogGroups) and X-Ray tracing actions support no resource-level permission.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: 'Publishing to the encrypted alarm topic needs the GenerateDataKey family, on that one key only.',
      },
    );
    this.alarmTopic.grantPublish(stateMachine);
    return stateMachine;
  }

  /** An alarm that notifies the admin topic when it fires and when it recovers. */
  private alarm(id: string, props: ConstructorParameters<typeof Alarm>[2]): Alarm {
    const alarm = new Alarm(this, id, props);
    alarm.addAlarmAction(this.alarmAction);
    alarm.addOkAction(this.alarmAction);
    this.alarms.push(alarm);
    return alarm;
  }

  private addAlarms(props: MonitoringProps): void {
    const t = props.alarms;
    const metric = (name: MetricName, roomId?: string, statistic: string = METRIC_STATISTIC[name]) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        ...(roomId === undefined ? {} : { dimensionsMap: roomDimensions(roomId) }),
        statistic,
        period: MINUTE,
      });

    // Business: the line, full rooms. Missing data is the job of the "metrics stopped" alarm.
    this.alarm('WaitingUsersHigh', {
      alarmDescription:
        `More than ${t.waitingUsersThreshold} visitors have been waiting across all rooms for ${t.waitingUsersMinutes} minutes. ` +
        'If the origin can take more, raise room capacities (PUT /admin/rooms/{roomId}); otherwise expect longer waits.',
      metric: metric(METRIC.waitingUsers),
      threshold: t.waitingUsersThreshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: t.waitingUsersMinutes,
      datapointsToAlarm: t.waitingUsersMinutes,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const fullRoom = (id: string, what: string, roomId?: string) =>
      this.alarm(id, {
        alarmDescription:
          `${what} has been at 100 % utilization (every seat taken) for ${t.fullRoomMinutes} minutes, so visitors wait. ` +
          'If the origin can take more, raise the capacity (PUT /admin/rooms/{roomId}); check the WaitingUsers graph on the dashboard.',
        metric: metric(METRIC.utilization, roomId),
        threshold: 100,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: t.fullRoomMinutes,
        datapointsToAlarm: t.fullRoomMinutes,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    for (const roomId of props.roomIds) fullRoom(`Room-${roomId}-Full`, `Room ${roomId}`, roomId);
    fullRoom('AllRoomsFull', 'The whole service (all rooms together)');

    // Health: the metrics themselves.
    this.alarm('MetricsStopped', {
      alarmDescription:
        `No waiting-room metric has been published for ${t.metricsMissingMinutes} minutes: the metrics loop is not running or its publisher fails, ` +
        'so the other metric alarms are blind. Check the MetricsLoop state machine executions and logs, the EventBridge schedule and the metrics publisher logs.',
      metric: metric(METRIC.activeUsers, undefined, 'SampleCount'),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: t.metricsMissingMinutes,
      datapointsToAlarm: t.metricsMissingMinutes,
      // No data point at all is exactly what this alarm is about.
      treatMissingData: TreatMissingData.BREACHING,
    });
    this.alarm('MetricsLoopExecutionsFailed', {
      alarmDescription:
        'An execution of the metrics state machine failed or timed out (the publisher kept failing after its retries). ' +
        'Check the state machine log group and the metrics publisher logs; the failure e-mail names the error.',
      metric: new MathExpression({
        label: 'Failed or timed-out executions',
        expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
        usingMetrics: {
          failed: this.stateMachine.metricFailed({ period: MINUTE, statistic: 'Sum' }),
          timedOut: this.stateMachine.metricTimedOut({ period: MINUTE, statistic: 'Sum' }),
        },
        period: MINUTE,
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // Nothing lost silently (DESIGN §5.7): every place where failed messages end.
    const failureQueues = { ...props.failureQueues, StatsStreamFailures: this.statsFailureQueue };
    for (const [name, queue] of Object.entries(failureQueues)) {
      this.alarm(`${name}NotEmpty`, {
        alarmDescription:
          `Messages are waiting in the failure queue ${name} (${queue.queueName}): they could not be processed after every retry, ` +
          'and the work they stand for (a check loop, or stats counts) is missing. Read them, fix the cause in the logs of the consumer, then redrive or delete them.',
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: MINUTE, statistic: 'Maximum' }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // SQS stops reporting a queue after 6 idle hours: keep the state, so a queue still holding
        // messages stays in ALARM rather than drifting back to OK.
        treatMissingData: TreatMissingData.IGNORE,
      });
    }

    // Every function: errors and throttles.
    for (const [name, fn] of Object.entries(this.watchedFunctions(props))) {
      this.alarm(`${name}ErrorsOrThrottles`, {
        alarmDescription:
          `The Lambda function ${name} (${fn.functionName}) reported errors or was throttled in the last minute. ` +
          'Read its log group for the error; for throttles, check the account concurrency limit.',
        metric: new MathExpression({
          label: 'Errors + throttles',
          expression: 'FILL(errors, 0) + FILL(throttles, 0)',
          usingMetrics: {
            errors: fn.metricErrors({ period: MINUTE, statistic: 'Sum' }),
            throttles: fn.metricThrottles({ period: MINUTE, statistic: 'Sum' }),
          },
          period: MINUTE,
        }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // No invocation, no error.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }

    // Stream consumers keeping up with the token stream.
    for (const [name, fn] of Object.entries(this.streamConsumers(props))) {
      this.alarm(`${name}IteratorAge`, {
        alarmDescription:
          `The ${name} function (${fn.functionName}) is more than ${t.iteratorAgeSeconds} s behind the token stream for 3 minutes: ` +
          'it fails and retries a batch, or cannot keep up. Check its errors and logs; records older than 24 h are lost from the stream.',
        metric: fn.metric('IteratorAge', { period: MINUTE, statistic: 'Maximum' }),
        threshold: t.iteratorAgeSeconds * 1000,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        // No records to read, no age.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }

    this.alarm('ApiServerErrors', {
      alarmDescription:
        `The API answered more than ${t.apiServerErrorsPerMinute} 5XX responses in a minute: visitors see errors. ` +
        'Check the Lambda errors alarms and the API functions\' logs (and the API access log, when enabled).',
      metric: props.apiServerErrors,
      threshold: t.apiServerErrorsPerMinute,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  private watchedFunctions(props: MonitoringProps): Record<string, IFunction> {
    return { ...props.functions, StatsAggregator: this.statsAggregator, MetricsPublisher: this.metricsPublisher };
  }

  private streamConsumers(props: MonitoringProps): Record<string, IFunction> {
    return { ...props.streamConsumers, StatsAggregator: this.statsAggregator };
  }

  private buildDashboard(props: MonitoringProps): Dashboard {
    const gauge = (name: MetricName, label: string, roomId?: string): IMetric =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        ...(roomId === undefined ? {} : { dimensionsMap: roomDimensions(roomId) }),
        statistic: METRIC_STATISTIC[name],
        period: MINUTE,
        label,
      });
    const occupancy = (title: string, roomId?: string) =>
      new GraphWidget({
        title,
        width: 12,
        left: [
          gauge(METRIC.waitingUsers, 'Waiting', roomId),
          gauge(METRIC.activeUsers, 'Active', roomId),
          gauge(METRIC.capacity, 'Capacity', roomId),
        ],
        right: [gauge(METRIC.estimatedWaitSeconds, 'Estimated wait (s)', roomId)],
      });
    const scopes: { label: string; roomId?: string }[] = [{ label: 'All rooms' }, ...props.roomIds.map((roomId) => ({ label: `Room ${roomId}`, roomId }))];

    const dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    dashboard.addWidgets(
      new TextWidget({
        width: 24,
        height: 2,
        markdown:
          '# Waiting room\nWaiting, active and capacity per room and for the whole service (rooms created later appear in the CloudWatch metrics ' +
          `namespace ${METRICS_NAMESPACE}, dimension RoomId), then the health of the pipeline. Every alarm e-mails the admin topic.`,
      }),
    );
    // An alarm status widget shows at most 100 alarms.
    for (let i = 0; i < this.alarms.length; i += 100) {
      dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', width: 24, height: 6, alarms: this.alarms.slice(i, i + 100) }));
    }
    dashboard.addWidgets(...scopes.map((s) => occupancy(`${s.label}: waiting, active, capacity`, s.roomId)));
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Admissions per minute',
        width: 12,
        left: scopes.map((s) => gauge(METRIC.admissionsPerMinute, s.label, s.roomId)),
      }),
      new GraphWidget({
        title: 'Evictions (and leaves) per minute',
        width: 12,
        left: scopes.map((s) => gauge(METRIC.evictionsPerMinute, s.label, s.roomId)),
      }),
    );
    const failureQueues = { ...props.failureQueues, StatsStreamFailures: this.statsFailureQueue };
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Failure queues (messages visible)',
        width: 12,
        left: Object.entries(failureQueues).map(([name, q]) =>
          q.metricApproximateNumberOfMessagesVisible({ period: MINUTE, statistic: 'Maximum', label: name }),
        ),
      }),
      new GraphWidget({
        title: 'Token stream iterator age (ms)',
        width: 12,
        left: Object.entries(this.streamConsumers(props)).map(([name, fn]) =>
          fn.metric('IteratorAge', { period: MINUTE, statistic: 'Maximum', label: name }),
        ),
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Lambda errors',
        width: 12,
        left: Object.entries(this.watchedFunctions(props)).map(([name, fn]) => fn.metricErrors({ period: MINUTE, statistic: 'Sum', label: name })),
      }),
      new GraphWidget({
        title: 'Metrics loop executions and API 5XX',
        width: 12,
        left: [
          this.stateMachine.metricSucceeded({ period: MINUTE, statistic: 'Sum', label: 'Executions succeeded' }),
          this.stateMachine.metricFailed({ period: MINUTE, statistic: 'Sum', label: 'Executions failed' }),
          props.apiServerErrors,
        ],
      }),
    );
    return dashboard;
  }
}
