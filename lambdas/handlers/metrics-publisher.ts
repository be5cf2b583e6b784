/**
 * Metrics publisher (DESIGN §2.5): the state machine runs it 6 times a minute; each run reads the
 * rooms and their stats and sends per-room and service-wide metrics (lambdas/shared/metric-names.ts)
 * to CloudWatch, or to the process's in-memory sink when WR_METRICS_SINK=memory (local runtime).
 * Rooms without activity are published once more (their final set, zeros) and then skipped
 * (lambdas/domain/reporting/metrics.ts). It returns a small summary for the state machine:
 * `{ publishedAt, rooms, points, idle }`, where `idle: true` (every room quiet) ends the state
 * machine's minute after its first run.
 *
 * Each run also advances the rooms' scheduled events (lambdas/domain/events/event-draw.ts): the lottery's
 * draw a few seconds after an event's start, and its end.
 *
 * Environment: ROOMS_TABLE, STATS_TABLE, TOKENS_TABLE (the draw moves waiting tokens), CHECK_QUEUE_URL
 * (the seats a draw opens go to visitors whose check loops it re-arms), METRICS_NAMESPACE (default WaitingRoom), WR_METRICS_SINK
 * (cloudwatch | memory, default cloudwatch), and the WR_* timings (for wait estimates).
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { CloudWatchMetricsSink } from '../adapters/cloudwatch-metrics.js';
import { DynamoCalibrations } from '../adapters/dynamo-calibrations.js';
import { DynamoFairnessReports } from '../adapters/dynamo-fairness.js';
import { DynamoRoomsSource, DynamoStatsStore } from '../adapters/dynamo-stats.js';
import { memoryMetrics } from '../adapters/memory-metrics.js';
import { randomUUID } from 'node:crypto';
import { DynamoLotteryDraws } from '../adapters/dynamo-lottery.js';
import { DynamoStore } from '../adapters/dynamo-store.js';
import { Admissions, EventRunner, RoomCalibrator, advancingEvents, environmentOf, randomIds, systemClock, type CheckQueue, type Clock, type Timings } from '../domain/index.js';
import { MetricsPublisher, type MetricsSink, type PublishSummary, type RoomsSource } from '../domain/reporting/metrics.js';
import type { StatsStore } from '../domain/reporting/stats.js';
import { readEnv, required, timingsFromEnv } from '../shared/env.js';
import { createLogger, withInvocation } from '../shared/logger.js';
import { METRICS_NAMESPACE } from '../shared/metric-names.js';
import { checkQueueFromEnv, dynamoDocumentClient, loggedEvents } from '../shared/wiring.js';

export type { PublishSummary };

export const METRICS_PUBLISHER_ENV = {
  ROOMS_TABLE: required(),
  STATS_TABLE: required(),
  TOKENS_TABLE: required(),
  CHECK_QUEUE_URL: required(),
  METRICS_NAMESPACE: z.string().min(1).default(METRICS_NAMESPACE),
  WR_METRICS_SINK: z.enum(['cloudwatch', 'memory']).default('cloudwatch'),
};

export interface MetricsPublisherOptions {
  /** Where the points go (the local runtime passes its own). */
  sink: MetricsSink;
  /** @default the rooms table named by ROOMS_TABLE */
  rooms?: RoomsSource;
  /** @default the stats table named by STATS_TABLE */
  stats?: StatsStore;
  clock?: Clock;
  /** @default from the WR_* variables */
  timings?: Timings;
  env?: NodeJS.ProcessEnv;
  client?: DynamoDBDocumentClient;
  logger?: Logger;
}

/**
 * A metrics publisher run, as the handler runs it, with the sink given. Tables and timings not
 * given are read from the environment now, so a missing variable fails here, with its name.
 */
