/**
 * Every log line of an API function names its Lambda request, the function and whether it was a
 * cold start (Powertools addContext), besides the route's ids (issue 10, item 11).
 */
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { httpHandler } from '../../../lambdas/shared/http.js';
import { createLogger } from '../../../lambdas/shared/logger.js';
import { apiEvent } from '../../helpers/events.js';

const context = {
  functionName: 'waiting-room-join',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:waiting-room-join',
  memoryLimitInMB: '512',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/waiting-room-join',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 1000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** The JSON lines the loggers (created after this) print at INFO, until vi.restoreAllMocks(). */
function captureLines(): Record<string, unknown>[] {
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
  const lines: Record<string, unknown>[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
    return true;
  });
  return lines;
}

describe('httpHandler', () => {
  it("puts the Lambda context and the route's ids into every line, and one request's keys never into the next", async () => {
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand'); // as Lambda sets it: the first invocation is a cold start
    const lines = captureLines();
    const logger = createLogger('test');
    const handler = httpHandler(logger, async () => {
      logger.info('handled');
      return { statusCode: 204, headers: {}, body: '' };
    });
    await handler(apiEvent({ method: 'POST', route: '/rooms/{roomId}/tokens', pathParameters: { roomId: 'shop' } }), context);
    await handler(apiEvent({ method: 'GET', route: '/rooms/{roomId}/status', pathParameters: { roomId: 'other' } }), { ...context, awsRequestId: 'req-2' });
    vi.restoreAllMocks();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ message: 'handled', function_request_id: 'req-1', function_name: 'waiting-room-join', cold_start: expect.any(Boolean), roomId: 'shop' });
    expect(lines[1]).toMatchObject({ function_request_id: 'req-2', roomId: 'other', cold_start: false });
    expect(lines[0]!.cold_start).toBe(true);
  });

  it('keeps the keys of concurrent invocations apart (the local runtime runs many in one process)', async () => {
    const lines = captureLines();
    const logger = createLogger('test');
    const gates = new Map<string, () => void>();
    const handler = httpHandler(logger, async (event) => {
      const roomId = event.pathParameters!.roomId!;
      logger.info('started');
      // Each invocation waits until the other one has started and logged.
      await new Promise<void>((resolve) => gates.set(roomId, resolve));
      logger.info('finished');
      return { statusCode: 204, headers: {}, body: '' };
    });
    const rooms = ['first', 'second', 'third'];
    const runs = rooms.map((roomId, i) =>
      handler(apiEvent({ method: 'GET', route: '/rooms/{roomId}/status', pathParameters: { roomId } }), { ...context, awsRequestId: `req-${roomId}-${i}` }),
    );
    await vi.waitFor(() => expect(gates.size).toBe(rooms.length));
    for (const roomId of [...rooms].reverse()) gates.get(roomId)!();
    await Promise.all(runs);
    vi.restoreAllMocks();
    expect(lines).toHaveLength(2 * rooms.length);
    for (const line of lines) expect(String(line.function_request_id)).toMatch(new RegExp(`^req-${String(line.roomId)}-`));
  });
});
