/**
 * The demo origin behind the local edge: a tiny shop (a home page, /products/<n>, a JSON cart at
 * /api/cart) on its own port of 127.0.0.1, which knows nothing of the waiting room but what any
 * site behind the gate would add: its pages load the client library from /waiting-room/assets/ in
 * keep-alive mode, so an admitted visitor keeps heartbeating while browsing and the API keeps
 * renewing the pass cookie.
 *
 * It counts every request it receives, and checks each on its own (path-rooms.ts and
 * verifyEdgePass, not the gate function): whether its path needs a room's pass, and whether the
 * request carried a valid one. It serves whatever reaches it (it is the site, not a second gate):
 * the record is how tests show that the gate let nothing through without a valid pass.
 */
import http from 'node:http';
import { EDGE_PASS_COOKIE_PREFIX, edgePassKvsKey, verifyEdgePass, type EdgePassRefusal } from '../../edge/edge-pass.js';
import type { GateConfig } from '../../edge/gate-code.js';
import { GATE_API_PATH, WAITING_PATH } from '../../lib/gate/props.js';
import { CONTENT_TYPES, send } from '../web-assets.js';
import { roomOfPath } from './path-rooms.js';

/** One request the origin received, and what it carried. */
export interface OriginRequest {
  /** Epoch milliseconds. */
  readonly at: number;
  readonly method: string;
  /** The path and query string as received. */
  readonly url: string;
  /** The Host header (the edge names the origin, as CloudFront does). */
  readonly host: string | undefined;
  /** The room whose pass the path needs; null for a path of no room (unprotected). */
  readonly room: string | null;
  /** `valid`, `unprotected` (no pass needed), or why the pass is not valid. */
  readonly pass: 'valid' | 'unprotected' | EdgePassRefusal;
}

/** Counts of every request received since the start, by what it carried. */
export interface OriginCounts {
  readonly total: number;
  /** On a path of a room, with a valid pass of that room. */
  readonly withValidPass: number;
  /** On a path of a room, without a valid pass: the gate let it through. Zero, always. */
  readonly withoutValidPass: number;
  /** On a path of no room. */
  readonly unprotected: number;
}

export interface DemoOrigin {
  readonly url: string;
  readonly port: number;
  /** The requests received, oldest first (the latest 10,000). */
  requests(): OriginRequest[];
  counts(): OriginCounts;
  close(): Promise<void>;
}

export interface DemoOriginOptions {
  /** The gate's configuration: its rooms, paths and issuer. */
  readonly config: GateConfig;
  /** The gate's KeyValueStore (`k.<kid>` → secret), read at each request. */
  readonly kvs: ReadonlyMap<string, string>;
  /** @default 0 (a free port) */
  readonly port?: number;
  readonly now?: () => number;
}

const PRODUCTS = 12;
/** Requests kept in the log (npm start may run for days); the counts are of every request. */
const KEPT_REQUESTS = 10_000;
const PRODUCT = /^\/products\/([1-9][0-9]{0,2})$/;
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Every value the request's Cookie headers give cookie `name` (two or more: it was sent twice). */
function cookieValues(header: string | undefined, name: string): string[] {
  return (header ?? '')
    .split(';')
    .map((piece) => piece.trim())
    .filter((piece) => piece.startsWith(`${name}=`))
    .map((piece) => piece.slice(name.length + 1));
}

function page(title: string, body: string, roomId: string | null): string {
  const keepAlive = roomId
    ? `<script type="module">import { WaitingRoomClient } from '${WAITING_PATH}/assets/client.js'; new WaitingRoomClient({ roomId: ${JSON.stringify(roomId)}, apiBase: '${GATE_API_PATH}', mode: 'keep-alive' }).start();</script>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Demo shop</title><link rel="icon" href="data:,"><link rel="stylesheet" href="${WAITING_PATH}/assets/styles.css"></head>
<body class="page-waiting"><main class="card" id="origin" data-room-id="${escapeHtml(roomId ?? '')}">
<h1>${escapeHtml(title)}</h1>${body}
<p><a href="/">Home</a> · <a href="/products/1">Product 1</a> · <a href="/api/cart">Cart (JSON)</a></p></main>
${keepAlive}
</body></html>`;
}

