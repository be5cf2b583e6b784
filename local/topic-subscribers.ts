/**
 * Plays SNS → Lambda subscriptions of the template: SNS invokes a subscribed function
 * asynchronously, and Lambda's async invocation retries a failure (MaximumRetryAttempts of its
 * EventInvokeConfig, default 2) and then sends the event to the OnFailure destination (an SQS
 * queue here) as a destination record. Locally each subscription is a queue subscribed to the
 * topic, read by a poller that invokes the function the same way; retries wait `retryDelayMs`
 * instead of Lambda's one and two minutes.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SNSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { resolve, type LocalResource } from './intrinsics.js';
import type { LocalFunction } from './lambda-host.js';
import { resourcesOfType, type CfnTemplate } from './template.js';

/** A function subscribed to a topic, with its async-invocation settings. */
export interface TopicSubscriber {
  topicLogicalId: string;
  functionLogicalId: string;
  /** Retries after the first failed attempt. @default 2 (Lambda's) */
  retryAttempts: number;
  /** The OnFailure destination, an SQS queue's ARN. */
  onFailureArn?: string;
}

const logicalIdOf = (value: unknown): string | undefined => {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  return v?.Ref ?? v?.['Fn::GetAtt']?.[0];
};

export function topicSubscribersOf(template: CfnTemplate, resources: ReadonlyMap<string, LocalResource>): TopicSubscriber[] {
  const configs = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').map(([, r]) => r.Properties ?? {});
  return resourcesOfType(template, 'AWS::SNS::Subscription')
    .filter(([, r]) => r.Properties?.Protocol === 'lambda')
    .map(([, r]) => {
      const functionLogicalId = logicalIdOf(r.Properties!.Endpoint)!;
      const config = configs.find((c) => logicalIdOf(c.FunctionName) === functionLogicalId);
      const destination = (config?.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination;
      return {
        topicLogicalId: logicalIdOf(r.Properties!.TopicArn)!,
        functionLogicalId,
        retryAttempts: Number(config?.MaximumRetryAttempts ?? 2),
        ...(destination ? { onFailureArn: String(resolve(destination, resources)) } : {}),
      };
    });
}

export interface TopicSubscriberPollerOptions {
  subscriber: TopicSubscriber;
  fn: LocalFunction;
  topicArn: string;
  /** The queue subscribed to the topic for this function. */
  queueUrl: string;
  /** The OnFailure destination's queue URL. */
  onFailureQueueUrl?: string;
  sqs: SQSClient;
  retryDelayMs?: number;
  onError?: (message: string, error: unknown) => void;
}

/** The SNS envelope SNS delivers to an SQS subscriber (raw delivery off). */
interface Envelope {
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  Timestamp: string;
}

export function toSnsEvent(envelope: Envelope, subscriptionArn: string): SNSEvent {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: subscriptionArn,
        Sns: {
          Type: 'Notification',
          MessageId: envelope.MessageId,
          TopicArn: envelope.TopicArn,
          Subject: envelope.Subject ?? '',
          Message: envelope.Message,
          Timestamp: envelope.Timestamp,
          SignatureVersion: '1',
          Signature: 'local',
          SigningCertUrl: '',
          UnsubscribeUrl: '',
          MessageAttributes: {},
        },
      },
    ],
  };
}

export class TopicSubscriberPoller {
  private readonly abort = new AbortController();
  private loop?: Promise<void>;

  constructor(private readonly options: TopicSubscriberPollerOptions) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { sqs, queueUrl } = this.options;
    while (!this.abort.signal.aborted) {
      try {
        const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 2, MaxNumberOfMessages: 10, VisibilityTimeout: 300 }), { abortSignal: this.abort.signal });
        for (const message of Messages ?? []) {
          await this.deliver(JSON.parse(message.Body ?? '{}') as Envelope);
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
        }
      } catch (error) {
        if (this.abort.signal.aborted) return;
        this.options.onError?.(`notices for ${this.options.fn.name}`, error);
        await new Promise((done) => setTimeout(done, 500));
      }
    }
  }

  /** One asynchronous invocation: the first attempt, the retries, then the OnFailure destination. */
  private async deliver(envelope: Envelope): Promise<void> {
    const { fn, subscriber } = this.options;
    const event = toSnsEvent(envelope, `${this.options.topicArn}:${subscriber.functionLogicalId}`);
    const attempts = subscriber.retryAttempts + 1;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await fn.invoke(event);
        return;
      } catch (error) {
        lastError = error;
        if (attempt < attempts) await new Promise((done) => setTimeout(done, (this.options.retryDelayMs ?? 1_000) * attempt));
      }
    }
    this.options.onError?.(`${fn.name} failed ${attempts} times on a notice`, lastError);
    if (!this.options.onFailureQueueUrl) return;
    const record = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: { requestId: randomUUID(), functionArn: `${fn.arn}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: attempts },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: lastError instanceof Error ? lastError.name : 'Error', errorMessage: lastError instanceof Error ? lastError.message : String(lastError) },
    };
    await this.options.sqs.send(new SendMessageCommand({ QueueUrl: this.options.onFailureQueueUrl, MessageBody: JSON.stringify(record) }));
  }
}

/** The queue URL of a queue ARN among the local resources. */
export function queueUrlOfArn(resources: ReadonlyMap<string, LocalResource>, arn: string): string | undefined {
  for (const resource of resources.values()) if (resource.attributes.Arn === arn && resource.attributes.QueueUrl) return resource.attributes.QueueUrl;
  return undefined;
}
