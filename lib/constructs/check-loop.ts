/**
 * The check loop (DESIGN §2 step 3): token stream → enqueuer → SQS delay queue → checker.
 * Both consumers report partial batch failures; nothing that fails repeatedly is lost: the
 * stream's failures go to an on-failure queue, the check queue redrives to a DLQ. Its alarms
 * (alarms.ts): the DLQ and the stream failure queue hold a message, the enqueuer falls behind.
 *
 * Idle cost: the checker's event source mapping long-polls the queue (about 5 pollers, 20 s
 * waits: 3 ReceiveMessage calls a minute each), about 648,000 requests a month, $0.26 at $0.40
 * per million (inside SQS's free million a month). Reading the token stream costs nothing: Lambda's
 * GetRecords calls on DynamoDB streams are free.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CHECK_DELIVERY_SLACK_MS } from '../../lambdas/domain/index.js';
import type { AlarmTopic } from './alarm-topic.js';
import { failureQueueAlarm, iteratorAgeAlarm } from './alarms.js';
import type { FailureQueue } from './failure-queues.js';
import { WaitingRoomFunction } from './function.js';
import { grantAdmission } from './table-access.js';

export interface CheckLoopProps {
  readonly rooms: Table;
  readonly tokens: Table;
  readonly environment: Record<string, string>;
  /** Checker timeout; the queue's visibility timeout is six times this. */
  readonly checkerTimeout: Duration;
  /** Deliveries of one check message before it moves to the DLQ. */
  readonly maxReceiveCount: number;
  /** Attempts at one stream batch before it goes to the stream failure queue. */
  readonly streamRetryAttempts: number;
  /** Where its alarms notify. */
  readonly alarmTopic: AlarmTopic;
  /** The enqueuer's iterator age, in seconds, above which its alarm fires. */
  readonly iteratorAgeSeconds: number;
  /** X-Ray tracing of its functions. @default false */
  readonly tracing?: boolean;
}

export class CheckLoop extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  /** Where stream batches that failed every retry are described (Lambda on-failure destination). */
  readonly streamFailureQueue: Queue;
  /** Both, with what their messages stand for (failure-queues.ts). */
  readonly failureQueues: readonly FailureQueue[];
  readonly enqueuer: WaitingRoomFunction;
  readonly checker: WaitingRoomFunction;

  constructor(scope: Construct, id: string, props: CheckLoopProps) {
    super(scope, id);
    const secure = { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true };
    this.deadLetterQueue = new Queue(this, 'CheckDlq', { ...secure, retentionPeriod: Duration.days(14) });
    this.queue = new Queue(this, 'CheckQueue', {
      ...secure,
      visibilityTimeout: Duration.seconds(props.checkerTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(1),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
    this.streamFailureQueue = new Queue(this, 'StreamFailures', { ...secure, retentionPeriod: Duration.days(14) });
    for (const q of [this.deadLetterQueue, this.streamFailureQueue]) {
      Validations.of(q).acknowledge({
        id: 'AwsSolutions::AwsSolutions-SQS3',
        reason: 'This queue is itself the end of the line for failed messages; its depth raises an alarm.',
      });
    }

    const environment = { ...props.environment, CHECK_QUEUE_URL: this.queue.queueUrl };
    this.enqueuer = new WaitingRoomFunction(this, 'Enqueuer', {
      handler: 'enqueue-checks',
      description: 'Token stream → check queue: starts the check loop of each new token',
      environment,
      tracing: props.tracing,
    });
    this.enqueuer.addEventSource(
      new DynamoEventSource(props.tokens, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        bisectBatchOnError: true,
        retryAttempts: props.streamRetryAttempts,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.streamFailureQueue),
        filters: [FilterCriteria.filter({ eventName: FilterRule.isEqual('INSERT') })],
      }),
    );
    this.queue.grantSendMessages(this.enqueuer);

    this.checker = new WaitingRoomFunction(this, 'Checker', {
      handler: 'check-tokens',
      description: 'Check queue → evicts silent tokens, admits the next in line, keeps each loop going',
      environment,
      timeout: props.checkerTimeout,
      tracing: props.tracing,
    });
    // Batches of up to 10 gathered for up to a second: one receive, one delete and one invocation per
    // batch instead of per message. The domain schedules checks that second early
    // (CHECK_DELIVERY_SLACK_MS), so a silent seat is still freed right at its deadline.
    this.checker.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.millis(CHECK_DELIVERY_SLACK_MS),
        reportBatchItemFailures: true,
      }),
    );
    this.queue.grantSendMessages(this.checker);
    grantAdmission(this.checker, { rooms: props.rooms, tokens: props.tokens });

    const { alarmTopic } = props;
    this.failureQueues = [
      { name: 'CheckDlq', queue: this.deadLetterQueue, source: this.queue, lost: 'the check loops they carried stopped (those visitors are never evicted; TTL removes them after a day)' },
      { name: 'EnqueuerStreamFailures', queue: this.streamFailureQueue, lost: 'new tokens got no check loop' },
    ];
    const [dlq, streamFailures] = this.failureQueues;
    alarmTopic.alarm(this, 'CheckDlqNotEmpty', failureQueueAlarm(dlq!.queue, dlq!.name, dlq!.lost));
    alarmTopic.alarm(this, 'EnqueuerStreamFailuresNotEmpty', failureQueueAlarm(streamFailures!.queue, streamFailures!.name, streamFailures!.lost));
    alarmTopic.alarm(this, 'EnqueuerIteratorAge', iteratorAgeAlarm(this.enqueuer, 'Enqueuer', props.iteratorAgeSeconds));
  }
}
