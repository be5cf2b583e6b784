/**
 * `waiting-room console`: the admin page on 127.0.0.1, its calls signed by a signing proxy with
 * the operator's credentials (local/signing-proxy.ts), against a deployed stack or `npm start`. No
 * Cognito, no new AWS resources: what the operator may do is what their IAM identity may do. On
 * AWS the chart reads CloudWatch (cli/console-metrics.ts); locally, the runtime's metrics sink.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import http from 'node:http';
import { buildWebAssets, send } from '../local/web-assets.js';
import type { AdminApi, AdminTarget } from './admin-api.js';
import { chartPoints } from './console-metrics.js';
import { signingProxy } from '../local/signing-proxy.js';

const PREFIX = '/console';

export interface RunningConsole {
  url: string;
  close(): Promise<void>;
}

export async function startConsole(target: AdminTarget, api: AdminApi, port: number): Promise<RunningConsole> {
  const web = await buildWebAssets();
  const proxy = signingProxy({ baseUrl: () => target.baseUrl, ...target.signing, prefix: PREFIX });
  const cloudWatch = target.local ? undefined : new CloudWatchClient(target.signing);
  const server = http.createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (request.method === 'GET' && (url.pathname === '/' || url.pathname === '/admin' || url.pathname === '/admin.html')) {
        send(response, 200, 'text/html; charset=utf-8', await web.adminPage(PREFIX));
        return;
      }
      if (request.method === 'GET' && (await web.serveAsset(response, url))) return;
      if (cloudWatch && request.method === 'GET' && url.pathname === `${PREFIX}/admin/metrics`) {
        const { rooms } = await api.request<{ rooms: { roomId: string }[] }>('GET', '/admin/rooms');
        send(response, 200, 'application/json', JSON.stringify({ points: await chartPoints(cloudWatch, rooms.map((r) => r.roomId)), notices: [] }));
        return;
      }
      if (await proxy(request, response, url)) return;
      send(response, 404, 'application/json', JSON.stringify({ message: 'Not Found' }));
    })().catch((error: unknown) => {
      if (!response.headersSent) send(response, 502, 'application/json', JSON.stringify({ message: error instanceof Error ? error.message : String(error) }));
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${bound}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      cloudWatch?.destroy();
      web.close();
    },
  };
}
