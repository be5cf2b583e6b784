/** A visitor driven over HTTP, as a browser would: join, read, heartbeat, leave. */
import { signedHeaders } from '../../local/sigv4-sign.js';
import type { TokenView } from '../../lambdas/domain/index.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/intrinsics.js';

export type { TokenView };

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}: ${JSON.stringify(body)}`);
  }
}

/** A shed request (429) is sent again after its Retry-After, as the page does, for this long at most. */
const THROTTLED_RETRY_FOR_MS = 30_000;

async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
  const giveUpAt = Date.now() + THROTTLED_RETRY_FOR_MS;
  for (;;) {
    const response = await fetch(url, init);
    const text = await response.text();
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    if (response.status === 429 && Date.now() < giveUpAt) {
      const retryAfterS = Number(response.headers.get('retry-after') ?? 1);
      await sleep((Number.isFinite(retryAfterS) ? retryAfterS : 1) * 1000 * (0.5 + Math.random()));
      continue;
    }
    if (!response.ok) throw new HttpError(response.status, body);
    return body as T;
  }
}

export class Visitor {
  view!: TokenView;
  private secret!: string;
  private timer?: NodeJS.Timeout;
  private beating?: Promise<unknown>;

  constructor(
    readonly baseUrl: string,
    readonly roomId: string,
  ) {}

  static async join(baseUrl: string, roomId: string): Promise<Visitor> {
    const visitor = new Visitor(baseUrl, roomId);
    const { secret, ...view } = await call<TokenView & { secret: string }>(`${baseUrl}/rooms/${roomId}/tokens`, { method: 'POST' });
    visitor.secret = secret;
    visitor.view = view;
    // As the page does: a join admits nobody, and when a seat looks free it says to heartbeat at once.
    if (view.heartbeatNow) await visitor.heartbeat();
    return visitor;
  }

  /** What a browser keeps to come back: the token view and the secret. */
  get credential(): { view: TokenView; secret: string } {
    return { view: this.view, secret: this.secret };
  }

  /** A visitor coming back with a kept credential (a reload, or a restarted server). */
  static resume(baseUrl: string, roomId: string, credential: { view: TokenView; secret: string }): Visitor {
    const visitor = new Visitor(baseUrl, roomId);
    visitor.view = credential.view;
    visitor.secret = credential.secret;
    return visitor;
  }

  private get tokenUrl(): string {
    return `${this.baseUrl}/rooms/${this.roomId}/tokens/${this.view.tokenId}`;
  }

  private get auth(): Record<string, string> {
    return { Authorization: `Bearer ${this.secret}` };
  }

  async read(): Promise<TokenView> {
    this.view = await call<TokenView>(this.tokenUrl, { headers: this.auth });
    return this.view;
  }

  async heartbeat(): Promise<TokenView> {
    this.view = await call<TokenView>(`${this.tokenUrl}/heartbeat`, { method: 'POST', headers: this.auth });
    return this.view;
  }

  async leave(): Promise<void> {
    this.stopHeartbeats();
    await call<void>(this.tokenUrl, { method: 'DELETE', headers: this.auth });
  }

  /** Heartbeats every `intervalMs` until stopped; errors (an eviction) are kept for inspection. */
  startHeartbeats(intervalMs: number, onError?: (error: unknown) => void): void {
    this.timer = setInterval(() => {
      this.beating = this.heartbeat().catch((error) => onError?.(error));
    }, intervalMs);
  }

  stopHeartbeats(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async settled(): Promise<void> {
    await this.beating;
  }
}

/** The headers of an admin request signed as the CLI signs it (SigV4, the local credentials): the local gateway checks them as API Gateway does. */
export async function signedAdminHeaders(url: string, method: string, body?: string, headers: Record<string, string> = {}): Promise<Record<string, string>> {
  return signedHeaders({ url: new URL(url), method, headers, ...(body !== undefined ? { body } : {}), credentials: LOCAL_CREDENTIALS, region: LOCAL_REGION });
}

export async function admin<T>(baseUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const url = `${baseUrl}/admin${path}`;
  const text = body === undefined ? undefined : JSON.stringify(body);
  return call<T>(url, {
    method,
    headers: await signedAdminHeaders(url, method, text, { 'content-type': 'application/json' }),
    ...(text === undefined ? {} : { body: text }),
  });
}

export async function roomActiveCount(baseUrl: string, roomId: string): Promise<number> {
  return (await admin<{ activeCount: number }>(baseUrl, 'GET', `/rooms/${roomId}`)).activeCount;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
