/**
 * StatsStore on DynamoDB: per-room counts fed by the token stream, each record counted exactly once
 * (DESIGN §5.6), with ONE conditional UpdateItem per room per batch.
 *
 * ## What identifies a shard
 * A DynamoDB stream record, as Lambda delivers it, carries `eventID` (a random id, unique per
 * record), `eventSourceARN` (the stream's ARN: the same for every shard), and
 * `dynamodb.SequenceNumber` (unique within its shard and increasing along it; nothing is promised
 * about order between shards). None of them names the shard, and the Lambda context does not
 * either. Lambda does put the shard id in the event, as `event.shardId`, when the event source
 * mapping has a tumbling window (TumblingWindowInSeconds > 0; the response must then carry a
 * `state`, which the handler returns empty). So the mapping of this function sets a tumbling window
 * and ParallelizationFactor 1 (one batch of a shard at a time), and the local runtime, which
 * reads one shard at a time, sets `shardId` the same way. A batch without a shard id is refused
 * (an error: retried, then set aside in the failure queue, where an alarm sees it) rather than
 * counted in a way that could be wrong.
 *
 * ## The scheme
 * The room's stats item holds, besides the counters, a map `shards`: shard id → { seq, at }, the
 * sequence number (zero-padded to 40 digits, so that string order is numeric order) of the last
 * record of that shard counted for the room, and the time of that write. For each room of a batch:
 *  1. read the item (strongly consistent);
 *  2. keep the room's records whose sequence number is above the shard's marker (planStatsWrite);
 *     none left: nothing to write;
 *  3. one UpdateItem: ADD the sum of their deltas to the counters, SET the shard's marker to the
 *     last of them, on condition that the marker is still what step 1 read (or still absent);
 *     in the same write, REMOVE other shards' markers older than 48 h, each on condition that it
 *     is unchanged;
 *  4. when the condition fails, start again from step 1 (a few times, with jitter).
 *
 * ## Why each record counts once
 * - Lambda hands a shard's records to the function in order, one batch at a time, and a record is
 *   offered for the first time only after every earlier record of the shard succeeded or was
 *   reported failed. The handler reports a failed room from its earliest record of the batch (and
 *   every later record); Lambda retries from the lowest sequence number reported. So a marker only
 *   ever moves over records that were all counted: at or below it, counted; above it, not.
 * - A replayed batch, a batch split in two (bisect), or a retry from a reported record: what is at
 *   or below the marker is skipped, the rest is counted once.
 * - Two shards writing one room: each condition covers only the writer's own marker (and the
 *   markers it prunes), so they do not block each other, and ADD is atomic. Two writers creating
 *   the `shards` map race on attribute_not_exists, and the loser re-reads.
 * - One shard twice at once (a timed-out invocation still writing while Lambda retries): the
 *   condition on the marker lets one of them move it; the other re-reads and skips.
 * - Pruning: a marker goes 48 h after its shard last wrote to the room. Every record at or below
 *   it entered the stream before that write, so it has been trimmed (24 h retention) and cannot
 *   come back; every later record of that shard is above it and is counted. The item holds at
 *   most one marker per shard that wrote to the room within 48 h (about 100 bytes each).
 * - A shard that is split: Lambda finishes a parent before its children, and each has its own marker.
 * What this cannot mend: records that exhaust their retries are set aside in the failure queue
 * (the stats drift, and the queue's alarm fires: nothing is lost silently).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { realSleep } from '../domain/deps.js';
import type { Room } from '../domain/model.js';
import type { RoomsSource } from '../domain/reporting/metrics.js';
import {
  STATS_COUNTERS,
  planStatsWrite,
  type ApplyResult,
  type ImageState,
  type PublishedCounters,
  type RoomStats,
  type ShardMarker,
  type ShardMarkers,
  type StatsStore,
  type StatsWritePlan,
  type TokenChange,
} from '../domain/reporting/stats.js';
import { STATS_KEY } from '../shared/schema.js';
import { visitorSampleOf } from './dynamo-fairness.js';
import { roomsFromScan } from './dynamo-store-items.js';
import { batchGetAll, isNamed, num } from './dynamo-items.js';

type Item = Record<string, unknown>;

/** Attribute names of a stats item besides the counters (STATS_COUNTERS). */
export const STATS_ATTRIBUTE = {
  shards: 'shards',
  updatedAt: 'updatedAt',
  publishedAt: 'publishedAt',
  publishedAdmittedTotal: 'publishedAdmittedTotal',
  publishedEvictedTotal: 'publishedEvictedTotal',
  publishedIdle: 'publishedIdle',
} as const;

