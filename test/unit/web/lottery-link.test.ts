/**
 * The link from the waiting page to the lottery verifier (web/src/lottery-link.ts), and the receipt
 * the client keeps with the credential (web/src/client/credentials.ts), which the verifier reads.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStorage, credentialKeyOf, CredentialStore } from '../../../web/src/client.js';
import { linkedReceiptOf, linkedRoomOf, lotteryLinkOf, publicationUrlOf, storedReceiptOf } from '../../../web/src/lottery-link.js';
import { RECEIPT } from './event-room.js';

const PAGE = 'https://shop.example/?room=shop';
const TOKEN = 'A'.repeat(22);
const SECRET = 'b'.repeat(43);

describe('the link to the verifier', () => {
  it('names the room, the publication and the JWKS on the API, and carries the receipt in the fragment', () => {
    const link = new URL(lotteryLinkOf({ verifierUrl: '/lottery.html', apiBase: 'https://api.example/prod/', roomId: 'shop', receipt: RECEIPT, base: PAGE }));
    expect(link.origin + link.pathname).toBe('https://shop.example/lottery.html');
    expect(link.searchParams.get('room')).toBe('shop');
    expect(link.searchParams.get('publication')).toBe('https://api.example/prod/rooms/shop/lottery');
    expect(link.searchParams.get('jwks')).toBe('https://api.example/prod/.well-known/jwks.json');
    expect(link.search).not.toContain(RECEIPT);
    expect(linkedReceiptOf(link.hash)).toBe(RECEIPT);
    expect(linkedRoomOf(link.search)).toBe('shop');
  });

  it('uses this site when the API is on it', () => {
    expect(publicationUrlOf('', 'shop', PAGE)).toBe('https://shop.example/rooms/shop/lottery');
  });

  it('reads no receipt from an empty fragment, and no room that is not a room id', () => {
    expect(linkedReceiptOf('')).toBeUndefined();
    expect(linkedReceiptOf('#receipt=')).toBeUndefined();
    expect(linkedRoomOf('?room=../admin')).toBeUndefined();
    expect(linkedRoomOf('')).toBeUndefined();
  });
});

describe('the receipt kept with the credential', () => {
  it('is read back by the verifier, which leaves storage as it found it', () => {
    const storage = createMemoryStorage();
    new CredentialStore(storage, credentialKeyOf('shop'), 'shop').write({ roomId: 'shop', tokenId: TOKEN, secret: SECRET, lotteryEventId: 'drop-1', lotteryReceipt: RECEIPT });
    expect(storedReceiptOf(() => storage, 'shop')).toBe(RECEIPT);
    expect(storedReceiptOf(() => storage, 'other')).toBeUndefined();

    storage.setItem(credentialKeyOf('other'), '{"broken"');
    expect(storedReceiptOf(() => storage, 'other')).toBeUndefined();
    expect(storage.getItem(credentialKeyOf('other'))).toBe('{"broken"');
    expect(
      storedReceiptOf(() => {
        throw new Error('SecurityError');
      }, 'shop'),
    ).toBeUndefined();
  });

  it('is left out when malformed, the credential kept', () => {
    const storage = createMemoryStorage();
    const store = new CredentialStore(storage, credentialKeyOf('shop'), 'shop');
    storage.setItem(credentialKeyOf('shop'), JSON.stringify({ roomId: 'shop', tokenId: TOKEN, secret: SECRET, lotteryEventId: 'drop-1', lotteryReceipt: '<script>' }));
    expect(store.read()).toEqual({ roomId: 'shop', tokenId: TOKEN, secret: SECRET, lotteryEventId: 'drop-1' });
    storage.setItem(credentialKeyOf('shop'), JSON.stringify({ roomId: 'shop', tokenId: TOKEN, secret: SECRET, lotteryEventId: 'no such id!', lotteryReceipt: RECEIPT }));
    expect(store.read()).toEqual({ roomId: 'shop', tokenId: TOKEN, secret: SECRET });
  });
});
