/**
 * The edge cache of the room status (DESIGN §3, §8 "Position without a scan"): a CloudFront
 * distribution in front of the HTTP API that serves `GET /rooms/{roomId}/status` from the edge,
 * cached for a second (the function's own Cache-Control: public, max-age=1,
 * stale-while-revalidate=2), so that a million waiting pages polling it reach the API about once a
 * second per edge location (one with Origin Shield) instead of once per poll.
 *
 * Every other path goes to the API uncached, with the viewer's headers (Authorization included)
 * and query string, so a site may also send all its waiting-room calls through this one domain
 * (same origin as its pages behind the same distribution: no CORS). Token calls through CloudFront
 * cost its request price on top of the API's; the README says when that is worth it.
 *
 * An idle distribution costs nothing. The full edge gate in front of a site (waiting page, pass
 * checked at the edge) builds on this; see the README.
 */
import { Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  CacheQueryStringBehavior,
  CacheHeaderBehavior,
  CacheCookieBehavior,
  Distribution,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  PriceClass,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { Construct } from 'constructs';

export interface StatusCacheProps {
  /** The API's base URL (https://<id>.execute-api.<region>.amazonaws.com/). */
  readonly apiUrl: string;
  /** Origin Shield region: one origin fetch a second per room for the whole world, instead of one per edge location. @default none */
  readonly originShieldRegion?: string;
  /** @default PriceClass.PRICE_CLASS_100 (North America and Europe; the cheapest edge requests) */
  readonly priceClass?: PriceClass;
}

/** The status path behind CloudFront (API route /rooms/{roomId}/status). */
export const STATUS_PATH_PATTERN = '/rooms/*/status';

/**
 * The room status' cache policy: the origin says max-age=1 (stale-while-revalidate=2), and the
 * key is the path alone, so every visitor of a room shares one cached object.
 */
export function statusCachePolicy(scope: Construct, id: string): CachePolicy {
  return new CachePolicy(scope, id, {
    comment: 'Waiting-room status: the origin says max-age=1; the key is the path alone',
    minTtl: Duration.seconds(0),
    defaultTtl: Duration.seconds(1),
    maxTtl: Duration.seconds(2),
    queryStringBehavior: CacheQueryStringBehavior.none(),
    headerBehavior: CacheHeaderBehavior.none(),
    cookieBehavior: CacheCookieBehavior.none(),
    enableAcceptEncodingGzip: true,
    enableAcceptEncodingBrotli: true,
  });
}

export class StatusCache extends Construct {
  readonly distribution: Distribution;
  /** Base URL through the distribution, ending with "/": `${url}rooms/<roomId>/status`. */
  readonly url: string;
  /** The cache policy of the status: a second, keyed on the path only (the same bytes for every visitor). */
  readonly statusCachePolicy: CachePolicy;

  constructor(scope: Construct, id: string, props: StatusCacheProps) {
    super(scope, id);
    const apiDomain = Fn.select(2, Fn.split('/', props.apiUrl));
    const origin = new HttpOrigin(apiDomain, {
      protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
      ...(props.originShieldRegion ? { originShieldEnabled: true, originShieldRegion: props.originShieldRegion } : {}),
    });
    this.statusCachePolicy = statusCachePolicy(this, 'StatusCachePolicy');
    this.distribution = new Distribution(this, 'Distribution', {
      comment: `Waiting room: the API, with the room status cached at the edge (${Stack.of(this).stackName})`,
      priceClass: props.priceClass ?? PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: AllowedMethods.ALLOW_ALL,
        cachePolicy: CachePolicy.CACHING_DISABLED,
        // Everything but Host (API Gateway routes on its own domain name).
        originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      },
      additionalBehaviors: {
        [STATUS_PATH_PATTERN]: {
          origin,
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
          cachePolicy: this.statusCachePolicy,
          compress: true,
        },
      },
    });
    this.url = `https://${this.distribution.distributionDomainName}/`;

    Validations.of(this.distribution).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-CFR1', reason: 'A waiting room serves whoever the site serves: geo restrictions are the site owner\'s choice, not a default.' },
      { id: 'AwsSolutions::AwsSolutions-CFR2', reason: 'AWS WAF costs $5 a month plus rules: an option of the edge gate, off by default (the API has stage throttling).' },
      { id: 'AwsSolutions::AwsSolutions-CFR3', reason: 'Access logs of every status poll would cost more than the polls; the API functions log admissions and errors.' },
      {
        id: 'AwsSolutions::AwsSolutions-CFR4',
        reason: 'The default *.cloudfront.net certificate allows TLSv1; a custom domain with its own certificate (and TLSv1.2_2021) is the edge gate\'s option.',
      },
    );
  }
}
