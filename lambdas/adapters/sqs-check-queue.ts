/**
 * Check messages on the SQS delay queue (DelaySeconds: a whole number from 0 to 900), sent with
 * SendMessageBatch: the sends that a function makes within a few milliseconds of each other (a
 * batch of stream records or check messages handled together) leave in requests of up to ten, and
 * each caller learns whether its own entry was accepted.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CheckMessage, CheckQueue, FillMessage } from '../domain/index.js';

/** SendMessageBatch takes ten entries. */
const MAX_BATCH = 10;
/** How long a send waits for others to share its request. */
export const DEFAULT_LINGER_MS = 5;

interface Pending {
  message: CheckMessage | FillMessage;
  delaySeconds: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class SqsCheckQueue implements CheckQueue {
  private pending: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly lingerMs: number = DEFAULT_LINGER_MS,
  ) {}

  schedule(message: CheckMessage, delaySeconds: number): Promise<void> {
    return this.enqueue(message, delaySeconds);
  }

  handOver(roomId: string): Promise<void> {
    const message: FillMessage = { roomId, fill: true };
    return this.enqueue(message, 0);
  }

  private enqueue(message: CheckMessage | FillMessage, delaySeconds: number): Promise<void> {
    const delay = Math.min(900, Math.max(0, Math.round(delaySeconds)));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ message, delaySeconds: delay, resolve, reject });
      if (this.pending.length >= MAX_BATCH) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) void this.send(this.pending.splice(0, MAX_BATCH));
  }

  private async send(entries: Pending[]): Promise<void> {
    try {
      const { Failed } = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: entries.map((e, i) => ({ Id: String(i), MessageBody: JSON.stringify(e.message), DelaySeconds: e.delaySeconds })),
        }),
      );
      const failed = new Map((Failed ?? []).map((f) => [f.Id, f]));
      entries.forEach((entry, i) => {
        const failure = failed.get(String(i));
        const what = 'fill' in entry.message ? `a hand-over of room ${entry.message.roomId}` : `a check of ${entry.message.tokenId}`;
        if (failure) entry.reject(new Error(`SendMessageBatch refused ${what}: ${failure.Code} ${failure.Message ?? ''}`.trim()));
        else entry.resolve();
      });
    } catch (error) {
      for (const entry of entries) entry.reject(error as Error);
    }
  }
}
