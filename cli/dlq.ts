/**
 * `waiting-room dlq list | redrive NAME | purge NAME`: what sits in each failure queue (the check
 * loop's dead-letter queue, the token-stream consumers' on-failure queues), a move of a
 * dead-letter queue's messages back to the queue they came from once the cause is fixed, and
 * emptying a queue whose messages were dealt with (its alarm stays in ALARM while one is there).
 *
 * The queues come from the stack's `FailureQueues` output (lib/constructs/failure-queues.ts), or
 * the local runtime's `GET /local/outputs`. On AWS a redrive is SQS's own message-move task
 * (StartMessageMoveTask, followed with ListMessageMoveTasks); the local queue emulator has no
 * move task, so locally the CLI moves the messages itself (receive, send to the source, delete).
 * A stream failure queue holds descriptions of failed stream batches (Lambda's on-failure
 * records: shard and sequence numbers), not messages of a queue: there is nothing to move back.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import type { AdminTarget, FetchLike } from './admin-api.js';
import type { Outcome } from './commands.js';
import { CliError, EXIT } from './errors.js';

/** One failure queue, as the FailureQueues output lists it. */
export interface FailureQueueEntry {
  name: string;
  url: string;
  /** For a dead-letter queue: the queue its messages came from. */
  sourceUrl?: string;
  /** What was lost while a message sits here. */
  lost: string;
}

export type SqsLike = Pick<SQSClient, 'send'>;

/** The local runtime's resolved stack outputs (local/outputs.ts). */
export async function localOutputs(baseUrl: string, fetchFn: FetchLike): Promise<Record<string, string>> {
  let answer;
  try {
    answer = await fetchFn(`${baseUrl}/local/outputs`, { method: 'GET', headers: {} });
  } catch (error) {
    throw new CliError(`Cannot reach the local runtime at ${baseUrl} (is npm start running?): ${error instanceof Error ? error.message : String(error)}`, EXIT.unreachable);
  }
  if (answer.status !== 200) throw new CliError(`The local runtime at ${baseUrl} has no outputs route (HTTP ${answer.status}): is it this project's npm start?`, EXIT.unreachable);
  return JSON.parse(await answer.text()) as Record<string, string>;
}

export function failureQueuesOf(outputs: Record<string, string> | undefined): FailureQueueEntry[] {
  const raw = outputs?.FailureQueues;
  if (raw === undefined) throw new CliError('dlq needs --stack NAME or --local: the queues are named by the stack output FailureQueues (redeploy a stack older than this CLI)', EXIT.usage);
  try {
    const queues = JSON.parse(raw) as FailureQueueEntry[];
    if (!Array.isArray(queues) || queues.some((q) => typeof q.name !== 'string' || typeof q.url !== 'string')) throw new Error('not a list of queues');
    return queues;
  } catch (error) {
    throw new CliError(`The FailureQueues output is not what this CLI expects (${error instanceof Error ? error.message : String(error)})`, EXIT.failed);
  }
}

export function queueNamed(queues: readonly FailureQueueEntry[], name: string | undefined): FailureQueueEntry {
  const names = queues.map((q) => q.name).join(', ');
  if (!name) throw new CliError(`Which queue? One of ${names}`, EXIT.usage);
  const queue = queues.find((q) => q.name.toLowerCase() === name.toLowerCase());
  if (!queue) throw new CliError(`No failure queue ${name}: one of ${names}`, EXIT.usage);
  return queue;
}

/**
 * An SQS client for the target: the operator's credentials on AWS; locally the emulator, on the
 * port its queue URLs name (their host, sqs.<region>.localhost, is a name only the emulator uses).
 */
export function sqsClientFor(target: AdminTarget, queues: readonly FailureQueueEntry[]): SQSClient {
  const endpoint = target.local && queues[0] ? `http://127.0.0.1:${new URL(queues[0].url).port}` : undefined;
  return new SQSClient({ region: target.signing.region, credentials: target.signing.credentials, ...(endpoint ? { endpoint } : {}) });
}

