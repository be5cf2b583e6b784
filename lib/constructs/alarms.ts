/**
 * Alarm settings of the waiting room (thresholds with their defaults, and their checks), and the
 * alarm shapes several constructs share: a failure queue that holds a message, a token-stream
 * consumer that falls behind, API 5XX responses. Each construct creates the alarms on what it owns, through its
 * AlarmTopic (alarm-topic.ts).
 *
 * ## What the alarms cost
 * A standard-resolution alarm bills $0.10 a month per metric it reads (a math expression over N
 * metrics bills N), whether or not the metric has data. With the default props the waiting room
 * has 9 alarms reading 10 metrics, $1.00 a month (counted by test/infra/monitoring.test.ts):
 *
 * | alarm | metrics | construct |
 * |---|---|---|
 * | WaitingUsersHigh | 1 | MetricsLoop |
 * | AllRoomsFull | 1 | MetricsLoop |
 * | MetricsLoopExecutionsFailed (failed + timed out) | 2 | MetricsLoop |
 * | StatsStreamFailuresNotEmpty | 1 | StatsAggregator |
 * | StatsAggregatorIteratorAge | 1 | StatsAggregator |
 * | CheckDlqNotEmpty | 1 | CheckLoop |
 * | EnqueuerStreamFailuresNotEmpty | 1 | CheckLoop |
 * | EnqueuerIteratorAge | 1 | CheckLoop |
 * | ApiServerErrors | 1 | WaitingRoom (the API's 5XX metric) |
 *
 * `perRoom: true` adds a full alarm per room listed in the props (1 metric each). There is no
 * errors-and-throttles alarm per function (12 functions × 2 metrics, $2.40 a month): every failure
 * that matters already raises one of the alarms above. An API function's error is a 5XX
 * (ApiServerErrors); a failing stream consumer retries its batch, so its iterator age grows, and
 * sets the batch aside in its failure queue; a failing checker's messages end in the check DLQ;
 * a failing publisher fails its execution (MetricsLoopExecutionsFailed, with an e-mail of its own);
 * the rotate function is only run by hand (its caller sees the error). Throttles end the same ways.
 * Each function's Errors and Throttles metrics stay in CloudWatch for free, and on the dashboard.
 *
 * There is no "metrics stopped" alarm either: metrics are published only while a room has
 * activity (lambdas/domain/reporting/metrics.ts), so missing data means "idle" as often as "broken". The
 * metrics loop's failed-executions alarm says "broken". Alarms on the waiting-room metrics treat
 * missing data as not breaching.
 */