export async function startDemoOrigin(options: DemoOriginOptions): Promise<DemoOrigin> {
  const { config, kvs } = options;
  const now = options.now ?? Date.now;
  const log: OriginRequest[] = [];
  const counts = { total: 0, withValidPass: 0, withoutValidPass: 0, unprotected: 0 };
  const carts = new Map<string, number[]>();

  const check = (request: http.IncomingMessage, path: string): { room: string | null; pass: OriginRequest['pass']; sub?: string } => {
    const room = roomOfPath(config, path);
    if (room === null) return { room, pass: 'unprotected' };
    const cookie = request.headers.cookie;
    const verdict = verifyEdgePass(cookieValues(cookie, EDGE_PASS_COOKIE_PREFIX + room), {
      issuer: config.issuer,
      roomId: room,
      now: now(),
      keys: (kid) => kvs.get(edgePassKvsKey(kid)),
      maxLifetimeSeconds: config.maxLifetimeSeconds,
    });
    return verdict.ok ? { room, pass: 'valid', sub: verdict.claims.sub } : { room, pass: verdict.reason };
  };

  const html = (response: http.ServerResponse, status: number, body: string, head: boolean) => send(response, status, CONTENT_TYPES['.html']!, head ? '' : body);

  const server = http.createServer((request, response) => {
    const url = request.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const method = request.method ?? 'GET';
    const seen = check(request, path);
    log.push({ at: now(), method, url, host: request.headers.host, room: seen.room, pass: seen.pass });
    if (log.length > KEPT_REQUESTS) log.shift();
    counts.total += 1;
    if (seen.pass === 'valid') counts.withValidPass += 1;
    else if (seen.pass === 'unprotected') counts.unprotected += 1;
    else counts.withoutValidPass += 1;
    const head = method === 'HEAD';
    const read = method === 'GET' || head;

    if (path === '/api/cart') {
      const cart = carts.get(seen.sub ?? '') ?? [];
      if (method === 'POST') {
        let body = '';
        request.setEncoding('utf8');
        request.on('data', (chunk: string) => (body = (body + chunk).slice(0, 10_000)));
        request.on('end', () => {
          const product = (() => {
            try {
              return (JSON.parse(body) as { product?: unknown }).product;
            } catch {
              return undefined;
            }
          })();
          if (!Number.isInteger(product) || (product as number) < 1 || (product as number) > PRODUCTS) {
            send(response, 400, 'application/json', JSON.stringify({ error: { code: 'BAD_PRODUCT', message: `product must be 1 to ${PRODUCTS}` } }));
            return;
          }
          cart.push(product as number);
          carts.set(seen.sub ?? '', cart.slice(-50));
          send(response, 201, 'application/json', JSON.stringify({ items: cart }));
        });
        return;
      }
      if (read) send(response, 200, 'application/json', head ? '' : JSON.stringify({ items: cart }));
      else send(response, 405, 'application/json', JSON.stringify({ error: { code: 'METHOD_NOT_ALLOWED', message: 'GET or POST' } }), { Allow: 'GET, HEAD, POST' });
      return;
    }
    request.resume();
    if (!read) {
      send(response, 405, 'text/plain; charset=utf-8', 'Method not allowed', { Allow: 'GET, HEAD' });
      return;
    }
    if (path === '/robots.txt') {
      send(response, 200, 'text/plain; charset=utf-8', head ? '' : 'User-agent: *\nAllow: /\n');
      return;
    }
    if (path === '/') {
      const list = Array.from({ length: 3 }, (_, i) => `<li><a href="/products/${i + 1}">Product ${i + 1}</a></li>`).join('');
      html(response, 200, page('Demo shop', `<p>This site sits behind the waiting room's gate: you are in.</p><ul>${list}</ul>`, seen.room), head);
      return;
    }
    const product = PRODUCT.exec(path);
    if (product && Number(product[1]) <= PRODUCTS) {
      const n = Number(product[1]);
      html(response, 200, page(`Product ${n}`, `<p id="product" data-product="${n}">Product ${n}: ${(9.5 + n).toFixed(2)} €.</p>`, seen.room), head);
      return;
    }
    html(response, 404, page('Not found', '<p>No such page in the demo shop.</p>', seen.room), head);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: () => [...log],
    counts: () => ({ ...counts }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
