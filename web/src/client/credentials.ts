/**
 * The visitor's credential `{ roomId, tokenId, secret }` in storage, one per room: what lets a
 * reload or a second tab resume the same ticket. A join in an event's pre-queue keeps its lottery
 * receipt and the event's id with it (the verifier page, web/lottery.html, reads them from here
 * too). Read values are checked (another version of the page, or a hand edit, may have written
 * them); a malformed credential is dropped, a malformed receipt left out.
 */
import { ROOM_ID_PATTERN, SECRET_PATTERN, TOKEN_ID_PATTERN } from '../../../lambdas/domain/id-patterns.js';
import type { Credential } from './api.js';
import type { StorageLike } from './environment.js';
import { isRecord, safeParse } from './json.js';

/** The prefix of every storage key, lock and channel name of the client (its `keyPrefix` option). */
export const DEFAULT_KEY_PREFIX = 'waiting-room:v1';

/** Where a room's credential is stored. */
export const credentialKeyOf = (roomId: string, keyPrefix = DEFAULT_KEY_PREFIX): string => `${keyPrefix}:${roomId}:credential`;

/** A compact JWS (three base64url parts), of a sane length. */
const RECEIPT_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_RECEIPT_LENGTH = 8_192;
/** An event id is shaped as a room id (lambdas/domain/events/lottery.ts LOTTERY_EVENT_ID_PATTERN, which imports more than a page needs). */
const EVENT_ID_PATTERN = ROOM_ID_PATTERN;

/** The credential's lottery fields that are well formed. */
function lotteryFieldsOf(value: Record<string, unknown>): Pick<Credential, 'lotteryReceipt' | 'lotteryEventId'> {
  const { lotteryReceipt: receipt, lotteryEventId: eventId } = value;
  if (typeof eventId !== 'string' || !EVENT_ID_PATTERN.test(eventId)) return {};
  const signed = typeof receipt === 'string' && receipt.length <= MAX_RECEIPT_LENGTH && RECEIPT_PATTERN.test(receipt);
  return { lotteryEventId: eventId, ...(signed ? { lotteryReceipt: receipt } : {}) };
}

export class CredentialStore {
  constructor(
    private readonly storage: StorageLike,
    private readonly key: string,
    private readonly roomId: string,
  ) {}

  read(): Credential | undefined {
    const text = this.text();
    if (text === null) return undefined;
    const credential = this.parsed(text);
    if (!credential) this.clear();
    return credential;
  }

  /** Reads without dropping a malformed value: for another page of the site (the lottery verifier), which leaves the client's storage alone. */
  peek(): Credential | undefined {
    const text = this.text();
    return text === null ? undefined : this.parsed(text);
  }

  write(credential: Credential): void {
    try {
      this.storage.setItem(this.key, JSON.stringify(credential));
    } catch {
      // Storage full or disabled: the ticket lives as long as this page.
    }
  }

  /** Forgets the stored ticket; with `tokenId`, only if it is still that ticket. */
  clear(tokenId?: string): void {
    try {
      if (tokenId !== undefined) {
        const text = this.storage.getItem(this.key);
        const value = text === null ? undefined : safeParse(text);
        if (isRecord(value) && value.tokenId !== tokenId) return;
      }
      this.storage.removeItem(this.key);
    } catch {
      // As above.
    }
  }

  private text(): string | null {
    try {
      return this.storage.getItem(this.key);
    } catch {
      return null;
    }
  }

  private parsed(text: string): Credential | undefined {
    const value = safeParse(text);
    if (
      isRecord(value) &&
      value.roomId === this.roomId &&
      typeof value.tokenId === 'string' &&
      TOKEN_ID_PATTERN.test(value.tokenId) &&
      typeof value.secret === 'string' &&
      SECRET_PATTERN.test(value.secret)
    ) {
      return { roomId: value.roomId, tokenId: value.tokenId, secret: value.secret, ...lotteryFieldsOf(value) };
    }
    return undefined;
  }
}
