/** Factories for token stream records and events, shaped as Lambda delivers them. */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { TokenStreamEvent } from '../../../lambdas/adapters/dynamo-stats.js';

export const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/tokens/stream/2026-01-01T00:00:00.000';
export const TTL_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };

export type State = 'WAITING' | 'ADMITTED';

export function tokenItem(tokenId: string, state: State, roomId = 'shop', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { tokenId, roomId, ticket: 1, secretHash: 'h', state, issuedAt: 0, lastSeenAt: 0, checkSeq: 0, expiresAt: 0, ...extra };
}

export interface RecordSpec {
  seq: string;
  tokenId?: string;
  roomId?: string;
  before?: State;
  after?: State;
  /** Overrides the eventName derived from the images; null leaves it out (DynamoDB Local TTL deletions). */
  eventName?: DynamoDBRecord['eventName'] | null;
  userIdentity?: unknown;
  /** Attributes added to the old and the new image (a token's ticket, issuedAt, admittedAt...). */
  oldImage?: Record<string, unknown>;
  newImage?: Record<string, unknown>;
  /** The record's ApproximateCreationDateTime, epoch seconds as Lambda delivers it. */
  createdSeconds?: number;
}

export function streamRecord(spec: RecordSpec): DynamoDBRecord {
  const tokenId = spec.tokenId ?? `tok-${spec.seq}`;
  const roomId = spec.roomId ?? 'shop';
  const derived = spec.before && spec.after ? 'MODIFY' : spec.after ? 'INSERT' : 'REMOVE';
  const record: DynamoDBRecord = {
    eventID: `evt-${spec.seq}`,
    eventSource: 'aws:dynamodb',
    eventSourceARN: STREAM_ARN,
    eventVersion: '1.1',
    awsRegion: 'us-east-1',
    dynamodb: {
      Keys: marshall({ tokenId }) as never,
      SequenceNumber: spec.seq,
      SizeBytes: 100,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
  if (spec.eventName !== null) record.eventName = spec.eventName ?? derived;
  if (spec.before) record.dynamodb!.OldImage = marshall(tokenItem(tokenId, spec.before, roomId, spec.oldImage)) as never;
  if (spec.after) record.dynamodb!.NewImage = marshall(tokenItem(tokenId, spec.after, roomId, spec.newImage)) as never;
  if (spec.createdSeconds !== undefined) record.dynamodb!.ApproximateCreationDateTime = spec.createdSeconds;
  if (spec.userIdentity !== undefined) record.userIdentity = spec.userIdentity;
  return record;
}

export function streamEvent(shardId: string | undefined, records: DynamoDBRecord[]): TokenStreamEvent {
  const event: TokenStreamEvent = { Records: records, eventSourceARN: STREAM_ARN };
  if (shardId !== undefined) event.shardId = shardId;
  return event;
}
