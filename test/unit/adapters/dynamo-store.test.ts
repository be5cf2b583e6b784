/**
 * The DynamoDB adapter's requests and its reading of DynamoDB's answers, against a mocked client.
 * What the requests do on a real DynamoDB is test/integration/store-contract.test.ts's business.
 */
import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SINGLE_WRITE_ATTEMPTS } from '../../../lambdas/adapters/dynamo-items.js';
import { DynamoStore, tokenFromItem } from '../../../lambdas/adapters/dynamo-store.js';
import { DEFAULT_LINE_SHARDS, MAX_ADMIT_BATCH, type AdmitBatchRequest, type Token } from '../../../lambdas/domain/index.js';

const ddb = mockClient(DynamoDBDocumentClient);
const store = new DynamoStore(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), { rooms: 'rooms', tokens: 'tokens' }, { sleep: async () => {} });
afterEach(() => ddb.reset());

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
const conditionFailed = (oldItem?: Record<string, unknown>) =>
  Object.assign(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }), oldItem ? { Item: marshall(oldItem) } : {});
const busy = () => Object.assign(new Error('Transaction is ongoing for the item'), { name: 'TransactionConflictException' });

const roomItem = {
  roomId: 'shop',
  capacity: 5,
  state: 'open',
  activeCount: 1,
  lastAdmittedTicket: 3,
  admittedTotal: 4,
  evictedTotal: 1,
  ratePrevAt: 10,
  ratePrevTotal: 1,
  ratePrevTicket: 2,
  rateCurAt: 20,
  rateCurTotal: 3,
  rateCurTicket: 4,
  lineShards: 8,
  frontFloor: 6,
  wakeSeq: 7,
  createdAt: 5,
  updatedAt: 30,
};
const room = {
  roomId: 'shop',
  capacity: 5,
  state: 'open',
  nextTicket: 0,
  activeCount: 1,
  lastAdmittedTicket: 3,
  admittedTotal: 4,
  evictedTotal: 1,
  rate: { prevAt: 10, prevTotal: 1, prevTicket: 2, curAt: 20, curTotal: 3, curTicket: 4 },
  lineShards: 8,
  frontFloor: 6,
  wakeSeq: 7,
  // The room item above has no epoch: never stopped; and no mode: stored before modes, fifo.
  epoch: 0,
  mode: 'fifo',
  createdAt: 5,
  updatedAt: 30,
};
const token: Token = {
  tokenId: 't1',
  roomId: 'shop',
  ticket: 9,
  secretHash: 'h',
  state: 'WAITING',
  signal: 'heartbeat',
  issuedAt: 1,
  lastSeenAt: 2,
  heard: true,
  checkSeq: 0,
  checkDueAt: 3,
  expiresAtSeconds: 4,
};
const admission = (n: number, overrides: Partial<AdmitBatchRequest> = {}): AdmitBatchRequest => ({
  roomId: 'shop',
  tokens: Array.from({ length: n }, (_, i) => ({ tokenId: `t${i + 1}`, ticket: i + 1, checkSeq: 0 })),
  capacity: 5,
  liveSince: 100,
  epoch: 0,
  now: 200,
  ...overrides,
});


