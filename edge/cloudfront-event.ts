/**
 * The shapes of a CloudFront Functions viewer-request event and of what a viewer-request function
 * returns, as documented in "CloudFront Functions event structure"
 * (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html).
 * Only the members the gate reads or writes are typed.
 */

/** A query-string parameter, header or cookie: `value` is the first, `multiValue` lists all when repeated. */
export interface CloudFrontValue {
  value: string;
  multiValue?: { value: string }[];
}

/** A map of query-string parameters, headers (lowercase names) or cookies. */
export type CloudFrontValues = Record<string, CloudFrontValue>;

/** A cookie a response sets. */
export interface CloudFrontSetCookie {
  value: string;
  attributes?: string;
  multiValue?: { value: string; attributes?: string }[];
}

export interface CloudFrontRequest {
  method: string;
  /** The path, without the query string. */
  uri: string;
  /** Parsed, values as sent (not decoded); empty when there is no query string. */
  querystring: CloudFrontValues;
  /** Lowercase names; Cookie headers are not here but in `cookies`. */
  headers: CloudFrontValues;
  cookies: CloudFrontValues;
}

export interface CloudFrontResponse {
  statusCode: number;
  statusDescription?: string;
  headers?: CloudFrontValues;
  /** Set-Cookie headers: `attributes` holds what follows the name and value ("Path=/; HttpOnly"). */
  cookies?: Record<string, CloudFrontSetCookie>;
  body?: { encoding: 'text' | 'base64'; data: string } | string;
}

export interface CloudFrontViewerRequestEvent {
  version: '1.0';
  context: { eventType: 'viewer-request'; distributionDomainName?: string; distributionId?: string; requestId?: string };
  viewer: { ip: string };
  request: CloudFrontRequest;
}

/** A viewer-request function returns the request (to let it through) or a response (to answer itself). */
export type ViewerRequestResult = CloudFrontRequest | CloudFrontResponse;

/** Whether the function answered itself rather than letting the request through. */
export function isCloudFrontResponse(result: ViewerRequestResult): result is CloudFrontResponse {
  return typeof (result as CloudFrontResponse).statusCode === 'number';
}
