/**
 * A visitor's signals, one function for the routes that keep or end a visit with a credential
 * (DESIGN §2 step 2; issue 12, item 5):
 *   POST /rooms/{roomId}/tokens/{tokenId}/heartbeat   "I am still here" (front zone and admitted)
 *   POST /rooms/{roomId}/tokens/{tokenId}/keep-place  "keep my place" (far back, minutes apart)
 *   POST /rooms/{roomId}/passes/revoke                the origin: "this visitor is done", with the
 *                                                     visitor's pass; 204, the seat to the next in line
 * The revoke route lives here because this function already holds exactly what it needs (the pass
 * key set it signs with, to verify the pass; the writes that free a seat and admit; the check
 * queue): no other function gains the key set or a table permission for it.
 * Behind the edge gate (EDGE_PASS_ISSUER set), an answer that finds the visitor admitted also sets
 * the edge pass cookie (shared/edge-passes.ts), and one that finds its visit over (410: revoked by
 * an emergency stop; 404: gone, its seat freed by the origin, say) clears it, so that the browser's
 * next request to the site meets the gate at once rather than when the edge pass expires.
 */
import { createLogger } from '../shared/logger.js';
import { roomIdSchema, tokenIdSchema } from '../api/schemas.js';
import { AdmissionRevokedError, TokenNotFoundError } from '../domain/index.js';
import { bearerSecret, errorToResponse, httpHandler, json, noBody, noContent, pathParams } from '../shared/http.js';
import { domainDeps, visitorsFrom } from '../shared/wiring.js';
import { passIssuerFromEnv, passVerifierFromEnv } from '../shared/passes.js';
import { edgePassIssuerFromEnv } from '../shared/edge-passes.js';
import { requestPass } from '../shared/pass-request.js';

const logger = createLogger('waiting-room-heartbeat');
// It may send a check: admitting a visitor who just came from far back re-arms its check loop.
const visitors = visitorsFrom(domainDeps(logger, { passes: passIssuerFromEnv(), passVerifier: passVerifierFromEnv(), checks: true }));
// Behind the edge gate: an admitted visitor's answer also sets the edge pass cookie.
const edgePasses = edgePassIssuerFromEnv();

/** The route key of the origin's revoke route (the HTTP API names the route it matched). */
export const REVOKE_ROUTE = 'POST /rooms/{roomId}/passes/revoke';

export const handler = httpHandler(logger, async (event) => {
  if (event.routeKey === REVOKE_ROUTE) {
    const { roomId } = pathParams(event, { roomId: roomIdSchema });
    const pass = requestPass(event);
    noBody(event);
    await visitors.release(roomId, pass);
    return noContent();
  }
  const { roomId, tokenId } = pathParams(event, { roomId: roomIdSchema, tokenId: tokenIdSchema });
  const secret = bearerSecret(event);
  noBody(event);
  const keepPlace = event.routeKey?.endsWith('/keep-place') ?? false;
  let view;
  try {
    view = await (keepPlace ? visitors.keepPlace(roomId, tokenId, secret) : visitors.heartbeat(roomId, tokenId, secret));
  } catch (error) {
    if (edgePasses && (error instanceof AdmissionRevokedError || error instanceof TokenNotFoundError)) {
      return { ...errorToResponse(error, logger), cookies: [edgePasses.clearedCookie(roomId)] };
    }
    throw error;
  }
  const cookies = edgePasses ? await edgePasses.cookiesFor(view, Date.now()) : [];
  return { ...json(200, view), ...(cookies.length > 0 ? { cookies } : {}) };
});
