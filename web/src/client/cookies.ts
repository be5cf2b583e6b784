/**
 * The pass cookie: how an admitted visitor's pass reaches the protected origin, and how it is
 * removed when the visitor leaves or loses the ticket.
 */
import type { TokenView } from './api.js';

export const PASS_COOKIE = 'wr_pass';

/** The pass as a cookie string for the protected origin, or undefined when the view has no pass. */
export function passCookie(
  view: Pick<TokenView, 'pass' | 'passExpiresAt'>,
  now: number,
  options: { name?: string; secure?: boolean } = {},
): string | undefined {
  if (!view.pass) return undefined;
  const parts = [`${options.name ?? PASS_COOKIE}=${encodeURIComponent(view.pass)}`, 'Path=/', 'SameSite=Lax'];
  if (view.passExpiresAt !== undefined && Number.isFinite(view.passExpiresAt)) {
    // Epoch milliseconds per the API; a value in seconds is accepted too.
    const expiresAtMs = view.passExpiresAt < 1e12 ? view.passExpiresAt * 1000 : view.passExpiresAt;
    parts.push(`Max-Age=${Math.max(0, Math.floor((expiresAtMs - now) / 1000))}`);
  }
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** A cookie string that removes the pass cookie. */
export function clearedPassCookie(options: { name?: string; secure?: boolean } = {}): string {
  return [`${options.name ?? PASS_COOKIE}=`, 'Path=/', 'SameSite=Lax', 'Max-Age=0', ...(options.secure ? ['Secure'] : [])].join('; ');
}
