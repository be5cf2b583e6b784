/**
 * Plays a Lambda event source mapping on an SQS queue: several pollers long-poll the queue, invoke
 * the function with batches of up to BatchSize messages, delete the messages that succeeded and
 * leave the failed ones (all of them when the function throws) to reappear after the visibility
 * timeout; the queue's redrive policy moves a message to the DLQ after maxReceiveCount deliveries.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { LOCAL_REGION } from './intrinsics.js';
import type { LocalFunction } from './lambda-host.js';
import type { EventSourceMappingDefinition } from './template.js';

export interface QueuePollerOptions {
  mapping: EventSourceMappingDefinition;
  fn: LocalFunction;
  queueUrl: string;
  queueArn: string;
  sqs: SQSClient;
  /** Concurrent pollers (Lambda starts with five). */
  concurrency?: number;
  onError?: (message: string, error: unknown) => void;
}

export function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: (message.Attributes ?? {}) as unknown as SQSRecord['attributes'],
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([k, v]) => [k, { stringValue: v.StringValue, dataType: v.DataType ?? 'String', stringListValues: [], binaryListValues: [] }]),
    ) as SQSRecord['messageAttributes'],
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: LOCAL_REGION,
  };
}

export class QueuePoller {
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(private readonly options: QueuePollerOptions) {}

  start(): void {
    const count = this.options.concurrency ?? 3;
    this.loops = Array.from({ length: count }, () => this.run());
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
  }

  private async run(): Promise<void> {
    const { mapping } = this.options;
    while (!this.abort.signal.aborted) {
      try {
        const batch = await this.receive(Math.min(10, mapping.batchSize), 2);
        if (batch.length === 0) continue;
        // As Lambda does with a batching window: gather more until the batch is full or the window ends.
        const windowEnds = Date.now() + (mapping.batchingWindowSeconds ?? 0) * 1000;
        while (batch.length < mapping.batchSize && Date.now() < windowEnds && !this.abort.signal.aborted) {
          const more = await this.receive(Math.min(10, mapping.batchSize - batch.length), 0);
          if (more.length > 0) batch.push(...more);
          else await new Promise((resolve) => setTimeout(resolve, Math.min(50, windowEnds - Date.now())));
        }
        await this.deliver(batch);
      } catch (error) {
        if (this.abort.signal.aborted) return;
        this.options.onError?.(`queue poller for ${this.options.fn.name}`, error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private async receive(max: number, waitSeconds: number): Promise<Message[]> {
    const { Messages } = await this.options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: this.abort.signal },
    );
    return Messages ?? [];
  }

  private async deliver(messages: Message[]): Promise<void> {
    const records = messages.map((m) => toSqsRecord(m, this.options.queueArn));
    let failed: Set<string>;
    try {
      const response = await this.options.fn.invoke<SQSBatchResponse | undefined>({ Records: records });
      const reported = this.options.mapping.reportBatchItemFailures ? (response?.batchItemFailures ?? []) : [];
      failed = new Set(reported.map((f) => f.itemIdentifier));
      // An identifier that names no message of the batch fails the whole batch (as Lambda does).
      if ([...failed].some((id) => !records.some((r) => r.messageId === id))) failed = new Set(records.map((r) => r.messageId));
    } catch (error) {
      this.options.onError?.(`${this.options.fn.name} failed on ${records.length} messages`, error);
      failed = new Set(records.map((r) => r.messageId));
    }
    const done = records.filter((r) => !failed.has(r.messageId));
    if (done.length > 0) {
      await this.options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
  }
}
