/**
 * The bridge between Node's HTTP server and a CloudFront viewer-request function, for the local
 * edge: a request as `http.IncomingMessage` gives the event CloudFront would build, and a response
 * the function generated gives the status, headers and body to write.
 *
 * The path is kept exactly as sent (never normalized: the gate must see "/a/../b" as CloudFront
 * would), query-string values and cookie values are kept as sent (not percent-decoded), header
 * names are lowercase, Cookie headers go to `cookies`, and a repeated name gets a `multiValue`
 * listing every value, the first one also in `value`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CloudFrontResponse, CloudFrontValues, CloudFrontViewerRequestEvent } from './cloudfront-event.js';

/** What the event is built from: the members of an `http.IncomingMessage` it reads. */
export interface IncomingRequestLike {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders | Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly socket?: { readonly remoteAddress?: string | undefined } | undefined;
}

/** Adds `value` under `name`, turning a repeated name into a multiValue. */
function add(values: CloudFrontValues, name: string, value: string): void {
  const existing = values[name];
  if (!existing) {
    values[name] = { value };
    return;
  }
  existing.multiValue ??= [{ value: existing.value }];
  existing.multiValue.push({ value });
}

/** `a=1&b&a=2` as CloudFront parses it: names and values as sent, "" for a missing value. */
export function parseQueryString(query: string): CloudFrontValues {
  const values: CloudFrontValues = {};
  for (const piece of query.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    add(values, eq < 0 ? piece : piece.slice(0, eq), eq < 0 ? '' : piece.slice(eq + 1));
  }
  return values;
}

/** The cookies of one or more Cookie header values ("a=1; b=2"); pieces without "=" are skipped. */
export function parseCookies(cookieHeaders: readonly string[]): CloudFrontValues {
  const values: CloudFrontValues = {};
  for (const header of cookieHeaders) {
    for (const piece of header.split(';')) {
      const eq = piece.indexOf('=');
      if (eq < 0) continue;
      const name = piece.slice(0, eq).trim();
      if (name !== '') add(values, name, piece.slice(eq + 1).trim());
    }
  }
  return values;
}

/** The viewer-request event CloudFront would give a function for this request. */
export function viewerRequestEvent(message: IncomingRequestLike): CloudFrontViewerRequestEvent {
  // An absolute-form target (a request through a proxy) keeps only its path and query.
  const target = (message.url ?? '/').replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/, '');
  const hash = target.indexOf('#');
  const withoutFragment = hash < 0 ? target : target.slice(0, hash);
  const q = withoutFragment.indexOf('?');
  const uri = (q < 0 ? withoutFragment : withoutFragment.slice(0, q)) || '/';
  const headers: CloudFrontValues = {};
  const cookieHeaders: string[] = [];
  for (const [rawName, raw] of Object.entries(message.headers)) {
    if (raw === undefined) continue;
    const name = rawName.toLowerCase();
    const list: readonly string[] = typeof raw === 'string' ? [raw] : raw;
    if (name === 'cookie') cookieHeaders.push(...list);
    else for (const value of list) add(headers, name, value);
  }
  return {
    version: '1.0',
    context: { eventType: 'viewer-request' },
    viewer: { ip: message.socket?.remoteAddress ?? '127.0.0.1' },
    request: {
      method: (message.method ?? 'GET').toUpperCase(),
      uri,
      querystring: q < 0 ? {} : parseQueryString(withoutFragment.slice(q + 1)),
      headers,
      cookies: parseCookies(cookieHeaders),
    },
  };
}

/** What to write for a response the function generated: its status, headers (Set-Cookie included) and body. */
export interface NodeResponseParts {
  readonly statusCode: number;
  readonly statusMessage: string | undefined;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

export function nodeResponseParts(response: CloudFrontResponse): NodeResponseParts {
  const headers: Record<string, string | string[]> = {};
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    headers[name] = header.multiValue ? header.multiValue.map((v) => v.value) : header.value;
  }
  const setCookies = Object.entries(response.cookies ?? {}).flatMap(([name, cookie]) =>
    (cookie.multiValue ?? [cookie]).map((c) => `${name}=${c.value}${c.attributes ? `; ${c.attributes}` : ''}`),
  );
  if (setCookies.length > 0) headers['set-cookie'] = setCookies;
  const body = response.body;
  const bytes =
    body === undefined
      ? Buffer.alloc(0)
      : typeof body === 'string'
        ? Buffer.from(body)
        : Buffer.from(body.data, body.encoding === 'base64' ? 'base64' : 'utf8');
  return { statusCode: response.statusCode, statusMessage: response.statusDescription, headers, body: bytes };
}