const advance = { tokenId: 't', fromSeq: 1, by: 'm', dueAt: 5, expect: { state: 'WAITING', signal: 'heartbeat' } } as const;
describe('DynamoStore', () => {
  describe('rooms', () => {
    it('reads a room and its ticket counter in one strongly consistent BatchGetItem', async () => {
      ddb.on(BatchGetCommand).resolves({ Responses: { rooms: [{ roomId: 'shop#tickets', nextTicket: 42 }, roomItem] } });
      await expect(store.getRoom('shop')).resolves.toEqual({ ...room, nextTicket: 42 });
      expect(ddb.commandCalls(BatchGetCommand)[0]!.args[0].input.RequestItems).toEqual({
        rooms: { Keys: [{ roomId: 'shop' }, { roomId: 'shop#tickets' }], ConsistentRead: true },
      });
    });

    it('reads a room without a counter with nextTicket 0, and a missing room as undefined', async () => {
      ddb.on(BatchGetCommand).resolvesOnce({ Responses: { rooms: [roomItem] } }).resolvesOnce({ Responses: { rooms: [{ roomId: 'shop#tickets', nextTicket: 2 }] } });
      await expect(store.getRoom('shop')).resolves.toEqual(room);
      await expect(store.getRoom('shop')).resolves.toBeUndefined();
    });

    it('reads a room item from before the sharded line with the defaults', async () => {
      ddb.on(BatchGetCommand).resolves({ Responses: { rooms: [{ roomId: 'old', capacity: 2, state: 'open', activeCount: 0, lastAdmittedTicket: 0, admittedTotal: 0, nextTicket: 9 }] } });
      await expect(store.getRoom('old')).resolves.toMatchObject({
        nextTicket: 0, // the ticket counter is its own item now
        lineShards: DEFAULT_LINE_SHARDS,
        frontFloor: 0,
        wakeSeq: 0,
        rate: { prevAt: 0, prevTotal: 0, prevTicket: 0, curAt: 0, curTotal: 0, curTicket: 0 },
      });
    });

    it('reads the epoch and the message to the line of a room that has them', async () => {
      ddb.on(BatchGetCommand).resolves({ Responses: { rooms: [{ ...roomItem, epoch: 3, message: 'Saturday is sold out' }] } });
      await expect(store.getRoom('shop')).resolves.toEqual({ ...room, epoch: 3, message: 'Saturday is sold out' });
    });

    it('asks again for keys BatchGetItem left unprocessed, and gives up after a few attempts', async () => {
      ddb
        .on(BatchGetCommand)
        .resolvesOnce({ Responses: { rooms: [roomItem] }, UnprocessedKeys: { rooms: { Keys: [{ roomId: 'shop#tickets' }] } } })
        .resolvesOnce({ Responses: { rooms: [{ roomId: 'shop#tickets', nextTicket: 5 }] } });
      await expect(store.getRoom('shop')).resolves.toEqual({ ...room, nextTicket: 5 });
      expect(ddb.commandCalls(BatchGetCommand)[1]!.args[0].input.RequestItems).toEqual({ rooms: { Keys: [{ roomId: 'shop#tickets' }], ConsistentRead: true } });

      ddb.reset();
      ddb.on(BatchGetCommand).resolves({ Responses: { rooms: [] }, UnprocessedKeys: { rooms: { Keys: [{ roomId: 'shop' }] } } });
      await expect(store.getRoom('shop')).rejects.toThrow(/unprocessed/);
      expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(5);
    });

    it('lists rooms across scan pages, giving each the nextTicket of its counter item and listing no counter', async () => {
      ddb
        .on(ScanCommand)
        .resolvesOnce({ Items: [{ roomId: 'shop#tickets', nextTicket: 12 }, { ...roomItem, roomId: 'other' }], LastEvaluatedKey: { roomId: 'other' } })
        .resolvesOnce({ Items: [roomItem, { roomId: 'ghost#tickets', nextTicket: 1 }] });
      await expect(store.listRooms()).resolves.toEqual([
        { ...room, roomId: 'other' },
        { ...room, nextTicket: 12 },
      ]);
      expect(ddb.commandCalls(ScanCommand)[1]!.args[0].input.ExclusiveStartKey).toEqual({ roomId: 'other' });
    });

    it('upserts with the counters created only when missing, the line shards fixed at creation, and a wake-up', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: roomItem });
      ddb.on(GetCommand).resolves({ Item: { roomId: 'shop#tickets', nextTicket: 3 } });
      await expect(store.upsertRoom({ roomId: 'shop', capacity: 5, lineShards: 16, now: 1 })).resolves.toEqual({ ...room, nextTicket: 3 });
      const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
      expect(input.UpdateExpression).toMatch(/^SET .* ADD wakeSeq :one$/);
      expect(input.UpdateExpression).toContain('lineShards = if_not_exists(lineShards, :shards)');
      expect(input.UpdateExpression).toContain('frontFloor = if_not_exists(frontFloor, :zero)');
      expect(input.UpdateExpression).toContain('rateCurTicket = if_not_exists(rateCurTicket, :zero)');
      expect(input.UpdateExpression).toContain('#capacity = :capacity');
      expect(input.UpdateExpression).not.toContain('nextTicket');
      expect(input.UpdateExpression).toContain('#epoch = if_not_exists(#epoch, :zero)');
      expect(input.UpdateExpression).not.toContain('#message');
      expect(input.ExpressionAttributeValues).toMatchObject({ ':shards': 16, ':one': 1 });
      expect(input.ConditionExpression).toBeUndefined();
      expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).toEqual({ TableName: 'rooms', Key: { roomId: 'shop#tickets' }, ConsistentRead: true });
    });

    it('sets or removes the message to the line, and moves the room to its next epoch in an emergency stop', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: roomItem });
      ddb.on(GetCommand).resolves({});
      await store.upsertRoom({ roomId: 'shop', message: 'Saturday is sold out', bumpEpoch: true, lineShards: 4, now: 1 });
      await store.upsertRoom({ roomId: 'shop', message: null, lineShards: 4, now: 2 });
      const [set, cleared] = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
      expect(set!.UpdateExpression).toMatch(/^SET .*#message = :message.* ADD wakeSeq :one, #epoch :one$/);
      expect(set!.UpdateExpression).not.toContain('if_not_exists(#epoch');
      expect(set!.ExpressionAttributeNames).toMatchObject({ '#message': 'message', '#epoch': 'epoch' });
      expect(set!.ExpressionAttributeValues).toMatchObject({ ':message': 'Saturday is sold out' });
      expect(cleared!.UpdateExpression).toMatch(/^SET .* REMOVE #message ADD wakeSeq :one$/);
      expect(cleared!.ExpressionAttributeValues).not.toHaveProperty(':message');
    });

    it('reads a stored mode, rate limit and slot clock, and takes an unknown mode for fifo', async () => {
      ddb
        .on(BatchGetCommand)
        .resolvesOnce({ Responses: { rooms: [{ ...roomItem, mode: 'passthrough', newVisitorsPerMinute: 600, rateSlotAt: 42 }] } })
        .resolvesOnce({ Responses: { rooms: [{ ...roomItem, mode: 'lottery-of-2030' }] } });
      await expect(store.getRoom('shop')).resolves.toEqual({ ...room, mode: 'passthrough', newVisitorsPerMinute: 600, rateSlotAt: 42 });
      await expect(store.getRoom('shop')).resolves.toEqual(room);
    });

    it('sets the mode (fifo for a new room without one) and sets or removes the rate limit with its slot clock', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: roomItem });
      ddb.on(GetCommand).resolves({});
      await store.upsertRoom({ roomId: 'shop', capacity: 5, lineShards: 4, now: 1 });
      await store.upsertRoom({ roomId: 'shop', mode: 'reject', newVisitorsPerMinute: 120, lineShards: 4, now: 2 });
      await store.upsertRoom({ roomId: 'shop', newVisitorsPerMinute: null, lineShards: 4, now: 3 });
      const [created, set, cleared] = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
      expect(created!.UpdateExpression).toContain('#mode = if_not_exists(#mode, :fifo)');
      expect(created!.UpdateExpression).not.toContain('newVisitorsPerMinute');
      expect(set!.UpdateExpression).toContain('#mode = :mode');
      expect(set!.UpdateExpression).toContain('newVisitorsPerMinute = :perMinute');
      expect(set!.ExpressionAttributeValues).toMatchObject({ ':mode': 'reject', ':perMinute': 120 });
      expect(cleared!.UpdateExpression).toMatch(/REMOVE newVisitorsPerMinute, rateSlotAt ADD/);
    });

    it('changes only an existing room when no capacity is given', async () => {
      ddb.on(UpdateCommand).rejects(conditionFailed());
      ddb.on(GetCommand).resolves({});
      await expect(store.upsertRoom({ roomId: 'shop', state: 'paused', lineShards: 4, now: 1 })).resolves.toBeUndefined();
      expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ConditionExpression).toBe('attribute_exists(roomId)');
    });

    it('reserves a block of tickets with one addition on the counter item', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: { nextTicket: 120 } });
      await expect(store.reserveTickets('shop', 20, 1)).resolves.toBe(120);
      expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toEqual({
        TableName: 'rooms',
        Key: { roomId: 'shop#tickets' },
        UpdateExpression: 'ADD nextTicket :count',
        ExpressionAttributeValues: { ':count': 20 },
        ReturnValues: 'UPDATED_NEW',
      });
      await expect(store.reserveTickets('', 1, 1)).rejects.toThrow(/empty string/);
    });
  });

  describe('the admitter lease', () => {
    it('takes a free or run-out lease and answers the room with its tickets', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: { ...roomItem, admitter: 'me', admitterUntil: 99 } });
      ddb.on(GetCommand).resolves({ Item: { roomId: 'shop#tickets', nextTicket: 8 } });
      await expect(store.acquireAdmitter('shop', 'me', 50, 99)).resolves.toEqual({ ...room, nextTicket: 8, admitter: 'me', admitterUntil: 99 });
      expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
        UpdateExpression: 'SET admitter = :owner, admitterUntil = :until, wakeSeq = if_not_exists(wakeSeq, :zero) REMOVE fillingSince',
        ConditionExpression: 'attribute_exists(roomId) AND (attribute_not_exists(admitter) OR admitterUntil < :now)',
        ExpressionAttributeValues: { ':owner': 'me', ':until': 99, ':now': 50, ':zero': 0 },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
    });

    it('records when a lease to fill seats was taken', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: { ...roomItem, admitter: 'me', admitterUntil: 99, fillingSince: 50 } });
      ddb.on(GetCommand).resolves({ Item: { roomId: 'shop#tickets', nextTicket: 8 } });
      await expect(store.acquireAdmitter('shop', 'me', 50, 99, { fills: true })).resolves.toMatchObject({ admitter: 'me', fillingSince: 50 });
      expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.UpdateExpression).toBe(
        'SET admitter = :owner, admitterUntil = :until, wakeSeq = if_not_exists(wakeSeq, :zero), fillingSince = :now',
      );
    });

    it('tells a busy lease from a missing room by the old item', async () => {
      ddb.on(GetCommand).resolves({});
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).rejectsOnce(conditionFailed({ ...roomItem, admitter: 'other', admitterUntil: 99 }));
      await expect(store.acquireAdmitter('shop', 'me', 50, 99)).resolves.toBe('not-found');
      await expect(store.acquireAdmitter('shop', 'me', 50, 99)).resolves.toBe('busy');
    });

    it('releases with the front floor and rate samples, on condition of the owner and wakeSeq', async () => {
      ddb.on(UpdateCommand).resolves({});
      const rate = { prevAt: 1, prevTotal: 2, prevTicket: 3, curAt: 4, curTotal: 5, curTicket: 6 };
      await expect(store.releaseAdmitter({ roomId: 'shop', owner: 'me', wakeSeq: 7, frontFloor: 30, rate, now: 9 })).resolves.toEqual({ kind: 'released' });
      expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
        UpdateExpression:
          'SET frontFloor = :floor, ratePrevAt = :rateprevAt, ratePrevTotal = :rateprevTotal, ratePrevTicket = :rateprevTicket, ' +
          'rateCurAt = :ratecurAt, rateCurTotal = :ratecurTotal, rateCurTicket = :ratecurTicket REMOVE admitter, admitterUntil, fillingSince',
        ConditionExpression: 'admitter = :owner AND wakeSeq = :wake',
        ExpressionAttributeValues: { ':owner': 'me', ':wake': 7, ':floor': 30, ':rateprevAt': 1, ':ratecurTicket': 6 },
      });
      await store.releaseAdmitter({ roomId: 'shop', owner: 'me', wakeSeq: 7, now: 9 });
      expect(ddb.commandCalls(UpdateCommand)[1]!.args[0].input.UpdateExpression).toBe('REMOVE admitter, admitterUntil, fillingSince');
    });

    it('tells a lost lease (no item, another owner) from a wake-up, which answers the room as it is', async () => {
      ddb.on(GetCommand).resolves({ Item: { roomId: 'shop#tickets', nextTicket: 11 } });
      ddb
        .on(UpdateCommand)
        .rejectsOnce(conditionFailed())
        .rejectsOnce(conditionFailed({ ...roomItem, admitter: 'other', admitterUntil: 99 }))
        .rejectsOnce(conditionFailed({ ...roomItem, admitter: 'me', admitterUntil: 99 }));
      const release = { roomId: 'shop', owner: 'me', wakeSeq: 6, now: 9 };
      await expect(store.releaseAdmitter(release)).resolves.toEqual({ kind: 'lost' });
      await expect(store.releaseAdmitter(release)).resolves.toEqual({ kind: 'lost' });
      await expect(store.releaseAdmitter(release)).resolves.toEqual({ kind: 'woken', room: { ...room, nextTicket: 11, admitter: 'me', admitterUntil: 99 } });
    });
  });

  describe('tokens', () => {
    it('writes a waiting token with its entry in the line shard of its ticket, an admitted one without', async () => {
      ddb.on(PutCommand).resolves({});
      await store.putToken(token, 4);
      await store.putToken({ ...token, state: 'ADMITTED', admittedAt: 5 }, 4);
      const [waiting, admitted] = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
      expect(waiting).toMatchObject({ TableName: 'tokens', ConditionExpression: 'attribute_not_exists(tokenId)' });
      expect(waiting!.Item).toEqual({
        tokenId: 't1',
        roomId: 'shop',
        ticket: 9,
        secretHash: 'h',
        state: 'WAITING',
        signal: 'heartbeat',
        issuedAt: 1,
        lastSeenAt: 2,
        heard: true,
        checkSeq: 0,
        checkDueAt: 3,
        expiresAt: 4,
        lineShard: 'shop#1',
        lineTicket: 9,
      });
      expect(admitted!.Item).not.toHaveProperty('lineShard');
      expect(admitted!.Item).not.toHaveProperty('lineTicket');
      await expect(store.putToken({ ...token, roomId: '' }, 4)).rejects.toThrow(/empty string/);
    });

    it('reads a token strongly unless asked otherwise; one from before signals heartbeats, one from before `heard` was heard', async () => {
      ddb.on(GetCommand).resolves({ Item: { tokenId: 't1', roomId: 'shop', ticket: 9, secretHash: 'h', state: 'WAITING', issuedAt: 1, lastSeenAt: 2, checkSeq: 0, expiresAt: 4 } });
      await expect(store.getToken('t1')).resolves.toEqual({ ...token, checkDueAt: 0 });
      await store.getToken('t1', false);
      expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input.ConsistentRead)).toEqual([true, false]);
      expect(tokenFromItem({ ...token, tokenId: 't1', expiresAt: 4, signal: 'keep-place' }).signal).toBe('keep-place');
    });

    it('reads many tokens in eventually consistent batches of 100, in the order asked, each key once', async () => {
      ddb.on(BatchGetCommand).callsFake((input: { RequestItems: { tokens: { Keys: { tokenId: string }[] } } }) => ({
        Responses: { tokens: input.RequestItems.tokens.Keys.filter((k) => k.tokenId !== 'missing').map((k) => ({ ...token, tokenId: k.tokenId, expiresAt: 4 })) },
      }));
      const ids = [...Array.from({ length: 250 }, (_, i) => `t${i}`), 'missing', 't0'];
      const tokens = await store.getTokens(ids);
      expect(tokens.map((t) => t.tokenId)).toEqual([...Array.from({ length: 250 }, (_, i) => `t${i}`), 't0']);
      const calls = ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems!.tokens!);
      expect(calls.map((c) => c.Keys!.length)).toEqual([100, 100, 51]);
      expect(calls.every((c) => c.ConsistentRead === false)).toBe(true);
      await expect(store.getTokens([])).resolves.toEqual([]);
      expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(3);
    });

    it('records a signal with no minimum interval, answering the token as it was heard before and is now, telling a mismatch from a missing token by the old item', async () => {
      ddb.on(UpdateCommand).resolvesOnce({ Attributes: { ...token, expiresAt: 3, heard: false } }).rejectsOnce(conditionFailed()).rejectsOnce(conditionFailed({ ...token, expiresAt: 4 }));
      const touch = { tokenId: 't1', roomId: 'shop', secretHash: 'h', signal: 'keep-place' as const, now: 9, expiresAtSeconds: 4 };
      await expect(store.touchToken(touch)).resolves.toEqual({
        kind: 'touched',
        token: { ...token, signal: 'keep-place', lastSeenAt: 9, heard: true },
        before: { signal: 'heartbeat', lastSeenAt: 2, heard: false },
      });
      await expect(store.touchToken(touch)).resolves.toEqual({ kind: 'not-found' });
      await expect(store.touchToken(touch)).resolves.toEqual({ kind: 'mismatch', token });
      expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
        UpdateExpression: 'SET lastSeenAt = :now, #signal = :signal, heard = :heard, #ttl = :ttl',
        ConditionExpression: 'attribute_exists(tokenId) AND secretHash = :hash AND roomId = :room',
        ExpressionAttributeValues: { ':now': 9, ':signal': 'keep-place', ':heard': true, ':ttl': 4, ':hash': 'h', ':room': 'shop' },
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
    });
  });

  describe('listLine', () => {
    const query = (afterTicket?: number, beforeTicket?: number) => ({
      roomId: 'shop',
      shard: 3,
      ...(afterTicket !== undefined ? { afterTicket } : {}),
      ...(beforeTicket !== undefined ? { beforeTicket } : {}),
      limit: 5,
    });

    it.each([
      [undefined, undefined, 'lineShard = :shard', {}],
      [7, undefined, 'lineShard = :shard AND lineTicket >= :after', { ':after': 8 }],
      [undefined, 7, 'lineShard = :shard AND lineTicket <= :before', { ':before': 6 }],
      // BETWEEN is inclusive: the exclusive bounds move in by one.
      [3, 11, 'lineShard = :shard AND lineTicket BETWEEN :after AND :before', { ':after': 4, ':before': 10 }],
    ])('queries one shard of the line index in ticket order, after %s and before %s', async (after, before, condition, values) => {
      ddb.on(QueryCommand).resolves({ Items: [{ tokenId: 'a', lineShard: 'shop#3', lineTicket: 7 }] });
      await expect(store.listLine(query(after, before))).resolves.toEqual([{ tokenId: 'a', ticket: 7 }]);
      expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({
        TableName: 'tokens',
        IndexName: 'line-by-shard',
        KeyConditionExpression: condition,
        ExpressionAttributeValues: { ':shard': 'shop#3', ...values },
        ScanIndexForward: true,
        Limit: 5,
      });
    });

    it('makes no call for a limit below 1 or bounds with no ticket between them', async () => {
      await expect(store.listLine({ ...query(), limit: 0 })).resolves.toEqual([]);
      await expect(store.listLine(query(4, 5))).resolves.toEqual([]);
      await expect(store.listLine(query(4, 4))).resolves.toEqual([]);
      expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
    });

    it('reads on past a page that stopped short of the limit', async () => {
      ddb
        .on(QueryCommand)
        .resolvesOnce({ Items: [{ tokenId: 'a', lineTicket: 3 }, { tokenId: 'b', lineTicket: 7 }], LastEvaluatedKey: { tokenId: 'b' } })
        .resolvesOnce({ Items: [{ tokenId: 'c', lineTicket: 11 }] });
      await expect(store.listLine(query())).resolves.toEqual([
        { tokenId: 'a', ticket: 3 },
        { tokenId: 'b', ticket: 7 },
        { tokenId: 'c', ticket: 11 },
      ]);
      expect(ddb.commandCalls(QueryCommand)[1]!.args[0].input).toMatchObject({ Limit: 3, ExclusiveStartKey: { tokenId: 'b' } });
    });
  });

  describe('lineEntry', () => {
    it('queries one shard of the line index for exactly one ticket, Limit 1', async () => {
      ddb.on(QueryCommand).resolves({ Items: [{ tokenId: 'a', lineShard: 'shop#3', lineTicket: 7 }] });
      await expect(store.lineEntry('shop', 3, 7)).resolves.toEqual({ tokenId: 'a', ticket: 7 });
      expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
      expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toEqual({
        TableName: 'tokens',
        IndexName: 'line-by-shard',
        KeyConditionExpression: 'lineShard = :shard AND lineTicket = :ticket',
        ExpressionAttributeValues: { ':shard': 'shop#3', ':ticket': 7 },
        Limit: 1,
      });
    });

    it('answers undefined when no waiting token holds the ticket', async () => {
      ddb.on(QueryCommand).resolves({ Items: [] });
      await expect(store.lineEntry('shop', 0, 8)).resolves.toBeUndefined();
      ddb.on(QueryCommand).resolves({});
      await expect(store.lineEntry('shop', 0, 8)).resolves.toBeUndefined();
    });
  });

  describe('admitTokens', () => {
    it.each([
      [['None', 'None', 'ConditionalCheckFailed'], { kind: 'room-refused' }],
      [['ConditionalCheckFailed', 'None', 'ConditionalCheckFailed'], { kind: 'room-refused' }],
      [['TransactionConflict', 'None', 'ConditionalCheckFailed'], { kind: 'room-refused' }],
      [['None', 'ConditionalCheckFailed', 'None'], { kind: 'tokens-refused', tokenIds: ['t2'] }],
      [['ConditionalCheckFailed', 'ConditionalCheckFailed', 'None'], { kind: 'tokens-refused', tokenIds: ['t1', 't2'] }],
      [['TransactionConflict', 'None', 'None'], { kind: 'conflict' }],
      [['None', 'None', 'TransactionConflict'], { kind: 'conflict' }],
    ])('reads cancellation reasons %j as %j', async (codes, outcome) => {
      ddb.on(TransactWriteCommand).rejects(cancelled(...codes));
      await expect(store.admitTokens(admission(2))).resolves.toEqual(outcome);
    });

    it('answers conflict for a transaction that met another, and rethrows a cancellation for another reason', async () => {
      ddb.on(TransactWriteCommand).rejectsOnce(busy()).rejectsOnce(cancelled('None', 'ThrottlingError'));
      await expect(store.admitTokens(admission(1))).resolves.toEqual({ kind: 'conflict' });
      await expect(store.admitTokens(admission(1))).rejects.toThrow(/cancelled/);
    });

    it('moves every token and, last, the room in one transaction, on condition of live tokens whose check loop has not moved, seats, the ticket and the lease', async () => {
      ddb.on(TransactWriteCommand).resolves({});
      const request = admission(2, { raiseLastAdmittedTo: 2, owner: 'me' });
      await expect(store.admitTokens({ ...request, tokens: [request.tokens[0]!, { ...request.tokens[1]!, checkSeq: 7 }] })).resolves.toEqual({ kind: 'admitted' });
      const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
      expect(items).toHaveLength(3);
      expect(items[0]!.Update).toMatchObject({
        TableName: 'tokens',
        Key: { tokenId: 't1' },
        UpdateExpression: 'SET #state = :admitted, admittedAt = :now, admittedEpoch = :epoch REMOVE lineShard, lineTicket',
        ConditionExpression:
          '#state = :waiting AND (#signal = :heartbeat OR attribute_not_exists(#signal)) AND (heard = :heard OR attribute_not_exists(heard)) AND lastSeenAt >= :liveSince AND roomId = :room AND checkSeq = :seq',
        ExpressionAttributeValues: { ':liveSince': 100, ':room': 'shop', ':now': 200, ':heartbeat': 'heartbeat', ':heard': true, ':epoch': 0, ':seq': 0 },
      });
      expect(items[1]!.Update?.Key).toEqual({ tokenId: 't2' });
      expect(items[1]!.Update?.ExpressionAttributeValues).toMatchObject({ ':seq': 7 });
      expect(items[2]!.Update).toMatchObject({
        TableName: 'rooms',
        Key: { roomId: 'shop' },
        UpdateExpression: 'SET updatedAt = :now, lastAdmittedTicket = :raise ADD activeCount :n, admittedTotal :n',
        ConditionExpression:
          '#state = :open AND #capacity >= :capacity AND activeCount <= :seatsLeft AND (attribute_not_exists(#epoch) OR #epoch = :epoch) AND lastAdmittedTicket < :raise AND admitter = :owner',
        ExpressionAttributeNames: { '#state': 'state', '#capacity': 'capacity', '#epoch': 'epoch' },
        ExpressionAttributeValues: { ':n': 2, ':capacity': 5, ':seatsLeft': 3, ':raise': 2, ':owner': 'me', ':epoch': 0 },
      });
    });

    it('conditions the room on the epoch the admitter saw, and admits the tokens in it', async () => {
      ddb.on(TransactWriteCommand).resolves({});
      await store.admitTokens(admission(1, { epoch: 4 }));
      const [token, room] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!.map((i) => i.Update!);
      expect(token!.ExpressionAttributeValues).toMatchObject({ ':epoch': 4 });
      expect(room!.ConditionExpression).toBe('#state = :open AND #capacity >= :capacity AND activeCount <= :seatsLeft AND #epoch = :epoch');
      expect(room!.ExpressionAttributeValues).toMatchObject({ ':epoch': 4 });
    });

    it('conditions the room on its seats alone for a visitor admitting itself', async () => {
      ddb.on(TransactWriteCommand).resolves({});
      await store.admitTokens(admission(1));
      const room = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![1]!.Update!;
      expect(room.UpdateExpression).toBe('SET updatedAt = :now ADD activeCount :n, admittedTotal :n');
      expect(room.ConditionExpression).toBe('#state = :open AND #capacity >= :capacity AND activeCount <= :seatsLeft AND (attribute_not_exists(#epoch) OR #epoch = :epoch)');
    });

    it('conditions a passthrough admission on the mode instead of the seats', async () => {
      ddb.on(TransactWriteCommand).resolves({});
      await store.admitTokens(admission(2, { uncapped: true }));
      const room = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![2]!.Update!;
      expect(room.ConditionExpression).toBe('#state = :open AND #mode = :passthrough AND (attribute_not_exists(#epoch) OR #epoch = :epoch)');
      expect(room.ExpressionAttributeNames).toEqual({ '#state': 'state', '#epoch': 'epoch', '#mode': 'mode' });
      expect(room.ExpressionAttributeValues).not.toHaveProperty(':capacity');
      expect(room.ExpressionAttributeValues).not.toHaveProperty(':seatsLeft');
      expect(room.UpdateExpression).toBe('SET updatedAt = :now ADD activeCount :n, admittedTotal :n');
    });

    it('takes rate-limit slots on condition that the slot clock is still as read (or never set)', async () => {
      ddb.on(TransactWriteCommand).resolves({});
      await store.admitTokens(admission(1, { rateSlot: { expect: 1_000, next: 1_100 } }));
      await store.admitTokens(admission(1, { rateSlot: { expect: undefined, next: 500 } }));
      const [first, second] = ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems![1]!.Update!);
      expect(first!.ConditionExpression).toMatch(/ AND rateSlotAt = :slotExpect$/);
      expect(first!.UpdateExpression).toBe('SET updatedAt = :now, rateSlotAt = :slotNext ADD activeCount :n, admittedTotal :n');
      expect(first!.ExpressionAttributeValues).toMatchObject({ ':slotExpect': 1_000, ':slotNext': 1_100 });
      expect(second!.ConditionExpression).toMatch(/ AND attribute_not_exists\(rateSlotAt\)$/);
      expect(second!.ExpressionAttributeValues).not.toHaveProperty(':slotExpect');
    });

    it('re-arms the check loop of a token that asks for it in the same update', async () => {
      ddb.on(TransactWriteCommand).resolves({});
      await store.admitTokens({ ...admission(0), tokens: [{ tokenId: 't1', ticket: 1, checkSeq: 0, rearm: { checkBy: 'rearm:me', checkDueAt: 300 } }] });
      const update = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![0]!.Update!;
      expect(update.UpdateExpression).toBe(
        'SET #state = :admitted, admittedAt = :now, admittedEpoch = :epoch, checkBy = :by, checkDueAt = :due ADD checkSeq :one REMOVE lineShard, lineTicket',
      );
      expect(update.ExpressionAttributeValues).toMatchObject({ ':by': 'rearm:me', ':due': 300, ':one': 1 });
    });

    it(`refuses more than ${MAX_ADMIT_BATCH} tokens, or a token twice, without a call`, async () => {
      await expect(store.admitTokens(admission(MAX_ADMIT_BATCH + 1))).rejects.toThrow(/at most 99 tokens/);
      await expect(store.admitTokens({ ...admission(0), tokens: [{ tokenId: 'a', ticket: 1, checkSeq: 0 }, { tokenId: 'a', ticket: 1, checkSeq: 0 }] })).rejects.toThrow(/twice/);
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    });
  });

  describe('removeToken', () => {
    const admittedToken = { tokenId: 't', roomId: 'shop', state: 'ADMITTED' as const };

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

    it('frees the seat of an admitted token and wakes the admitter, with the eviction counted, together', async () => {
      ddb.on(TransactWriteCommand).resolves({});
      await store.removeToken({ token: admittedToken, now: 1, expect: { lastSeenAt: 5, checkSeq: 2 } });
      await store.removeToken({ token: admittedToken, now: 1 });
      const rooms = ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems![1]!.Update!);
      expect(rooms.map((r) => r.UpdateExpression)).toEqual([
        'SET updatedAt = :now ADD activeCount :minusOne, wakeSeq :one, evictedTotal :one',
        'SET updatedAt = :now ADD activeCount :minusOne, wakeSeq :one',
      ]);
      expect(rooms[0]!.ConditionExpression).toBe('attribute_exists(roomId)');
    });

    it('answers changed when a signal moved lastSeenAt first', async () => {
      ddb.on(DeleteCommand).rejects(conditionFailed());
      await expect(store.removeToken({ token: { ...admittedToken, state: 'WAITING' }, now: 1 })).resolves.toBe('changed');
    });

    it('reads the transaction: the token changed, a conflict, or a missing room (then deletes the token alone)', async () => {
      ddb.on(TransactWriteCommand).rejectsOnce(cancelled('ConditionalCheckFailed', 'None')).rejectsOnce(cancelled('None', 'TransactionConflict')).rejectsOnce(cancelled('None', 'ConditionalCheckFailed'));
      ddb.on(DeleteCommand).resolves({});
      await expect(store.removeToken({ token: admittedToken, now: 1 })).resolves.toBe('changed');
      await expect(store.removeToken({ token: admittedToken, now: 1 })).resolves.toBe('conflict');
      await expect(store.removeToken({ token: admittedToken, now: 1 })).resolves.toBe('removed');
      expect(ddb.commandCalls(DeleteCommand)).toHaveLength(1);
    });
  });

  describe('single-item writes meeting a transaction', () => {
    it('are retried briefly, and succeed once the item is free', async () => {
      ddb.on(UpdateCommand).rejectsOnce(busy()).rejectsOnce(busy()).resolves({ Attributes: { ...roomItem, admitter: 'me', admitterUntil: 9 } });
      ddb.on(GetCommand).resolves({});
      await expect(store.acquireAdmitter('shop', 'me', 1, 9)).resolves.toMatchObject({ admitter: 'me' });
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(3);
    });

    it('give up after a few attempts, rethrowing the conflict', async () => {
      ddb.on(UpdateCommand).rejects(busy());
      await expect(store.advanceCheck(advance)).rejects.toThrow(/ongoing/);
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(SINGLE_WRITE_ATTEMPTS);
    });
  });

  describe('advanceCheck', () => {
    it('moves the sequence on with the delivery id and the next due time, or answers changed', async () => {
      ddb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
      await expect(store.advanceCheck(advance)).resolves.toBe('advanced');
      expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
        UpdateExpression: 'SET checkSeq = :next, checkBy = :by, checkDueAt = :due',
        // The due time was computed from the state and signal read: both must still hold.
        ConditionExpression: 'checkSeq = :seq AND #state = :state AND (#signal = :signal OR attribute_not_exists(#signal))',
        ExpressionAttributeValues: { ':seq': 1, ':next': 2, ':by': 'm', ':due': 5, ':state': 'WAITING', ':signal': 'heartbeat' },
      });
      await expect(store.advanceCheck(advance)).resolves.toBe('changed');
    });
  });
});
