/**
 * GET /rooms/{roomId}/status: the public room status (DESIGN §3), the same bytes for every visitor,
 * cacheable at the edge for a second (and served stale for two more while it refreshes), with an
 * ETag so that a page or a cache that has the current bytes gets 304 and nothing else.
 */
import { createHash } from 'node:crypto';
import { createLogger } from '../shared/logger.js';
import { roomIdSchema } from '../api/schemas.js';
import { httpHandler, ifNoneMatch, pathParams, type HttpResponse } from '../shared/http.js';
import { domainDeps, roomsFrom } from '../shared/wiring.js';

export const STATUS_CACHE_CONTROL = 'public, max-age=1, stale-while-revalidate=2';

const logger = createLogger('waiting-room-status');
const rooms = roomsFrom(domainDeps(logger, { waitingCounts: true }));

export const handler = httpHandler(logger, async (event): Promise<HttpResponse> => {
  const { roomId } = pathParams(event, { roomId: roomIdSchema });
  const body = JSON.stringify(await rooms.status(roomId));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  const headers = { 'Content-Type': 'application/json', 'Cache-Control': STATUS_CACHE_CONTROL, ETag: etag };
  if (ifNoneMatch(event, etag)) return { statusCode: 304, headers, body: '' };
  return { statusCode: 200, headers, body };
});
