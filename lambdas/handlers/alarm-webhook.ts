/**
 * Forwards the alarm topic's notices to one webhook (a chat channel or any HTTPS endpoint), one
 * function per webhook, subscribed to the topic. SNS invokes it asynchronously: a failed post
 * throws, Lambda retries twice, then sends the event to the webhook failure queue (nothing lost;
 * the e-mail subscription got the notice anyway).
 *
 * Environment: WEBHOOK_FORMAT (slack | json), and WEBHOOK_URL or WEBHOOK_URL_SECRET_ARN.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, SNSEvent } from 'aws-lambda';
import * as z from 'zod';
import { fixedUrl, postToWebhook, secretUrl } from '../adapters/webhook.js';
import { alarmNotice, WEBHOOK_FORMATS, webhookBody } from '../notify/alarm-notice.js';
import { readEnv } from '../shared/env.js';
import { createLogger, withInvocation } from '../shared/logger.js';

const logger = createLogger('waiting-room-alarm-webhook');
const env = readEnv({
  WEBHOOK_FORMAT: z.enum(WEBHOOK_FORMATS).default('slack'),
  WEBHOOK_URL: z.string().regex(/^https?:\/\/\S+$/, 'must be a URL').optional(),
  WEBHOOK_URL_SECRET_ARN: z.string().min(1).optional(),
});
if (!env.WEBHOOK_URL === !env.WEBHOOK_URL_SECRET_ARN) throw new Error('Invalid environment: give WEBHOOK_URL or WEBHOOK_URL_SECRET_ARN (one of them)');
const source = env.WEBHOOK_URL_SECRET_ARN ? secretUrl(new SecretsManagerClient({}), env.WEBHOOK_URL_SECRET_ARN) : fixedUrl(env.WEBHOOK_URL!);

/** A slow webhook must not hold the function: 5 s, within the function's 10 s timeout. */
const TIMEOUT_MS = 5_000;

export const handler = (event: SNSEvent, context?: Context): Promise<void> =>
  withInvocation(logger, context, {}, async () => {
    for (const record of event.Records) {
      const notice = alarmNotice({ subject: record.Sns.Subject, message: record.Sns.Message, timestamp: record.Sns.Timestamp, topicArn: record.Sns.TopicArn });
      const { status, host } = await postToWebhook(source, webhookBody(notice, env.WEBHOOK_FORMAT), { timeoutMs: TIMEOUT_MS });
      logger.info('notice forwarded', { state: notice.state, title: notice.title, host, status });
    }
  });
