import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CheckMessage, CheckQueue } from '../domain/index.js';

/** Check messages on the SQS delay queue. DelaySeconds must be a whole number from 0 to 900. */
export class SqsCheckQueue implements CheckQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async schedule(message: CheckMessage, delaySeconds: number): Promise<void> {
    const delay = Math.min(900, Math.max(0, Math.round(delaySeconds)));
    await this.client.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: delay }),
    );
  }
}
