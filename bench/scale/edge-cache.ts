/**
 * CloudFront in front of GET /rooms/{roomId}/status (Cache-Control: public, max-age=1; ETag).
 *
 * Every poll is a CloudFront request. A fresh copy answers at the edge; a stale one costs one
 * origin fetch (API Gateway → the status function). Assumption: Origin Shield, one regional
 * cache in front of the origin, so all edge locations together fetch a room's status at most
 * once per max-age (without it, each of the edge locations serving the room would, up to a few
 * hundred a second in a worldwide drop). Requests arriving while a fetch is under way are
 * answered from it (CloudFront collapses them). Every answer is counted as a full 200 (an upper
 * bound: a 304 carries no body), out of CloudFront at its data-transfer price.
 */
import type { RoomStatus } from '../../lambdas/domain/index.js';
import { SIZE, STATUS_MAX_AGE_MS } from './assumptions.js';
import type { Meter } from './meter.js';

export type OriginFetch = (roomId: string, at: number) => Promise<RoomStatus>;

export class EdgeCache {
  private readonly cached = new Map<string, { status: RoomStatus; fetchedAt: number }>();

  constructor(
    private readonly meter: Meter,
    private readonly origin: OriginFetch,
  ) {}

  async status(roomId: string, at: number): Promise<RoomStatus> {
    this.meter.tally.add('cf.requests');
    this.meter.tally.add('cf.bytesOut', SIZE.headers + SIZE.status);
    const entry = this.cached.get(roomId);
    if (entry && at - entry.fetchedAt < STATUS_MAX_AGE_MS) return entry.status;
    this.meter.tally.add('cf.originFetches');
    const status = await this.origin(roomId, at);
    this.cached.set(roomId, { status, fetchedAt: at });
    return status;
  }
}
