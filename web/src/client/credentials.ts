/**
 * The visitor's credential `{ roomId, tokenId, secret }` in storage, one per room: what lets a
 * reload or a second tab resume the same ticket. Read values are checked (another version of the
 * page, or a hand edit, may have written them); a malformed one is dropped.
 */
import { SECRET_PATTERN, TOKEN_ID_PATTERN } from '../../../lambdas/domain/id-patterns.js';
import type { Credential } from './api.js';
import type { StorageLike } from './environment.js';
import { isRecord, safeParse } from './json.js';

export class CredentialStore {
  constructor(
    private readonly storage: StorageLike,
    private readonly key: string,
    private readonly roomId: string,
  ) {}

  read(): Credential | undefined {
    let text: string | null;
    try {
      text = this.storage.getItem(this.key);
    } catch {
      return undefined;
    }
    if (text === null) return undefined;
    const value = safeParse(text);
    if (
      isRecord(value) &&
      value.roomId === this.roomId &&
      typeof value.tokenId === 'string' &&
      TOKEN_ID_PATTERN.test(value.tokenId) &&
      typeof value.secret === 'string' &&
      SECRET_PATTERN.test(value.secret)
    ) {
      return { roomId: value.roomId, tokenId: value.tokenId, secret: value.secret };
    }
    this.clear();
    return undefined;
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
}
