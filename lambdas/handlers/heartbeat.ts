/**
 * A visitor's signals, one function for both routes (DESIGN §2 step 2):
 *   POST /rooms/{roomId}/tokens/{tokenId}/heartbeat   "I am still here" (front zone and admitted)
 *   POST /rooms/{roomId}/tokens/{tokenId}/keep-place  "keep my place" (far back, minutes apart)
 * Behind the edge gate (EDGE_PASS_ISSUER set), an answer that finds the visitor admitted also sets
 * the edge pass cookie (shared/edge-passes.ts).
 */
import { createLogger } from '../shared/logger.js';
import { roomIdSchema, tokenIdSchema } from '../api/schemas.js';
import { bearerSecret, httpHandler, json, noBody, pathParams } from '../shared/http.js';
import { domainDeps, visitorsFrom } from '../shared/wiring.js';
import { passIssuerFromEnv } from '../shared/passes.js';
import { edgePassIssuerFromEnv } from '../shared/edge-passes.js';

const logger = createLogger('waiting-room-heartbeat');
// It may send a check: admitting a visitor who just came from far back re-arms its check loop.
const visitors = visitorsFrom(domainDeps(logger, { passes: passIssuerFromEnv(), checks: true }));
// Behind the edge gate: an admitted visitor's answer also sets the edge pass cookie.
const edgePasses = edgePassIssuerFromEnv();

export const handler = httpHandler(logger, async (event) => {
  const { roomId, tokenId } = pathParams(event, { roomId: roomIdSchema, tokenId: tokenIdSchema });
  const secret = bearerSecret(event);
  noBody(event);
  const keepPlace = event.routeKey?.endsWith('/keep-place') ?? false;
  const view = await (keepPlace ? visitors.keepPlace(roomId, tokenId, secret) : visitors.heartbeat(roomId, tokenId, secret));
  const cookies = edgePasses ? await edgePasses.cookiesFor(view, Date.now()) : [];
  return { ...json(200, view), ...(cookies.length > 0 ? { cookies } : {}) };
});
