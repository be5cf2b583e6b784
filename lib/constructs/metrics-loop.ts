/**
 * The metrics loop (DESIGN §2.5): an EventBridge schedule starts an Express state machine every
 * minute, which runs the metrics publisher up to 6 times, 10 s apart; the publisher reads the rooms
 * and stats tables and writes the WaitingRoom metrics (lambdas/shared/metric-names.ts, which the
 * alarms here read too, so an alarm always watches a metric that is actually published). Its
 * alarms: the line too long, rooms full, and its own failed executions.
 *
 * ## The definition (JSONPath: the local runtime runs it with aws-local-stepfunctions)
 *   Publish 1 → Every room idle? ─ yes → Every room idle: stop (Succeed)
 *                                └ no → Wait 10 s after Publish 1 → Publish 2 → … → Publish 6 (end)
 * The publisher's summary says `idle` when every room was quiet (lambdas/domain/reporting/metrics.ts): the
 * rest of the minute would publish nothing, so the execution ends after one run. Each Publish is a
 * Task whose Resource is the publisher's ARN itself (so the local runtime binds it by ARN), retried
 * twice with backoff on Lambda and task errors; when the retries are spent, a Catch goes to
 * `Notify admins` (SNS publish to the alarm topic) and then `Metrics loop failed` (Fail).
 *
 * ## Express, not Standard, and what a minute costs
 * List prices (us-east-1); a 30-day month holds 60 × 24 × 30 = 43,200 scheduled executions.
 * - Standard would bill state transitions, $0.025 per 1,000 (4,000 free a month): 11 a busy run,
 *   475,200 a month, $11.78; 3 an idle run, 129,600, $3.14.
 * - Express bills requests, $1.00 per million: 43,200 × $0.000001 = $0.04; and duration,
 *   $0.00001667 per GB-second in 64 MB and 100 ms steps (this definition needs the minimum).
 *   Idle, a run is one publish of about 0.3 s: 43,200 × 0.3 s × 0.0625 GB = 810 GB-s, $0.01.
 *   Busy, about 56 s (5 waits of 10 s and 6 publishes): 151,200 GB-s, $2.52 a month.
 * - Its logs (level ALL without execution data, as cdk-nag's AwsSolutions-SF1 asks): about 11
 *   events of 0.35 KB an idle run, 0.17 GB a month × $0.50 per GB ingested = $0.08 (busy: $0.36).
 * - The publisher, 512 MB on arm64: idle, 43,200 invocations ($0.20 per million: $0.01) of about
 *   0.1 s (2,160 GB-s × $0.0000133334: $0.03), and 1.5 read units each on DynamoDB ($0.01); it
 *   logs nothing then. Busy, six times as many, plus PutMetricData ($0.01 per 1,000 requests) and
 *   $0.30 a month per metric (14 for one room), billed by the hour only while it has data.
 * Express fits: a run is far below its 5-minute limit, and its at-least-once semantics are harmless
 * because the publisher is idempotent (gauges are snapshots, rates are claimed with a conditional
 * write). What Express lacks, an execution history in the console, its log group and the
 * failed-executions alarm make up for. X-Ray tracing follows the `tracing` prop.
 */
import { Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { ComparisonOperator, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  JsonPath,
  LogLevel,
  QueryLanguage,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
  type INextable,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke, SnsPublish } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, METRICS_INTERVAL_SECONDS, METRICS_NAMESPACE, METRIC_STATISTIC, roomDimensions, type MetricName } from '../../lambdas/shared/metric-names.js';
import type { AlarmTopic } from './alarm-topic.js';
import type { WaitingRoomAlarms } from './alarms.js';
import { WaitingRoomFunction } from './function.js';
import { grantLineIndex, grantTable } from './table-access.js';

export interface MetricsLoopProps {
  readonly rooms: Table;
  readonly stats: Table;
  /** The tokens: an event's draw moves the pre-queued visitors' tickets (lambdas/domain/events/event-draw.ts). */
  readonly tokens: Table;
  /** The check queue: once a draw opened the room, the admissions that fill its seats re-arm check loops. */
  readonly checkQueue: IQueue;
  /** The timings as environment variables (lambdas/shared/env.ts): wait estimates need them. */
  readonly timingsEnvironment: Record<string, string>;
  /** Where its alarms and its failures notify. */
  readonly alarmTopic: AlarmTopic;
  readonly alarms: Required<WaitingRoomAlarms>;
  /** Rooms created at deploy time: with `alarms.perRoom`, each gets its own full alarm. */
  readonly roomIds: readonly string[];
  /** X-Ray tracing of the state machine and the publisher. @default false */
  readonly tracing?: boolean;
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

/** Runs of the publisher per busy execution: one execution a minute, a run every METRICS_INTERVAL_SECONDS. */
export const PUBLISH_RUNS = 60 / METRICS_INTERVAL_SECONDS;

/** Names of the states, as the definition and the local runtime see them. */
export const METRICS_LOOP_STATES = {
  publish: (run: number) => `Publish ${run}`,
  wait: (afterRun: number) => `Wait ${METRICS_INTERVAL_SECONDS} s after Publish ${afterRun}`,
  idle: 'Every room idle?',
  stop: 'Every room idle: stop',
  notify: 'Notify admins',
  fail: 'Metrics loop failed',
} as const;

/** Where the first run's summary goes in the state: the Choice reads its `idle`. */
const FIRST_RUN_PATH = '$.firstRun';

const MINUTE = Duration.minutes(1);

/**
 * A metric the publisher writes, per minute with its statistic (METRIC_STATISTIC): a room's
 * (dimension RoomId), or the whole service's without `roomId` (no dimension).
 */
export function waitingRoomMetric(name: MetricName, roomId?: string, label?: string): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    ...(roomId === undefined ? {} : { dimensionsMap: roomDimensions(roomId) }),
    statistic: METRIC_STATISTIC[name],
    period: MINUTE,
    ...(label === undefined ? {} : { label }),
  });
}

