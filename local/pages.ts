/**
 * What the local runtime serves besides the API: the waiting-room page and the admin page (built
 * from web/ at start-up), a demo protected origin at /origin/{roomId}/ that admits only requests
 * with a valid admission pass, and /admin/metrics (recent metric points and notices) for the
 * admin page. On AWS the pages are static files and the origin is the user's own site.
 */
import { PassRejectedError, passFromHeaders, verifyPass } from '../verifier/index.js';
import { recentPoints } from '../lambdas/adapters/memory-metrics.js';
import { ROOM_ID_PATTERN } from '../lambdas/domain/id-patterns.js';
import { decodedSegment, type ExtraRoute } from './http-gateway.js';
import { signingProxy } from './signing-proxy.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './intrinsics.js';
import { CONTENT_TYPES, buildWebAssets, send, type WebAssets } from './web-assets.js';

export interface Notice {
  at: string;
  subject: string;
  message: string;
}

const TYPES = CONTENT_TYPES;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function originPage(title: string, body: string, roomId: string, keepAlive: boolean): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><link rel="stylesheet" href="/assets/styles.css"></head>
<body class="page-waiting"><main class="card" id="origin" data-room-id="${escapeHtml(roomId)}">
<h1>${escapeHtml(title)}</h1>${body}</main>
${keepAlive ? `<script type="module">import { WaitingRoomClient } from '/assets/client.js'; new WaitingRoomClient({ roomId: ${JSON.stringify(roomId)}, mode: 'keep-alive' }).start();</script>` : ''}
</body></html>`;
}

export interface Pages {
  routes: ExtraRoute[];
  /** The build of web/ the pages serve (the local edge serves it too, as its page bucket). */
  web: WebAssets;
  close(): void;
}

/** Builds the web assets into a temporary directory and returns the routes that serve them. */
export interface PagesOptions {
  notices: () => Notice[];
  /**
   * Where the demo origin fetches the waiting room's public keys: the runtime's own JWKS URL,
   * fixed by the runtime, never taken from a request (a Host header naming another server would
   * let a pass signed by that server's key in, and make this process fetch a client-chosen URL).
   */
  jwksUrl: () => string;
  /** The runtime's own base URL, where the admin page's signed calls go. */
  apiUrl: () => string;
}

/** Where the admin page calls the API: the signing proxy (local/signing-proxy.ts). */
const CONSOLE_PREFIX = '/console';

export async function localPages(options: PagesOptions): Promise<Pages> {
  const web = await buildWebAssets();
  const page = web.page;

  const pagesRoute: ExtraRoute = async (request, response, url) => {
    if (request.method !== 'GET') return false;
    if (url.pathname === '/' || url.pathname === '/waiting-room.html') {
      const room = url.searchParams.get('room') ?? 'demo';
      const roomId = ROOM_ID_PATTERN.test(room) ? room : 'demo';
      const html = (await page('waiting-room.html'))
        .replace(/data-room-id="[^"]*"/, `data-room-id="${roomId}"`)
        .replace(/data-origin-url="[^"]*"/, `data-origin-url="/origin/${roomId}/"`);
      send(response, 200, TYPES['.html']!, html);
      return true;
    }
    if (url.pathname === '/lottery' || url.pathname === '/lottery.html') {
      // The lottery verifier (verifier/LOTTERY.md): a static page that checks a receipt in the browser.
      send(response, 200, TYPES['.html']!, await page('lottery.html'));
      return true;
    }
    if (url.pathname === '/admin' || url.pathname === '/admin.html') {
      // The page calls the API through the signing proxy below, as the console does on AWS.
      send(response, 200, TYPES['.html']!, await web.adminPage(CONSOLE_PREFIX));
      return true;
    }
    return web.serveAsset(response, url);
  };

  const metricsRoute: ExtraRoute = (request, response, url) => {
    if (request.method !== 'GET' || url.pathname !== '/admin/metrics') return false;
    const since = Date.now() - 15 * 60_000;
    const points = recentPoints(since).map((p) => ({
      at: new Date(p.timestamp).toISOString(),
      roomId: p.dimensions.RoomId ?? null,
      name: p.name,
      value: p.value,
      unit: p.unit,
    }));
    send(response, 200, 'application/json', JSON.stringify({ points, notices: options.notices() }));
    return true;
  };

  /** The demo protected origin: only a valid pass for this room gets in. */
  const originRoute: ExtraRoute = async (request, response, url) => {
    const match = /^\/origin\/([^/]+)\/?/.exec(url.pathname);
    if (!match) return false;
    const roomId = decodedSegment(match[1]!);
    if (roomId === undefined) {
      send(response, 400, TYPES['.html']!, originPage('Bad request', '<p>The address has a malformed percent-encoding.</p>', 'demo', false));
      return true;
    }
    const back = `<p><a href="/?room=${encodeURIComponent(roomId)}">Join the waiting room</a></p>`;
    const pass = passFromHeaders(request.headers);
    if (!pass) {
      send(response, 401, TYPES['.html']!, originPage('A pass is needed', `<p>This page is behind a waiting room.</p>${back}`, roomId, false));
      return true;
    }
    try {
      const claims = await verifyPass(pass, { jwksUrl: options.jwksUrl(), roomId });
      const expires = new Date(claims.expiresAt * 1000).toISOString(); // epoch seconds, as in the pass
      send(
        response,
        200,
        TYPES['.html']!,
        originPage(
          'You are in',
          `<p>Welcome to the protected site of room <strong>${escapeHtml(roomId)}</strong>.</p><p>Ticket ${claims.ticket}; this pass is valid until ${expires} and is renewed while this page stays open.</p>`,
          roomId,
          true,
        ),
      );
    } catch (error) {
      const reason = error instanceof PassRejectedError ? error.reason : 'malformed';
      send(response, 403, TYPES['.html']!, originPage('This pass is not valid here', `<p>Reason: ${escapeHtml(reason)}.</p>${back}`, roomId, false), {
        'X-Pass-Rejected': reason,
      });
    }
    return true;
  };

  // The admin page's calls, signed with the local credentials: the gateway checks them as API Gateway would.
  const consoleRoute: ExtraRoute = signingProxy({ baseUrl: options.apiUrl, credentials: LOCAL_CREDENTIALS, region: LOCAL_REGION, prefix: CONSOLE_PREFIX });

  return { routes: [pagesRoute, metricsRoute, originRoute, consoleRoute], web, close: () => web.close() };
}
