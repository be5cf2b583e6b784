/**
 * The HTTP API as the visitors of the model see it: each call is an API Gateway request (HTTP API)
 * that invokes its function in one of that function's environments, at the current simulated
 * time, and answers what the handler would (the same error mapping, lambdas/shared/http.ts).
 * Counts per route, the bytes each answer sends out, the CORS preflights a browser on another
 * origin makes (API Gateway answers them itself: billed, no function), and the handlers' own log
 * lines. The status goes through the edge cache.
 */
import type { RoomStatus, TokenView } from '../../lambdas/domain/index.js';
import { errorToResponse } from '../../lambdas/shared/http.js';
import { SIZE } from './assumptions.js';
import type { Deployment, FunctionName, Runtime } from './deployment.js';
import type { Cause } from './meter.js';
import { ApiError, type JoinAnswer, type VisitorApi } from './visitor.js';

export const ROUTES = {
  join: 'POST /rooms/{roomId}/tokens',
  read: 'GET /rooms/{roomId}/tokens/{tokenId}',
  heartbeat: 'POST /rooms/{roomId}/tokens/{tokenId}/heartbeat',
  keepPlace: 'POST /rooms/{roomId}/tokens/{tokenId}/keep-place',
  leave: 'DELETE /rooms/{roomId}/tokens/{tokenId}',
  status: 'GET /rooms/{roomId}/status',
  preflight: 'OPTIONS (CORS preflight)',
} as const;

/** Routes whose requests carry the Authorization header, so a cross-origin page preflights each URL once (cached 2 h, longer than any visit here). */
const PREFLIGHTED = { read: 1, heartbeat: 2, keepPlace: 4, leave: 8 } as const;

export interface ModelApiOptions {
  /** The page is served from another origin than the API (CORS preflights). @default true */
  crossOriginPage?: boolean;
  /**
   * Time an answer takes to reach the visitor beyond the function's own duration, by route (the
   * calibration sets the local runtime's, measured per route: under load its joins are slower than
   * its heartbeats). @default 0
   */
  responseLatencyMs?: number | Readonly<Record<string, number>>;
}

export class ModelApi implements VisitorApi {
  private readonly preflighted = new Map<string, number>();
  /** When the last answer reached its visitor, and the event it was asked in. */
  private answered = { eventAt: Number.NaN, at: 0 };

  constructor(
    private readonly deployment: Deployment,
    private readonly options: ModelApiOptions = {},
  ) {}

  async join(roomId: string): Promise<JoinAnswer> {
    const { view, secret } = await this.call(ROUTES.join, 'join', 'join', (rt) => rt.visitors.join(roomId));
    this.deployment.meter.log(); // the join handler's "joined" line
    this.bytesOut(SIZE.headers + viewBytes(view) + SIZE.secret);
    return { ...view, secret };
  }

  async heartbeat(roomId: string, tokenId: string, secret: string): Promise<TokenView> {
    return this.viewCall('heartbeat', tokenId, (rt) => rt.visitors.heartbeat(roomId, tokenId, secret));
  }

  async keepPlace(roomId: string, tokenId: string, secret: string): Promise<TokenView> {
    return this.viewCall('keepPlace', tokenId, (rt) => rt.visitors.keepPlace(roomId, tokenId, secret));
  }

  async read(roomId: string, tokenId: string, secret: string): Promise<TokenView> {
    return this.viewCall('read', tokenId, (rt) => rt.visitors.read(roomId, tokenId, secret));
  }

  async leave(roomId: string, tokenId: string, secret: string): Promise<void> {
    this.preflight(tokenId, 'leave');
    this.preflighted.delete(tokenId);
    await this.call(ROUTES.leave, 'leave', this.deployment.causeOf(tokenId), (rt) => rt.visitors.leave(roomId, tokenId, secret));
    this.bytesOut(SIZE.headers);
  }

  status(roomId: string): Promise<RoomStatus> {
    return this.deployment.edge.status(roomId, this.deployment.sim.now);
  }

  /**
   * The time a visitor acting in the current event sees: after an answer, when it arrived (the
   * request's modelled duration and the response latency later), so that the page's next step is
   * timed from the answer, as a page's timers are.
   */
  visitorNow(): number {
    const now = this.deployment.sim.now;
    return this.answered.eventAt === now ? Math.max(now, this.answered.at) : now;
  }

  private async viewCall(route: keyof typeof PREFLIGHTED & keyof typeof ROUTES, tokenId: string, work: (rt: Runtime) => Promise<TokenView>): Promise<TokenView> {
    this.preflight(tokenId, route);
    // Heartbeat and keep-place are one function (lambdas/handlers/heartbeat.ts).
    const fn: FunctionName = route === 'read' ? 'get-token' : route === 'keepPlace' ? 'heartbeat' : route;
    const view = await this.call(ROUTES[route], fn, this.deployment.causeOf(tokenId), work);
    this.deployment.meter.tally.add(`answers.${route}.${view.state}.${view.zone}`);
    this.bytesOut(SIZE.headers + viewBytes(view));
    return view;
  }

  private preflight(tokenId: string, route: keyof typeof PREFLIGHTED): void {
    if (this.options.crossOriginPage === false) return;
    const done = this.preflighted.get(tokenId) ?? 0;
    if (done & PREFLIGHTED[route]) return;
    this.preflighted.set(tokenId, done | PREFLIGHTED[route]);
    this.deployment.meter.api(ROUTES.preflight, this.deployment.sim.now);
    this.bytesOut(SIZE.headers);
  }

  /** One API request that reaches a function; a domain error becomes the handler's answer (an ApiError). */
  private async call<R>(route: string, fn: FunctionName, cause: Cause, work: (rt: Runtime) => Promise<R>): Promise<R> {
    const { sim, meter, functions } = this.deployment;
    const at = sim.now;
    meter.cause = cause;
    meter.api(route, at);
    meter.backend(cause, at);
    try {
      const { value, end } = await functions[fn].invoke(at, (env) => work(env.context));
      this.answered = { eventAt: at, at: end + this.latencyOf(route) };
      return value;
    } catch (error) {
      const response = errorToResponse(error);
      if (response.statusCode >= 500) throw error; // a bug, not an answer
      meter.tally.add(`api.errors.${response.statusCode}`);
      this.bytesOut(SIZE.headers + SIZE.errorBody);
      throw new ApiError(response.statusCode);
    }
  }

  private latencyOf(route: string): number {
    const latency = this.options.responseLatencyMs ?? 0;
    return typeof latency === 'number' ? latency : (latency[route] ?? 0);
  }

  private bytesOut(bytes: number): void {
    this.deployment.meter.tally.add('api.bytesOut', bytes);
  }
}

function viewBytes(view: TokenView): number {
  return view.pass !== undefined ? SIZE.tokenViewWithPass : SIZE.tokenView;
}
