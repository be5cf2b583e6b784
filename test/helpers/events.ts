/** Factories for Lambda events, shaped as API Gateway (HTTP API, payload 2.0), DynamoDB Streams and SQS deliver them. */
import type { APIGatewayProxyEventV2, Context, DynamoDBRecord, SQSRecord } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';

export interface ApiRequest {
  method: string;
  /** The route's path, e.g. /rooms/{roomId}/tokens. */
  route: string;
  pathParameters?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | null;
  /** The body is base64 (API Gateway encodes bodies it does not take for text). */
  isBase64Encoded?: boolean;
}

/** An HTTP API request as its Lambda integration (payload 2.0) receives it: header names lowercased. */
export function apiEvent(request: ApiRequest): APIGatewayProxyEventV2 {
  let path = request.route;
  for (const [key, value] of Object.entries(request.pathParameters ?? {})) path = path.replace(`{${key}}`, encodeURIComponent(value));
  const routeKey = `${request.method} ${request.route}`;
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: Object.fromEntries(Object.entries(request.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value])),
    ...(request.pathParameters ? { pathParameters: request.pathParameters } : {}),
    ...(request.body != null ? { body: request.body } : {}),
    isBase64Encoded: request.isBase64Encoded ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'test-api',
      domainName: 'test-api.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'test-api',
      http: { method: request.method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'vitest' },
      requestId: 'test-request',
      routeKey,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
  };
}

export const bearer = (secret: string) => ({ Authorization: `Bearer ${secret}` });

export const lambdaContext = {
  functionName: 'test',
  awsRequestId: 'test-request',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

export function insertRecord(item: Record<string, unknown>, sequenceNumber = '100'): DynamoDBRecord {
  return {
    eventID: `evt-${sequenceNumber}`,
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      Keys: marshall({ tokenId: item.tokenId }) as never,
      NewImage: marshall(item, { removeUndefinedValues: true }) as never,
      SequenceNumber: sequenceNumber,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

export function sqsRecord(body: string, messageId = 'msg-1'): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:checks',
    awsRegion: 'us-east-1',
  };
}
