/**
 * The queues where work that failed every retry is kept (DESIGN §5.7: nothing lost silently):
 * the check loop's dead-letter queue, and the on-failure queues of the two token-stream
 * consumers. Each says what its messages stand for (the alarm's description and `waiting-room
 * dlq list` say it too) and, for a dead-letter queue, the queue its messages came from (where
 * `waiting-room dlq redrive` moves them back). The stack publishes the list as its
 * `FailureQueues` output, JSON: [{ name, url, sourceUrl?, lost }].
 */
import { Stack } from 'aws-cdk-lib';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface FailureQueue {
  /** A short name operators use (`dlq redrive CheckDlq`). */
  readonly name: string;
  readonly queue: IQueue;
  /** For a dead-letter queue: the queue it takes messages from (a redrive moves them back there). */
  readonly source?: IQueue;
  /** What was lost while a message sits here. */
  readonly lost: string;
}

/** The `FailureQueues` output's value: the list as JSON, resolved at deploy time. */
export function failureQueuesJson(scope: Construct, queues: readonly FailureQueue[]): string {
  return Stack.of(scope).toJsonString(
    queues.map((q) => ({ name: q.name, url: q.queue.queueUrl, ...(q.source ? { sourceUrl: q.source.queueUrl } : {}), lost: q.lost })),
  );
}
