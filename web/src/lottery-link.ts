/**
 * The link from the waiting page to the lottery verifier (web/lottery.html), both ends of it:
 *
 * - `?room=`: the room, by which the verifier also finds the receipt the client kept with the
 *   visitor's credential (same site, same storage);
 * - `?publication=`: the published draw, GET /rooms/{roomId}/lottery on the room's API (which the
 *   verifier fetches when the visitor asks it to check);
 * - `?jwks=`: the API's public keys (GET /.well-known/jwks.json), which check the receipt's signature;
 * - `#receipt=`: the visitor's signed receipt, in the fragment, which the browser never sends to a
 *   server (so it is in no access log).
 */
import { ROOM_ID_PATTERN } from '../../lambdas/domain/id-patterns.js';
import { credentialKeyOf, CredentialStore } from './client/credentials.js';
import type { StorageLike } from './client/environment.js';

/** Where the page links by default (its data-lottery-url overrides it). */
export const DEFAULT_VERIFIER_URL = '/lottery.html';

const apiUrl = (apiBase: string, path: string, base: string): string => new URL(`${apiBase.replace(/\/+$/, '')}${path}`, base).href;

/** The URL of a room's published draw on the API at `apiBase` ('' for this site), absolute against `base`. */
export function publicationUrlOf(apiBase: string, roomId: string, base: string): string {
  return apiUrl(apiBase, `/rooms/${encodeURIComponent(roomId)}/lottery`, base);
}

export interface LotteryLink {
  /** The verifier page (relative to `base`). */
  verifierUrl: string;
  apiBase: string;
  roomId: string;
  receipt: string;
  /** The waiting page's own URL. */
  base: string;
}

/** The verifier's URL with the room, the publication's URL and the receipt filled in. */
export function lotteryLinkOf(link: LotteryLink): string {
  const url = new URL(link.verifierUrl, link.base);
  url.searchParams.set('room', link.roomId);
  url.searchParams.set('publication', publicationUrlOf(link.apiBase, link.roomId, link.base));
  url.searchParams.set('jwks', apiUrl(link.apiBase, '/.well-known/jwks.json', link.base));
  url.hash = new URLSearchParams({ receipt: link.receipt }).toString();
  return url.href;
}

/** The verifier's room (`?room=`), when it is a room id. */
export function linkedRoomOf(search: string): string | undefined {
  const room = new URLSearchParams(search).get('room');
  return room !== null && ROOM_ID_PATTERN.test(room) ? room : undefined;
}

/** The receipt in the verifier's fragment (`#receipt=`), if any. */
export function linkedReceiptOf(hash: string): string | undefined {
  const receipt = new URLSearchParams(hash.replace(/^#/, '')).get('receipt')?.trim();
  return receipt ? receipt : undefined;
}

/** The receipt the client kept with the visitor's credential for `roomId`, if any (storage may be unavailable). */
export function storedReceiptOf(storage: () => StorageLike, roomId: string): string | undefined {
  try {
    return new CredentialStore(storage(), credentialKeyOf(roomId), roomId).peek()?.lotteryReceipt;
  } catch {
    return undefined;
  }
}
