/**
 * The contract of the WaitingRoomStore port (lambdas/domain/ports.ts), written once and run twice:
 * against the in-memory model that the domain unit tests, the property test and the scale model rely
 * on (test/helpers/in-memory-store.ts), and against the DynamoDB adapter (lambdas/adapters/dynamo-store.ts)
 * on AWS's DynamoDB Local, with the tables created from the synthesized CDK template. Whatever the
 * in-memory model proves about the domain holds on DynamoDB only as far as these tests agree.
 *
 * Earlier runs of this suite found disagreements (empty ids, a dropped checkBy, Query Limit 0,
 * removals booked to a room other than the token's, inclusive BETWEEN bounds); both stores agree on each.
 */
import '../../local/preamble.js';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe } from 'vitest';
import { DynamoStore } from '../../lambdas/adapters/dynamo-store.js';
import type { EventStore, WaitingRoomStore } from '../../lambdas/domain/index.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/emulators.js';
import { createTableInput } from '../../local/provision.js';
import { resourcesOfType, synthesizeTemplate } from '../../local/template.js';
import { InMemoryStore } from '../helpers/in-memory-store.js';
import { admissionsContract } from './store-contract/admissions.js';
import { concurrencyContract } from './store-contract/concurrency.js';
import { eventsContract } from './store-contract/events.js';
import { contractOn, type Kind } from './store-contract/harness.js';
import { leaseContract } from './store-contract/lease.js';
import { lineContract } from './store-contract/line.js';
import { removalsContract } from './store-contract/removals.js';
import { roomsContract } from './store-contract/rooms.js';
import { scenariosContract } from './store-contract/scenarios.js';
import { tokensContract } from './store-contract/tokens.js';

let dynamoDbLocal: DynamoDbLocal | undefined;
let dynamoClient: DynamoDBClient | undefined;
let dynamoStore: DynamoStore | undefined;

beforeAll(async () => {
  const template = await synthesizeTemplate({ adminEmail: 'a@b.co' });
  const tables = resourcesOfType(template, 'AWS::DynamoDB::Table');
  const logicalId = (prefix: string) => {
    const found = tables.filter(([id]) => id.startsWith(prefix));
    if (found.length !== 1) throw new Error(`expected one table ${prefix}*, found ${found.map(([id]) => id).join(', ') || 'none'}`);
    return found[0]!;
  };
  const rooms = logicalId('WaitingRoomTablesRooms');
  const tokens = logicalId('WaitingRoomTablesTokens');

  dynamoDbLocal = await startDynamoDbLocal();
  dynamoClient = new DynamoDBClient({
    endpoint: dynamoDbLocal.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  for (const [id, resource] of [rooms, tokens]) {
    await dynamoClient.send(new CreateTableCommand(createTableInput(id, resource.Properties ?? {})));
  }
  const documents = DynamoDBDocumentClient.from(dynamoClient, { marshallOptions: { removeUndefinedValues: true } });
  dynamoStore = new DynamoStore(documents, { rooms: rooms[0], tokens: tokens[0] });
});

afterAll(async () => {
  dynamoClient?.destroy();
  await dynamoDbLocal?.stop();
});

const memoryStore = new InMemoryStore();
const implementations: { name: string; kind: Kind; store: () => WaitingRoomStore & EventStore }[] = [
  { name: 'InMemoryStore', kind: 'memory', store: () => memoryStore },
  { name: 'DynamoStore on DynamoDB Local', kind: 'dynamo', store: () => dynamoStore! },
];

describe.each(implementations)('WaitingRoomStore contract: $name', ({ kind, store }) => {
  const contract = contractOn(kind, store);
  roomsContract(contract);
  tokensContract(contract);
  lineContract(contract);
  leaseContract(contract);
  admissionsContract(contract);
  removalsContract(contract);
  concurrencyContract(contract);
  scenariosContract(contract);
});

// Scheduled events (EventStore): both stores implement it.
describe.each(implementations)('EventStore contract: $name', ({ kind, store }) => {
  eventsContract(contractOn(kind, store).store);
});
