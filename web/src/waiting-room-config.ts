/**
 * The waiting-room page's configuration: <body data-room-id data-origin-url data-api-base
 * data-status-base data-leave-on-close data-lottery-url>; a `?room=` query parameter overrides the
 * room. Where an admitted visitor goes is data-origin-url, or `?return=` when it is a path of this
 * very site (the edge gate sends visitors here with the URL they asked for); never another site
 * from the query string (that would make the page an open redirect).
 *
 * data-leave-on-close is off by default: pagehide cannot tell a reload from a closed tab, so
 * leaving on pagehide makes a single-tab reload give up its place (DELETE, then a fresh join at the
 * back of the line). A waiting visitor holds no seat, and a closed tab's ticket is removed anyway
 * once it falls silent: about 20 s after its last heartbeat near the front, after the keep-place
 * timeout far back.
 *
 * data-lottery-url is the lottery verifier page the page links to once an event's draw is made
 * (/lottery.html when empty).
 */
import { ROOM_ID_PATTERN } from '../../lambdas/domain/id-patterns.js';
import { DEFAULT_VERIFIER_URL } from './lottery-link.js';
import { sameSitePath } from './return-path.js';

export interface PageConfig {
  roomId: string;
  originUrl: string;
  apiBase: string;
  /** data-status-base: where the room status is read (a CDN, say); empty or absent: the API base. */
  statusBase?: string;
  /** data-leave-on-close="true": leave the line on pagehide when no other tab is open. */
  leaveOnClose: boolean;
  /** data-lottery-url: the lottery verifier page. */
  lotteryUrl: string;
}

export function readConfig(doc: Document, loc: Location): PageConfig {
  const data = doc.body.dataset;
  const query = new URLSearchParams(loc.search);
  const fromQuery = query.get('room');
  const roomId = fromQuery && ROOM_ID_PATTERN.test(fromQuery) ? fromQuery : (data.roomId ?? 'demo');
  return {
    roomId,
    originUrl: sameSitePath(query.get('return'), loc) ?? safeOrigin(data.originUrl ?? '/', loc.href),
    apiBase: data.apiBase ?? '',
    ...(data.statusBase ? { statusBase: data.statusBase } : {}),
    leaveOnClose: data.leaveOnClose === 'true',
    lotteryUrl: safeOrigin(data.lotteryUrl || DEFAULT_VERIFIER_URL, loc.href),
  };
}

/** An http(s) URL or '/', so a page misconfiguration cannot send visitors to `javascript:`. */
function safeOrigin(value: string, base: string): string {
  try {
    const url = new URL(value, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : '/';
  } catch {
    return '/';
  }
}