export class StatsContentionError extends Error {
  override name = 'StatsContentionError';
  constructor(
    readonly roomId: string,
    attempts: number,
  ) {
    super(`stats of room ${roomId} kept changing under ${attempts} attempts to write them`);
  }
}

export class MalformedStreamRecordError extends Error {
  override name = 'MalformedStreamRecordError';
}

export interface DynamoStatsOptions {
  /** Attempts at a room's conditional write before giving up. @default 6 */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}


function markersFromItem(item: Item | undefined): ShardMarkers | undefined {
  const raw = item?.[STATS_ATTRIBUTE.shards];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null) throw new Error(`stats item ${String(item?.[STATS_KEY])}: "shards" is not a map`);
  const markers: Record<string, ShardMarker> = {};
  for (const [shardId, value] of Object.entries(raw as Record<string, unknown>)) {
    const marker = value as Partial<ShardMarker> | null;
    if (typeof marker?.seq !== 'string' || typeof marker.at !== 'number') {
      throw new Error(`stats item ${String(item?.[STATS_KEY])}: malformed marker of shard ${shardId}`);
    }
    markers[shardId] = { seq: marker.seq, at: marker.at };
  }
  return markers;
}

export function statsFromItem(item: Item): RoomStats {
  const stats: RoomStats = {
    roomId: String(item[STATS_KEY]),
    waiting: num(item.waiting),
    active: num(item.active),
    issuedTotal: num(item.issuedTotal),
    admittedTotal: num(item.admittedTotal),
    removedTotal: num(item.removedTotal),
    expiredTotal: num(item.expiredTotal),
    updatedAt: num(item[STATS_ATTRIBUTE.updatedAt]),
  };
  if (typeof item[STATS_ATTRIBUTE.publishedAt] === 'number') {
    stats.published = {
      at: num(item[STATS_ATTRIBUTE.publishedAt]),
      admittedTotal: num(item[STATS_ATTRIBUTE.publishedAdmittedTotal]),
      evictedTotal: num(item[STATS_ATTRIBUTE.publishedEvictedTotal]),
    };
    if (item[STATS_ATTRIBUTE.publishedIdle] === true) stats.published.idle = true;
  }
  return stats;
}

