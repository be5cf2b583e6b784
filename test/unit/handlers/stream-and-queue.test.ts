import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { insertRecord, lambdaContext, sqsRecord } from '../../helpers/events.js';
import { HANDLER_ENV, useHandlerEnv } from '../../helpers/env.js';
import { SqsCheckQueue } from '../../../lambdas/adapters/sqs-check-queue.js';
import { T, TOKEN_ID, acceptChecks, freshEnvironment, roomItem, sentChecks, tokenItem, type WaitingRoomTables } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
let tables: WaitingRoomTables;
let enqueue: (event: DynamoDBStreamEvent, context: Context) => Promise<SQSBatchResponse>;
let checker: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

beforeAll(() => useHandlerEnv());
beforeEach(async () => {
  tables = freshEnvironment(ddb, sqs);
  enqueue = (await import('../../../lambdas/handlers/enqueue-checks.js')).handler;
  checker = (await import('../../../lambdas/handlers/check-tokens.js')).handler;
});
afterEach(() => {
  ddb.reset();
  sqs.reset();
  vi.useRealTimers();
});

/** An admitted token, heard from just now, at step 3 of its check loop. */
const token = (overrides: Record<string, unknown> = {}) => tokenItem({ ticket: 1, state: 'ADMITTED', lastSeenAt: T, checkSeq: 3, ...overrides });
const checkBody = (seq = 3) => JSON.stringify({ tokenId: TOKEN_ID, roomId: 'shop', seq });
const tokenIds = (n: number) => Array.from({ length: n }, (_, i) => `tok${String(i).padStart(19, '0')}`);

describe('enqueuer (token stream → check queue)', () => {
  it('sends the first check of a new token with the check delay', async () => {
    const result = await enqueue({ Records: [insertRecord(token({ checkSeq: 0 }))] }, lambdaContext);
    expect(result.batchItemFailures).toEqual([]);
    expect(sqs.commandCalls(SendMessageBatchCommand)[0]!.args[0].input).toEqual({
      QueueUrl: HANDLER_ENV.CHECK_QUEUE_URL,
      Entries: [{ Id: '0', MessageBody: JSON.stringify({ tokenId: TOKEN_ID, roomId: 'shop', seq: 0 }), DelaySeconds: 10 }],
    });
  });

  it('sends the first checks of a stream batch together, in SendMessageBatch requests of up to 10', async () => {
    const ids = tokenIds(23);
    const records = ids.map((tokenId, i) => insertRecord(token({ tokenId, checkSeq: 0 }), String(100 + i)));
    const result = await enqueue({ Records: records }, lambdaContext);
    expect(result.batchItemFailures).toEqual([]);
    expect(sqs.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    expect(sentChecks(sqs)).toEqual(ids.map((tokenId) => ({ message: { tokenId, roomId: 'shop', seq: 0 }, delaySeconds: 10 })));
  });

  it('ignores records other than INSERT', async () => {
    const record = { ...insertRecord(token()), eventName: 'MODIFY' as const };
    await enqueue({ Records: [record] }, lambdaContext);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('reports the records whose check the queue refused, by sequence number', async () => {
    const [first, second] = tokenIds(2);
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }],
      Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }],
    });
    const result = await enqueue(
      { Records: [insertRecord(token({ tokenId: first }), '200'), insertRecord(token({ tokenId: second }), '201')] },
      lambdaContext,
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '201' }]);
  });

  it('fails the whole batch when SQS takes none of it, so that the stream delivers it again', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('SQS unavailable'));
    const records = tokenIds(2).map((tokenId, i) => insertRecord(token({ tokenId }), String(300 + i)));
    await expect(enqueue({ Records: records }, lambdaContext)).rejects.toThrow(/All records failed/);
  });
});

