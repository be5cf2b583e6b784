import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { insertRecord, lambdaContext, sqsRecord } from '../../helpers/events.js';
import { HANDLER_ENV, useHandlerEnv } from '../../helpers/env.js';

const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
let enqueue: (event: DynamoDBStreamEvent, context: Context) => Promise<SQSBatchResponse>;
let checker: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

beforeAll(async () => {
  useHandlerEnv();
  enqueue = (await import('../../../lambdas/handlers/enqueue-checks.js')).handler;
  checker = (await import('../../../lambdas/handlers/check-tokens.js')).handler;
});
afterEach(() => {
  ddb.reset();
  sqs.reset();
});

const TOKEN_ID = 'T'.repeat(22);
const token = (overrides: Record<string, unknown> = {}) => ({
  tokenId: TOKEN_ID, roomId: 'shop', ticket: 1, secretHash: 'h', state: 'ADMITTED', issuedAt: 0, lastSeenAt: Date.now(), checkSeq: 3, expiresAt: 0, ...overrides,
});
const checkBody = (seq = 3) => JSON.stringify({ tokenId: TOKEN_ID, roomId: 'shop', seq });

describe('enqueuer (token stream → check queue)', () => {
  it('sends the first check of a new token with the check delay', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
    const result = await enqueue({ Records: [insertRecord(token({ checkSeq: 0 }))] }, lambdaContext);
    expect(result.batchItemFailures).toEqual([]);
    expect(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input).toEqual({
      QueueUrl: HANDLER_ENV.CHECK_QUEUE_URL,
      MessageBody: JSON.stringify({ tokenId: TOKEN_ID, roomId: 'shop', seq: 0 }),
      DelaySeconds: 10,
    });
  });

  it('ignores records other than INSERT', async () => {
    const record = { ...insertRecord(token()), eventName: 'MODIFY' as const };
    await enqueue({ Records: [record] }, lambdaContext);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('reports the records it could not enqueue, by sequence number', async () => {
    sqs.on(SendMessageCommand).rejectsOnce(new Error('SQS unavailable')).resolves({});
    const result = await enqueue(
      { Records: [insertRecord(token({ tokenId: 'A'.repeat(22) }), '200'), insertRecord(token({ tokenId: 'B'.repeat(22) }), '201')] },
      lambdaContext,
    );
    expect(result.batchItemFailures).toHaveLength(1);
    expect(['200', '201']).toContain(result.batchItemFailures[0]!.itemIdentifier);
  });
});

describe('checker (check queue → eviction or next check)', () => {
  it('advances the sequence and sends the next check for a live token', async () => {
    ddb.on(GetCommand).resolves({ Item: token() });
    ddb.on(UpdateCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({});
    const result = await checker({ Records: [sqsRecord(checkBody(), 'delivery-9')] }, lambdaContext);
    expect(result.batchItemFailures).toEqual([]);
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
      ConditionExpression: 'checkSeq = :seq',
      ExpressionAttributeValues: { ':seq': 3, ':next': 4, ':by': 'delivery-9' },
    });
    expect(JSON.parse(sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageBody!)).toEqual({ tokenId: TOKEN_ID, roomId: 'shop', seq: 4 });
  });

  it('drops a duplicate that loses the conditional update', async () => {
    ddb.on(GetCommand).resolves({ Item: token() });
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    const result = await checker({ Records: [sqsRecord(checkBody())] }, lambdaContext);
    expect(result.batchItemFailures).toEqual([]);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('drops a stale message without writing', async () => {
    ddb.on(GetCommand).resolves({ Item: token({ checkSeq: 5 }) });
    await checker({ Records: [sqsRecord(checkBody(3))] }, lambdaContext);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  it.each([
    ['not JSON', 'hello'],
    ['a message without a sequence', JSON.stringify({ tokenId: TOKEN_ID, roomId: 'shop' })],
    ['a malformed token id', JSON.stringify({ tokenId: '../x', roomId: 'shop', seq: 1 })],
  ])('reports %s as failed, so that it ends in the DLQ', async (_name, body) => {
    ddb.on(GetCommand).resolves({}); // the well-formed message finds its token gone
    const result = await checker({ Records: [sqsRecord(body, 'poison'), sqsRecord(checkBody(), 'fine')] }, lambdaContext);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'poison' }]);
  });

  it('reports a message whose processing failed, so that the queue delivers it again', async () => {
    ddb.on(GetCommand).rejects(new Error('DynamoDB unavailable'));
    await expect(checker({ Records: [sqsRecord(checkBody(), 'only')] }, lambdaContext)).rejects.toThrow(/All records failed/);
  });
});