export function createMetricsPublisher(options: MetricsPublisherOptions): () => Promise<PublishSummary> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger('waiting-room-metrics');
  const tables = options.rooms && options.stats ? undefined : readEnv({ ROOMS_TABLE: required(), STATS_TABLE: required(), TOKENS_TABLE: required() }, env);
  const client = options.client ?? (tables ? dynamoDocumentClient() : undefined);
  const clock = options.clock ?? systemClock;
  const timings = options.timings ?? timingsFromEnv(env);
  const publisher = new MetricsPublisher({
    rooms: options.rooms ?? eventsOf(new DynamoRoomsSource(client!, tables!.ROOMS_TABLE), client!, tables!, checkQueueFromEnv(env), clock, timings, logger),
    stats: options.stats ?? new DynamoStatsStore(client!, tables!.STATS_TABLE),
    sink: options.sink,
    clock,
    timings,
    onClaimError: (roomId, error) => logger.warn('rates of a room left out of this run', { roomId, error: String(error) }),
    // The wait ranges' calibration, from the tables (not with rooms and stats given: tests of the metrics alone).
    ...(tables && client
      ? {
          calibrator: new RoomCalibrator(new DynamoFairnessReports(client, tables.STATS_TABLE), new DynamoCalibrations(client, tables.ROOMS_TABLE), (roomId, error) =>
            logger.warn('wait range of a room not calibrated this run', { roomId, error: String(error) }),
          ),
        }
      : {}),
  });
  return async () => {
    const summary = await publisher.publish();
    // Nothing published (every room idle since its final set): not worth a log line every minute.
    if (summary.points > 0) logger.info('metrics published', { ...summary });
    else logger.debug('every room idle: nothing published', { ...summary });
    return summary;
  };
}

/** The rooms as listed, each room's scheduled event advanced on the way (its draw at start, its end). */
function eventsOf(
  source: RoomsSource,
  client: DynamoDBDocumentClient,
  tables: { ROOMS_TABLE: string; STATS_TABLE: string; TOKENS_TABLE: string },
  checks: CheckQueue,
  clock: Clock,
  timings: Timings,
  logger: Logger,
): RoomsSource {
  const store = new DynamoStore(client, { rooms: tables.ROOMS_TABLE, tokens: tables.TOKENS_TABLE });
  // Once a draw opened the room, the seats freed while it held the lease are filled at once. A
  // visitor whose check loop was armed beyond an admitted visitor's timeout (while the line stood
  // still) has it re-armed by its admission, so the admitter needs the check queue: without it the
  // seat would wait for another admitter, a front-zone check that may be minutes away.
  const admissions = new Admissions({ store, clock, timings, ids: randomIds, events: loggedEvents(logger), ...environmentOf(store, clock) }, checks);
  const runner = new EventRunner({
    store,
    draws: new DynamoLotteryDraws(client, tables.STATS_TABLE),
    clock,
    owner: () => `events-${randomUUID()}`,
    admit: (roomId) => admissions.fillSafely(roomId),
  });
  return advancingEvents(source, runner, (roomId, outcome) => {
    if (outcome.kind === 'failed') logger.error('event step failed; the next run tries again', { roomId, error: String(outcome.error) });
    else if (outcome.kind === 'busy') logger.info('event draw waits for the room\'s admitter lease', { roomId });
    else logger.info(`event ${outcome.kind}`, { roomId, ...outcome });
  });
}

let cloudWatch: CloudWatchClient | undefined;

/** The sink the environment asks for: the in-memory singleton, or CloudWatch in METRICS_NAMESPACE. */
export function sinkFromEnv(env: NodeJS.ProcessEnv = process.env): MetricsSink {
  const e = readEnv(METRICS_PUBLISHER_ENV, env);
  if (e.WR_METRICS_SINK === 'memory') return memoryMetrics;
  cloudWatch ??= new CloudWatchClient({});
  return new CloudWatchMetricsSink(cloudWatch, e.METRICS_NAMESPACE);
}

const logger = createLogger('waiting-room-metrics');
// Built on the first invocation, so that importing createMetricsPublisher needs no environment.
let run: (() => Promise<PublishSummary>) | undefined;

/** The state machine's input is ignored. */
export const handler = async (_input?: unknown, context?: Context): Promise<PublishSummary> => {
  run ??= createMetricsPublisher({ sink: sinkFromEnv(), logger });
  return withInvocation(logger, context, {}, run);
};
