/** Factories for Lambda events, shaped as API Gateway, DynamoDB Streams and SQS deliver them. */
import type { APIGatewayProxyEvent, Context, DynamoDBRecord, SQSRecord } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';

export interface ApiRequest {
  method: string;
  resource: string;
  pathParameters?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | null;
}

export function apiEvent(request: ApiRequest): APIGatewayProxyEvent {
  let path = request.resource;
  for (const [key, value] of Object.entries(request.pathParameters ?? {})) path = path.replace(`{${key}}`, value);
  return {
    httpMethod: request.method,
    resource: request.resource,
    path,
    pathParameters: request.pathParameters ?? null,
    headers: request.headers ?? {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    body: request.body ?? null,
    isBase64Encoded: false,
    requestContext: { requestId: 'test-request' } as APIGatewayProxyEvent['requestContext'],
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
