/**
 * Token stream → stats table (DESIGN §2.4, §5.6): per-room counts of waiting and active visitors
 * and running totals, each stream record counted exactly once (see lambdas/adapters/dynamo-stats.ts),
 * and the fairness report's samples of the visitors admitted or gone from the line, recorded
 * idempotently beside them (lambdas/adapters/dynamo-fairness.ts).
 *
 * The batch is folded into one write per room rather than handled record by record (Powertools'
 * BatchProcessor), so partial failures are reported here: when a room's write fails, its earliest
 * record of the batch and every later record are reported. Lambda checkpoints before the lowest
 * sequence number reported and retries from it, so the failed room's records all come back, while
 * the records of rooms that were written come back at or below their markers and are skipped.
 *
 * The event source mapping must have a tumbling window (so that Lambda names the shard, in
 * `event.shardId`), ParallelizationFactor 1, ReportBatchItemFailures, bisect on error, a retry
 * limit and an on-failure destination. The response always carries a (empty) `state`, which a
 * windowed mapping requires.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBBatchItemFailure } from 'aws-lambda';
import { DynamoFairnessSamples } from '../adapters/dynamo-fairness.js';
import { DynamoStatsStore, shardIdOf, tokenChangeOf, type TokenStreamEvent } from '../adapters/dynamo-stats.js';
import type { VisitorSampleStore } from '../domain/reporting/fairness-samples.js';
import { systemClock, type Clock } from '../domain/index.js';
import { StatsAggregator, padSequenceNumber, type StatsStore, type TokenChange } from '../domain/reporting/stats.js';
import { readEnv, required } from '../shared/env.js';
import { createLogger, withInvocation } from '../shared/logger.js';
import { dynamoDocumentClient } from '../shared/wiring.js';

export interface StatsBatchResponse {
  batchItemFailures: DynamoDBBatchItemFailure[];
  /** The tumbling window's state: this function keeps none. */
  state: Record<string, never>;
}

export interface StatsAggregatorDeps {
  stats: StatsStore;
  clock: Clock;
  logger: Logger;
  /** Where the fairness samples go; without it, none are recorded. */
  samples?: VisitorSampleStore;
}

export function createStatsAggregatorHandler(deps: StatsAggregatorDeps) {
  const aggregator = new StatsAggregator(deps);
  const { logger } = deps;

  const aggregate = async (event: TokenStreamEvent): Promise<StatsBatchResponse> => {
    const records = event.Records ?? [];
    if (records.length === 0) return { batchItemFailures: [], state: {} }; // e.g. the end of a window
    const shardId = shardIdOf(event);

    // Read the records up to the first one that cannot be read; that one and the rest fail.
    const changes: TokenChange[] = [];
    let failFrom = records.length;
    for (const [i, record] of records.entries()) {
      try {
        changes.push(tokenChangeOf(record));
      } catch (error) {
        logger.error('unreadable token stream record', { shardId, sequenceNumber: record.dynamodb?.SequenceNumber, error: String(error) });
        failFrom = i;
        break;
      }
    }

    const outcome = await aggregator.apply(shardId, changes);
    const indexOf = new Map(changes.map((change, i) => [padSequenceNumber(change.sequenceNumber), i]));
    for (const failure of outcome.failures) {
      logger.error('stats write failed', { shardId, roomId: failure.roomId, fromSequenceNumber: failure.fromSequenceNumber, error: String(failure.error) });
      failFrom = Math.min(failFrom, indexOf.get(padSequenceNumber(failure.fromSequenceNumber)) ?? 0);
    }
    logger.debug('stats batch', {
      shardId,
      records: records.length,
      rooms: outcome.rooms,
      applied: outcome.applied,
      skipped: outcome.skipped,
      samplesKept: outcome.samples?.kept ?? 0,
      samplesDropped: outcome.samples?.dropped ?? 0,
      failedRecords: records.length - failFrom,
    });
    if (failFrom >= records.length) return { batchItemFailures: [], state: {} };

    const first = records[failFrom]?.dynamodb?.SequenceNumber;
    // A record without a sequence number cannot be reported: fail the whole batch instead.
    if (!first) throw new Error(`token stream record ${failFrom} of the batch has no sequence number`);
    const batchItemFailures = records
      .slice(failFrom)
      .flatMap((record) => (record.dynamodb?.SequenceNumber ? [{ itemIdentifier: record.dynamodb.SequenceNumber }] : []));
    return { batchItemFailures, state: {} };
  };
  return (event: TokenStreamEvent, context?: Context): Promise<StatsBatchResponse> => withInvocation(logger, context, {}, () => aggregate(event));
}

const logger = createLogger('waiting-room-stats');
const env = readEnv({ STATS_TABLE: required() });

export const handler = createStatsAggregatorHandler({
  stats: new DynamoStatsStore(dynamoDocumentClient(), env.STATS_TABLE),
  samples: new DynamoFairnessSamples(dynamoDocumentClient(), env.STATS_TABLE),
  clock: systemClock,
  logger,
});
