/**
 * `waiting-room dlq` on AWS, without AWS: the queues come from the stack's FailureQueues output,
 * a redrive is SQS's message-move task followed to its end, a stream failure queue is never
 * "redriven", a purge asks for --yes, and each SQS failure has its exit code.
 */
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../../cli/errors.js';
import { runCli, type CliIo } from '../../../cli/main.js';

const API = 'https://abc123.execute-api.eu-west-1.amazonaws.com/';
const Q = 'https://sqs.eu-west-1.amazonaws.com/123456789012';
const FAILURE_QUEUES = [
  { name: 'CheckDlq', url: `${Q}/shop-CheckDlq`, sourceUrl: `${Q}/shop-CheckQueue`, lost: 'the check loops they carried stopped' },
  { name: 'EnqueuerStreamFailures', url: `${Q}/shop-StreamFailures`, lost: 'new tokens got no check loop' },
];
const sqs = mockClient(SQSClient);

beforeEach(() => sqs.reset());

function io(outputs: Record<string, string> = { ApiUrl: API, FailureQueues: JSON.stringify(FAILURE_QUEUES) }) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' },
    stackOutputs: async () => outputs,
    sqs: new SQSClient({ region: 'eu-west-1' }),
    sleep: async () => undefined,
  };
  return { cli, out, err };
}

const attributes = (url: string, messages: number) => ({ Attributes: { QueueArn: `arn:aws:sqs:eu-west-1:123456789012:${url.split('/').pop()}`, ApproximateNumberOfMessages: String(messages), ApproximateNumberOfMessagesNotVisible: '0' } });

describe('dlq list', () => {
  it('counts every failure queue, says where a redrive goes and peeks without taking messages', async () => {
    sqs.on(GetQueueAttributesCommand, { QueueUrl: FAILURE_QUEUES[0]!.url }).resolves(attributes(FAILURE_QUEUES[0]!.url, 2));
    sqs.on(GetQueueAttributesCommand, { QueueUrl: FAILURE_QUEUES[1]!.url }).resolves(attributes(FAILURE_QUEUES[1]!.url, 0));
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [{ MessageId: 'm1', Body: '{"tokenId":"t1","roomId":"shop","seq":3}', Attributes: { SentTimestamp: '1764547200000', ApproximateReceiveCount: '5' } }] });
    const { cli, out } = io();
    await expect(runCli(['dlq', 'list', '--stack', 'shop-prod', '--peek', '3'], cli)).resolves.toBe(EXIT.ok);
    const text = out.join('\n');
    expect(text).toMatch(/^CheckDlq\s+2\s+0\s+to shop-CheckQueue$/m);
    expect(text).toMatch(/^EnqueuerStreamFailures\s+0\s+0\s+-$/m);
    expect(text).toMatch(/CheckDlq: the check loops they carried stopped\./);
    expect(text).toMatch(/dlq redrive CheckDlq/);
    expect(text).toMatch(/received 5x {2}check of token t1 in shop/);
    const receive = sqs.commandCalls(ReceiveMessageCommand)[0]!.args[0].input;
    expect(receive).toMatchObject({ QueueUrl: FAILURE_QUEUES[0]!.url, VisibilityTimeout: 0, MaxNumberOfMessages: 3 });
  });

  it('prints a stable JSON shape', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(attributes(FAILURE_QUEUES[0]!.url, 0));
    const { cli, out } = io();
    await expect(runCli(['dlq', 'list', '--stack', 'shop-prod', '--json'], cli)).resolves.toBe(EXIT.ok);
    expect(JSON.parse(out.join('\n'))).toEqual({
      queues: [
        { name: 'CheckDlq', url: FAILURE_QUEUES[0]!.url, messages: 0, inFlight: 0, redrivesTo: 'shop-CheckQueue', lost: 'the check loops they carried stopped' },
        { name: 'EnqueuerStreamFailures', url: FAILURE_QUEUES[1]!.url, messages: 0, inFlight: 0, redrivesTo: null, lost: 'new tokens got no check loop' },
      ],
    });
  });

  it('needs the FailureQueues output, and says when it is missing', async () => {
    const { cli, err } = io({ ApiUrl: API });
    await expect(runCli(['dlq', 'list', '--stack', 'shop-prod'], cli)).resolves.toBe(EXIT.usage);
    expect(err.join('\n')).toMatch(/FailureQueues/);
    const api = io();
    await expect(runCli(['dlq', 'list', '--api', API], api.cli)).resolves.toBe(EXIT.usage);
  });

  it('says so when not allowed to read a queue', async () => {
    sqs.on(GetQueueAttributesCommand).rejects(Object.assign(new Error('User is not authorized to perform: sqs:getqueueattributes'), { name: 'AccessDenied' }));
    const { cli, err } = io();
    await expect(runCli(['dlq', 'list', '--stack', 'shop-prod'], cli)).resolves.toBe(EXIT.denied);
    expect(err.join('\n')).toMatch(/Not allowed to read CheckDlq \(sqs:GetQueueAttributes\)/);
  });
});

