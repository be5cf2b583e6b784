/** GET /rooms/{roomId}/status: public room status, cacheable for a second. */
import { createLogger } from '../shared/logger.js';
import { httpHandler, json, pathParams, roomIdSchema } from '../shared/http.js';
import { domainDeps, roomsFrom } from '../shared/wiring.js';

const logger = createLogger('waiting-room-status');
const rooms = roomsFrom(domainDeps(logger));

export const handler = httpHandler(logger, async (event) => {
  const { roomId } = pathParams(event, { roomId: roomIdSchema });
  return json(200, await rooms.status(roomId), { 'Cache-Control': 'public, max-age=1' });
});
