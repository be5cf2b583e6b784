/** DELETE /rooms/{roomId}/tokens/{tokenId}: leave; a held seat goes to the next visitor at once. */
import { createLogger } from '../shared/logger.js';
import { roomIdSchema, tokenIdSchema } from '../api/schemas.js';
import { bearerSecret, httpHandler, noContent, pathParams } from '../shared/http.js';
import { domainDeps, visitorsFrom } from '../shared/wiring.js';
import { edgePassIssuerFromEnv } from '../shared/edge-passes.js';

const logger = createLogger('waiting-room-leave');
const visitors = visitorsFrom(domainDeps(logger, { checks: true }));
// Behind the edge gate: leaving also removes the edge pass cookie.
const edgePasses = edgePassIssuerFromEnv();

export const handler = httpHandler(logger, async (event) => {
  const { roomId, tokenId } = pathParams(event, { roomId: roomIdSchema, tokenId: tokenIdSchema });
  const secret = bearerSecret(event);
  await visitors.leave(roomId, tokenId, secret);
  return { ...noContent(), ...(edgePasses ? { cookies: [edgePasses.clearedCookie(roomId)] } : {}) };
});
