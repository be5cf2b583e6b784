/**
 * Token stream → check queue: each new token gets its first check, delayed by the check delay.
 * The event source mapping filters to INSERT; failed records are reported, retried, bisected and
 * finally sent to the stream's DLQ.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createLogger, withInvocation } from '../shared/logger.js';
import { checkLoopFrom, domainDeps } from '../shared/wiring.js';

const logger = createLogger('waiting-room-enqueuer');
const checkLoop = checkLoopFrom(domainDeps(logger));
const processor = new BatchProcessor(EventType.DynamoDBStreams);

async function startCheckLoop(record: DynamoDBRecord): Promise<void> {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return;
  const token = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
  await checkLoop.start({ tokenId: String(token.tokenId), roomId: String(token.roomId), checkSeq: Number(token.checkSeq ?? 0) });
}

export const handler = async (event: DynamoDBStreamEvent, context: Context) => {
  return withInvocation(logger, context, {}, () => processPartialResponse(event, startCheckLoop, processor, { context }));
};