/** An SQS failure as the CLI says it (permission names are those the README lists). */
function sqsFailure(error: unknown, doing: string, permission: string): CliError {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'CredentialsProviderError') return new CliError(`No AWS credentials to ${doing}: ${message}`, EXIT.denied);
  if (/AccessDenied|not authorized/i.test(`${name} ${message}`)) return new CliError(`Not allowed to ${doing} (${permission}): ${message}`, EXIT.denied);
  if (/NonExistentQueue|QueueDoesNotExist/i.test(name)) return new CliError(`The queue to ${doing} does not exist (was the stack deleted?): ${message}`, EXIT.usage);
  return new CliError(`Cannot ${doing}: ${message}`, EXIT.unreachable);
}

async function attempt<T>(doing: string, permission: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw sqsFailure(error, doing, permission);
  }
}

/** A message as `dlq list --peek` shows it. */
export interface PeekedMessage {
  messageId: string;
  sentAt: string | undefined;
  receiveCount: number;
  body: unknown;
}

/** One queue, as `dlq list --json` reports it. */
export interface FailureQueueReading {
  name: string;
  url: string;
  /** Messages ready to receive, and received but not yet deleted (in flight). */
  messages: number;
  inFlight: number;
  /** The queue a redrive moves messages back to, by name; null when nothing can be moved back. */
  redrivesTo: string | null;
  lost: string;
  sample?: PeekedMessage[];
}

const queueNameOf = (url: string) => decodeURIComponent(url.split('/').pop() ?? url);

async function counts(sqs: SqsLike, queue: FailureQueueEntry): Promise<{ messages: number; inFlight: number; arn: string }> {
  const { Attributes } = await attempt(`read ${queue.name}`, 'sqs:GetQueueAttributes', () =>
    sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] })),
  );
  return {
    messages: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    arn: Attributes?.QueueArn ?? '',
  };
}

/**
 * Up to `count` messages (10 at most), left in the queue: received with no visibility timeout,
 * and made visible again explicitly (the local emulator takes a zero timeout for its default).
 */
async function peek(sqs: SqsLike, queue: FailureQueueEntry, count: number): Promise<PeekedMessage[]> {
  const { Messages } = await attempt(`look into ${queue.name}`, 'sqs:ReceiveMessage', () =>
    sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: Math.min(count, 10), VisibilityTimeout: 0, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'] })),
  );
  const handles = (Messages ?? []).flatMap((m, i) => (m.ReceiptHandle ? [{ Id: String(i), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }] : []));
  if (handles.length > 0) {
    await attempt(`leave the messages in ${queue.name}`, 'sqs:ChangeMessageVisibility', () => sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queue.url, Entries: handles })));
  }
  return (Messages ?? []).map((m) => {
    let body: unknown = m.Body;
    try {
      body = JSON.parse(m.Body ?? '');
    } catch {
      // not JSON: shown as it is
    }
    const sent = m.Attributes?.SentTimestamp;
    return { messageId: m.MessageId ?? '', sentAt: sent ? new Date(Number(sent)).toISOString() : undefined, receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0), body };
  });
}

