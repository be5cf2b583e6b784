/**
 * The template's topic subscriptions, played locally. E-mail is not emulated: notifications to
 * e-mail subscriptions land in one queue, printed and kept (the last 50, shown by the pages and
 * `runtime.notices()`). A function subscribed to a topic (an alarm webhook's forwarder) gets a
 * queue of its own, read and invoked as SNS and Lambda's async invocation would
 * (./topic-subscribers.ts).
 */
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { LocalResource } from './intrinsics.js';
import type { LocalFunction } from './lambda-host.js';
import { NoticePoller } from './notices.js';
import type { Notice } from './pages.js';
import type { Provisioned } from './provision.js';
import type { CfnTemplate } from './template.js';
import { queueUrlOfArn, topicSubscribersOf, TopicSubscriberPoller } from './topic-subscribers.js';

const KEPT_NOTICES = 50;

export interface SubscriptionsOptions {
  template: CfnTemplate;
  resources: ReadonlyMap<string, LocalResource>;
  emailSubscriptions: Provisioned['emailSubscriptions'];
  clients: { sqs: SQSClient; sns: SNSClient };
  functions: ReadonlyMap<string, LocalFunction>;
  log: (line: string) => void;
}

export interface Subscriptions {
  /** The notices the e-mail subscriptions would have mailed, oldest first. */
  notices(): Notice[];
  stop(): Promise<void>;
}

/** A queue subscribed to a topic (raw delivery off: the SNS envelope arrives). */
async function subscribedQueue(clients: SubscriptionsOptions['clients'], name: string, topicArns: readonly string[]): Promise<string> {
  const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  for (const topicArn of topicArns) await clients.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn! }));
  return QueueUrl!;
}

export async function startSubscriptions(options: SubscriptionsOptions): Promise<Subscriptions> {
  const { clients, resources, log } = options;
  const notices: Notice[] = [];
  const pollers: { stop(): Promise<void> }[] = [];
  if (options.emailSubscriptions.length > 0) {
    const topics = [...new Set(options.emailSubscriptions.map((e) => e.topicLogicalId))].map((id) => resources.get(id)!.ref);
    const queueUrl = await subscribedQueue(clients, 'LocalNotices', topics);
    const to = options.emailSubscriptions.map((e) => e.endpoint).join(', ');
    const poller = new NoticePoller(clients.sqs, queueUrl, (notice) => {
      notices.push(notice);
      if (notices.length > KEPT_NOTICES) notices.shift();
      log(`NOTICE to ${to}: ${notice.subject} ${notice.message}`);
    });
    poller.start();
    pollers.push(poller);
  }
  for (const subscriber of topicSubscribersOf(options.template, resources)) {
    const topicArn = resources.get(subscriber.topicLogicalId)!.ref;
    const queueUrl = await subscribedQueue(clients, `LocalTopicSubscriber${subscriber.functionLogicalId}`.slice(0, 80), [topicArn]);
    const onFailureQueueUrl = subscriber.onFailureArn ? queueUrlOfArn(resources, subscriber.onFailureArn) : undefined;
    const poller = new TopicSubscriberPoller({
      subscriber,
      fn: options.functions.get(subscriber.functionLogicalId)!,
      topicArn,
      queueUrl,
      ...(onFailureQueueUrl ? { onFailureQueueUrl } : {}),
      sqs: clients.sqs,
      onError: (message, error) => log(`${message}${error instanceof Error ? `: ${error.message}` : ''}`),
    });
    poller.start();
    pollers.push(poller);
  }
  return {
    notices: () => [...notices],
    stop: async () => {
      await Promise.all(pollers.map((p) => p.stop()));
    },
  };
}
