/** GET /rooms/{roomId}/tokens/{tokenId}: state and position, no side effect. */
import { createLogger } from '../shared/logger.js';
import { roomIdSchema, tokenIdSchema } from '../api/schemas.js';
import { bearerSecret, httpHandler, json, pathParams } from '../shared/http.js';
import { domainDeps, visitorsFrom } from '../shared/wiring.js';
import { passIssuerFromEnv } from '../shared/passes.js';

const logger = createLogger('waiting-room-read');
const visitors = visitorsFrom(domainDeps(logger, { passes: passIssuerFromEnv() }));

export const handler = httpHandler(logger, async (event) => {
  const { roomId, tokenId } = pathParams(event, { roomId: roomIdSchema, tokenId: tokenIdSchema });
  const secret = bearerSecret(event);
  return json(200, await visitors.read(roomId, tokenId, secret));
});