describe('dlq redrive', () => {
  it("starts SQS's message-move task from the DLQ (to its source: no destination given) and follows it to the end", async () => {
    sqs.on(GetQueueAttributesCommand).resolves(attributes(FAILURE_QUEUES[0]!.url, 3));
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'handle-1' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [{ Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 1, ApproximateNumberOfMessagesToMove: 3 }] })
      .resolves({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 3 }] });
    const { cli, out } = io();
    await expect(runCli(['dlq', 'redrive', 'checkdlq', '--stack', 'shop-prod'], cli)).resolves.toBe(EXIT.ok);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]!.args[0].input).toEqual({ SourceArn: 'arn:aws:sqs:eu-west-1:123456789012:shop-CheckDlq' });
    expect(out).toEqual(['  running: 1 of 3 moved', '  completed: 3 of 3 moved', 'Moved 3 messages from CheckDlq back to shop-CheckQueue (completed)']);
  });

  it('reports a failed task with its reason, and an empty DLQ as nothing to do', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(attributes(FAILURE_QUEUES[0]!.url, 3));
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'handle-1' });
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [{ Status: 'FAILED', ApproximateNumberOfMessagesMoved: 1, FailureReason: 'AWS.SimpleQueueService.NonExistentQueue' }] });
    const failed = io();
    await expect(runCli(['dlq', 'redrive', 'CheckDlq', '--stack', 'shop-prod'], failed.cli)).resolves.toBe(EXIT.failed);
    expect(failed.err.join('\n')).toMatch(/failed after 1 messages: AWS.SimpleQueueService.NonExistentQueue/);

    sqs.reset();
    sqs.on(GetQueueAttributesCommand).resolves(attributes(FAILURE_QUEUES[0]!.url, 0));
    const empty = io();
    await expect(runCli(['dlq', 'redrive', 'CheckDlq', '--stack', 'shop-prod', '--json'], empty.cli)).resolves.toBe(EXIT.ok);
    expect(JSON.parse(empty.out.join('\n'))).toMatchObject({ status: 'NOTHING_TO_MOVE', moved: 0 });
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
  });

  it('refuses a stream failure queue and an unknown queue, naming the choices', async () => {
    const stream = io();
    await expect(runCli(['dlq', 'redrive', 'EnqueuerStreamFailures', '--stack', 'shop-prod'], stream.cli)).resolves.toBe(EXIT.usage);
    expect(stream.err.join('\n')).toMatch(/nothing to move back.*dlq purge EnqueuerStreamFailures --yes/);
    const unknown = io();
    await expect(runCli(['dlq', 'redrive', 'Nope', '--stack', 'shop-prod'], unknown.cli)).resolves.toBe(EXIT.usage);
    expect(unknown.err.join('\n')).toMatch(/No failure queue Nope: one of CheckDlq, EnqueuerStreamFailures/);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
  });
});

describe('dlq purge', () => {
  it('asks for --yes, then purges', async () => {
    sqs.on(GetQueueAttributesCommand).resolves(attributes(FAILURE_QUEUES[1]!.url, 4));
    const unconfirmed = io();
    await expect(runCli(['dlq', 'purge', 'EnqueuerStreamFailures', '--stack', 'shop-prod'], unconfirmed.cli)).resolves.toBe(EXIT.usage);
    expect(sqs.commandCalls(PurgeQueueCommand)).toHaveLength(0);
    const confirmed = io();
    await expect(runCli(['dlq', 'purge', 'EnqueuerStreamFailures', '--stack', 'shop-prod', '--yes'], confirmed.cli)).resolves.toBe(EXIT.ok);
    expect(sqs.commandCalls(PurgeQueueCommand)[0]!.args[0].input).toEqual({ QueueUrl: FAILURE_QUEUES[1]!.url });
  });
});
