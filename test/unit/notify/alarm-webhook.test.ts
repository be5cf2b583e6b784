/**
 * Alarm notices to webhooks: a CloudWatch alarm's message and a plain notice as Slack text and as
 * JSON; the post (2xx or it throws, so Lambda retries), the URL from a secret, cached, never in
 * an error message.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { fixedUrl, postToWebhook, secretUrl, type FetchLike } from '../../../lambdas/adapters/webhook.js';
import { alarmNotice, webhookBody } from '../../../lambdas/notify/alarm-notice.js';

const CLOUDWATCH = JSON.stringify({
  AlarmName: 'WaitingRoom-CheckDlqNotEmpty',
  AlarmDescription: 'Messages are waiting in the failure queue CheckDlq: check loops stopped.',
  NewStateValue: 'ALARM',
  NewStateReason: 'Threshold Crossed: 1 datapoint [1.0] was greater than or equal to the threshold (1.0).',
  StateChangeTime: '2026-12-01T18:00:00.000+0000',
  Region: 'EU (Ireland)',
  AWSAccountId: '123456789012',
});

describe('alarm notices', () => {
  it('read a CloudWatch alarm: state, name, description, reason, time and where', () => {
    expect(alarmNotice({ subject: 'ALARM: "WaitingRoom-CheckDlqNotEmpty" in EU (Ireland)', message: CLOUDWATCH })).toEqual({
      state: 'ALARM',
      title: 'WaitingRoom-CheckDlqNotEmpty',
      description: 'Messages are waiting in the failure queue CheckDlq: check loops stopped.',
      reason: 'Threshold Crossed: 1 datapoint [1.0] was greater than or equal to the threshold (1.0).',
      at: '2026-12-01T18:00:00.000+0000',
      region: 'EU (Ireland)',
      account: '123456789012',
    });
  });

  it('take anything else as a notice with its subject', () => {
    expect(alarmNotice({ subject: 'Metrics run failed', message: 'States.Timeout', timestamp: '2026-12-01T18:00:00Z' })).toEqual({
      state: 'NOTICE',
      title: 'Metrics run failed',
      description: 'States.Timeout',
      at: '2026-12-01T18:00:00Z',
    });
    expect(alarmNotice({ subject: null, message: '{"not":"an alarm"}' })).toMatchObject({ state: 'NOTICE', title: 'Waiting room notice' });
  });

  it('become Slack-style text, or the notice as JSON', () => {
    const notice = alarmNotice({ message: CLOUDWATCH });
    const slack = JSON.parse(webhookBody(notice, 'slack')) as { text: string };
    expect(Object.keys(slack)).toEqual(['text']);
    expect(slack.text.split('\n')).toEqual([
      ':rotating_light: *ALARM: WaitingRoom-CheckDlqNotEmpty*',
      'Messages are waiting in the failure queue CheckDlq: check loops stopped.',
      '_Threshold Crossed: 1 datapoint [1.0] was greater than or equal to the threshold (1.0)._',
      '2026-12-01T18:00:00.000+0000 · EU (Ireland) · 123456789012',
    ]);
    expect(JSON.parse(webhookBody(notice, 'json'))).toEqual({ source: 'waiting-room', ...notice });
    const long = webhookBody({ ...notice, description: 'x'.repeat(10_000) }, 'slack');
    expect((JSON.parse(long) as { text: string }).text.length).toBeLessThanOrEqual(3_000);
  });
});

describe('posting to a webhook', () => {
  const recorder = (status: number | Error) => {
    const calls: { url: string; body: string; headers: Record<string, string> }[] = [];
    const fetchFn: FetchLike = async (url, init) => {
      calls.push({ url, body: init.body, headers: init.headers });
      if (status instanceof Error) throw status;
      return { status };
    };
    return { calls, fetchFn };
  };

  it('posts JSON and takes any 2xx', async () => {
    const { calls, fetchFn } = recorder(204);
    await expect(postToWebhook(fixedUrl('https://hooks.example.com/T1/B2/secretpart'), '{"text":"hi"}', { timeoutMs: 1000, fetch: fetchFn })).resolves.toEqual({ status: 204, host: 'hooks.example.com' });
    expect(calls).toEqual([{ url: 'https://hooks.example.com/T1/B2/secretpart', body: '{"text":"hi"}', headers: expect.objectContaining({ 'Content-Type': 'application/json' }) }]);
  });

  it('throws on another status or no answer, naming the host but never the path (where the key is)', async () => {
    const url = fixedUrl('https://hooks.example.com/T1/B2/secretpart');
    for (const failure of [500, 404, Object.assign(new Error('connect ECONNREFUSED https://hooks.example.com/T1/B2/secretpart'), { name: 'TypeError' })]) {
      const { fetchFn } = recorder(failure);
      const error = (await postToWebhook(url, '{}', { timeoutMs: 1000, fetch: fetchFn }).catch((e: unknown) => e)) as Error;
      expect(error.name).toBe('WebhookError');
      expect(error.message).toContain('hooks.example.com');
      expect(error.message).not.toContain('secretpart');
    }
  });

  it('reads the URL from its secret once per cache period, and refuses a secret that is not an https URL', async () => {
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand, { SecretId: 'hook' }).resolves({ SecretString: ' https://hooks.example.com/T1/B2/secretpart\n' });
    secrets.on(GetSecretValueCommand, { SecretId: 'bad' }).resolves({ SecretString: 'not a url' });
    let now = 0;
    const source = secretUrl(new SecretsManagerClient({ region: 'eu-west-1' }), 'hook', 60_000, () => now);
    await expect(source.url()).resolves.toBe('https://hooks.example.com/T1/B2/secretpart');
    now = 59_000;
    await source.url();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    now = 61_000;
    await source.url();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    await expect(secretUrl(new SecretsManagerClient({ region: 'eu-west-1' }), 'bad').url()).rejects.toThrow(/does not hold an https:\/\/ URL/);
    secrets.restore();
  });
});
