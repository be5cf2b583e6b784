/**
 * The local runtime's pages: what API Gateway does not serve on AWS (the waiting-room page and the
 * admin page as static files, a demo protected origin, the metrics and notices of the admin page).
 */
import type { ExtraRoute } from './http-gateway.js';

export async function localExtras(): Promise<ExtraRoute[]> {
  return [];
}
