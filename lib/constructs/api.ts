/**
 * The HTTP API (DESIGN §3): routes to Lambda integrations (payload format 2.0), built-in CORS with
 * preflights cached for 2 hours, stage throttling on the `$default` stage, IAM (SigV4)
 * authorization on /admin, and access logs when asked for (never request bodies: they carry
 * secrets; HTTP API cannot log them anyway).
 *
 * Why HTTP API and not REST: $1.00 instead of $3.50 per million requests, and every heartbeat is a
 * request. What REST did that HTTP API cannot:
 * - custom gateway responses: API Gateway's own errors keep its shape, e.g. throttling answers 429
 *   `{"message":"Too Many Requests"}` without Retry-After, an unknown route 404
 *   `{"message":"Not Found"}`, a failed integration 500 `{"message":"Internal Server Error"}`;
 *   only the functions' answers have DESIGN §3's `{"error":{...}}` shape;
 * - request body models: the admin handler validates its body with zod, before any table is read;
 * - the execution log (and X-Ray tracing of the API stage): the functions' logs and traces remain,
 *   and the access log (opt-in) names the route, status and integration error of each request.
 */
import { Duration, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Route path, e.g. /rooms/{roomId}/tokens. */
  readonly path: string;
  readonly function: IFunction;
  /** 'iam' requires SigV4-signed requests (admins); 'none' leaves checks to the function. */
  readonly authorization: 'iam' | 'none';
}

export interface WaitingRoomApiProps {
  readonly routes: ApiRoute[];
  /** Requests per second across the stage. */
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly allowOrigins: string[];
  /** What happens to the access log group when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  /** Write an access log (one JSON line per request, no bodies) to a log group. @default false */
  readonly accessLogs?: boolean;
}

/** Browsers keep a preflight answer at most this long: Chrome caps Access-Control-Max-Age at 2 h (Firefox at 24 h). */
export const CORS_MAX_AGE = Duration.hours(2);

/** One access-log line: who asked what, and how it went. No body, header or query string is logged. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  time: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  caller: '$context.identity.userArn',
  method: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
};

export class WaitingRoomApi extends Construct {
  readonly httpApi: HttpApi;
  /** The `$default` stage (no path prefix), with the throttling and the optional access log. */
  readonly stage: HttpStage;
  /** Base URL of the API, ending with "/" (e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/). */
  readonly url: string;
  /** The access log group, when `accessLogs` is on. */
  readonly accessLogs?: LogGroup;

  constructor(scope: Construct, id: string, props: WaitingRoomApiProps) {
    super(scope, id);
    this.httpApi = new HttpApi(this, 'Api', {
      description: 'Virtual waiting room: tickets, positions, heartbeats, admissions',
      // The stage is created below: HttpApi's own default stage takes no throttling or access log.
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: props.allowOrigins,
        // If-None-Match: the room status answers 304 to a matching ETag.
        allowHeaders: ['Authorization', 'Content-Type', 'If-None-Match'],
        allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST, CorsHttpMethod.PUT, CorsHttpMethod.DELETE, CorsHttpMethod.OPTIONS],
        // Readable by browser clients on another origin: the status ETag, and Retry-After on a 429.
        exposeHeaders: ['ETag', 'Retry-After'],
        // Without it every heartbeat would be preceded by a preflight.
        maxAge: CORS_MAX_AGE,
      },
    });

    if (props.accessLogs) {
      this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: props.removalPolicy });
    }
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      // No stageName: `$default`, served at the root of the endpoint.
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
      detailedMetricsEnabled: false,
      ...(this.accessLogs
        ? {
            accessLogSettings: {
              destination: new LogGroupLogDestination(this.accessLogs),
              format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
            },
          }
        : {}),
    });
    this.url = this.stage.url;

    const integrations = new Map<IFunction, HttpLambdaIntegration>();
    const integrationOf = (fn: IFunction) => {
      let integration = integrations.get(fn);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${fn.node.id}Integration`, fn, { payloadFormatVersion: PayloadFormatVersion.VERSION_2_0 });
        integrations.set(fn, integration);
      }
      return integration;
    };
    const iam = new HttpIamAuthorizer();
    for (const route of props.routes) {
      this.httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: integrationOf(route.function),
        ...(route.authorization === 'iam' ? { authorizer: iam } : {}),
      });
    }

    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason: 'Visitor routes authenticate with the bearer secret checked in the function (DESIGN §3); status and JWKS are public by design; /admin uses IAM.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-COG4',
        reason: 'Visitors are anonymous by design; admins authenticate with IAM (SigV4), not Cognito.',
      },
    );
    if (!props.accessLogs) {
      Validations.of(this.stage).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG1',
        reason: 'Access logs are opt-in (accessLogs prop): a log line per heartbeat would cost more than the requests; the functions log every admission, eviction and error.',
      });
    }
  }
}
