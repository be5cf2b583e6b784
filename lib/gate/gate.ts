/**
 * WaitingRoomGate: the waiting room in front of any site, with one CloudFront distribution and no
 * change to the site's code (issue 9).
 *
 *   const room = new WaitingRoom(this, 'WaitingRoom', { adminEmail: 'ops@example.com', rooms: [{ roomId: 'shop', capacity: 200 }] });
 *   new WaitingRoomGate(this, 'Gate', { waitingRoom: room, origin: { domainName: 'origin.shop.example.com' }, rooms: [{ roomId: 'shop', paths: ['/*'] }] });
 *
 * or with an origin you build (an S3 site, a load balancer):
 *
 *   new WaitingRoomGate(this, 'Gate', { waitingRoom: room, origin: S3BucketOrigin.withOriginAccessControl(siteBucket), rooms: [...] });
 *
 * The distribution's behaviors, in the order CloudFront matches them:
 *
 *   /waiting-room/api/rooms/* /status  the API, cached for a second (the shared object waiting pages poll; Origin Shield optional)
 *   /waiting-room/api/*                the API, uncached; the route function strips the /waiting-room/api prefix
 *   /waiting-room, /waiting-room/*     the waiting page and its assets, from a private bucket (Origin Access Control)
 *   * (default)                        the site, behind the gate function: through with a valid edge pass of the
 *                                      path's room, otherwise browsers to the waiting page and API clients a JSON 403
 *
 * The gate function (edge/gate-function.js) checks the edge pass, an HMAC-SHA256 token, with keys
 * read from a CloudFront KeyValueStore (`k.<kid>`), so keys rotate without a redeploy. Viewer-request
 * functions run before the cache: a cached page of the site is gated like any other. Every behavior
 * answers with the security headers. Optional: the site's own domain (certificate in us-east-1),
 * access logs, AWS WAF (joins per IP and the AWS managed common rule set).
 *
 * Idle it costs nothing (WAF, when on: about $7 a month). Per million requests to protected paths:
 * CloudFront's request price ($1.00 per million HTTPS requests in North America), the gate function
 * $0.10 and a KeyValueStore read $0.03 (README "Put it in front of your site").
 *
 * Synthesis builds the waiting page (lib/gate/waiting-page.ts) unless the stack is left out of
 * bundling (context `aws:cdk:bundling-stacks`, as for Lambda functions): then a placeholder page is
 * deployed, which keeps template tests fast.
 */
