/**
 * The visitors' API over real HTTP (the local runtime), counting requests by route like the
 * model does (model-api.ts). The status goes through a shared one-second cache that plays
 * CloudFront with Origin Shield, so that both count the same origin fetches. Node's fetch makes
 * no CORS preflights, and the model of a calibration counts none either.
 */
import type { RoomStatus, TokenView } from '../../lambdas/domain/index.js';
import { STATUS_MAX_AGE_MS } from './assumptions.js';
import { ROUTES } from './model-api.js';
import { ApiError, type JoinAnswer, type VisitorApi } from './visitor.js';

export class HttpVisitorApi implements VisitorApi {
  readonly counts = new Map<string, number>();
  private readonly edge = new Map<string, { status: Promise<RoomStatus>; at: number }>();

  constructor(private readonly baseUrl: string) {}

  private count(route: string): void {
    this.counts.set(`api.req.${route}`, (this.counts.get(`api.req.${route}`) ?? 0) + 1);
  }

  /** Milliseconds the answers took, summed, and how many (the runtime's latency under this load), and the same by route. */
  latency = { totalMs: 0, count: 0 };
  readonly latencyByRoute = new Map<string, { totalMs: number; count: number }>();

  private async call<T>(route: string, method: string, path: string, secret?: string): Promise<T> {
    this.count(route);
    const sent = performance.now();
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers: secret ? { Authorization: `Bearer ${secret}` } : {} });
    const took = performance.now() - sent;
    this.latency.totalMs += took;
    this.latency.count += 1;
    const byRoute = this.latencyByRoute.get(route) ?? { totalMs: 0, count: 0 };
    byRoute.totalMs += took;
    byRoute.count += 1;
    this.latencyByRoute.set(route, byRoute);
    const text = await response.text();
    if (!response.ok) throw new ApiError(response.status);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  join(roomId: string): Promise<JoinAnswer> {
    return this.call(ROUTES.join, 'POST', `/rooms/${roomId}/tokens`);
  }

  async heartbeat(roomId: string, tokenId: string, secret: string): Promise<TokenView> {
    return this.answered('heartbeat', await this.call<TokenView>(ROUTES.heartbeat, 'POST', `/rooms/${roomId}/tokens/${tokenId}/heartbeat`, secret));
  }

  async keepPlace(roomId: string, tokenId: string, secret: string): Promise<TokenView> {
    return this.answered('keepPlace', await this.call<TokenView>(ROUTES.keepPlace, 'POST', `/rooms/${roomId}/tokens/${tokenId}/keep-place`, secret));
  }

  /** What the signals were answered, as the model counts it (shown by the calibration, not judged). */
  private answered(route: string, view: TokenView): TokenView {
    const key = `answers.${route}.${view.state}.${view.zone}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    return view;
  }

  async leave(roomId: string, tokenId: string, secret: string): Promise<void> {
    await this.call(ROUTES.leave, 'DELETE', `/rooms/${roomId}/tokens/${tokenId}`, secret);
  }

  status(roomId: string): Promise<RoomStatus> {
    // The page's requests, as the model's edge counts them (cf.requests); the origin's are api.req.
    this.counts.set('cf.requests', (this.counts.get('cf.requests') ?? 0) + 1);
    const cached = this.edge.get(roomId);
    const now = Date.now();
    if (cached && now - cached.at < STATUS_MAX_AGE_MS) return cached.status;
    const status = this.call<RoomStatus>(ROUTES.status, 'GET', `/rooms/${roomId}/status`);
    this.edge.set(roomId, { status, at: now });
    status.catch(() => this.edge.delete(roomId));
    return status;
  }
}
