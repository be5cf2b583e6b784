/**
 * The REST API (DESIGN §3): routes to Lambda proxy integrations, CORS for browser clients, stage
 * throttling, access and execution logs (never request bodies: they carry secrets), JSON error
 * bodies for API Gateway's own errors, and IAM (SigV4) authorization on /admin.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  JsonSchemaType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
  type IResource,
  type Model,
  type RequestValidator,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Resource path, e.g. /rooms/{roomId}/tokens. */
  path: string;
  function: IFunction;
  /** 'iam' requires SigV4-signed requests (admins); 'none' leaves checks to the function. */
  authorization: 'iam' | 'none';
  /** JSON schema model for the request body, validated by API Gateway before the function runs. */
  bodyModel?: 'roomChange';
}

export interface WaitingRoomApiProps {
  routes: ApiRoute[];
  /** Requests per second across the stage. */
  rateLimit: number;
  burstLimit: number;
  allowOrigins: string[];
  removalPolicy: RemovalPolicy;
}

export class WaitingRoomApi extends Construct {
  readonly restApi: RestApi;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: WaitingRoomApiProps) {
    super(scope, id);
    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: props.removalPolicy });
    this.restApi = new RestApi(this, 'Api', {
      description: 'Virtual waiting room: tickets, positions, heartbeats, admissions',
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: 'v1',
        throttlingRateLimit: props.rateLimit,
        throttlingBurstLimit: props.burstLimit,
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
      },
      defaultCorsPreflightOptions: {
        allowOrigins: props.allowOrigins,
        allowHeaders: ['Authorization', 'Content-Type'],
        allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      },
    });

    // API Gateway's own errors (throttling, unknown route, denied) in the same JSON shape as ours.
    const errorTemplate = JSON.stringify({ error: { code: '$context.error.responseType', message: '$context.error.messageString' } })
      .replace('"$context.error.messageString"', '$context.error.messageString');
    const cors = { 'Access-Control-Allow-Origin': `'${props.allowOrigins.length === 1 ? props.allowOrigins[0] : '*'}'` };
    for (const type of [ResponseType.DEFAULT_4XX, ResponseType.DEFAULT_5XX]) {
      this.restApi.addGatewayResponse(`Json${type.responseType}`, {
        type,
        responseHeaders: cors,
        templates: { 'application/json': errorTemplate },
      });
    }
    this.restApi.addGatewayResponse('Throttled', {
      type: ResponseType.THROTTLED,
      statusCode: '429',
      responseHeaders: { ...cors, 'Retry-After': "'1'" },
      templates: { 'application/json': JSON.stringify({ error: { code: 'THROTTLED', message: 'Too many requests, try again shortly' } }) },
    });

    const validator = this.restApi.addRequestValidator('Validator', { validateRequestBody: true, validateRequestParameters: true });
    const models: Record<NonNullable<ApiRoute['bodyModel']>, Model> = {
      roomChange: this.restApi.addModel('RoomChange', {
        contentType: 'application/json',
        schema: {
          type: JsonSchemaType.OBJECT,
          additionalProperties: false,
          minProperties: 1,
          properties: {
            capacity: { type: JsonSchemaType.INTEGER, minimum: 0, maximum: 1_000_000 },
            state: { type: JsonSchemaType.STRING, enum: ['open', 'paused', 'closed'] },
          },
        },
      }),
    };
    for (const route of props.routes) this.addRoute(route, validator, models);

    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-APIG3',
        reason: 'WAF is an optional add-on (about 5 USD a month plus rules); stage throttling protects the origin and is on.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason: 'Visitor routes authenticate with the bearer secret checked in the function (DESIGN §3); status and JWKS are public by design; /admin uses IAM.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-COG4',
        reason: 'Visitors are anonymous by design; admins authenticate with IAM (SigV4), not Cognito.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'The account-level role API Gateway needs to write execution logs; AWS manages its scope.',
      },
    );
  }

  private addRoute(route: ApiRoute, validator: RequestValidator, models: Record<string, Model>): void {
    let resource: IResource = this.restApi.root;
    for (const part of route.path.split('/').filter(Boolean)) {
      resource = resource.getResource(part) ?? resource.addResource(part);
    }
    resource.addMethod(route.method, new LambdaIntegration(route.function), {
      authorizationType: route.authorization === 'iam' ? AuthorizationType.IAM : AuthorizationType.NONE,
      requestValidator: validator,
      ...(route.bodyModel ? { requestModels: { 'application/json': models[route.bodyModel]! } } : {}),
    });
  }
}
