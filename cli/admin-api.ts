/**
 * The admin API, as the CLI calls it: JSON over HTTP(S), signed with SigV4 (service execute-api):
 * from the AWS SDK's credential chain when the API is on AWS, with the local runtime's own
 * credentials against `npm start`, which checks signatures as API Gateway does. Every failure becomes a CliError with its exit code and a
 * sentence that says what to do.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { CliError, EXIT } from './errors.js';
import { signedHeaders } from '../local/sigv4-sign.js';

export interface AdminTarget {
  /** The API's base URL, without a trailing slash. */
  baseUrl: string;
  /** Requests are signed with these credentials, for this region (the local runtime's own for --local). */
  signing: { credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider; region: string };
  /** Where the target came from, for messages (`--stack shop-prod`, `--local`). */
  describe: string;
  /** The local runtime (npm start), not AWS. */
  local?: boolean;
  /** The stack's outputs, when the target is a stack (--stack). */
  outputs?: Record<string, string>;
}

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<{ status: number; text(): Promise<string> }>;

export class AdminApi {
  constructor(
    private readonly target: AdminTarget,
    private readonly fetchFn: FetchLike = fetch as unknown as FetchLike,
  ) {}

  get describe(): string {
    return this.target.describe;
  }

  get baseUrl(): string {
    return this.target.baseUrl;
  }

  async request<T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = new URL(`${this.target.baseUrl}${path}`);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json', ...(text !== undefined ? { 'content-type': 'application/json' } : {}) };
    const signed = await this.sign(url, method, headers, text);
    let response: Awaited<ReturnType<FetchLike>>;
    try {
      response = await this.fetchFn(url.href, { method, headers: signed, ...(text !== undefined ? { body: text } : {}) });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new CliError(`Cannot reach the waiting-room API at ${this.target.baseUrl} (${this.target.describe}): ${cause}`, EXIT.unreachable);
    }
    const answer = await response.text();
    let parsed: unknown;
    try {
      parsed = answer ? JSON.parse(answer) : undefined;
    } catch {
      throw new CliError(`The API answered ${response.status} with something that is not JSON: is ${this.target.baseUrl} a waiting-room API?`, EXIT.failed);
    }
    if (response.status >= 200 && response.status < 300) return parsed as T;
    throw failure(response.status, parsed, this.target);
  }

  private async sign(url: URL, method: string, headers: Record<string, string>, body: string | undefined): Promise<Record<string, string>> {
    const { credentials, region } = this.target.signing;
    try {
      return await signedHeaders({ url, method, headers, ...(body !== undefined ? { body } : {}), credentials, region });
    } catch (error) {
      throw new CliError(
        `No AWS credentials to sign with (${error instanceof Error ? error.message : String(error)}): set AWS_PROFILE or AWS_ACCESS_KEY_ID, or run \`aws sso login\`, or use --local for npm start`,
        EXIT.denied,
      );
    }
  }
}

/** The API's error answer, as a CliError: its code and message when it gave them. */
function failure(status: number, body: unknown, target: AdminTarget): CliError {
  const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const message = error?.message ?? (body as { message?: string } | undefined)?.message ?? `HTTP ${status}`;
  if (status === 404 && error?.code === 'ROOM_NOT_FOUND') return new CliError(message, EXIT.notFound, error.code);
  if (status === 401 || status === 403) {
    return new CliError(
      `Not allowed (${status}: ${message}). The credentials need execute-api:Invoke on the /admin routes of this API`,
      EXIT.denied,
      error?.code,
    );
  }
  if (status === 429 || status >= 500) return new CliError(`The API is failing or throttling (${status}: ${message}); try again shortly`, EXIT.unreachable, error?.code);
  if (status === 404) return new CliError(`${message}: is ${target.baseUrl} a waiting-room API?`, EXIT.usage, error?.code);
  return new CliError(message, EXIT.usage, error?.code);
}
