/**
 * The composition root of the Lambda functions: SDK clients, adapters and the domain, built once
 * per execution environment from the environment variables the construct sets. Module scope is
 * the function environment, so the room views and ticket blocks built here are that
 * environment's own (DESIGN §8: cached views, ticket blocks).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoStore } from '../adapters/dynamo-store.js';
import { DynamoWaitingCounts } from '../adapters/dynamo-waiting-counts.js';
import { SqsCheckQueue } from '../adapters/sqs-check-queue.js';
import {
  CheckLoop,
  Rooms,
  Visitors,
  environmentOf,
  randomIds,
  systemClock,
  type CheckQueue,
  type DomainDeps,
  type PassIssuer,
  type PassVerifier,
  type RemovalReason,
  type WaitingRoomEvents,
} from '../domain/index.js';
import type { LotteryReceiptIssuer } from '../domain/events/lottery.js';
import { lineShardsFromEnv, readEnv, required, timingsFromEnv } from './env.js';

let documentClient: DynamoDBDocumentClient | undefined;
export function dynamoDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

const checkQueues = new Map<string, CheckQueue>();
/** The check queue named by CHECK_QUEUE_URL in `env` (a ConfigurationError naming it when missing), one per URL. */
export function checkQueueFromEnv(env: NodeJS.ProcessEnv = process.env): CheckQueue {
  const url = readEnv({ CHECK_QUEUE_URL: required() }, env).CHECK_QUEUE_URL;
  let queue = checkQueues.get(url);
  if (!queue) checkQueues.set(url, (queue = new SqsCheckQueue(new SQSClient({}), url)));
  return queue;
}

/** The log line of each kind of removal. */
const REMOVAL_LOG: Record<RemovalReason, string> = {
  left: 'left',
  silent: 'evicted after going silent',
  revoked: 'admission revoked by an emergency stop',
  released: 'seat released by the origin',
};

/** Domain events as log lines: one per admission and per removal. */
export function loggedEvents(logger: Logger): WaitingRoomEvents {
  return {
    admitted: (e) => logger.info('admitted', { roomId: e.roomId, tokenId: e.tokenId, ticket: e.ticket }),
    removed: (e) =>
      logger.info(REMOVAL_LOG[e.reason], {
        roomId: e.roomId,
        tokenId: e.tokenId,
        ticket: e.ticket,
        state: e.state,
      }),
    admissionDeferred: (e) =>
      logger.warn('follow-up admission deferred to the next trigger', { roomId: e.roomId, error: String(e.error) }),
    evictionDeferred: (e) =>
      logger.warn('eviction put off: the system stalled moments ago', {
        roomId: e.roomId,
        tokenId: e.tokenId,
        ticket: e.ticket,
        silentMs: e.silentMs,
        until: new Date(e.untilMs).toISOString(),
      }),
  };
}

export interface DomainOptions {
  passes?: PassIssuer;
  /** Verifies admission passes: the function frees a seat with a visitor's pass. */
  passVerifier?: PassVerifier;
  /** The function may send check messages (it frees seats, or admits visitors whose loop must be re-armed). */
  checks?: boolean;
  /** The function reads the counted waiting visitors (the public status). */
  waitingCounts?: boolean;
  /** Signs pre-queued visitors' lottery receipts (the join). */
  lotteryReceipts?: LotteryReceiptIssuer;
}

export function domainDeps(logger: Logger, options: DomainOptions = {}): DomainDeps {
  const env = readEnv({ ROOMS_TABLE: required(), TOKENS_TABLE: required() });
  const store = new DynamoStore(dynamoDocumentClient(), { rooms: env.ROOMS_TABLE, tokens: env.TOKENS_TABLE });
  return {
    store,
    clock: systemClock,
    timings: timingsFromEnv(),
    ids: randomIds,
    events: loggedEvents(logger),
    ...environmentOf(store, systemClock),
    ...(options.passes ? { passes: options.passes } : {}),
    ...(options.passVerifier ? { passVerifier: options.passVerifier } : {}),
    ...(options.lotteryReceipts ? { lotteryReceipts: options.lotteryReceipts } : {}),
    ...(options.checks ? { checks: checkQueueFromEnv() } : {}),
    ...(options.waitingCounts
      ? { waitingCounts: new DynamoWaitingCounts(dynamoDocumentClient(), readEnv({ STATS_TABLE: required() }).STATS_TABLE, systemClock) }
      : {}),
  };
}

export const visitorsFrom = (deps: DomainDeps) => new Visitors(deps);
export const roomsFrom = (deps: DomainDeps) => new Rooms(deps, lineShardsFromEnv());
export const checkLoopFrom = (deps: DomainDeps) => new CheckLoop(deps, checkQueueFromEnv());
