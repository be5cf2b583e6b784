/**
 * The waiting room's CloudWatch dashboard (opt-in: WaitingRoomProps.dashboard). A dashboard costs
 * $3 a month beyond the account's first three, more than everything else the idle waiting room
 * costs together, and the metrics it shows are in CloudWatch anyway. It shows the alarm states,
 * waiting, active and capacity per room and for the service, the admission and eviction rates,
 * and the health of the pipeline: failure queues, stream iterator ages, Lambda errors, metrics
 * loop executions and API 5XX. Room graphs have data only while the room has activity.
 */
import { Duration } from 'aws-cdk-lib';
import { AlarmStatusWidget, Dashboard, GraphWidget, TextWidget, type IAlarm, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, type MetricName } from '../../lambdas/shared/metric-names.js';
import { waitingRoomMetric } from './metrics-loop.js';

export interface WaitingRoomDashboardProps {
  /** The alarms whose states it shows (create the dashboard after them). */
  readonly alarms: readonly IAlarm[];
  /** Rooms created at deploy time: each gets its own graphs. */
  readonly roomIds: readonly string[];
  /** Queues where failed messages end, by name. */
  readonly failureQueues: Readonly<Record<string, IQueue>>;
  /** Token-stream consumers, by name. */
  readonly streamConsumers: Readonly<Record<string, IFunction>>;
  /** Every function of the waiting room, by name: their errors. */
  readonly functions: Readonly<Record<string, IFunction>>;
  readonly metricsLoop: IStateMachine;
  readonly apiServerErrors: IMetric;
}

const MINUTE = Duration.minutes(1);

export class WaitingRoomDashboard extends Dashboard {
  constructor(scope: Construct, id: string, props: WaitingRoomDashboardProps) {
    super(scope, id, { defaultInterval: Duration.hours(3) });
    const gauge = (name: MetricName, label: string, roomId?: string): IMetric => waitingRoomMetric(name, roomId, label);
    const occupancy = (title: string, roomId?: string) =>
      new GraphWidget({
        title,
        width: 12,
        left: [gauge(METRIC.waitingUsers, 'Waiting', roomId), gauge(METRIC.activeUsers, 'Active', roomId), gauge(METRIC.capacity, 'Capacity', roomId)],
        right: [gauge(METRIC.estimatedWaitSeconds, 'Estimated wait (s)', roomId)],
      });
    const scopes: { label: string; roomId?: string }[] = [{ label: 'All rooms' }, ...props.roomIds.map((roomId) => ({ label: `Room ${roomId}`, roomId }))];
    const sum = { period: MINUTE, statistic: 'Sum' };

    this.addWidgets(
      new TextWidget({
        width: 24,
        height: 2,
        markdown:
          '# Waiting room\nWaiting, active and capacity per room and for the whole service (rooms created later appear in the CloudWatch metrics ' +
          `namespace ${METRICS_NAMESPACE}, dimension RoomId; a room publishes only while it has activity), then the health of the pipeline. Every alarm e-mails the admin topic.`,
      }),
    );
    // An alarm status widget shows at most 100 alarms.
    for (let i = 0; i < props.alarms.length; i += 100) {
      this.addWidgets(new AlarmStatusWidget({ title: 'Alarms', width: 24, height: 6, alarms: props.alarms.slice(i, i + 100) }));
    }
    this.addWidgets(...scopes.map((s) => occupancy(`${s.label}: waiting, active, capacity`, s.roomId)));
    this.addWidgets(
      new GraphWidget({ title: 'Admissions per minute', width: 12, left: scopes.map((s) => gauge(METRIC.admissionsPerMinute, s.label, s.roomId)) }),
      new GraphWidget({ title: 'Evictions per minute', width: 12, left: scopes.map((s) => gauge(METRIC.evictionsPerMinute, s.label, s.roomId)) }),
    );
    this.addWidgets(
      new GraphWidget({
        title: 'Failure queues (messages visible)',
        width: 12,
        left: Object.entries(props.failureQueues).map(([name, q]) => q.metricApproximateNumberOfMessagesVisible({ period: MINUTE, statistic: 'Maximum', label: name })),
      }),
      new GraphWidget({
        title: 'Token stream iterator age (ms)',
        width: 12,
        left: Object.entries(props.streamConsumers).map(([name, fn]) => fn.metric('IteratorAge', { period: MINUTE, statistic: 'Maximum', label: name })),
      }),
    );
    this.addWidgets(
      new GraphWidget({
        title: 'Lambda errors and throttles',
        width: 12,
        left: Object.entries(props.functions).map(([name, fn]) => fn.metricErrors({ ...sum, label: name })),
        right: Object.entries(props.functions).map(([name, fn]) => fn.metricThrottles({ ...sum, label: `${name} throttles` })),
      }),
      new GraphWidget({
        title: 'Metrics loop executions and API 5XX',
        width: 12,
        left: [
          props.metricsLoop.metricSucceeded({ ...sum, label: 'Executions succeeded' }),
          props.metricsLoop.metricFailed({ ...sum, label: 'Executions failed' }),
          props.apiServerErrors,
        ],
      }),
    );
  }
}
