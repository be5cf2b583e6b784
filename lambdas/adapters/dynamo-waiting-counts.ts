/**
 * The counted number of waiting visitors of a room, for the public status: the stats table's
 * `waiting`, kept from the token stream (DESIGN §2.4, §5.6), read with one GetItem and cached in
 * the function environment for as long as a room view (the status is itself cached at the edge).
 */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ROOM_VIEW_MAX_AGE_MS, type Clock, type WaitingCounts } from '../domain/index.js';
import { STATS_KEY } from '../shared/schema.js';
import { num } from './dynamo-items.js';

export class DynamoWaitingCounts implements WaitingCounts {
  private readonly cache = new Map<string, { waiting: number | undefined; at: number }>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
    private readonly maxAgeMs: number = ROOM_VIEW_MAX_AGE_MS,
  ) {}

  async waiting(roomId: string): Promise<number | undefined> {
    const cached = this.cache.get(roomId);
    if (cached && this.clock.now() - cached.at < this.maxAgeMs) return cached.waiting;
    const at = this.clock.now();
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { [STATS_KEY]: roomId }, ProjectionExpression: 'waiting, updatedAt' }),
    );
    // Counted once the aggregator has written the room (updatedAt > 0); never below zero.
    const waiting = Item && num(Item.updatedAt) > 0 ? Math.max(0, num(Item.waiting)) : undefined;
    this.cache.set(roomId, { waiting, at });
    return waiting;
  }
}
