/**
 * What the handler tests share: the waiting room's tables in memory (dynamo-tables.ts) under the
 * names the construct gives the functions (HANDLER_ENV), items laid out as the adapter writes them
 * (lambdas/shared/schema.ts), the check queue's SendMessageBatch, and a fresh function environment
 * for each test at a fixed time.
 */
import { SendMessageBatchCommand, type SendMessageBatchCommandInput, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { vi } from 'vitest';
import { hashSecret, type CheckMessage } from '../../../lambdas/domain/index.js';
import { LINE_INDEX, ROOMS_KEY, STATS_KEY, TOKENS_KEY, TOKEN_TTL_ATTRIBUTE, lineShardKey, ticketCounterKey } from '../../../lambdas/shared/schema.js';
import { HANDLER_ENV } from '../../helpers/env.js';
import { FakeTables, type FakeTable, type Item } from './dynamo-tables.js';

/** The time every test starts at (Date is faked; timers are real). */
export const T = Date.UTC(2026, 0, 1, 12);
/** Shards of the line index of the rooms here: few, so that a line read stays short. */
export const LINE_SHARDS = 2;
export const SECRET = 'S'.repeat(43);
export const TOKEN_ID = 'T'.repeat(22);

/** The rooms, tokens and stats tables of HANDLER_ENV, the tokens table with its line index. */
export class WaitingRoomTables extends FakeTables {
  readonly rooms: FakeTable;
  readonly tokens: FakeTable;
  readonly stats: FakeTable;

  constructor() {
    super({
      [HANDLER_ENV.ROOMS_TABLE]: { key: ROOMS_KEY },
      [HANDLER_ENV.TOKENS_TABLE]: { key: TOKENS_KEY, indexes: { [LINE_INDEX.name]: { partitionKey: LINE_INDEX.partitionKey, sortKey: LINE_INDEX.sortKey } } },
      [HANDLER_ENV.STATS_TABLE]: { key: STATS_KEY },
    });
    this.rooms = this.table(HANDLER_ENV.ROOMS_TABLE);
    this.tokens = this.table(HANDLER_ENV.TOKENS_TABLE);
    this.stats = this.table(HANDLER_ENV.STATS_TABLE);
  }
}

/**
 * Starts a test in a fresh function environment (module scope: SDK clients, room views, ticket
 * blocks, checks waiting to be sent) at time T, on empty tables but for room `shop` (roomItem, 7
 * tickets issued), with a check queue that takes every check. Import the handlers after this.
 */
export function freshEnvironment(ddb: AwsClientStub<DynamoDBDocumentClient>, sqs: AwsClientStub<SQSClient>): WaitingRoomTables {
  vi.resetModules();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T);
  acceptChecks(sqs);
  const tables = new WaitingRoomTables().install(ddb);
  tables.rooms.put(roomItem(), counterItem(7));
  return tables;
}

/** Room `shop` (open, lineShards 2): 2 seats, both taken; tickets up to 4 admitted, 4 admissions in its first minute. */
export const roomItem = (overrides: Item = {}): Item => ({
  roomId: 'shop',
  capacity: 2,
  state: 'open',
  activeCount: 2,
  lastAdmittedTicket: 4,
  admittedTotal: 4,
  evictedTotal: 0,
  lineShards: LINE_SHARDS,
  frontFloor: 0,
  wakeSeq: 1,
  createdAt: T - 60_000,
  updatedAt: T - 60_000,
  ...overrides,
});

/** A room's ticket counter item: the last ticket issued. */
export const counterItem = (nextTicket: number, roomId = 'shop'): Item => ({ roomId: ticketCounterKey(roomId), nextTicket });

/** A token of `shop` (ticket 6, waiting, heartbeating, heard from 10 s ago) with the secret SECRET; a waiting one is in the line index. */
export function tokenItem(overrides: Item = {}): Item {
  const item: Item = {
    tokenId: TOKEN_ID,
    roomId: 'shop',
    ticket: 6,
    secretHash: hashSecret(SECRET),
    state: 'WAITING',
    signal: 'heartbeat',
    issuedAt: T - 10_000,
    lastSeenAt: T - 10_000,
    checkSeq: 0,
    checkDueAt: T,
    [TOKEN_TTL_ATTRIBUTE]: Math.ceil(T / 1000) + 86_400,
    ...overrides,
  };
  if (item.state === 'WAITING') {
    item[LINE_INDEX.partitionKey] = lineShardKey(String(item.roomId), Number(item.ticket) % LINE_SHARDS);
    item[LINE_INDEX.sortKey] = item.ticket;
  }
  return item;
}

/** The check queue takes every entry of every SendMessageBatch. */
export function acceptChecks(sqs: AwsClientStub<SQSClient>): void {
  sqs.on(SendMessageBatchCommand).callsFake(async (input: SendMessageBatchCommandInput) => ({
    Successful: (input.Entries ?? []).map((entry) => ({ Id: entry.Id, MessageId: `message-${entry.Id}`, MD5OfMessageBody: '' })),
    Failed: [],
  }));
}

/** The checks sent, in order: each entry's message and delay. */
export function sentChecks(sqs: AwsClientStub<SQSClient>): { message: CheckMessage; delaySeconds: number | undefined }[] {
  return sqs
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => ({ message: JSON.parse(entry.MessageBody!) as CheckMessage, delaySeconds: entry.DelaySeconds }));
}