/** What a message says, in one line: a check's token, or a failed stream batch's size and time. */
function summary(message: PeekedMessage): string {
  const body = message.body as { tokenId?: string; roomId?: string; DDBStreamBatchInfo?: { batchSize?: number; approximateArrivalOfFirstRecord?: string } } | string;
  if (typeof body === 'object' && body !== null) {
    if (body.DDBStreamBatchInfo) return `a stream batch of ${body.DDBStreamBatchInfo.batchSize ?? '?'} records from ${body.DDBStreamBatchInfo.approximateArrivalOfFirstRecord ?? '?'}`;
    if (body.tokenId) return `check of token ${body.tokenId}${body.roomId ? ` in ${body.roomId}` : ''}`;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

export async function dlqList(sqs: SqsLike, queues: readonly FailureQueueEntry[], peekCount: number): Promise<Outcome> {
  const readings: FailureQueueReading[] = [];
  for (const queue of queues) {
    const { messages, inFlight } = await counts(sqs, queue);
    readings.push({
      name: queue.name,
      url: queue.url,
      messages,
      inFlight,
      redrivesTo: queue.sourceUrl ? queueNameOf(queue.sourceUrl) : null,
      lost: queue.lost,
      ...(peekCount > 0 && messages > 0 ? { sample: await peek(sqs, queue, peekCount) } : {}),
    });
  }
  const width = Math.max(5, ...readings.map((r) => r.name.length));
  const lines = [`${'QUEUE'.padEnd(width)}  MESSAGES  IN FLIGHT  REDRIVE`];
  for (const r of readings) {
    lines.push(`${r.name.padEnd(width)}  ${String(r.messages).padStart(8)}  ${String(r.inFlight).padStart(9)}  ${r.redrivesTo ? `to ${r.redrivesTo}` : '-'}`);
  }
  for (const r of readings.filter((q) => q.messages + q.inFlight > 0)) {
    lines.push(`${r.name}: ${r.lost}.`);
    lines.push(r.redrivesTo ? `  once the cause is fixed: waiting-room dlq redrive ${r.name}` : `  nothing to move back; once dealt with: waiting-room dlq purge ${r.name} --yes`);
    for (const m of r.sample ?? []) lines.push(`  ${m.sentAt ?? '?'}  received ${m.receiveCount}x  ${summary(m)}`);
  }
  if (readings.every((r) => r.messages + r.inFlight === 0)) lines.push('Every failure queue is empty.');
  return { json: { queues: readings }, lines };
}

/** How `dlq redrive` moved the messages: SQS's task on AWS, the CLI itself locally. */
export interface RedriveResult {
  queue: string;
  to: string;
  method: 'message-move-task' | 'local-move';
  status: 'COMPLETED' | 'RUNNING' | 'NOTHING_TO_MOVE' | 'FAILED' | 'CANCELLED' | 'CANCELLING';
  moved: number;
  toMove?: number;
  taskHandle?: string;
  failureReason?: string;
}

export interface RedriveOptions {
  /** Move the messages here, not with SQS's task: the local queue emulator has none. */
  local: boolean;
  /** Follow the task until it ends (or waitMs passes). */
  wait: boolean;
  waitMs?: number;
  sleep: (ms: number) => Promise<void>;
  progress?: (line: string) => void;
}

export async function dlqRedrive(sqs: SqsLike, queue: FailureQueueEntry, options: RedriveOptions): Promise<Outcome> {
  if (!queue.sourceUrl) {
    throw new CliError(
      `${queue.name} holds descriptions of failed stream batches (shard and sequence numbers), not messages of a queue: there is nothing to move back. ` +
        `See README, "Failure queues"; once dealt with, empty it with waiting-room dlq purge ${queue.name} --yes`,
      EXIT.usage,
    );
  }
  const to = queueNameOf(queue.sourceUrl);
  const { messages, arn } = await counts(sqs, queue);
  const done = (result: RedriveResult, lines: string[]): Outcome => ({ json: result, lines });
  if (messages === 0) return done({ queue: queue.name, to, method: options.local ? 'local-move' : 'message-move-task', status: 'NOTHING_TO_MOVE', moved: 0 }, [`${queue.name} is empty: nothing to redrive`]);
  if (options.local) {
    const moved = await moveLocally(sqs, queue.url, queue.sourceUrl);
    return done({ queue: queue.name, to, method: 'local-move', status: 'COMPLETED', moved }, [`Moved ${moved} messages from ${queue.name} back to ${to}`]);
  }
  const { TaskHandle } = await attempt(`start moving ${queue.name}`, 'sqs:StartMessageMoveTask, with sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes on the DLQ and sqs:SendMessage on its source', () =>
    sqs.send(new StartMessageMoveTaskCommand({ SourceArn: arn })),
  );
  const started: RedriveResult = { queue: queue.name, to, method: 'message-move-task', status: 'RUNNING', moved: 0, toMove: messages, ...(TaskHandle ? { taskHandle: TaskHandle } : {}) };
  if (!options.wait) return done(started, [`Moving about ${messages} messages from ${queue.name} back to ${to} (SQS message-move task); follow it with waiting-room dlq list`]);
  const deadline = Date.now() + (options.waitMs ?? 10 * 60_000);
  let result = started;
  while (result.status === 'RUNNING') {
    await options.sleep(2_000);
    const { Results } = await attempt(`follow the move of ${queue.name}`, 'sqs:ListMessageMoveTasks', () => sqs.send(new ListMessageMoveTasksCommand({ SourceArn: arn, MaxResults: 1 })));
    const task = Results?.[0];
    if (task) {
      result = {
        ...result,
        status: (task.Status as RedriveResult['status'] | undefined) ?? 'RUNNING',
        moved: task.ApproximateNumberOfMessagesMoved ?? result.moved,
        ...(task.ApproximateNumberOfMessagesToMove !== undefined ? { toMove: task.ApproximateNumberOfMessagesToMove } : {}),
        ...(task.FailureReason ? { failureReason: task.FailureReason } : {}),
      };
      options.progress?.(`  ${result.status.toLowerCase()}: ${result.moved} of ${result.toMove ?? '?'} moved`);
    }
    if (result.status === 'RUNNING' && Date.now() > deadline) {
      return done(result, [`Still moving ${queue.name} back to ${to} (${result.moved} moved so far): follow it with waiting-room dlq list`]);
    }
  }
  if (result.status === 'FAILED') throw new CliError(`The move of ${queue.name} failed after ${result.moved} messages: ${result.failureReason ?? 'no reason given'}`, EXIT.failed);
  return done(result, [`Moved ${result.moved} messages from ${queue.name} back to ${to} (${result.status.toLowerCase()})`]);
}

/** Receive, send to the source, delete what was sent, until the queue answers empty. */
async function moveLocally(sqs: SqsLike, fromUrl: string, toUrl: string): Promise<number> {
  let moved = 0;
  for (;;) {
    const { Messages } = await attempt('receive from the DLQ', 'sqs:ReceiveMessage', () =>
      sqs.send(new ReceiveMessageCommand({ QueueUrl: fromUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] })),
    );
    if (!Messages || Messages.length === 0) return moved;
    const entries = Messages.map((m, i) => ({ Id: String(i), MessageBody: m.Body ?? '', ...(m.MessageAttributes ? { MessageAttributes: m.MessageAttributes } : {}) }));
    const sent = await attempt('send back to the source queue', 'sqs:SendMessage', () => sqs.send(new SendMessageBatchCommand({ QueueUrl: toUrl, Entries: entries })));
    const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
    const remove = Messages.flatMap((m, i) => (ok.has(String(i)) && m.ReceiptHandle ? [{ Id: String(i), ReceiptHandle: m.ReceiptHandle }] : []));
    if (remove.length > 0) await attempt('delete moved messages', 'sqs:DeleteMessage', () => sqs.send(new DeleteMessageBatchCommand({ QueueUrl: fromUrl, Entries: remove })));
    moved += remove.length;
    if (sent.Failed?.length) throw new CliError(`Moved ${moved} messages; ${sent.Failed.length} could not be sent back (${sent.Failed[0]!.Message ?? sent.Failed[0]!.Code}) and stay in the DLQ`, EXIT.failed);
  }
}

export async function dlqPurge(sqs: SqsLike, queue: FailureQueueEntry, confirmed: boolean): Promise<Outcome> {
  if (!confirmed) throw new CliError(`Purging deletes every message in ${queue.name} for good: add --yes`, EXIT.usage);
  const { messages, inFlight } = await counts(sqs, queue);
  await attempt(`purge ${queue.name}`, 'sqs:PurgeQueue', () => sqs.send(new PurgeQueueCommand({ QueueUrl: queue.url })));
  return { json: { queue: queue.name, purged: messages + inFlight }, lines: [`Purged ${queue.name} (about ${messages + inFlight} messages); SQS takes up to 60 s to finish`] };
}