/** The UpdateItem of a plan: counters, the shard's marker, pruning, and the conditions. */
export function statsUpdateInput(
  table: string,
  roomId: string,
  shardId: string,
  plan: StatsWritePlan,
  mapExists: boolean,
): ConstructorParameters<typeof UpdateCommand>[0] {
  const names: Record<string, string> = { '#shards': STATS_ATTRIBUTE.shards, '#updatedAt': STATS_ATTRIBUTE.updatedAt };
  const values: Item = { ':now': plan.marker.at };
  const sets = ['#updatedAt = :now'];
  const adds: string[] = [];
  const removes: string[] = [];
  const conditions: string[] = [];
  for (const counter of STATS_COUNTERS) {
    names[`#${counter}`] = counter;
    values[`:${counter}`] = plan.delta[counter];
    adds.push(`#${counter} :${counter}`);
  }
  if (!mapExists) {
    sets.push('#shards = :shards');
    values[':shards'] = { [shardId]: plan.marker };
    conditions.push('attribute_not_exists(#shards)');
  } else {
    names['#lane'] = shardId;
    values[':marker'] = plan.marker;
    sets.push('#shards.#lane = :marker');
    if (plan.previous) {
      names['#seq'] = 'seq';
      values[':previous'] = plan.previous.seq;
      conditions.push('#shards.#lane.#seq = :previous');
    } else {
      conditions.push('attribute_not_exists(#shards.#lane)');
    }
    plan.prune.forEach((old, i) => {
      names['#seq'] = 'seq';
      names[`#old${i}`] = old.shardId;
      values[`:old${i}`] = old.seq;
      removes.push(`#shards.#old${i}`);
      conditions.push(`#shards.#old${i}.#seq = :old${i}`);
    });
  }
  let expression = `SET ${sets.join(', ')} ADD ${adds.join(', ')}`;
  if (removes.length > 0) expression += ` REMOVE ${removes.join(', ')}`;
  return {
    TableName: table,
    Key: { [STATS_KEY]: roomId },
    UpdateExpression: expression,
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

export class DynamoStatsStore implements StatsStore {
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    options: DynamoStatsOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 6;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
  }

  async applyChanges(roomId: string, shardId: string, changes: readonly TokenChange[], now: number): Promise<ApplyResult> {
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const { Item } = await this.client.send(
        new GetCommand({
          TableName: this.table,
          Key: { [STATS_KEY]: roomId },
          ConsistentRead: true,
          ProjectionExpression: '#shards',
          ExpressionAttributeNames: { '#shards': STATS_ATTRIBUTE.shards },
        }),
      );
      const markers = markersFromItem(Item);
      const plan = planStatsWrite(markers, shardId, changes, now);
      if (!plan) return { applied: 0, skipped: changes.length };
      try {
        await this.client.send(new UpdateCommand(statsUpdateInput(this.table, roomId, shardId, plan, markers !== undefined)));
        return { applied: plan.pending.length, skipped: plan.skipped };
      } catch (error) {
        if (!isNamed(error, 'ConditionalCheckFailedException')) throw error;
        if (attempt < this.maxAttempts) await this.sleep(Math.floor(this.random() * 20 * attempt));
      }
    }
    throw new StatsContentionError(roomId, this.maxAttempts);
  }

  async getStats(roomIds: readonly string[]): Promise<Map<string, RoomStats>> {
    const stats = new Map<string, RoomStats>();
    const unique = [...new Set(roomIds)];
    const names: Record<string, string> = { '#key': STATS_KEY };
    const projected = [...STATS_COUNTERS, STATS_ATTRIBUTE.updatedAt, STATS_ATTRIBUTE.publishedAt, STATS_ATTRIBUTE.publishedAdmittedTotal, STATS_ATTRIBUTE.publishedEvictedTotal, STATS_ATTRIBUTE.publishedIdle];
    projected.forEach((name, i) => (names[`#a${i}`] = name));
    const projection = ['#key', ...projected.map((_name, i) => `#a${i}`)].join(', ');
    const items = await batchGetAll(
      this.client,
      this.table,
      unique.map((roomId) => ({ [STATS_KEY]: roomId })),
      { consistent: true, projection: { expression: projection, names }, attempts: this.maxAttempts, backoffMs: (attempt) => Math.floor(this.random() * 50 * attempt), sleep: this.sleep, what: 'stats keys' },
    );
    for (const item of items) stats.set(String(item[STATS_KEY]), statsFromItem(item));
    return stats;
  }

  async claimPublication(roomId: string, previousAt: number | undefined, next: PublishedCounters): Promise<boolean> {
    const values: Item = { ':at': next.at, ':admitted': next.admittedTotal, ':evicted': next.evictedTotal };
    if (previousAt !== undefined) values[':previous'] = previousAt;
    if (next.idle) values[':idle'] = true;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [STATS_KEY]: roomId },
          UpdateExpression: `SET #at = :at, #admitted = :admitted, #evicted = :evicted${next.idle ? ', #idle = :idle' : ' REMOVE #idle'}`,
          ConditionExpression: previousAt === undefined ? 'attribute_not_exists(#at)' : '#at = :previous',
          ExpressionAttributeNames: {
            '#at': STATS_ATTRIBUTE.publishedAt,
            '#admitted': STATS_ATTRIBUTE.publishedAdmittedTotal,
            '#evicted': STATS_ATTRIBUTE.publishedEvictedTotal,
            '#idle': STATS_ATTRIBUTE.publishedIdle,
          },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isNamed(error, 'ConditionalCheckFailedException')) return false;
      throw error;
    }
  }
}

