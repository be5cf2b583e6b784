import { describe, expect, it } from 'vitest';
import { CLOUDFRONT_FUNCTION_MAX_BYTES, GateConfigError, checkGateConfig, defaultGateConfig, gateSource, renderGateCode, type GateConfig } from '../../../edge/gate-code.js';
import { CONFIG } from './fixtures.js';

describe('gate code: rendering', () => {
  it('replaces the config block, markers included, with the configuration as JSON', () => {
    const code = renderGateCode(CONFIG);
    expect(code).not.toContain('// <config>');
    expect(code).not.toContain('// </config>');
    expect(code).toContain(`const CONFIG = ${JSON.stringify(CONFIG)};`);
    expect(code.split('const CONFIG =')).toHaveLength(2);
    const source = gateSource();
    expect(code.slice(0, 200)).toBe(source.slice(0, 200));
    expect(code.endsWith(source.slice(-200))).toBe(true);
  });

  it('refuses a source without exactly one config block', () => {
    expect(() => renderGateCode(CONFIG, 'const CONFIG = {};')).toThrow(GateConfigError);
    const source = gateSource();
    expect(() => renderGateCode(CONFIG, source + '\n// <config>\n// </config>\n')).toThrow(GateConfigError);
  });

  it('refuses code over the 10 KB limit, naming the size', () => {
    const rooms = Array.from({ length: 80 }, (_, i) => ({ roomId: `room-${i}`, paths: [`/a-rather-long-path-of-room-${i}/*`] }));
    expect(() => renderGateCode(defaultGateConfig(rooms))).toThrow(/over CloudFront Functions' 10240/);
  });

  it('escapes U+2028 and U+2029 in the JSON', () => {
    const code = renderGateCode({ ...CONFIG, issuer: 'a\u2028b\u2029c' });
    expect(code).toContain('a\\u2028b\\u2029c');
    expect(code).not.toMatch(/[\u2028\u2029]/);
  });
});

describe('gate code: size', () => {
  it('keeps the source well under CloudFront Functions\' 10 KB (at most 8 KB)', () => {
    expect(Buffer.byteLength(gateSource())).toBeLessThanOrEqual(8 * 1024);
  });

  it('leaves room for a typical configuration: five rooms of three patterns in under 9 KB', () => {
    const rooms = Array.from({ length: 5 }, (_, i) => ({ roomId: `sale-${i}`, paths: [`/sale-${i}/*`, `/products/sale-${i}*`, `/checkout/sale-${i}`] }));
    const code = renderGateCode(defaultGateConfig(rooms, ['/assets/*', '/health', '/robots.txt', '/favicon.ico']));
    expect(Buffer.byteLength(code)).toBeLessThan(9 * 1024);
    expect(Buffer.byteLength(code)).toBeLessThan(CLOUDFRONT_FUNCTION_MAX_BYTES);
  });
});

describe('gate code: configuration', () => {
  it('accepts the default configuration and prefixes with or without the final "/"', () => {
    expect(checkGateConfig(CONFIG)).toBe(CONFIG);
    expect(() => checkGateConfig({ ...CONFIG, waitingPath: '/waiting-room', apiPath: '/waiting-room/api' })).not.toThrow();
  });

  it.each<[string, Partial<GateConfig>, RegExp]>([
    ['an empty issuer', { issuer: '' }, /issuer/],
    ['a waiting path without a leading "/"', { waitingPath: 'waiting-room/' }, /waitingPath/],
    ['the root as the API path', { apiPath: '/' }, /apiPath/],
    ['a "*" inside a pattern', { unprotected: ['/a*/b'] }, /unprotected\[0\]/],
    ['a pattern with a space', { unprotected: ['/a b'] }, /unprotected\[0\]/],
    ['a bad room id', { rooms: [{ roomId: 'a#b', paths: ['/a'] }] }, /rooms\[0\]\.roomId/],
    ['a room twice', { rooms: [{ roomId: 'a', paths: ['/a'] }, { roomId: 'a', paths: ['/b'] }] }, /rooms\[1\]\.roomId/],
    ['a room without paths', { rooms: [{ roomId: 'a', paths: [] }] }, /rooms\[0\]\.paths/],
    ['a relative room path', { rooms: [{ roomId: 'a', paths: ['shop/*'] }] }, /rooms\[0\]\.paths\[0\]/],
    ['a fractional lifetime', { maxLifetimeSeconds: 1.5 }, /maxLifetimeSeconds/],
    ['a lifetime over an hour', { maxLifetimeSeconds: 3601 }, /maxLifetimeSeconds/],
  ])('refuses %s, naming the setting', (_what, change, where) => {
    expect(() => checkGateConfig({ ...CONFIG, ...change })).toThrow(where);
    expect(() => renderGateCode({ ...CONFIG, ...change })).toThrow(GateConfigError);
  });
});
