/**
 * Posts a notice to a webhook: HTTPS POST of a JSON body, a 2xx answer within the timeout or it
 * throws (the Lambda service then retries the event, and sets it aside in the failure queue
 * after the last retry). The URL can be a credential (a chat webhook URL is one): it is read
 * from a Secrets Manager secret when configured so, cached, and never logged or quoted in an
 * error.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export class WebhookError extends Error {
  override name = 'WebhookError';
}

export interface WebhookUrlSource {
  url(): Promise<string>;
}

/** A URL given as it is (in the function's environment). */
export const fixedUrl = (url: string): WebhookUrlSource => ({ url: async () => url });

/** A URL kept in a secret (its whole SecretString), read at most every `cacheMs`. */
export function secretUrl(client: Pick<SecretsManagerClient, 'send'>, secretId: string, cacheMs = 5 * 60_000, now = () => Date.now()): WebhookUrlSource {
  let cached: { url: string; until: number } | undefined;
  return {
    async url() {
      if (cached && cached.until > now()) return cached.url;
      const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      const url = SecretString?.trim() ?? '';
      if (!/^https:\/\/\S+$/.test(url)) throw new WebhookError(`The webhook secret ${secretId} does not hold an https:// URL`);
      cached = { url, until: now() + cacheMs };
      return url;
    },
  };
}

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ status: number }>;

/** The host of a URL, the only part of it that is safe to log. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(not a URL)';
  }
}

export async function postToWebhook(source: WebhookUrlSource, body: string, options: { timeoutMs: number; fetch?: FetchLike }): Promise<{ status: number; host: string }> {
  const url = await source.url();
  const host = hostOf(url);
  const send = options.fetch ?? (fetch as unknown as FetchLike);
  let status: number;
  try {
    ({ status } = await send(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'User-Agent': 'waiting-room-alarms' }, body, signal: AbortSignal.timeout(options.timeoutMs) }));
  } catch (error) {
    // fetch's message never carries the URL's path (where a webhook's key is), only its cause.
    throw new WebhookError(`The webhook at ${host} did not answer: ${error instanceof Error ? error.name : 'error'}`);
  }
  if (status < 200 || status > 299) throw new WebhookError(`The webhook at ${host} answered ${status}`);
  return { status, host };
}
