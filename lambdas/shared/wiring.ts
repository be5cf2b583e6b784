/**
 * The composition root of the Lambda functions: SDK clients, adapters and the domain, built once
 * per execution environment from the environment variables the construct sets.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoStore } from '../adapters/dynamo-store.js';
import { SqsCheckQueue } from '../adapters/sqs-check-queue.js';
import { CheckLoop, Rooms, Visitors, randomIds, systemClock, type DomainDeps, type PassIssuer, type WaitingRoomEvents } from '../domain/index.js';
import { readEnv, required, timingsFromEnv } from './env.js';

let documentClient: DynamoDBDocumentClient | undefined;
export function dynamoDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

/** Domain events as log lines: one per admission and per removal. */
export function loggedEvents(logger: Logger): WaitingRoomEvents {
  return {
    admitted: (e) => logger.info('admitted', { roomId: e.roomId, tokenId: e.tokenId, ticket: e.ticket }),
    removed: (e) =>
      logger.info(e.reason === 'left' ? 'left' : 'evicted after going silent', {
        roomId: e.roomId,
        tokenId: e.tokenId,
        ticket: e.ticket,
        state: e.state,
      }),
    admissionDeferred: (e) =>
      logger.warn('follow-up admission deferred to the next trigger', { roomId: e.roomId, error: String(e.error) }),
  };
}

export function domainDeps(logger: Logger, passes?: PassIssuer): DomainDeps {
  const env = readEnv({ ROOMS_TABLE: required(), TOKENS_TABLE: required() });
  return {
    store: new DynamoStore(dynamoDocumentClient(), { rooms: env.ROOMS_TABLE, tokens: env.TOKENS_TABLE }),
    clock: systemClock,
    timings: timingsFromEnv(),
    ids: randomIds,
    events: loggedEvents(logger),
    ...(passes ? { passes } : {}),
  };
}

export const visitorsFrom = (deps: DomainDeps) => new Visitors(deps);
export const roomsFrom = (deps: DomainDeps) => new Rooms(deps);

export function checkLoopFrom(deps: DomainDeps): CheckLoop {
  const env = readEnv({ CHECK_QUEUE_URL: required() });
  return new CheckLoop(deps, new SqsCheckQueue(new SQSClient({}), env.CHECK_QUEUE_URL));
}
