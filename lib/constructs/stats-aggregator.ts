/**
 * The stats aggregator (DESIGN §2.4): token stream → stats table, per-room waiting and active
 * counts and totals, counted exactly once (lambdas/adapters/dynamo-stats.ts). Batches that fail
 * every retry are described in its failure queue. Its alarms (alarms.ts): the failure queue holds
 * a message, the aggregator falls behind the stream.
 *
 * Idle cost: nothing. Lambda reads DynamoDB streams for free, and the event filters keep
 * heartbeats and check-loop writes from ever invoking it.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Token, TokenState } from '../../lambdas/domain/index.js';
import type { AlarmTopic } from './alarm-topic.js';
import { failureQueueAlarm, iteratorAgeAlarm } from './alarms.js';
import type { FailureQueue } from './failure-queues.js';
import { WaitingRoomFunction } from './function.js';
import { grantTable } from './table-access.js';

export interface StatsAggregatorProps {
  readonly tokens: Table;
  readonly stats: Table;
  /** The timings as environment variables (lambdas/shared/env.ts). */
  readonly timingsEnvironment: Record<string, string>;
  /** Attempts at a failing token-stream batch before it is set aside in the failure queue. */
  readonly streamRetryAttempts: number;
  /** Where its alarms notify. */
  readonly alarmTopic: AlarmTopic;
  /** Its iterator age, in seconds, above which its alarm fires. */
  readonly iteratorAgeSeconds: number;
  /** X-Ray tracing of its function. @default false */
  readonly tracing?: boolean;
}

/** The one attribute of a token item whose changes the stats aggregator counts. */
const STATE_ATTRIBUTE = 'state' satisfies keyof Token;
const WAITING: TokenState = 'WAITING';
const ADMITTED: TokenState = 'ADMITTED';

/** Records per stats batch, and how long the mapping gathers them (see the event source below). */
export const STATS_BATCH_SIZE = 1000;
export const STATS_BATCHING_WINDOW_SECONDS = 1;

export class StatsAggregator extends Construct {
  readonly function: WaitingRoomFunction;
  /** Where stats batches that failed every retry are described (Lambda on-failure destination). */
  readonly failureQueue: Queue;
  /** The failure queue, with what its messages stand for (failure-queues.ts). */
  readonly failureQueues: readonly FailureQueue[];

  constructor(scope: Construct, id: string, props: StatsAggregatorProps) {
    super(scope, id);
    this.failureQueue = new Queue(this, 'Failures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failureQueue).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason: 'This queue is itself the end of the line for failed stats batches; its depth raises an alarm.',
    });
    this.function = new WaitingRoomFunction(this, 'Function', {
      handler: 'stats-aggregator',
      description: 'Token stream → stats table: per-room waiting and active counts and totals',
      environment: { ...props.timingsEnvironment, STATS_TABLE: props.stats.tableName },
      tracing: props.tracing,
    });
    this.function.addEventSource(
      new DynamoEventSource(props.tokens, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        // One stats write per room per batch: at spike rate (tens of stream shards, thousands of joins a
        // second) batches of a second keep the room's stats item far below its partition's 1,000
        // writes a second, and the counts a second behind.
        batchSize: STATS_BATCH_SIZE,
        maxBatchingWindow: Duration.seconds(STATS_BATCHING_WINDOW_SECONDS),
        // Lambda names the shard (event.shardId) only when the mapping has a tumbling window;
        // the aggregator's exactly-once counting relies on it (lambdas/adapters/dynamo-stats.ts).
        tumblingWindow: Duration.seconds(60),
        parallelizationFactor: 1,
        bisectBatchOnError: true,
        retryAttempts: props.streamRetryAttempts,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.failureQueue),
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
    grantTable(this.function, props.stats, ['GetItem', 'UpdateItem']);

    const failures: FailureQueue = { name: 'StatsStreamFailures', queue: this.failureQueue, lost: 'their stats changes are not counted and the counts drift until the room is quiet' };
    this.failureQueues = [failures];
    props.alarmTopic.alarm(this, 'StatsStreamFailuresNotEmpty', failureQueueAlarm(failures.queue, failures.name, failures.lost));
    props.alarmTopic.alarm(this, 'IteratorAge', iteratorAgeAlarm(this.function, 'StatsAggregator', props.iteratorAgeSeconds));
  }
}
