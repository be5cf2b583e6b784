/**
 * Alarm notices beyond e-mail (opt-in): each webhook gets a small forwarder function subscribed
 * to the alarm topic (lambdas/handlers/alarm-webhook.ts: Slack-style `{"text"}` or JSON), and a
 * Slack channel can get them through AWS Chatbot. A notice the forwarder could not deliver after
 * Lambda's two retries lands in the webhook failure queue, which alarms (to e-mail) like the
 * other failure queues. Idle, it costs nothing: functions and a queue bill per use.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { LoggingLevel, SlackChannelConfiguration } from 'aws-cdk-lib/aws-chatbot';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { WebhookFormat } from '../../lambdas/notify/alarm-notice.js';
import type { AlarmTopic } from './alarm-topic.js';
import { failureQueueAlarm } from './alarms.js';
import type { FailureQueue } from './failure-queues.js';
import { WaitingRoomFunction } from './function.js';

export interface AlarmWebhook {
  /** Names the forwarder (letters and digits, up to 32), e.g. `Chat`. */
  readonly name: string;
  /**
   * The endpoint, when its URL is not a secret (it lands in the template and the function's
   * environment). https:// (http:// only to a loopback address, for the local runtime).
   */
  readonly url?: string;
  /** The endpoint's URL kept in a Secrets Manager secret (its whole SecretString): chat webhook URLs are credentials. */
  readonly urlSecret?: ISecret;
  /** `slack` ({"text"}: Slack, Mattermost, Rocket.Chat, Google Chat, Teams, Discord's /slack URL) or `json` (the notice). @default 'slack' */
  readonly format?: WebhookFormat;
}

/** A Slack channel reached through AWS Chatbot (authorize the workspace in the Chatbot console first). */
export interface SlackChannel {
  readonly workspaceId: string;
  readonly channelId: string;
}

/** Where alarm notices go besides the admin e-mail (the WaitingRoom prop `notifications`). */
export interface AlarmNotificationSettings {
  /** HTTPS endpoints, each through a forwarder function. @default none */
  readonly webhooks?: readonly AlarmWebhook[];
  /** A Slack channel through AWS Chatbot. @default none */
  readonly slack?: SlackChannel;
}

export interface AlarmNotificationsProps extends AlarmNotificationSettings {
  readonly topic: AlarmTopic;
  readonly tracing?: boolean;
}

export const WEBHOOK_NAME = /^[A-Za-z][A-Za-z0-9]{0,31}$/;
const LOOPBACK_HTTP = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//;

/** What is wrong with the webhook props, one sentence each (empty when nothing is). */
export function webhookProblems(webhooks: readonly AlarmWebhook[] = []): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const webhook of webhooks) {
    if (!WEBHOOK_NAME.test(webhook.name)) problems.push(`notifications.webhooks: name "${webhook.name}" must be letters and digits, starting with a letter, up to 32`);
    if (seen.has(webhook.name)) problems.push(`notifications.webhooks: name "${webhook.name}" is used twice`);
    seen.add(webhook.name);
    if ((webhook.url === undefined) === (webhook.urlSecret === undefined)) problems.push(`notifications.webhooks.${webhook.name}: give url or urlSecret (one of them)`);
    if (webhook.url !== undefined && !/^https:\/\/\S+$/.test(webhook.url) && !LOOPBACK_HTTP.test(webhook.url)) {
      problems.push(`notifications.webhooks.${webhook.name}: url must be https:// (http:// only to a loopback address)`);
    }
  }
  return problems;
}

export class AlarmNotifications extends Construct {
  readonly forwarders: WaitingRoomFunction[] = [];
  /** Notices a forwarder could not deliver (Lambda's on-failure destination); undefined without webhooks. */
  readonly failureQueue?: Queue;
  readonly failureQueues: readonly FailureQueue[];
  readonly slackChannel?: SlackChannelConfiguration;

  constructor(scope: Construct, id: string, props: AlarmNotificationsProps) {
    super(scope, id);
    const webhooks = props.webhooks ?? [];
    if (webhooks.length > 0) {
      const failureQueue = new Queue(this, 'WebhookFailures', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
      Validations.of(failureQueue).acknowledge({
        id: 'AwsSolutions::AwsSolutions-SQS3',
        reason: 'This queue is the on-failure destination of the webhook forwarders: it is where undeliverable notices end, it needs no DLQ of its own.',
      });
      this.failureQueue = failureQueue;
      const lost: FailureQueue = { name: 'WebhookFailures', queue: failureQueue, lost: 'alarm notices did not reach a webhook (the e-mail subscription still got them)' };
      this.failureQueues = [lost];
      props.topic.alarm(this, 'WebhookFailuresNotEmpty', failureQueueAlarm(failureQueue, lost.name, lost.lost));
      for (const webhook of webhooks) {
        const forwarder = new WaitingRoomFunction(this, `${webhook.name}Forwarder`, {
          handler: 'alarm-webhook',
          description: `Forwards alarm notices to the ${webhook.name} webhook`,
          environment: {
            WEBHOOK_FORMAT: webhook.format ?? 'slack',
            ...(webhook.url ? { WEBHOOK_URL: webhook.url } : { WEBHOOK_URL_SECRET_ARN: webhook.urlSecret!.secretArn }),
          },
          ...(props.tracing !== undefined ? { tracing: props.tracing } : {}),
        });
        webhook.urlSecret?.grantRead(forwarder);
        forwarder.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1), onFailure: new SqsDestination(failureQueue) });
        props.topic.addSubscription(new LambdaSubscription(forwarder));
        this.forwarders.push(forwarder);
      }
    } else {
      this.failureQueues = [];
    }
    if (props.slack) {
      this.slackChannel = new SlackChannelConfiguration(this, 'Slack', {
        slackChannelConfigurationName: `${Stack.of(this).stackName}-alarms`.slice(0, 128),
        slackWorkspaceId: props.slack.workspaceId,
        slackChannelId: props.slack.channelId,
        notificationTopics: [props.topic],
        loggingLevel: LoggingLevel.ERROR,
      });
    }
  }
}
