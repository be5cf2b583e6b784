/**
 * The DynamoStore's part in scheduled events (lambdas/domain/events/events.ts, event-draw.ts): the event's
 * boundary on the ticket counter item, the draw's ticket moves on the tokens, and the draw and end
 * recorded on the room item (its `event` map attribute: lambdas/shared/schema.ts).
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { lineShardOf, type EventDraw, type EventEndAction, type EventStore, type RoomEvent, type TicketMove } from '../domain/index.js';
import { LINE_INDEX, ROOMS_KEY, ROOM_EVENT_ATTRIBUTE, TICKET_COUNTER, TOKENS_KEY, eventBoundaryAttribute, lineShardKey, ticketCounterKey } from '../shared/schema.js';
import { num } from './dynamo-items.js';
import { conditionFailed, requireRoomId, type DynamoStoreTables, type Item } from './dynamo-store-items.js';

/**
 * The update that fixes an event's boundary at the counter's value before this update's own
 * addition (nested if_not_exists: a counter never written counts as 0), unless already fixed.
 */
export function boundaryAssignment(boundaryOf: string): { set: string; names: Record<string, string> } {
  return {
    set: `#boundary = if_not_exists(#boundary, if_not_exists(${TICKET_COUNTER.attribute}, :zero))`,
    names: { '#boundary': eventBoundaryAttribute(boundaryOf) },
  };
}

/** The room item's `event` map as stored: the RoomEvent's fields, none undefined. */
export function eventToItem(event: RoomEvent): Item {
  return JSON.parse(JSON.stringify(event)) as Item;
}

/** A stored `event` map as a RoomEvent, or undefined when it is not one (a foreign or older value). */
export function eventFromItem(value: unknown): RoomEvent | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const item = value as Record<string, unknown>;
  const text = (k: string) => (typeof item[k] === 'string' ? (item[k] as string) : undefined);
  const eventId = text('eventId');
  const commitment = text('commitment');
  const seed = text('seed');
  if (!eventId || !commitment || !seed || typeof item.prequeueStart !== 'number' || typeof item.start !== 'number') return undefined;
  const event: RoomEvent = {
    eventId,
    prequeueStart: num(item.prequeueStart),
    start: num(item.start),
    atEnd: item.atEnd === 'passthrough' ? 'passthrough' : 'close',
    commitment,
    seed,
  };
  if (typeof item.end === 'number') event.end = item.end;
  if (typeof item.endedAt === 'number') event.endedAt = item.endedAt;
  const draw = item.draw as Record<string, unknown> | undefined;
  if (draw && typeof draw === 'object' && typeof draw.listDigest === 'string') {
    event.draw = { at: num(draw.at), boundary: num(draw.boundary), entries: num(draw.entries), listDigest: draw.listDigest };
  }
  return event;
}

export class DynamoEventOps implements EventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: DynamoStoreTables,
  ) {}

  async fixBoundary(roomId: string, boundaryOf: string): Promise<number> {
    requireRoomId(roomId);
    const { set, names } = boundaryAssignment(boundaryOf);
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tables.rooms,
        Key: { [ROOMS_KEY]: ticketCounterKey(roomId) },
        UpdateExpression: `SET ${set}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':zero': 0 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return num(Attributes?.[names['#boundary']!]);
  }

  async moveTicket(move: TicketMove): Promise<'moved' | 'changed'> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.tokens,
          Key: { [TOKENS_KEY]: move.tokenId },
          UpdateExpression: `SET ticket = :to, #shard = :shard, #lineTicket = :to`,
          ConditionExpression: 'roomId = :room AND #state = :waiting AND ticket = :from',
          ExpressionAttributeNames: { '#state': 'state', '#shard': LINE_INDEX.partitionKey, '#lineTicket': LINE_INDEX.sortKey },
          ExpressionAttributeValues: {
            ':to': move.to,
            ':from': move.from,
            ':room': move.roomId,
            ':waiting': 'WAITING',
            ':shard': lineShardKey(move.roomId, lineShardOf(move.to, move.lineShards)),
          },
        }),
      );
      return 'moved';
    } catch (error) {
      if (conditionFailed(error)) return 'changed';
      throw error;
    }
  }

  async recordDraw(roomId: string, eventId: string, commitment: string, draw: EventDraw, now: number): Promise<'recorded' | 'changed'> {
    return this.onEvent(roomId, eventId, 'SET #event.#draw = :draw, updatedAt = :now ADD wakeSeq :one', 'attribute_not_exists(#event.#draw) AND #event.commitment = :commitment', {
      names: { '#draw': 'draw' },
      values: { ':draw': { ...draw }, ':commitment': commitment, ':now': now, ':one': 1 },
      outcome: 'recorded',
    });
  }

  async endEvent(roomId: string, eventId: string, atEnd: EventEndAction, now: number): Promise<'ended' | 'changed'> {
    const apply = atEnd === 'close' ? '#state = :closed' : '#mode = :passthrough';
    return this.onEvent(roomId, eventId, `SET #event.endedAt = :now, ${apply}, updatedAt = :now ADD wakeSeq :one`, 'attribute_not_exists(#event.endedAt)', {
      names: atEnd === 'close' ? { '#state': 'state' } : { '#mode': 'mode' },
      values: { ':now': now, ':one': 1, ...(atEnd === 'close' ? { ':closed': 'closed' } : { ':passthrough': 'passthrough' }) },
      outcome: 'ended',
    });
  }

  /** An update of the room on condition it still has the event `eventId`, and `condition`. */
  private async onEvent<T extends string>(
    roomId: string,
    eventId: string,
    update: string,
    condition: string,
    options: { names: Record<string, string>; values: Item; outcome: T },
  ): Promise<T | 'changed'> {
    requireRoomId(roomId);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { [ROOMS_KEY]: roomId },
          UpdateExpression: update,
          ConditionExpression: `#event.eventId = :eventId AND ${condition}`,
          ExpressionAttributeNames: { '#event': ROOM_EVENT_ATTRIBUTE, ...options.names },
          ExpressionAttributeValues: { ':eventId': eventId, ...options.values },
        }),
      );
      return options.outcome;
    } catch (error) {
      if (conditionFailed(error)) return 'changed';
      throw error;
    }
  }
}
