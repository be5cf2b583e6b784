/** Reads the SNS notifications delivered to the local notices queue (the stand-in for e-mail). */
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Notice } from './pages.js';

export class NoticePoller {
  private readonly abort = new AbortController();
  private loop?: Promise<void>;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly onNotice: (notice: Notice) => void,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        const { Messages } = await this.sqs.send(new ReceiveMessageCommand({ QueueUrl: this.queueUrl, WaitTimeSeconds: 2, MaxNumberOfMessages: 10 }), {
          abortSignal: this.abort.signal,
        });
        for (const message of Messages ?? []) {
          this.onNotice(parseNotice(message.Body ?? ''));
          await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: message.ReceiptHandle }));
        }
      } catch {
        if (this.abort.signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}

/** A CloudWatch alarm's message (JSON) as its e-mail says it: the description, then the new state and why; anything else as it is. */
function readable(message: string): string {
  try {
    const alarm = JSON.parse(message) as { AlarmName?: unknown; AlarmDescription?: string; NewStateValue?: string; NewStateReason?: string };
    if (typeof alarm.AlarmName === 'string') return `${alarm.AlarmDescription ?? ''}\n\n${alarm.NewStateValue ?? ''}: ${alarm.NewStateReason ?? ''}`;
  } catch {
    // not JSON
  }
  return message;
}

/** An SNS envelope (as delivered to SQS) or a raw message. */
export function parseNotice(body: string): Notice {
  try {
    const envelope = JSON.parse(body) as { Subject?: string; Message?: string; Timestamp?: string };
    if (typeof envelope.Message === 'string') {
      return { at: envelope.Timestamp ?? new Date().toISOString(), subject: envelope.Subject ?? '(no subject)', message: readable(envelope.Message) };
    }
  } catch {
    // not JSON: a raw message
  }
  return { at: new Date().toISOString(), subject: '(no subject)', message: body };
}
