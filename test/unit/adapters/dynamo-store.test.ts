import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, DeleteCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../../lambdas/adapters/dynamo-store.js';
import { SINGLE_WRITE_ATTEMPTS } from '../../../lambdas/adapters/dynamo-items.js';

const ddb = mockClient(DynamoDBDocumentClient);
const store = new DynamoStore(DynamoDBDocumentClient.from(new (await import('@aws-sdk/client-dynamodb')).DynamoDBClient({ region: 'us-east-1' })), {
  rooms: 'rooms',
  tokens: 'tokens',
});
afterEach(() => ddb.reset());

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
const admit = { roomId: 'shop', tokenId: 't', ticket: 9, now: 1, raiseLastAdmitted: false };
const admittedToken = { tokenId: 't', roomId: 'shop', state: 'ADMITTED' as const };

describe('DynamoStore', () => {
  describe('admitToken', () => {
    it.each([
      [['ConditionalCheckFailed', 'None'], 'token-not-waiting'],
      [['ConditionalCheckFailed', 'ConditionalCheckFailed'], 'token-not-waiting'],
      [['None', 'ConditionalCheckFailed'], 'room-refused'],
      [['TransactionConflict', 'None'], 'conflict'],
      [['None', 'TransactionConflict'], 'conflict'],
    ])('reads cancellation reasons %j as %s', async (codes, outcome) => {
      ddb.on(TransactWriteCommand).rejects(cancelled(...codes));
      await expect(store.admitToken(admit)).resolves.toBe(outcome);
    });

    it('rethrows a cancellation for another reason', async () => {
      ddb.on(TransactWriteCommand).rejects(cancelled('ThrottlingError', 'None'));
      await expect(store.admitToken(admit)).rejects.toThrow(/cancelled/);
    });

    it('takes the seat and the token state together, and raises lastAdmittedTicket only on condition', async () => {
      ddb.on(TransactWriteCommand).resolves({});
      await store.admitToken({ ...admit, raiseLastAdmitted: true });
      const [token, room] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
      expect(token?.Update).toMatchObject({
        TableName: 'tokens',
        UpdateExpression: 'SET #state = :admitted, admittedAt = :now REMOVE waitingRoom, waitingTicket',
        ConditionExpression: '#state = :waiting',
      });
      expect(room?.Update).toMatchObject({
        TableName: 'rooms',
        UpdateExpression: 'SET updatedAt = :now, lastAdmittedTicket = :ticket ADD activeCount :one, admittedTotal :one',
        ConditionExpression: '#state = :open AND activeCount < #capacity AND lastAdmittedTicket < :ticket',
      });
    });
  });

  describe('removeToken', () => {
    it('deletes a waiting visitor who leaves with one conditional delete', async () => {
      ddb.on(DeleteCommand).resolves({});
      await expect(store.removeToken({ token: { ...admittedToken, state: 'WAITING' }, now: 1 })).resolves.toBe('removed');
      expect(ddb.commandCalls(DeleteCommand)[0]!.args[0].input.ConditionExpression).toBe('#state = :state AND roomId = :room');
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    });

    it("counts the checker's eviction of a waiting token in the room, in the same transaction", async () => {
      ddb.on(TransactWriteCommand).resolves({});
      await expect(store.removeToken({ token: { ...admittedToken, state: 'WAITING' }, now: 1, expect: { lastSeenAt: 5, checkSeq: 2 } })).resolves.toBe('removed');
      const [deletion, room] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
      expect(deletion?.Delete?.ConditionExpression).toBe('#state = :state AND roomId = :room AND lastSeenAt = :seen AND checkSeq = :seq');
      expect(room?.Update?.UpdateExpression).toBe('SET updatedAt = :now ADD evictedTotal :one');
    });

    it("frees the seat and counts the eviction of an admitted token together", async () => {
      ddb.on(TransactWriteCommand).resolves({});
      await store.removeToken({ token: admittedToken, now: 1, expect: { lastSeenAt: 5, checkSeq: 2 } });
      const [, room] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
      expect(room?.Update?.UpdateExpression).toBe('SET updatedAt = :now ADD activeCount :minusOne, evictedTotal :one');
    });

    it('answers changed when a heartbeat moved lastSeenAt first', async () => {
      ddb.on(DeleteCommand).rejects(conditionFailed());
      await expect(store.removeToken({ token: { ...admittedToken, state: 'WAITING' }, now: 1 })).resolves.toBe('changed');
    });

    it('frees the seat of an admitted token in the same transaction', async () => {
      ddb.on(TransactWriteCommand).rejectsOnce(cancelled('ConditionalCheckFailed', 'None')).rejectsOnce(cancelled('None', 'TransactionConflict')).resolves({});
      await expect(store.removeToken({ token: admittedToken, now: 1 })).resolves.toBe('changed');
      await expect(store.removeToken({ token: admittedToken, now: 1 })).resolves.toBe('conflict');
      await expect(store.removeToken({ token: admittedToken, now: 1 })).resolves.toBe('removed');
    });
  });

  describe('single-item writes meeting a transaction', () => {
    const busy = () => Object.assign(new Error('Transaction is ongoing for the item'), { name: 'TransactionConflictException' });

    it('are retried briefly, and succeed once the item is free', async () => {
      ddb.on(UpdateCommand).rejectsOnce(busy()).rejectsOnce(busy()).resolves({ Attributes: { roomId: 'shop', nextTicket: 3, state: 'open' } });
      await expect(store.issueTicket('shop', 1)).resolves.toMatchObject({ kind: 'issued', room: { nextTicket: 3 } });
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(3);
    });

    it('give up after a few attempts, rethrowing the conflict', async () => {
      ddb.on(UpdateCommand).rejects(busy());
      await expect(store.advanceCheck('t', 1, 'm')).rejects.toThrow(/ongoing/);
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(SINGLE_WRITE_ATTEMPTS);
    });
  });

  describe('issueTicket', () => {
    it('tells a closed room from a missing one by the old item', async () => {
      ddb.on(UpdateCommand)
        .rejectsOnce(conditionFailed())
        .rejectsOnce(Object.assign(conditionFailed(), { Item: { roomId: { S: 'shop' } } }));
      await expect(store.issueTicket('x', 1)).resolves.toEqual({ kind: 'room-not-found' });
      await expect(store.issueTicket('shop', 1)).resolves.toEqual({ kind: 'room-closed' });
    });
  });

  describe('listWaiting', () => {
    it('queries the waiting index in ticket order, below a ticket when asked', async () => {
      ddb.on(QueryCommand).resolves({ Items: [{ tokenId: 'a', waitingRoom: 'shop', waitingTicket: 3 }] });
      await expect(store.listWaiting('shop', 2, 7)).resolves.toEqual([{ tokenId: 'a', ticket: 3 }]);
      expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({
        IndexName: 'waiting-by-room',
        KeyConditionExpression: 'waitingRoom = :room AND waitingTicket < :before',
        ScanIndexForward: true,
        Limit: 2,
      });
    });
  });

  describe('advanceCheck and rollAdmissionRate', () => {
    it('answers changed when the sequence moved', async () => {
      ddb.on(UpdateCommand).rejects(conditionFailed());
      await expect(store.advanceCheck('t', 1, 'm')).resolves.toBe('changed');
    });

    it('ignores a rate roll that another caller already made', async () => {
      ddb.on(UpdateCommand).rejects(conditionFailed());
      await expect(store.rollAdmissionRate('shop', 100_000, 30_000)).resolves.toBeUndefined();
    });
  });
});
