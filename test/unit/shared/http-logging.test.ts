/**
 * Every log line of an API function names its Lambda request, the function and whether it was a
 * cold start (Powertools addContext), besides the route's ids (issue 10, item 11).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { httpHandler } from '../../../lambdas/shared/http.js';
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

afterEach(() => vi.restoreAllMocks());

describe('httpHandler', () => {
  it("puts the Lambda context and the route's ids into every line, and one request's keys never into the next", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = new Logger({ serviceName: 'test', logLevel: 'INFO' });
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      return true;
    });
    const handler = httpHandler(logger, async () => {
      logger.info('handled');
      return { statusCode: 204, headers: {}, body: '' };
    });
    await handler(apiEvent({ method: 'POST', route: '/rooms/{roomId}/tokens', pathParameters: { roomId: 'shop' } }), context);
    await handler(apiEvent({ method: 'GET', route: '/rooms/{roomId}/status', pathParameters: { roomId: 'other' } }), { ...context, awsRequestId: 'req-2' });
    vi.restoreAllMocks();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ message: 'handled', function_request_id: 'req-1', function_name: 'waiting-room-join', cold_start: expect.any(Boolean), roomId: 'shop' });
    expect(lines[1]).toMatchObject({ function_request_id: 'req-2', roomId: 'other' });
  });
});
