/**
 * Alarm notices beyond e-mail, in the template: nothing without the prop; with it, one forwarder
 * per webhook subscribed to the alarm topic, retried twice by Lambda and then set aside in the
 * webhook failure queue (which alarms and is listed for `waiting-room dlq`), the secret URL read
 * only by its forwarder, a Slack channel through Chatbot, cdk-nag clean; bad props refused.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { WaitingRoom, type WaitingRoomProps } from '../../lib/waiting-room.js';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat-hook-AbCdEf';

function synth(notifications?: (stack: Stack) => WaitingRoomProps['notifications']) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
  const room = new WaitingRoom(stack, 'WR', { adminEmail: 'ops@example.com', ...(notifications ? { notifications: notifications(stack) } : {}) });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  return { room, template: Template.fromStack(stack) };
}

type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };
const forwarders = (template: Template) =>
  Object.entries(template.findResources('AWS::Lambda::Function') as Record<string, Resource>).filter(([, r]) => r.Metadata?.['WaitingRoom:Entry'] === 'lambdas/handlers/alarm-webhook.ts');

describe('alarm notifications', () => {
  it('add nothing unless asked for', () => {
    const { room, template } = synth();
    expect(forwarders(template)).toHaveLength(0);
    template.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 0);
    template.resourceCountIs('AWS::SNS::Subscription', 1); // the e-mail
    expect(room.failureQueues.map((q) => q.name)).not.toContain('WebhookFailures');
  });

  it('forward to each webhook from the alarm topic, retry twice, then keep the notice in a failure queue that alarms', () => {
    const { room, template } = synth((stack) => ({
      webhooks: [
        { name: 'Chat', urlSecret: Secret.fromSecretCompleteArn(stack, 'Hook', SECRET_ARN) },
        { name: 'Pager', url: 'https://events.example.com/hooks/waiting-room', format: 'json' },
      ],
      slack: { workspaceId: 'T0123ABCD', channelId: 'C0123ABCD' },
    }));
    const found = forwarders(template);
    expect(found).toHaveLength(2);
    const byName = Object.fromEntries(found.map(([id, r]) => [id.includes('Chat') ? 'Chat' : 'Pager', { id, env: (r.Properties.Environment as { Variables: Record<string, string> }).Variables }]));
    expect(byName.Chat!.env).toMatchObject({ WEBHOOK_FORMAT: 'slack', WEBHOOK_URL_SECRET_ARN: SECRET_ARN });
    expect(byName.Chat!.env.WEBHOOK_URL).toBeUndefined();
    expect(byName.Pager!.env).toMatchObject({ WEBHOOK_FORMAT: 'json', WEBHOOK_URL: 'https://events.example.com/hooks/waiting-room' });

    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0]!;
    for (const { id } of Object.values(byName)) {
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda', TopicArn: { Ref: topicId }, Endpoint: { 'Fn::GetAtt': [id, 'Arn'] } });
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: id },
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('WebhookFailures'), 'Arn'] } } },
      });
    }
    // Only the Chat forwarder reads the secret.
    const policies = Object.values(template.findResources('AWS::IAM::Policy') as Record<string, Resource>);
    const readers = policies.filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes(SECRET_ARN)).map((p) => JSON.stringify(p.Properties.Roles));
    expect(readers).toHaveLength(1);
    expect(readers[0]).toMatch(/ChatForwarder/);

    expect(room.failureQueues.map((q) => q.name)).toContain('WebhookFailures');
    const alarms = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.some((id) => id.includes('WebhookFailuresNotEmpty'))).toBe(true);
    template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', { SlackWorkspaceId: 'T0123ABCD', SlackChannelId: 'C0123ABCD', SnsTopicArns: [{ Ref: topicId }] });
  });

  it('refuse webhooks without exactly one URL, plain http off the loopback, and bad or repeated names', () => {
    const bad = () =>
      synth(() => ({
        webhooks: [
          { name: 'Chat' },
          { name: 'Chat', url: 'http://chat.example.com/hook' },
          { name: 'no spaces', url: 'https://example.com/' },
        ],
      }));
    expect(bad).toThrow(/give url or urlSecret[\s\S]*used twice[\s\S]*must be https:\/\/[\s\S]*must be letters and digits/);
    expect(() => synth(() => ({ webhooks: [{ name: 'Local', url: 'http://127.0.0.1:8080/hook' }] }))).not.toThrow();
  });
});
