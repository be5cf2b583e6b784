/**
 * The built browser pages and assets (web/build.ts): by the local runtime (local/pages.ts) and by
 * the admin console (cli/console.ts). The installed package has them built (scripts/build-package.ts,
 * in BUILT_PAGES_DIR) and serves them as they are; the repository builds them at start-up into a
 * temporary directory, with esbuild, a devDependency loaded only then.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BUILT_PAGES_DIR, REPO_ROOT } from '../lib/paths.js';

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

export function send(response: http.ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
  response.end(body);
}

export interface WebAssets {
  /** A page's HTML (waiting-room.html, admin.html). */
  page(file: string): Promise<string>;
  /** The admin page, calling the API under `apiBase` (a signing proxy's prefix). */
  adminPage(apiBase: string): Promise<string>;
  /** Serves GET /assets/<name>: true when it answered. */
  serveAsset(response: http.ServerResponse, url: URL): Promise<boolean>;
  close(): void;
}

export async function buildWebAssets(): Promise<WebAssets> {
  const built = path.join(REPO_ROOT, BUILT_PAGES_DIR);
  const prebuilt = existsSync(path.join(built, 'admin.html'));
  const dir = prebuilt ? built : mkdtempSync(path.join(tmpdir(), 'wr-web-'));
  if (!prebuilt) {
    const { buildWeb } = await import('../web/build.js');
    await buildWeb(dir);
  }
  const page = (file: string) => readFile(path.join(dir, file), 'utf8');
  return {
    page,
    adminPage: async (apiBase) => (await page('admin.html')).replace(/data-api-base="[^"]*"/, `data-api-base="${apiBase}"`),
    async serveAsset(response, url) {
      if (!url.pathname.startsWith('/assets/')) return false;
      const name = path.basename(url.pathname);
      const type = CONTENT_TYPES[path.extname(name)];
      if (!type || name.startsWith('.')) return false;
      try {
        send(response, 200, type, await readFile(path.join(dir, 'assets', name)), { 'Cache-Control': 'public, max-age=60' });
        return true;
      } catch {
        return false;
      }
    },
    close: () => {
      if (!prebuilt) rmSync(dir, { recursive: true, force: true });
    },
  };
}