export class MetricsLoop extends Construct {
  /** Stats table → CloudWatch metrics, run by the state machine. */
  readonly publisher: WaitingRoomFunction;
  /** Express state machine running the publisher up to 6 times, 10 s apart. */
  readonly stateMachine: StateMachine;
  readonly logs: LogGroup;
  /** EventBridge rule starting the state machine every minute. */
  readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: MetricsLoopProps) {
    super(scope, id);
    this.publisher = new WaitingRoomFunction(this, 'Publisher', {
      handler: 'metrics-publisher',
      description: 'Stats table → CloudWatch metrics, run up to 6 times a minute by the metrics state machine',
      environment: {
        ...props.timingsEnvironment,
        ROOMS_TABLE: props.rooms.tableName,
        STATS_TABLE: props.stats.tableName,
        TOKENS_TABLE: props.tokens.tableName,
        CHECK_QUEUE_URL: props.checkQueue.queueUrl,
        METRICS_NAMESPACE,
      },
      tracing: props.tracing,
      // An event's draw moves up to DRAW_BUDGET_MS worth of tickets in one run (within the task's 30 s).
      timeout: Duration.seconds(25),
    });
    // DynamoRoomsSource scans the rooms; DynamoStatsStore batch-reads stats and claims rates with UpdateItem.
    // Scan: the rooms; UpdateItem: each room's wait-range calibration (lambdas/domain/line/estimate-calibration.ts).
    // Events (lambdas/domain/events/event-draw.ts): UpdateItem on rooms for the boundary, the lease, the draw and the end;
    // the line index read and the waiting tokens' tickets moved; the draw kept in the stats table (PutItem).
    // Once a draw opened the room, its free seats filled (lambdas/domain/admission/admission.ts fill): the room read
    // again (GetItem) after a refused batch, the live candidates read (BatchGetItem), the batch admitted
    // in a transaction of UpdateItems on both tables.
    grantTable(this.publisher, props.rooms, ['Scan', 'GetItem', 'UpdateItem']);
    grantTable(this.publisher, props.stats, ['BatchGetItem', 'UpdateItem', 'PutItem']);
    grantTable(this.publisher, props.tokens, ['BatchGetItem', 'UpdateItem']);
    grantLineIndex(this.publisher, props.tokens);
    props.checkQueue.grantSendMessages(this.publisher);
    this.publisher.addToRolePolicy(
      new PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } },
      }),
    );
    Validations.of(this.publisher).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: `cloudwatch:PutMetricData has no resource-level permission, so it is limited with the cloudwatch:namespace condition to ${METRICS_NAMESPACE}; X-Ray tracing actions (with tracing on) have none either.`,
    });

    this.logs = new LogGroup(this, 'Logs', {
      // The /aws/vendedlogs/ prefix keeps Step Functions from growing the account's log resource policy.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 180, separator: '-' })}`,
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = this.buildStateMachine(props);
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
    this.addAlarms(props);
  }

  private buildStateMachine(props: MetricsLoopProps): StateMachine {
    const notify = SnsPublish.jsonPath(this, 'NotifyAdmins', {
      stateName: METRICS_LOOP_STATES.notify,
      topic: props.alarmTopic,
      subject: 'Waiting room: metrics loop failed',
      message: TaskInput.fromText(
        JsonPath.format(
          'The waiting-room metrics loop failed after its retries, so CloudWatch metrics (and the alarms on them) stop being updated until a later run succeeds. ' +
            `Check the logs of the metrics publisher function ${this.publisher.functionName}, ` +
            `the state machine log group ${this.logs.logGroupName}, and that the rooms and stats tables can be read. Error: {}`,
          JsonPath.jsonToString(JsonPath.objectAt('$.error')),
        ),
      ),
      resultPath: JsonPath.DISCARD,
    });
    notify.addRetry({ errors: ['States.ALL'], maxAttempts: 2, interval: Duration.seconds(1), backoffRate: 2 });
    notify.next(
      Fail.jsonPath(this, 'MetricsLoopFailed', {
        stateName: METRICS_LOOP_STATES.fail,
        error: 'MetricsPublishFailed',
        cause: 'The metrics publisher kept failing after its retries; the admins were notified.',
      }),
    );

    const publishes = Array.from({ length: PUBLISH_RUNS }, (_, i) => {
      const run = i + 1;
      const publish = LambdaInvoke.jsonPath(this, `Publish${run}`, {
        stateName: METRICS_LOOP_STATES.publish(run),
        lambdaFunction: this.publisher,
        // Resource = the function's ARN itself (no lambda:invoke wrapper): the local runtime binds it by ARN.
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        taskTimeout: Timeout.duration(Duration.seconds(30)),
        // The first run's summary decides whether the minute goes on; the others' are not needed.
        resultPath: run === 1 ? FIRST_RUN_PATH : JsonPath.DISCARD,
      });
      publish.addRetry({ errors: [...PUBLISH_RETRY_ERRORS], maxAttempts: 2, interval: Duration.seconds(1), backoffRate: 2 });
      publish.addCatch(notify, { errors: ['States.ALL'], resultPath: '$.error' });
      return publish;
    });
    const waitAfter = (run: number) =>
      Wait.jsonPath(this, `WaitAfterPublish${run}`, {
        stateName: METRICS_LOOP_STATES.wait(run),
        time: WaitTime.duration(Duration.seconds(METRICS_INTERVAL_SECONDS)),
      });
    const idle = `${FIRST_RUN_PATH}.idle`;
    const firstWait = waitAfter(1);
    publishes[0]!.next(
      Choice.jsonPath(this, 'EveryRoomIdle', { stateName: METRICS_LOOP_STATES.idle })
        // A summary without the field (a publisher older than this definition) goes on as before.
        .when(Condition.and(Condition.isPresent(idle), Condition.booleanEquals(idle, true)), Succeed.jsonPath(this, 'EveryRoomIdleStop', { stateName: METRICS_LOOP_STATES.stop }))
        .otherwise(firstWait),
    );
    let previous: INextable = firstWait;
    for (let run = 2; run <= PUBLISH_RUNS; run++) {
      const publish = publishes[run - 1]!;
      previous.next(publish);
      if (run < PUBLISH_RUNS) {
        const wait = waitAfter(run);
        publish.next(wait);
        previous = wait;
      }
    }

    const stateMachine = new StateMachine(this, 'StateMachine', {
      comment: `Runs the metrics publisher ${PUBLISH_RUNS} times, ${METRICS_INTERVAL_SECONDS} s apart, or once when every room is idle (DESIGN §2.5)`,
      stateMachineType: StateMachineType.EXPRESS,
      queryLanguage: QueryLanguage.JSON_PATH,
      definitionBody: DefinitionBody.fromChainable(publishes[0]!),
      logs: { destination: this.logs, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: props.tracing ?? false,
    });
    Validations.of(stateMachine).acknowledge(
      {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.publisher.node.defaultChild as CfnFunction)}.Arn>:*]`,
        reason: 'Step Functions may invoke any version of the one metrics publisher function it runs.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason: 'Log delivery (logs:*LogDelivery*, DescribeLogGroups) and X-Ray tracing actions (with tracing on) support no resource-level permission.',
      },
      ...(props.tracing
        ? []
        : [
            {
              id: 'AwsSolutions::AwsSolutions-SF2',
              reason:
                'X-Ray tracing is opt-in (the tracing prop): it would record a trace a minute, 43,200 a month, for a loop whose failures already alarm and e-mail; failed runs are in its log group.',
            },
          ]),
    );
    props.alarmTopic.grantPublish(stateMachine);
    return stateMachine;
  }

  private addAlarms(props: MetricsLoopProps): void {
    const { alarmTopic, alarms: t } = props;
    const metric = (name: MetricName, roomId?: string) => waitingRoomMetric(name, roomId);

    alarmTopic.alarm(this, 'ExecutionsFailed', {
      alarmDescription:
        'An execution of the metrics state machine failed or timed out (the publisher kept failing after its retries), so the metrics and the alarms on them are stale. ' +
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

    // The line and full rooms. Metrics are published only while a room has activity, so missing
    // data means idle: not breaching.
    alarmTopic.alarm(this, 'WaitingUsersHigh', {
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
      alarmTopic.alarm(this, id, {
        alarmDescription:
          `${what} has been at 100 % utilization (every seat taken) for ${t.fullRoomMinutes} minutes, so visitors wait. ` +
          `If the origin can take more, raise the capacity (PUT /admin/rooms/{roomId}); the ${METRIC.waitingUsers} metric shows the line.`,
        metric: metric(METRIC.utilization, roomId),
        threshold: 100,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: t.fullRoomMinutes,
        datapointsToAlarm: t.fullRoomMinutes,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    if (t.perRoom) for (const roomId of props.roomIds) fullRoom(`Room-${roomId}-Full`, `Room ${roomId}`, roomId);
    fullRoom('AllRoomsFull', 'The whole service (all rooms together)');
  }
}