import { ArnFormat, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  Function as CloudFrontFunction,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  KeyValueStore,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  PriceClass,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
  type BehaviorOptions,
  type ICachePolicy,
  type IOrigin,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import type { CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { EDGE_PASS_MAX_LIFETIME_SECONDS } from '../../edge/edge-pass.js';
import { statusCachePolicy } from '../constructs/status-cache.js';
import { acknowledgeDeploymentFunction } from './deployment-findings.js';
import { EdgePassKeys } from './edge-pass-keys.js';
import { gateFunctionCode, routeFunctionCode, type GateConfig } from './gate-code.js';
import {
  DEFAULT_UNPROTECTED_PATHS,
  GATE_API_PATH,
  GATE_PATH_PATTERNS,
  isOrigin,
  validateWaitingRoomGateProps,
  WAITING_PAGE_PATH,
  WAITING_PATH,
  type WaitingRoomGateProps,
} from './props.js';
import { GateWebAcl } from './waf.js';
import { GATE_PAGE, stageWaitingPage } from './waiting-page.js';

/** The bucket prefix of the page and its assets: the same as their path, so no rewrite is needed beyond the page's own. */
const PAGE_PREFIX = `${WAITING_PATH.slice(1)}/`;

/** Deployed instead of the built page when the stack is left out of bundling (template tests). */
const PLACEHOLDER_PAGE = '<!doctype html><title>Waiting room</title><p>Placeholder: this stack was synthesized without bundling.</p>';

export class WaitingRoomGate extends Construct {
  readonly distribution: Distribution;
  /** The gate's base URL, ending with "/": the first custom domain, or the distribution's own. */
  readonly url: string;
  /** The edge-pass keys, `k.<kid>` → key (written by the key rotation; see grantPassKeyWrites). */
  readonly keyValueStore: KeyValueStore;
  /** Viewer request of the site's behavior: the pass check. */
  readonly gateFunction: CloudFrontFunction;
  /** Viewer request of the waiting room's behaviors: the API prefix stripped, /waiting-room/ to its page. */
  readonly routeFunction: CloudFrontFunction;
  /** The private bucket of the waiting page, under `waiting-room/`. */
  readonly bucket: Bucket;
  readonly pageDeployment: BucketDeployment;
  /** The security headers of every behavior. */
  readonly responseHeadersPolicy: ResponseHeadersPolicy;
  /** The room status' cache policy: a second, keyed on the path (the status cache's own when the waiting room has one). */
  readonly statusCachePolicy: ICachePolicy;
  /** The access-log bucket; undefined unless props.accessLogs. */
  readonly logBucket?: Bucket;
  /** The web ACL; undefined unless props.waf. */
  readonly webAcl?: CfnWebACL;
  /** The edge pass key set (secret) and its rotate function, which also writes the KeyValueStore. */
  readonly passKeys: EdgePassKeys;
  /** The `iss` of this gate's edge passes; the API must mint them with it. */
  readonly issuer: string;
  /** What the gate function was given. */
  readonly config: GateConfig;

  constructor(scope: Construct, id: string, props: WaitingRoomGateProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const certificateRegion = props.certificate ? stack.splitArn(props.certificate.certificateArn, ArnFormat.SLASH_RESOURCE_NAME).region : undefined;
    validateWaitingRoomGateProps(props, { region: stack.region, ...(certificateRegion !== undefined ? { certificateRegion } : {}) });

    this.issuer = `waiting-room:${stack.stackName}/${this.node.path.slice(stack.node.path.length + 1)}`;
    this.config = {
      issuer: this.issuer,
      waitingPath: WAITING_PAGE_PATH,
      apiPath: `${GATE_API_PATH}/`,
      rooms: props.rooms.map((room) => ({ roomId: room.roomId, paths: [...room.paths] })),
      unprotected: [...(props.unprotected ?? DEFAULT_UNPROTECTED_PATHS)],
      maxLifetimeSeconds: props.maxPassLifetime?.toSeconds() ?? EDGE_PASS_MAX_LIFETIME_SECONDS,
    };

    this.keyValueStore = new KeyValueStore(this, 'PassKeys', { comment: 'Waiting-room gate: edge-pass keys (k.<kid>), written by the key rotation' });
    this.passKeys = new EdgePassKeys(this, 'EdgePassKeys', {
      keyValueStoreArn: this.keyValueStore.keyValueStoreArn,
      grantStoreWrites: (grantee) => this.grantPassKeyWrites(grantee),
      issuer: this.issuer,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // The waiting room's admitting answers set the edge pass; a leave clears it. Without a
    // WaitingRoom construct (apiUrl), grant them yourself: gate.passKeys.grantSigning(fn).
    if (props.waitingRoom) {
      this.passKeys.grantSigning(props.waitingRoom.apiFunctions.heartbeat);
      this.passKeys.grantSigning(props.waitingRoom.apiFunctions.leave);
    }
    this.gateFunction = new CloudFrontFunction(this, 'GateFunction', {
      comment: 'Waiting-room gate: lets a request through with a valid edge pass of its room',
      runtime: FunctionRuntime.JS_2_0,
      keyValueStore: this.keyValueStore,
      code: FunctionCode.fromInline(gateFunctionCode(this.config, props.gateFunctionPath)),
    });
    this.routeFunction = new CloudFrontFunction(this, 'RouteFunction', {
      comment: 'Waiting-room gate: strips /waiting-room/api for the API, maps /waiting-room/ to its page',
      runtime: FunctionRuntime.JS_2_0,
      code: FunctionCode.fromInline(routeFunctionCode()),
    });

    if (props.accessLogs) {
      this.logBucket = new Bucket(this, 'LogBucket', {
        // CloudFront's standard logs are delivered with an ACL: the bucket must allow them.
        objectOwnership: ObjectOwnership.OBJECT_WRITER,
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        encryption: BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        lifecycleRules: [{ expiration: Duration.days(90) }],
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }
    this.bucket = new Bucket(this, 'PageBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Only the deployment writes here; deleting the stack deletes the objects (retainOnDelete: false), then the bucket.
      removalPolicy: RemovalPolicy.DESTROY,
      ...(this.logBucket ? { serverAccessLogsBucket: this.logBucket, serverAccessLogsPrefix: 's3/' } : {}),
    });

    this.responseHeadersPolicy = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: "Waiting-room gate: security headers (an origin's own values win)",
      securityHeadersBehavior: {
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: false, override: false },
        contentTypeOptions: { override: false },
        frameOptions: { frameOption: HeadersFrameOption.SAMEORIGIN, override: false },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: false },
      },
    });

    const apiUrl = props.waitingRoom?.api.url ?? props.apiUrl ?? '';
    const apiDomain = Fn.select(2, Fn.split('/', apiUrl));
    const apiOrigin = new HttpOrigin(apiDomain, { protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY });
    const statusOrigin = props.originShieldRegion
      ? new HttpOrigin(apiDomain, { protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY, originShieldEnabled: true, originShieldRegion: props.originShieldRegion })
      : apiOrigin;
    this.statusCachePolicy = props.waitingRoom?.statusCache?.statusCachePolicy ?? statusCachePolicy(this, 'StatusCachePolicy');
    const siteOrigin: IOrigin = isOrigin(props.origin)
      ? props.origin
      : new HttpOrigin(props.origin.domainName, {
          protocolPolicy: props.origin.protocol === 'http' ? OriginProtocolPolicy.HTTP_ONLY : OriginProtocolPolicy.HTTPS_ONLY,
          ...(props.origin.originPath ? { originPath: props.origin.originPath } : {}),
          ...(props.origin.headers ? { customHeaders: { ...props.origin.headers } } : {}),
        });
    const pageOrigin = S3BucketOrigin.withOriginAccessControl(this.bucket);

    const routed = [{ function: this.routeFunction, eventType: FunctionEventType.VIEWER_REQUEST }];
    const apiBehavior: BehaviorOptions = {
      origin: apiOrigin,
      viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: AllowedMethods.ALLOW_ALL,
      cachePolicy: CachePolicy.CACHING_DISABLED,
      // Everything but Host (API Gateway routes on its own domain name).
      originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: this.responseHeadersPolicy,
      functionAssociations: routed,
    };
    const pageBehavior: BehaviorOptions = {
      origin: pageOrigin,
      viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
      cachePolicy: CachePolicy.CACHING_OPTIMIZED,
      compress: true,
      responseHeadersPolicy: this.responseHeadersPolicy,
      functionAssociations: routed,
    };

    let webAclId = props.webAclArn;
    if (props.waf) {
      const waf = new GateWebAcl(this, 'Waf', props.waf === true ? {} : props.waf);
      this.webAcl = waf.webAcl;
      webAclId = waf.webAcl.attrArn;
    }

    const domainNames = [...(props.domainNames ?? [])];
    this.distribution = new Distribution(this, 'Distribution', {
      comment: `Waiting-room gate (${stack.stackName})`.slice(0, 128),
      priceClass: props.priceClass ?? PriceClass.PRICE_CLASS_100,
      httpVersion: HttpVersion.HTTP2_AND_3,
      ...(domainNames.length > 0 && props.certificate ? { domainNames, certificate: props.certificate, minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021 } : {}),
      ...(webAclId ? { webAclId } : {}),
      ...(this.logBucket ? { enableLogging: true, logBucket: this.logBucket, logFilePrefix: 'cloudfront/' } : {}),
      defaultBehavior: {
        origin: siteOrigin,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_ALL,
        cachePolicy: props.cachePolicy ?? CachePolicy.USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS,
        originRequestPolicy: props.originRequestPolicy ?? OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        responseHeadersPolicy: this.responseHeadersPolicy,
        compress: true,
        functionAssociations: [{ function: this.gateFunction, eventType: FunctionEventType.VIEWER_REQUEST }],
      },
      // Insertion order is CloudFront's order: the most specific pattern first.
      additionalBehaviors: {
        [GATE_PATH_PATTERNS.status]: {
          ...apiBehavior,
          origin: statusOrigin,
          allowedMethods: AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
          cachePolicy: this.statusCachePolicy,
          compress: true,
        },
        [GATE_PATH_PATTERNS.api]: apiBehavior,
        [GATE_PATH_PATTERNS.page]: pageBehavior,
        [GATE_PATH_PATTERNS.pageAssets]: pageBehavior,
      },
    });
    this.url = `https://${domainNames[0] ?? this.distribution.distributionDomainName}/`;

    this.pageDeployment = new BucketDeployment(this, 'PageDeployment', {
      sources: stack.bundlingRequired ? [Source.asset(stageWaitingPage(props.pageDirectory))] : [Source.data(GATE_PAGE, PLACEHOLDER_PAGE)],
      destinationBucket: this.bucket,
      destinationKeyPrefix: PAGE_PREFIX,
      // The names are not content-hashed: a minute in browsers, and the edge caches emptied on each deploy.
      cacheControl: [CacheControl.setPublic(), CacheControl.maxAge(Duration.minutes(1))],
      distribution: this.distribution,
      distributionPaths: [`${WAITING_PATH}/*`],
      retainOnDelete: false,
    });

    this.acknowledgeFindings(props);
    acknowledgeDeploymentFunction(this.pageDeployment, this.bucket);
  }

  /** Lets a function (the key rotation) write and delete edge-pass keys in the KeyValueStore. */
  grantPassKeyWrites(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: [
        'cloudfront-keyvaluestore:DescribeKeyValueStore',
        'cloudfront-keyvaluestore:GetKey',
        'cloudfront-keyvaluestore:ListKeys',
        'cloudfront-keyvaluestore:PutKey',
        'cloudfront-keyvaluestore:DeleteKey',
        'cloudfront-keyvaluestore:UpdateKeys',
      ],
      resourceArns: [this.keyValueStore.keyValueStoreArn],
    });
  }

  private acknowledgeFindings(props: WaitingRoomGateProps): void {
    Validations.of(this.distribution).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-CFR1', reason: "A waiting room serves whoever the site serves: geo restrictions are the site owner's choice, not a default." },
    );
    if (!this.webAcl && !props.webAclArn) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions::AwsSolutions-CFR2',
        reason: 'AWS WAF costs about $7 a month: one prop away (waf: true), off by default; the gate itself holds back every request without a pass.',
      });
    }
    if (!this.logBucket) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions::AwsSolutions-CFR3',
        reason: 'Access logs of every request of a busy site cost more than they tell here: one prop away (accessLogs: true), off by default.',
      });
    }
    if (!props.certificate) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions::AwsSolutions-CFR4',
        reason: 'The default *.cloudfront.net certificate allows TLSv1; with the site\'s own domain (domainNames and certificate) the gate requires TLSv1.2_2021.',
      });
    }
    if (!this.logBucket) {
      Validations.of(this.bucket).acknowledge({
        id: 'AwsSolutions::AwsSolutions-S1',
        reason: 'The page bucket is read only by CloudFront through Origin Access Control; with accessLogs its reads are logged with the distribution\'s.',
      });
    } else {
      Validations.of(this.logBucket).acknowledge({ id: 'AwsSolutions::AwsSolutions-S1', reason: 'This is the access-log bucket: logging it into itself would loop.' });
    }
  }
}
