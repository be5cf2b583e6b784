/**
 * Check queue → checker: evicts silent tokens (freeing their seats for the next in line) and keeps
 * each live token's single check loop going. Failed messages return to the queue and, after
 * maxReceiveCount deliveries, land in the DLQ.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { ROOM_ID_PATTERN, TOKEN_ID_PATTERN } from '../domain/index.js';
import { createLogger, withInvocation } from '../shared/logger.js';
import { checkLoopFrom, domainDeps } from '../shared/wiring.js';

const logger = createLogger('waiting-room-checker');
const checkLoop = checkLoopFrom(domainDeps(logger));
const processor = new BatchProcessor(EventType.SQS);

export const checkMessageSchema = z.object({
  tokenId: z.string().regex(TOKEN_ID_PATTERN),
  roomId: z.string().regex(ROOM_ID_PATTERN),
  seq: z.number().int().nonnegative(),
});

/** A hand-over from an admitter that stopped on its limits with seats free (FillMessage). */
export const fillMessageSchema = z.object({
  roomId: z.string().regex(ROOM_ID_PATTERN),
  fill: z.literal(true),
});

/** One record; `context` is the invocation's, which the batch processor passes with each record. */
async function check(record: SQSRecord, context: Context): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new Error(`check message ${record.messageId} is not JSON`);
  }
  const fill = fillMessageSchema.safeParse(body);
  if (fill.success) {
    await checkLoop.fill(fill.data.roomId);
    logger.debug('filled', { roomId: fill.data.roomId });
    return;
  }
  const message = checkMessageSchema.parse(body);
  const outcome = await checkLoop.check(message, record.messageId, () => context.getRemainingTimeInMillis());
  logger.debug('checked', { tokenId: message.tokenId, roomId: message.roomId, seq: message.seq, outcome });
}

export const handler = async (event: SQSEvent, context: Context) => {
  return withInvocation(logger, context, {}, () => processPartialResponse(event, check, processor, { context }));
};