import { Duration } from 'aws-cdk-lib';
import { ComparisonOperator, TreatMissingData, type AlarmProps, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';

/** Alarm thresholds of the waiting room. Every number must be positive. */
export interface WaitingRoomAlarms {
  /** Visitors waiting across all rooms above which an alarm is raised. @default 1000 */
  readonly waitingUsersThreshold?: number;
  /** Consecutive minutes above waitingUsersThreshold before the alarm fires (whole number, 1-1440). @default 5 */
  readonly waitingUsersMinutes?: number;
  /** Consecutive minutes a room (or the whole service) stays at 100 % utilization before its alarm fires (whole number, 1-1440). @default 15 */
  readonly fullRoomMinutes?: number;
  /** Age in seconds of the oldest token-stream record a consumer has not processed, above which its alarm fires. @default 60 */
  readonly iteratorAgeSeconds?: number;
  /** API 5XX responses per minute above which an alarm fires. @default 5 */
  readonly apiServerErrorsPerMinute?: number;
  /**
   * Also a full alarm for each room listed in `rooms` ($0.10 a month each). Without it the
   * service-wide AllRoomsFull alarm watches them together, which for one room is the same alarm.
   * @default false
   */
  readonly perRoom?: boolean;
}

export const DEFAULT_ALARMS: Readonly<Required<WaitingRoomAlarms>> = Object.freeze({
  waitingUsersThreshold: 1000,
  waitingUsersMinutes: 5,
  fullRoomMinutes: 15,
  iteratorAgeSeconds: 60,
  apiServerErrorsPerMinute: 5,
  perRoom: false,
});

/** Settings that existed once, and why they went: a deployment that still passes one is told. */
const REMOVED_SETTINGS: Readonly<Record<string, string>> = {
  metricsMissingMinutes:
    'the "metrics stopped" alarm is gone (metrics are published only while a room has activity); MetricsLoopExecutionsFailed says when the metrics loop fails',
};

/** An alarm with a period under an hour may look back at most one day (PutMetricAlarm: period × evaluation periods ≤ 86,400 s). */
const MAX_ALARM_MINUTES = 1440;

/** The problems with a set of alarm settings; empty when they are usable. */
export function alarmProblems(alarms: WaitingRoomAlarms | undefined): string[] {
  if (alarms !== undefined && (typeof alarms !== 'object' || alarms === null || Array.isArray(alarms))) {
    return [`alarms must be an object of thresholds such as { "waitingUsersThreshold": 500 } (got ${JSON.stringify(alarms)})`];
  }
  const problems: string[] = [];
  const given = alarms ?? {};
  for (const key of Object.keys(given)) {
    if (key in REMOVED_SETTINGS) problems.push(`alarms.${key} was removed: ${REMOVED_SETTINGS[key]}`);
    else if (!(key in DEFAULT_ALARMS)) problems.push(`alarms.${key} is not a known alarm setting (known: ${Object.keys(DEFAULT_ALARMS).join(', ')})`);
  }
  for (const key of Object.keys(DEFAULT_ALARMS) as (keyof WaitingRoomAlarms)[]) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof DEFAULT_ALARMS[key] === 'boolean') {
      if (typeof value !== 'boolean') problems.push(`alarms.${key} must be true or false (got ${JSON.stringify(value)})`);
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      problems.push(`alarms.${key} must be a positive number (got ${JSON.stringify(value)})`);
    } else if (key.endsWith('Minutes') && (!Number.isInteger(value) || value > MAX_ALARM_MINUTES)) {
      problems.push(`alarms.${key} must be a whole number of minutes from 1 to ${MAX_ALARM_MINUTES} (got ${value})`);
    }
  }
  return problems;
}

const MINUTE = Duration.minutes(1);

/** A failure queue that holds a message (DESIGN §5.7: nothing lost silently). `lost` says what its messages stand for. */
export function failureQueueAlarm(queue: IQueue, name: string, lost: string): AlarmProps {
  return {
    alarmDescription:
      `Messages are waiting in the failure queue ${name} (${queue.queueName}): they could not be processed after every retry, ` +
      `so ${lost}. See them with \`waiting-room dlq list --peek 5\`, fix the cause in the logs of the consumer, then \`dlq redrive ${name}\` (a dead-letter queue) or \`dlq purge ${name} --yes\`.`,
    metric: queue.metricApproximateNumberOfMessagesVisible({ period: MINUTE, statistic: 'Maximum' }),
    threshold: 0,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    // SQS stops reporting a queue after 6 idle hours: keep the state, so a queue still holding
    // messages stays in ALARM rather than drifting back to OK.
    treatMissingData: TreatMissingData.IGNORE,
  };
}

/** A token-stream consumer more than `seconds` behind the stream for 3 minutes. */
export function iteratorAgeAlarm(fn: IFunction, name: string, seconds: number): AlarmProps {
  return {
    alarmDescription:
      `The ${name} function (${fn.functionName}) is more than ${seconds} s behind the token stream for 3 minutes: ` +
      'it fails and retries a batch, or cannot keep up. Check its errors and logs; records older than 24 h are lost from the stream.',
    metric: fn.metric('IteratorAge', { period: MINUTE, statistic: 'Maximum' }),
    threshold: seconds * 1000,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    // No records to read, no age.
    treatMissingData: TreatMissingData.NOT_BREACHING,
  };
}

/**
 * More than `perMinute` API 5XX responses in a minute. `serverErrors` is the API's 5XX count per
 * minute (Sum), whatever kind of API serves it (REST: `restApi.metricServerError()`).
 */
export function apiServerErrorsAlarm(serverErrors: IMetric, perMinute: number): AlarmProps {
  return {
    alarmDescription:
      `The API answered more than ${perMinute} 5XX responses in a minute: visitors see errors (a function failed, timed out or was throttled). ` +
      "Check the API functions' logs and their Errors and Throttles metrics.",
    metric: serverErrors,
    threshold: perMinute,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    // No request, no error.
    treatMissingData: TreatMissingData.NOT_BREACHING,
  };
}
