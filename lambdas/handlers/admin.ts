/**
 * /admin routes (IAM-authorized on AWS): list rooms, read a room, create or change a room (its
 * message to the line, an emergency stop), and publish the metrics now instead of waiting for the
 * next scheduled run.
 *   GET /admin/rooms · GET /admin/rooms/{roomId}
 *   GET /admin/rooms/{roomId}/report → the room's fairness and accuracy over the last hour
 *   PUT /admin/rooms/{roomId} {capacity?, state?, mode?, newVisitorsPerMinute?, message?, revokePasses?, event?}
 *     (an event whose draw or end is due within the minute starts the metrics loop, which makes them)
 *   POST /admin/metrics/refresh → 202 { executionArn, startedAt }
 *
 * Environment: ROOMS_TABLE, TOKENS_TABLE and the WR_* timings (read at start-up); STATE_MACHINE_ARN,
 * the metrics loop, read when the refresh route is used (a missing value fails that route only).
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { DynamoFairnessReports } from '../adapters/dynamo-fairness.js';
import { roomChangeSchema, roomIdSchema, type AdminRoom, type FairnessReportView, type MetricsRefresh } from '../api/schemas.js';
import { EVENT_LOOKAHEAD_MS, ValidationError, eventStepDueWithin, publicEventOf, type FairnessReport, type Room } from '../domain/index.js';
import { readEnv, required } from '../shared/env.js';
import { createLogger } from '../shared/logger.js';
import { httpHandler, json, jsonBody, noBody, pathParams, type HttpResponse } from '../shared/http.js';
import { domainDeps, dynamoDocumentClient, roomsFrom } from '../shared/wiring.js';

const logger = createLogger('waiting-room-admin');
const rooms = roomsFrom(domainDeps(logger, { checks: true }));
const stepFunctions = new SFNClient({});
const reports = new DynamoFairnessReports(dynamoDocumentClient(), readEnv({ STATS_TABLE: required() }).STATS_TABLE);

/** The metrics state machine's ARN, from STATE_MACHINE_ARN (a ConfigurationError naming it when missing). */
const metricsStateMachineArn = (): string => readEnv({ STATE_MACHINE_ARN: required() }).STATE_MACHINE_ARN;

function adminView(room: Room): AdminRoom {
  return {
    roomId: room.roomId,
    capacity: room.capacity,
    state: room.state,
    mode: room.mode,
    ...(room.newVisitorsPerMinute !== undefined ? { newVisitorsPerMinute: room.newVisitorsPerMinute } : {}),
    activeCount: room.activeCount,
    lastTicket: room.nextTicket,
    lastAdmittedTicket: room.lastAdmittedTicket,
    admittedTotal: room.admittedTotal,
    evictedTotal: room.evictedTotal,
    epoch: room.epoch,
    ...(room.message !== undefined ? { message: room.message } : {}),
    ...(room.event ? { event: publicEventOf(room.event, Date.now()) } : {}),
    createdAt: new Date(room.createdAt).toISOString(),
    updatedAt: new Date(room.updatedAt).toISOString(),
  };
}

/** Starts an execution of the metrics state machine. */
async function startMetricsLoop(trigger: 'admin' | 'event', requestId?: string): Promise<MetricsRefresh> {
  const stateMachineArn = metricsStateMachineArn();
  const { executionArn, startDate } = await stepFunctions.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ trigger, requestId }) }));
  if (!executionArn) throw new Error('StartExecution returned no executionArn');
  return { executionArn, startedAt: (startDate ?? new Date()).toISOString() };
}

function reportView(roomId: string, report: FairnessReport): FairnessReportView {
  const { windowStart, windowEnd, ...figures } = report;
  return { roomId, windowStart: new Date(windowStart).toISOString(), windowEnd: new Date(windowEnd).toISOString(), ...figures };
}

/** By route key, as the HTTP API names the route it matched (`GET /admin/rooms/{roomId}`). */
const routes: Record<string, (event: APIGatewayProxyEventV2) => Promise<HttpResponse>> = {
  'GET /admin/rooms': async () => json(200, { rooms: (await rooms.list()).map(adminView) }),
  'GET /admin/rooms/{roomId}': async (event) => {
    const { roomId } = pathParams(event, { roomId: roomIdSchema });
    return json(200, adminView(await rooms.get(roomId)));
  },
  'GET /admin/rooms/{roomId}/report': async (event) => {
    const { roomId } = pathParams(event, { roomId: roomIdSchema });
    await rooms.get(roomId); // 404 for a room that does not exist
    return json(200, reportView(roomId, await reports.report(roomId, Date.now())));
  },
  'PUT /admin/rooms/{roomId}': async (event) => {
    const { roomId } = pathParams(event, { roomId: roomIdSchema });
    const change = jsonBody(event, roomChangeSchema);
    const { room, created } = await rooms.configure(roomId, change);
    logger.info(created ? 'room created' : 'room changed', { capacity: room.capacity, state: room.state, epoch: room.epoch, message: room.message !== undefined });
    if (change.revokePasses) logger.warn('emergency stop: admissions of earlier epochs revoked', { epoch: room.epoch, state: room.state });
    // The metrics loop makes an event's draw and end: start it now, so that an event due within the
    // minute is not left to the next scheduled start (best effort: the schedule starts it anyway).
    if (change.event && room.event && eventStepDueWithin(room.event, Date.now(), EVENT_LOOKAHEAD_MS)) {
      await startMetricsLoop('event').catch((error: unknown) => logger.warn('metrics loop not started for the event; the schedule will', { error: String(error) }));
    }
    return json(created ? 201 : 200, adminView(room));
  },
  'POST /admin/metrics/refresh': async (event) => {
    noBody(event);
    const started = await startMetricsLoop('admin', event.requestContext?.requestId);
    logger.info('metrics refresh started', { executionArn: started.executionArn });
    return json(202, started);
  },
};

export const handler = httpHandler(logger, async (event) => {
  const route = routes[event.routeKey];
  if (!route) throw new ValidationError(`No admin route for ${event.routeKey}`);
  return route(event);
});
