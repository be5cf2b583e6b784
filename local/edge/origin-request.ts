/**
 * What CloudFront sends an origin once the viewer-request function has let a request through:
 * built from the request the function returned (so whatever a function changes reaches the origin,
 * as at CloudFront), under the origin request policy the gate uses everywhere,
 * ALL_VIEWER_EXCEPT_HOST_HEADER: every viewer header, cookie and query-string parameter, except
 * Host, which names the origin. CloudFront adds X-Forwarded-For (the viewer's address) and Via.
 * Hop-by-hop headers stay on the viewer's connection.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { CloudFrontRequest, CloudFrontValue } from '../../edge/cloudfront-event.js';

/** Headers about one connection (RFC 9110 §7.6.1), never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'expect']);
/** What CloudFront says it is in Via, locally. */
export const EDGE_VIA = '1.1 local-edge (CloudFront)';

const valuesOf = (v: CloudFrontValue): string[] => (v.multiValue ? v.multiValue.map((m) => m.value) : [v.value]);

/** The path and query string: `uri`, then the parameters as the function left them (values as sent, "a" for an empty value). */
export function originPath(request: CloudFrontRequest): string {
  const pairs = Object.entries(request.querystring ?? {}).flatMap(([name, q]) => valuesOf(q).map((value) => (value === '' ? name : `${name}=${value}`)));
  return pairs.length > 0 ? `${request.uri}?${pairs.join('&')}` : request.uri;
}

export interface OriginHeaderOptions {
  /** The origin's host and port, for Host. */
  readonly host: string;
  /** The viewer's address, appended to X-Forwarded-For. */
  readonly viewerIp: string;
}

/** The headers of the origin request: the request's (cookies as one Cookie header), Host naming the origin. */
export function originHeaders(request: CloudFrontRequest, options: OriginHeaderOptions): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (HOP_BY_HOP.has(name) || name === 'host' || name === 'cookie') continue;
    const values = valuesOf(value);
    headers[name] = values.length === 1 ? values[0] : values;
  }
  const cookies = Object.entries(request.cookies ?? {}).flatMap(([name, c]) => valuesOf(c).map((value) => `${name}=${value}`));
  if (cookies.length > 0) headers.cookie = cookies.join('; ');
  const forwarded = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = forwarded === undefined ? options.viewerIp : `${[forwarded].flat().join(', ')}, ${options.viewerIp}`;
  headers.via = EDGE_VIA;
  headers.host = options.host;
  return headers;
}

/** The headers of an origin's response as the viewer gets them: hop-by-hop ones left out. */
export function viewerHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}
