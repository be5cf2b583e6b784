/**
 * The waiting page's `?return=` (where the edge gate found the visitor): a path of this very site
 * is followed after admission; anything that could leave the site is ignored (no open redirect).
 */
import { describe, expect, it } from 'vitest';
import { sameSitePath } from '../../../web/src/return-path.js';

const loc = { href: 'https://shop.example.com/waiting-room/?room=shop', origin: 'https://shop.example.com' };

describe('?return=', () => {
  it('takes a path of this site, with its query', () => {
    expect(sameSitePath('/shop/item?id=7', loc)).toBe('https://shop.example.com/shop/item?id=7');
    expect(sameSitePath('/', loc)).toBe('https://shop.example.com/');
  });

  it('ignores anything that could leave the site', () => {
    for (const value of [null, '', 'https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', 'shop/item', '/%5C%5Cevil.example'.replace('%5C%5C', '\\\\')]) {
      expect(sameSitePath(value, loc), String(value)).toBeUndefined();
    }
  });
});
