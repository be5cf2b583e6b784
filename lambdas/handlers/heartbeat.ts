/** POST /rooms/{roomId}/tokens/{tokenId}/heartbeat: "I am still here". */
import { createLogger } from '../shared/logger.js';
import { bearerSecret, httpHandler, json, noBody, pathParams, roomIdSchema, tokenIdSchema } from '../shared/http.js';
import { domainDeps, visitorsFrom } from '../shared/wiring.js';
import { passIssuerFromEnv } from '../shared/passes.js';

const logger = createLogger('waiting-room-heartbeat');
const visitors = visitorsFrom(domainDeps(logger, passIssuerFromEnv()));

export const handler = httpHandler(logger, async (event) => {
  const { roomId, tokenId } = pathParams(event, { roomId: roomIdSchema, tokenId: tokenIdSchema });
  const secret = bearerSecret(event);
  noBody(event);
  return json(200, await visitors.heartbeat(roomId, tokenId, secret));
});
