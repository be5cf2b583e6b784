/**
 * The DynamoStore's operations on tokens: writing and reading them, signals, the sharded line index,
 * the admission transaction (many tokens and the room's counts at once), removals and the check loop.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  MAX_ADMIT_BATCH,
  type AdvanceCheckRequest,
  type AdmitBatchOutcome,
  type AdmitBatchRequest,
  type LineQuery,
  type RemoveOutcome,
  type RemoveRequest,
  type Token,
  type TouchOutcome,
  type TouchRequest,
  type WaitingEntry,
} from '../domain/index.js';
import { LINE_INDEX, ROOMS_KEY, TOKENS_KEY, TOKEN_TTL_ATTRIBUTE, lineShardKey } from '../shared/schema.js';
import { isNamed, num, retryOnTransactionConflict } from './dynamo-items.js';
import {
  cancellation,
  conditionFailed,
  conflicted,
  failedCondition,
  oldItemOf,
  requireRoomId,
  tokenFromItem,
  tokenToItem,
  BATCH_GET_LIMIT,
  type BatchReader,
  type DynamoStoreTables,
  type Item,
} from './dynamo-store-items.js';

export class DynamoTokenOps {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: DynamoStoreTables,
    private readonly batchGet: BatchReader,
  ) {}

  async putToken(token: Token, lineShards: number): Promise<void> {
    if (token.state === 'WAITING') requireRoomId(token.roomId);
    await this.client.send(
      new PutCommand({
        TableName: this.tables.tokens,
        Item: tokenToItem(token, lineShards),
        ConditionExpression: `attribute_not_exists(${TOKENS_KEY})`,
      }),
    );
  }

  async getToken(tokenId: string, consistent: boolean): Promise<Token | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tables.tokens, Key: { [TOKENS_KEY]: tokenId }, ConsistentRead: consistent }));
    return Item ? tokenFromItem(Item) : undefined;
  }

  /** Eventually consistent, BATCH_GET_LIMIT keys a request; answered in the order asked, missing ones left out. */
  async getTokens(tokenIds: readonly string[]): Promise<Token[]> {
    const unique = [...new Set(tokenIds)]; // BatchGetItem refuses a key twice
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) chunks.push(unique.slice(i, i + BATCH_GET_LIMIT));
    const read = await Promise.all(chunks.map((ids) => this.batchGet(this.tables.tokens, ids.map((id) => ({ [TOKENS_KEY]: id })), false)));
    const byId = new Map(read.flat().map((item) => [String(item[TOKENS_KEY]), tokenFromItem(item)]));
    return tokenIds.flatMap((id) => {
      const token = byId.get(id);
      return token ? [token] : [];
    });
  }

  async touchToken(request: TouchRequest): Promise<TouchOutcome> {
    try {
      const { Attributes } = await this.update({
        TableName: this.tables.tokens,
        Key: { [TOKENS_KEY]: request.tokenId },
        UpdateExpression: 'SET lastSeenAt = :now, #signal = :signal, heard = :heard, #ttl = :ttl',
        // Authenticates (by the secret's hash) and scopes to the room, in the same write.
        ConditionExpression: `attribute_exists(${TOKENS_KEY}) AND secretHash = :hash AND roomId = :room`,
        ExpressionAttributeNames: { '#signal': 'signal', '#ttl': TOKEN_TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ':now': request.now,
          ':signal': request.signal,
          ':heard': true,
          ':ttl': request.expiresAtSeconds,
          ':hash': request.secretHash,
          ':room': request.roomId,
        },
        // The token as it was, to tell how long it had been live; as it is now is that with the SET.
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      const old = tokenFromItem(Attributes ?? {});
      const token: Token = { ...old, lastSeenAt: request.now, signal: request.signal, heard: true, expiresAtSeconds: request.expiresAtSeconds };
      return { kind: 'touched', token, before: { signal: old.signal, lastSeenAt: old.lastSeenAt, heard: old.heard } };
    } catch (error) {
      if (!conditionFailed(error)) throw error;
      const old = oldItemOf(error);
      return old ? { kind: 'mismatch', token: tokenFromItem(old) } : { kind: 'not-found' };
    }
  }

  /** One shard of the line, in ticket order, strictly between afterTicket and beforeTicket (tickets are whole numbers). */
  async listLine(query: LineQuery): Promise<WaitingEntry[]> {
    if (query.limit < 1) return []; // DynamoDB refuses a Query Limit below 1
    const { partitionKey, sortKey, name } = LINE_INDEX;
    const values: Item = { ':shard': lineShardKey(query.roomId, query.shard) };
    let range = '';
    const after = query.afterTicket !== undefined ? Math.floor(query.afterTicket) + 1 : undefined; // lowest ticket wanted
    const before = query.beforeTicket !== undefined ? Math.ceil(query.beforeTicket) - 1 : undefined; // highest ticket wanted
    if (after !== undefined && before !== undefined) {
      if (after > before) return []; // nothing between (and BETWEEN refuses a lower bound above the upper)
      range = ` AND ${sortKey} BETWEEN :after AND :before`; // inclusive, hence the bounds moved in by one
      Object.assign(values, { ':after': after, ':before': before });
    } else if (after !== undefined) {
      range = ` AND ${sortKey} >= :after`;
      values[':after'] = after;
    } else if (before !== undefined) {
      range = ` AND ${sortKey} <= :before`;
      values[':before'] = before;
    }
    const entries: WaitingEntry[] = [];
    let start: Item | undefined;
    do {
      // A page may stop short of Limit at 1 MB: read on until the limit or the end.
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tables.tokens,
          IndexName: name,
          KeyConditionExpression: `${partitionKey} = :shard${range}`,
          ExpressionAttributeValues: values,
          ScanIndexForward: true,
          Limit: query.limit - entries.length,
          ExclusiveStartKey: start,
        }),
      );
      entries.push(...(page.Items ?? []).map((item) => ({ tokenId: String(item[TOKENS_KEY]), ticket: num(item[sortKey]) })));
      start = page.LastEvaluatedKey;
    } while (start && entries.length < query.limit);
    return entries;
  }

  /** The entry of exactly `ticket` in one shard of the line: one Query on the shard's index partition with the sort key equal to it, Limit 1. */
  async lineEntry(roomId: string, shard: number, ticket: number): Promise<WaitingEntry | undefined> {
    const { partitionKey, sortKey, name } = LINE_INDEX;
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tables.tokens,
        IndexName: name,
        KeyConditionExpression: `${partitionKey} = :shard AND ${sortKey} = :ticket`,
        ExpressionAttributeValues: { ':shard': lineShardKey(roomId, shard), ':ticket': ticket },
        Limit: 1,
      }),
    );
    const item = Items?.[0];
    return item ? { tokenId: String(item[TOKENS_KEY]), ticket: num(item[sortKey]) } : undefined;
  }

  /**
   * One TransactWriteItems: each token WAITING → ADMITTED (out of the line, in the room's epoch) on
   * condition it is a live waiting token of the room, and, last, the room's counts on condition of
   * the seats, the epoch (and the lease).
   */
  async admitTokens(request: AdmitBatchRequest): Promise<AdmitBatchOutcome> {
    const { tokens, roomId, now } = request;
    if (tokens.length > MAX_ADMIT_BATCH) throw new Error(`admitTokens takes at most ${MAX_ADMIT_BATCH} tokens (TransactWriteItems takes 100 items), got ${tokens.length}`);
    if (new Set(tokens.map((t) => t.tokenId)).size !== tokens.length) throw new Error('admitTokens got the same token twice');
    const n = tokens.length;
    const roomValues: Item = { ':n': n, ':open': 'open', ':now': now, ':capacity': request.capacity, ':seatsLeft': request.capacity - n, ':epoch': request.epoch };
    let roomSet = 'SET updatedAt = :now';
    // Still in the epoch the admitter saw: an emergency stop that committed meanwhile refuses the batch (a room never stopped has no epoch: 0).
    const inEpoch = request.epoch === 0 ? '(attribute_not_exists(#epoch) OR #epoch = :epoch)' : '#epoch = :epoch';
    const names: Record<string, string> = { '#state': 'state', '#epoch': 'epoch' };
    let roomCondition: string;
    if (request.uncapped) {
      // Passthrough: the seats are no condition, the mode is (a room switched back to fifo meanwhile counts seats again).
      names['#mode'] = 'mode';
      roomValues[':passthrough'] = 'passthrough';
      delete roomValues[':capacity'];
      delete roomValues[':seatsLeft'];
      roomCondition = `#state = :open AND #mode = :passthrough AND ${inEpoch}`;
    } else {
      names['#capacity'] = 'capacity';
      roomCondition = `#state = :open AND #capacity >= :capacity AND activeCount <= :seatsLeft AND ${inEpoch}`;
    }
    if (request.rateSlot !== undefined) {
      // The rate limit's slots (lambdas/domain/admission/admission-rate.ts): still as the admitter read them.
      roomValues[':slotNext'] = request.rateSlot.next;
      roomSet += ', rateSlotAt = :slotNext';
      if (request.rateSlot.expect === undefined) roomCondition += ' AND attribute_not_exists(rateSlotAt)';
      else {
        roomValues[':slotExpect'] = request.rateSlot.expect;
        roomCondition += ' AND rateSlotAt = :slotExpect';
      }
    }
    if (request.raiseLastAdmittedTo !== undefined) {
      roomValues[':raise'] = request.raiseLastAdmittedTo;
      roomSet += ', lastAdmittedTicket = :raise';
      roomCondition += ' AND lastAdmittedTicket < :raise';
    }
    if (request.owner !== undefined) {
      roomValues[':owner'] = request.owner;
      roomCondition += ' AND admitter = :owner';
    }
    const tokenUpdates = tokens.map((entry) => {
      const values: Item = {
        ':admitted': 'ADMITTED',
        ':waiting': 'WAITING',
        ':heartbeat': 'heartbeat',
        ':heard': true,
        ':liveSince': request.liveSince,
        ':room': roomId,
        ':now': now,
        ':epoch': request.epoch,
        ':seq': entry.checkSeq,
      };
      let update = `SET #state = :admitted, admittedAt = :now, admittedEpoch = :epoch REMOVE ${LINE_INDEX.partitionKey}, ${LINE_INDEX.sortKey}`;
      if (entry.rearm) {
        // A new check loop step, due soon: the old step's message finds the sequence moved on.
        update = `SET #state = :admitted, admittedAt = :now, admittedEpoch = :epoch, checkBy = :by, checkDueAt = :due ADD checkSeq :one REMOVE ${LINE_INDEX.partitionKey}, ${LINE_INDEX.sortKey}`;
        Object.assign(values, { ':by': entry.rearm.checkBy, ':due': entry.rearm.checkDueAt, ':one': 1 });
      }
      return {
        Update: {
          TableName: this.tables.tokens,
          Key: { [TOKENS_KEY]: entry.tokenId },
          UpdateExpression: update,
          // Live: waiting, heartbeating (a token older than signals heartbeats), heard from since the
          // join (a token older than `heard` was) and since liveSince.
          ConditionExpression:
            '#state = :waiting AND (#signal = :heartbeat OR attribute_not_exists(#signal)) AND (heard = :heard OR attribute_not_exists(heard)) AND lastSeenAt >= :liveSince AND roomId = :room AND checkSeq = :seq',
          ExpressionAttributeNames: { '#state': 'state', '#signal': 'signal' },
          ExpressionAttributeValues: values,
        },
      };
    });
    const roomUpdate = {
      Update: {
        TableName: this.tables.rooms,
        Key: { [ROOMS_KEY]: roomId },
        UpdateExpression: `${roomSet} ADD activeCount :n, admittedTotal :n`,
        ConditionExpression: roomCondition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: roomValues,
      },
    };
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: [...tokenUpdates, roomUpdate] }));
      return { kind: 'admitted' };
    } catch (error) {
      const reasons = cancellation(error);
      if (reasons) {
        if (failedCondition(reasons[n])) return { kind: 'room-refused' };
        const refused = tokens.filter((_t, i) => failedCondition(reasons[i])).map((t) => t.tokenId);
        if (refused.length > 0) return { kind: 'tokens-refused', tokenIds: refused };
        if (conflicted(reasons)) return { kind: 'conflict' };
      }
      if (isNamed(error, 'TransactionConflictException')) return { kind: 'conflict' };
      throw error;
    }
  }

  async removeToken(request: RemoveRequest): Promise<RemoveOutcome> {
    const { token, expect, now } = request;
    // The token must be in the room the caller names: the seat freed is that room's.
    const values: Item = { ':state': token.state, ':room': token.roomId };
    let condition = '#state = :state AND roomId = :room';
    if (expect) {
      values[':seen'] = expect.lastSeenAt;
      values[':seq'] = expect.checkSeq;
      condition += ' AND lastSeenAt = :seen AND checkSeq = :seq';
    }
    const deletion = {
      TableName: this.tables.tokens,
      Key: { [TOKENS_KEY]: token.tokenId },
      ConditionExpression: condition,
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: values,
    };
    // The room changes with the token: a seat freed (which wakes the admitter), an eviction counted (the checker's removals).
    const admitted = token.state === 'ADMITTED';
    const roomAdds = [...(admitted ? ['activeCount :minusOne', 'wakeSeq :one'] : []), ...(expect ? ['evictedTotal :one'] : [])];
    try {
      if (roomAdds.length === 0) {
        await this.client.send(new DeleteCommand(deletion));
      } else {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              { Delete: deletion },
              {
                Update: {
                  TableName: this.tables.rooms,
                  Key: { [ROOMS_KEY]: token.roomId },
                  UpdateExpression: `SET updatedAt = :now ADD ${roomAdds.join(', ')}`,
                  // Never create a room item: a token whose room is gone is simply deleted (below).
                  ConditionExpression: `attribute_exists(${ROOMS_KEY})`,
                  ExpressionAttributeValues: { ':now': now, ':one': 1, ...(admitted ? { ':minusOne': -1 } : {}) },
                },
              },
            ],
          }),
        );
      }
      return 'removed';
    } catch (error) {
      if (conditionFailed(error)) return 'changed';
      const reasons = cancellation(error);
      if (reasons) {
        if (failedCondition(reasons[0])) return 'changed';
        if (conflicted(reasons)) return 'conflict';
        if (failedCondition(reasons[1])) return this.deleteOrphan(deletion);
      }
      if (isNamed(error, 'TransactionConflictException')) return 'conflict';
      throw error;
    }
  }

  async advanceCheck(request: AdvanceCheckRequest): Promise<'advanced' | 'changed'> {
    const { tokenId, fromSeq, by, dueAt, expect } = request;
    // A token without a signal attribute (written before signals existed) counts as heartbeating.
    const signalIs = expect.signal === 'heartbeat' ? '(#signal = :signal OR attribute_not_exists(#signal))' : '#signal = :signal';
    try {
      await this.update({
        TableName: this.tables.tokens,
        Key: { [TOKENS_KEY]: tokenId },
        UpdateExpression: 'SET checkSeq = :next, checkBy = :by, checkDueAt = :due',
        ConditionExpression: `checkSeq = :seq AND #state = :state AND ${signalIs}`,
        ExpressionAttributeNames: { '#state': 'state', '#signal': 'signal' },
        ExpressionAttributeValues: { ':seq': fromSeq, ':next': fromSeq + 1, ':by': by, ':due': dueAt, ':state': expect.state, ':signal': expect.signal },
      });
      return 'advanced';
    } catch (error) {
      if (conditionFailed(error)) return 'changed';
      throw error;
    }
  }

  /** The token's room item does not exist: there is no seat or count to change, only the token to delete. */
  private async deleteOrphan(deletion: ConstructorParameters<typeof DeleteCommand>[0]): Promise<RemoveOutcome> {
    try {
      await this.client.send(new DeleteCommand(deletion));
      return 'removed';
    } catch (error) {
      if (conditionFailed(error)) return 'changed';
      if (isNamed(error, 'TransactionConflictException')) return 'conflict';
      throw error;
    }
  }

  /** A single-item update, retried briefly if its item is busy with a transaction. */
  private update(input: ConstructorParameters<typeof UpdateCommand>[0]) {
    return retryOnTransactionConflict(() => this.client.send(new UpdateCommand(input)));
  }
}
