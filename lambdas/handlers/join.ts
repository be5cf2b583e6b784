/**
 * POST /rooms/{roomId}/tokens: join the line. 201 with the token view and, this once, the secret
 * (and, in an event's pre-queue, the visitor's signed lottery receipt).
 */
import { createLogger } from '../shared/logger.js';
import { roomIdSchema } from '../api/schemas.js';
import { httpHandler, json, noBody, pathParams } from '../shared/http.js';
import { domainDeps, visitorsFrom } from '../shared/wiring.js';
import { lotteryReceiptsFromEnv, passIssuerFromEnv } from '../shared/passes.js';

const logger = createLogger('waiting-room-join');
const visitors = visitorsFrom(domainDeps(logger, { passes: passIssuerFromEnv(), lotteryReceipts: lotteryReceiptsFromEnv() }));

export const handler = httpHandler(logger, async (event) => {
  const { roomId } = pathParams(event, { roomId: roomIdSchema });
  noBody(event);
  const { view, secret } = await visitors.join(roomId);
  logger.info('joined', { tokenId: view.tokenId, ticket: view.ticket, state: view.state });
  return json(201, { ...view, secret }, { Location: `/rooms/${roomId}/tokens/${view.tokenId}` });
});
