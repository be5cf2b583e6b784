/**
 * GET /rooms/{roomId}/status: the public room status (DESIGN §3), the same bytes for every visitor,
 * cacheable at the edge for a second (and served stale for two more while it refreshes), with an
 * ETag so that a page or a cache that has the current bytes gets 304 and nothing else.
 *
 * GET /rooms/{roomId}/lottery: the room's event lottery as published (lambdas/domain/events/events.ts):
 * the commitment before the draw (cacheable for seconds), the seed and every entry once drawn
 * (they no longer change: cacheable for minutes).
 */
import { createHash } from 'node:crypto';
import { DynamoLotteryDraws } from '../adapters/dynamo-lottery.js';
import { createLogger } from '../shared/logger.js';
import { readEnv, required } from '../shared/env.js';
import { roomIdSchema } from '../api/schemas.js';
import { httpHandler, ifNoneMatch, json, pathParams, type HttpResponse } from '../shared/http.js';
import { domainDeps, dynamoDocumentClient, roomsFrom } from '../shared/wiring.js';

export const STATUS_CACHE_CONTROL = 'public, max-age=1, stale-while-revalidate=2';
/** A drawn lottery no longer changes; one not drawn yet changes at the draw. */
export const LOTTERY_CACHE_CONTROL = { drawn: 'public, max-age=300', pending: 'public, max-age=2' } as const;

const logger = createLogger('waiting-room-status');
const rooms = roomsFrom({
  ...domainDeps(logger, { waitingCounts: true }),
  draws: new DynamoLotteryDraws(dynamoDocumentClient(), readEnv({ STATS_TABLE: required() }).STATS_TABLE),
});

export const handler = httpHandler(logger, async (event): Promise<HttpResponse> => {
  const { roomId } = pathParams(event, { roomId: roomIdSchema });
  if (event.routeKey === 'GET /rooms/{roomId}/lottery') {
    const { publication, drawn } = await rooms.lottery(roomId);
    return json(200, publication, { 'Cache-Control': drawn ? LOTTERY_CACHE_CONTROL.drawn : LOTTERY_CACHE_CONTROL.pending });
  }
  const body = JSON.stringify(await rooms.status(roomId));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  const headers = { 'Content-Type': 'application/json', 'Cache-Control': STATUS_CACHE_CONTROL, ETag: etag };
  if (ifNoneMatch(event, etag)) return { statusCode: 304, headers, body: '' };
  return { statusCode: 200, headers, body };
});