describe('checker (check queue → eviction or next check)', () => {
  it('advances the sequence and sends the next check for a live token', async () => {
    tables.tokens.put(token());
    const result = await checker({ Records: [sqsRecord(checkBody(), 'delivery-9')] }, lambdaContext);
    expect(result.batchItemFailures).toEqual([]);
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
      // The next check's due time follows from the state and signal read: both must still hold.
      ConditionExpression: 'checkSeq = :seq AND #state = :state AND (#signal = :signal OR attribute_not_exists(#signal))',
      ExpressionAttributeValues: { ':seq': 3, ':next': 4, ':by': 'delivery-9', ':state': 'ADMITTED', ':signal': 'heartbeat' },
    });
    expect(sentChecks(sqs).map((check) => check.message)).toEqual([{ tokenId: TOKEN_ID, roomId: 'shop', seq: 4 }]);
    expect(tables.tokens.get(TOKEN_ID)).toMatchObject({ checkSeq: 4, checkBy: 'delivery-9' });
  });

  // A second early (CHECK_DELIVERY_SLACK_MS: the mapping's batching window), whole seconds rounded down.
  it.each([
    ['the heartbeat timeout, for an admitted visitor', { lastSeenAt: T - 5_000 }, 14],
    ['the heartbeat timeout, for a waiting visitor in the front zone', { state: 'WAITING', ticket: 6, lastSeenAt: T - 5_000 }, 14],
    ['the keep-place timeout, for a visitor far back, in hops of at most 900 s', { state: 'WAITING', ticket: 500, signal: 'keep-place', lastSeenAt: T - 100_000 }, 900],
  ])('sends the next check due at the deadline, lastSeenAt + %s', async (_name, overrides, delaySeconds) => {
    tables.tokens.put(token(overrides));
    await checker({ Records: [sqsRecord(checkBody(), 'delivery-9')] }, lambdaContext);
    expect(sentChecks(sqs)).toEqual([{ message: { tokenId: TOKEN_ID, roomId: 'shop', seq: 4 }, delaySeconds }]);
    expect(tables.tokens.get(TOKEN_ID)).toMatchObject({ checkSeq: 4, checkDueAt: T + delaySeconds * 1000 });
  });

  it('removes a token silent until its deadline, counting the eviction in the same transaction, and sends no further check', async () => {
    tables.tokens.put(token({ lastSeenAt: T - 20_000 }));
    const result = await checker({ Records: [sqsRecord(checkBody())] }, lambdaContext);
    expect(result.batchItemFailures).toEqual([]);
    const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items[0]?.Delete?.ConditionExpression).toBe('#state = :state AND roomId = :room AND lastSeenAt = :seen AND checkSeq = :seq');
    expect(items[1]?.Update?.UpdateExpression).toBe('SET updatedAt = :now ADD activeCount :minusOne, wakeSeq :one, evictedTotal :one');
    expect(tables.tokens.get(TOKEN_ID)).toBeUndefined();
    expect(tables.rooms.get('shop')).toMatchObject({ activeCount: 1, evictedTotal: 1 });
    expect(sentChecks(sqs)).toEqual([]);
  });

  it("waits out a deadline less than the slack away only while the invocation's time allows", async () => {
    const tokenReads = () => ddb.commandCalls(GetCommand).filter((call) => call.args[0].input.Key?.['tokenId'] === TOKEN_ID).length;
    // 300 ms to the deadline; the invocation has a second left, too little to wait and then act.
    tables.tokens.put(token({ lastSeenAt: T - 19_700 }));
    const short = { ...lambdaContext, getRemainingTimeInMillis: () => 1_000 } as Context;
    await checker({ Records: [sqsRecord(checkBody(), 'delivery-9')] }, short);
    expect(tokenReads()).toBe(1); // no wait, so no second look
    expect(sentChecks(sqs)).toEqual([{ message: { tokenId: TOKEN_ID, roomId: 'shop', seq: 4 }, delaySeconds: 1 }]);

    ddb.resetHistory();
    sqs.resetHistory();
    tables.tokens.put(token({ lastSeenAt: T - 19_700 }));
    const clockMoves = setTimeout(() => vi.setSystemTime(T + 300), 100); // the clock reaches the deadline during the wait
    await checker({ Records: [sqsRecord(checkBody(), 'delivery-10')] }, lambdaContext);
    clearTimeout(clockMoves);
    expect(tokenReads()).toBe(2); // waited, looked again, and freed the seat
    expect(tables.tokens.get(TOKEN_ID)).toBeUndefined();
    expect(sentChecks(sqs)).toEqual([]);
  });

  it('drops a duplicate that loses the conditional update', async () => {
    tables.tokens.put(token());
    // The other delivery of the same message advanced the loop between this one's read and its update.
    ddb.on(UpdateCommand).callsFake(() => {
      tables.tokens.put(token({ checkSeq: 4, checkBy: 'the-other-delivery' }));
      throw new ConditionalCheckFailedException({ message: 'no', $metadata: {} });
    });
    const result = await checker({ Records: [sqsRecord(checkBody())] }, lambdaContext);
    expect(result.batchItemFailures).toEqual([]);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('drops a stale message without writing', async () => {
    tables.tokens.put(token({ checkSeq: 5 }));
    await checker({ Records: [sqsRecord(checkBody(3))] }, lambdaContext);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  it.each([
    ['not JSON', 'hello'],
    ['a message without a sequence', JSON.stringify({ tokenId: TOKEN_ID, roomId: 'shop' })],
    ['a malformed token id', JSON.stringify({ tokenId: '../x', roomId: 'shop', seq: 1 })],
    ['a hand-over of a malformed room id', JSON.stringify({ roomId: '../x', fill: true })],
  ])('reports %s as failed, so that it ends in the DLQ', async (_name, body) => {
    // The well-formed message finds its token gone.
    const result = await checker({ Records: [sqsRecord(body, 'poison'), sqsRecord(checkBody(), 'fine')] }, lambdaContext);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'poison' }]);
  });

  it("takes an admitter's hand-over: fills the free seats with the next live visitors", async () => {
    tables.rooms.put(roomItem({ capacity: 3, activeCount: 2 }));
    tables.tokens.put(tokenItem({ lastSeenAt: T - 1_000 }));
    const result = await checker({ Records: [sqsRecord(JSON.stringify({ roomId: 'shop', fill: true }), 'hand-over')] }, lambdaContext);
    expect(result.batchItemFailures).toEqual([]);
    expect(tables.tokens.get(TOKEN_ID)).toMatchObject({ state: 'ADMITTED' });
    expect(tables.rooms.get('shop')).toMatchObject({ activeCount: 3 });
  });

  it('sends a hand-over visible at once, in the batch of the checks sent with it', async () => {
    acceptChecks(sqs);
    const queue = new SqsCheckQueue(new SQSClient({}), HANDLER_ENV.CHECK_QUEUE_URL, 0);
    await Promise.all([queue.handOver('shop'), queue.schedule({ tokenId: TOKEN_ID, roomId: 'shop', seq: 1 }, 5)]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
    expect(sqs.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.Entries!.map((e) => [JSON.parse(e.MessageBody!), e.DelaySeconds])).toEqual([
      [{ roomId: 'shop', fill: true }, 0],
      [{ tokenId: TOKEN_ID, roomId: 'shop', seq: 1 }, 5],
    ]);
  });

  it('reports a message whose processing failed, so that the queue delivers it again', async () => {
    ddb.on(GetCommand).rejects(new Error('DynamoDB unavailable'));
    await expect(checker({ Records: [sqsRecord(checkBody(), 'only')] }, lambdaContext)).rejects.toThrow(/All records failed/);
  });
});
