/**
 * Alarm notices to a webhook on the local runtime, end to end: a message in the check DLQ raises
 * its alarm (played locally every 5 s), the alarm topic invokes the forwarder, which posts Slack
 * text to a webhook server this test runs. When the webhook fails, Lambda's async invocation is
 * played too: three attempts, then the notice is kept in the webhook failure queue (and the
 * e-mail notices, the other subscription, still have it).
 */
import { PurgeQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { eventually } from '../helpers/visitor.js';

/** The local queue alarms are evaluated every 5 s; a notice goes through two queues and a function: allow six rounds on a loaded machine. */
const NOTICE_WITHIN_MS = 30_000;

let runtime: LocalRuntime;
let server: http.Server;
const posts: { at: number; text: string }[] = [];
let answer = 200;

beforeAll(async () => {
  server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      posts.push({ at: Date.now(), text: (JSON.parse(body) as { text: string }).text });
      response.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T1/secret`;
  runtime = await startLocalRuntime({ port: 0, rooms: [], schedules: false, pages: false, notifications: { webhooks: [{ name: 'Chat', url: hook }] }, log: () => undefined });
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
  server?.close();
});

const queueUrl = (prefix: string) => runtime.resources.get(runtime.logicalId(prefix, 'AWS::SQS::Queue'))!.ref;

describe('alarm notices to a webhook', () => {
  it('posts the alarm to the webhook; a failing webhook gets three attempts, then the notice waits in the failure queue', async () => {
    await runtime.clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl('WaitingRoomCheckLoopCheckDlq'), MessageBody: '{"tokenId":"x","roomId":"y","seq":1}' }));
    const alarm = await eventually(async () => posts.find((p) => p.text.includes('CheckDlqNotEmpty')), NOTICE_WITHIN_MS, 'the ALARM post');
    expect(alarm.text).toMatch(/^:rotating_light: \*ALARM: WaitingRoomCheckLoopCheckDlqNotEmpty\w*\*\n.*failure queue CheckDlq.*\n_1 message visible in \w+ \(threshold \d+\)\._\n/s);

    // The webhook breaks; the DLQ is emptied, so the alarm goes back to OK and that notice fails.
    answer = 500;
    const before = posts.length;
    await runtime.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl('WaitingRoomCheckLoopCheckDlq') }));
    const failureQueue = 'WaitingRoomNotificationsWebhookFailures';
    const kept = await eventually(async () => runtime.queueMessages(failureQueue).find((m) => m.body.includes('CheckDlqNotEmpty')), NOTICE_WITHIN_MS, 'the failed notice in the failure queue');
    const record = JSON.parse(kept.body) as { requestContext: { condition: string; approximateInvokeCount: number }; requestPayload: { Records: { Sns: { Subject: string } }[] } };
    expect(record.requestContext).toMatchObject({ condition: 'RetriesExhausted', approximateInvokeCount: 3 });
    expect(record.requestPayload.Records[0]!.Sns.Subject).toMatch(/^OK: /);
    const attempts = posts.slice(before).filter((p) => p.text.startsWith(':white_check_mark: *OK: WaitingRoomCheckLoopCheckDlqNotEmpty'));
    expect(attempts).toHaveLength(3);
    // The e-mail subscription got both notices regardless.
    expect(runtime.notices().filter((n) => n.subject.includes('CheckDlqNotEmpty')).map((n) => n.subject.split(':')[0])).toEqual(['ALARM', 'OK']);
  }, 120_000);
});
