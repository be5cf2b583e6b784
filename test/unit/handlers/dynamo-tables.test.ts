/** The in-memory tables the handler tests run on answer as DynamoDB would, for what the adapters ask. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HANDLER_ENV } from '../../helpers/env.js';
import { conditionHolds } from './dynamo-tables.js';
import { WaitingRoomTables, roomItem, tokenItem } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ROOMS = HANDLER_ENV.ROOMS_TABLE;
const TOKENS = HANDLER_ENV.TOKENS_TABLE;
let tables: WaitingRoomTables;

beforeEach(() => {
  tables = new WaitingRoomTables().install(ddb);
  tables.rooms.put(roomItem());
});
afterEach(() => ddb.reset());

const update = (input: Partial<ConstructorParameters<typeof UpdateCommand>[0]>) =>
  client.send(new UpdateCommand({ TableName: ROOMS, Key: { roomId: 'shop' }, UpdateExpression: 'SET a = :a', ...input }));

describe('the handler tests’ DynamoDB tables', () => {
  it('refuses expression values that are unused or missing, as DynamoDB does', async () => {
    await expect(update({ ExpressionAttributeValues: { ':a': 1, ':b': 2 } })).rejects.toThrow(/unused/);
    await expect(update({ UpdateExpression: 'SET a = :a, b = :b', ExpressionAttributeValues: { ':a': 1 } })).rejects.toThrow(/not defined/);
  });

  it('applies SET, if_not_exists, ADD and REMOVE from the item as it was, and answers UPDATED_NEW', async () => {
    const { Attributes } = await update({
      UpdateExpression: 'SET a = if_not_exists(a, :one), wakeSeq = if_not_exists(wakeSeq, :one) ADD n :one REMOVE frontFloor',
      ExpressionAttributeValues: { ':one': 1 },
      ReturnValues: 'UPDATED_NEW',
    });
    expect(Attributes).toEqual({ a: 1, wakeSeq: 1, n: 1 });
    expect(tables.rooms.get('shop')).not.toHaveProperty('frontFloor');
  });

  it('evaluates conditions with AND, OR, NOT, parentheses and functions; a missing attribute compares as false', () => {
    const values = { ':x': 1, ':y': 3 };
    expect(conditionHolds('(a = :x OR attribute_not_exists(b)) AND NOT c < :y', { a: 2, c: 5 }, undefined, values)).toBe(true);
    expect(conditionHolds('(a = :x OR attribute_not_exists(b)) AND NOT c < :y', { a: 2, c: 1 }, undefined, values)).toBe(false);
    expect(conditionHolds('a < :y', {}, undefined, values)).toBe(false);
  });

  it('refuses a conditional write on a missing item, and returns the old item marshalled when asked', async () => {
    await expect(update({ Key: { roomId: 'nope' }, ConditionExpression: 'attribute_exists(roomId)', ExpressionAttributeValues: { ':a': 1 } })).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
      Item: undefined,
    });
    await expect(
      update({ ConditionExpression: 'capacity = :a', ExpressionAttributeValues: { ':a': 1 }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
    ).rejects.toMatchObject({ Item: { roomId: { S: 'shop' } } });
  });

  it('queries an index in sort order, a page at a time', async () => {
    tables.tokens.put(tokenItem({ tokenId: 'a', ticket: 2 }), tokenItem({ tokenId: 'b', ticket: 4 }), tokenItem({ tokenId: 'c', ticket: 6 }), tokenItem({ tokenId: 'd', ticket: 3 }));
    const query = (ExclusiveStartKey?: Record<string, unknown>) =>
      client.send(
        new QueryCommand({
          TableName: TOKENS,
          IndexName: 'line-by-shard',
          KeyConditionExpression: 'lineShard = :shard AND lineTicket BETWEEN :low AND :high',
          ExpressionAttributeValues: { ':shard': 'shop#0', ':low': 3, ':high': 6 },
          Limit: 1,
          ExclusiveStartKey,
        }),
      );
    const first = await query();
    expect(first).toMatchObject({ Items: [{ tokenId: 'b', lineShard: 'shop#0', lineTicket: 4 }], LastEvaluatedKey: { tokenId: 'b' } });
    expect((await query(first.LastEvaluatedKey)).Items).toEqual([{ tokenId: 'c', lineShard: 'shop#0', lineTicket: 6 }]);
  });

  it('applies a transaction whole or not at all, with a cancellation reason per item', async () => {
    tables.tokens.put(tokenItem({ tokenId: 'a' }));
    const transaction = new TransactWriteCommand({
      TransactItems: [
        { Update: { TableName: TOKENS, Key: { tokenId: 'a' }, UpdateExpression: 'SET x = :x', ExpressionAttributeValues: { ':x': 1 } } },
        { Update: { TableName: ROOMS, Key: { roomId: 'shop' }, UpdateExpression: 'SET x = :x', ConditionExpression: 'x = :x', ExpressionAttributeValues: { ':x': 1 } } },
      ],
    });
    await expect(client.send(transaction)).rejects.toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
    });
    expect(tables.tokens.get('a')).not.toHaveProperty('x');
  });
});