/** The rooms table, read whole for the metrics publisher (a handful of items). */
export class DynamoRoomsSource implements RoomsSource {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async listRooms(): Promise<Room[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    // Ticket counter items live in the same table: each is paired with its room, never a room of its own.
    return roomsFromScan(items);
  }
}

// ---------------------------------------------------------------------------------------------
// The token stream, as Lambda delivers it.

/** A DynamoDB stream event, with the fields Lambda adds when the mapping has a tumbling window. */
export interface TokenStreamEvent extends DynamoDBStreamEvent {
  shardId?: string;
  eventSourceARN?: string;
  window?: { start: string; end: string };
  state?: Record<string, unknown>;
  isFinalInvokeForWindow?: boolean;
  isWindowTerminatedEarly?: boolean;
}

export class ShardIdMissingError extends Error {
  override name = 'ShardIdMissingError';
  constructor() {
    super(
      'The stream event has no shardId: give the event source mapping a tumbling window (TumblingWindowInSeconds > 0) ' +
        'so that Lambda names the shard, or, in the local runtime, set event.shardId to the shard the batch was read from',
    );
  }
}

/** The shard a batch was read from (see the top of this file). */
export function shardIdOf(event: TokenStreamEvent): string {
  if (typeof event.shardId !== 'string' || event.shardId.length === 0) throw new ShardIdMissingError();
  return event.shardId;
}

const imageOf = (image: unknown): Item | undefined =>
  image ? (unmarshall(image as Record<string, AttributeValue>) as Item) : undefined;

const stateOf = (image: Item | undefined): ImageState | undefined => {
  if (!image) return undefined;
  return image.state === 'WAITING' || image.state === 'ADMITTED' ? image.state : 'UNKNOWN';
};

/** A removal made by the table's TTL process (DynamoDB on AWS marks it with this identity). */
export function isTtlRemoval(record: DynamoDBRecord): boolean {
  const identity = record.userIdentity as { type?: unknown; principalId?: unknown } | undefined;
  return identity?.type === 'Service' && identity.principalId === 'dynamodb.amazonaws.com';
}

/**
 * What a token stream record says, read from its images (the stream view is NEW_AND_OLD_IMAGES),
 * with the visitor's fairness sample when the record ends a wait.
 * A record with an old image and no new one is a removal whatever its eventName: DynamoDB Local
 * emits TTL deletions with an unknown or missing eventName.
 */
export function tokenChangeOf(record: DynamoDBRecord): TokenChange {
  const sequenceNumber = record.dynamodb?.SequenceNumber;
  if (typeof sequenceNumber !== 'string' || !/^[0-9]+$/.test(sequenceNumber)) {
    throw new MalformedStreamRecordError(`stream record ${String(record.eventID)} has no valid sequence number`);
  }
  let before = imageOf(record.dynamodb?.OldImage);
  let after = imageOf(record.dynamodb?.NewImage);
  if (record.eventName === 'INSERT') before = undefined;
  if (record.eventName === 'REMOVE') after = undefined;
  if (!before && !after) {
    throw new MalformedStreamRecordError(`stream record ${sequenceNumber} has no image: the stream must be NEW_AND_OLD_IMAGES`);
  }
  if (record.eventName === 'MODIFY' && (!before || !after)) {
    throw new MalformedStreamRecordError(`MODIFY record ${sequenceNumber} lacks an image: the stream must be NEW_AND_OLD_IMAGES`);
  }
  const roomId = after?.roomId ?? before?.roomId;
  if (typeof roomId !== 'string' || roomId.length === 0) {
    throw new MalformedStreamRecordError(`stream record ${sequenceNumber} is not a token: no roomId`);
  }
  const change: TokenChange = { roomId, sequenceNumber, expired: !after && isTtlRemoval(record) };
  const beforeState = stateOf(before);
  const afterState = stateOf(after);
  if (beforeState) change.before = beforeState;
  if (afterState) change.after = afterState;
  // An admission or a departure from the line also gives the fairness report a sample (lambdas/adapters/dynamo-fairness.ts).
  const sample = visitorSampleOf(record, before, after, change);
  if (sample) change.sample = sample;
  return change;
}
