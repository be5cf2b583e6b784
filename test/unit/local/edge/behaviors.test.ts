/** The local edge picks a behavior as CloudFront does: the first matching path pattern of the gate's distribution, else the default. */
import { describe, expect, it } from 'vitest';
import { behaviorFor, pathPatternMatches } from '../../../../local/edge/behaviors.js';

describe('CloudFront path patterns', () => {
  it.each([
    ['/waiting-room/api/*', '/waiting-room/api/rooms/shop/tokens', true],
    ['/waiting-room/api/*', '/waiting-room/api/', true],
    ['/waiting-room/api/*', '/waiting-room/api', false],
    ['/waiting-room/api/rooms/*/status', '/waiting-room/api/rooms/shop/status', true],
    ['/waiting-room/api/rooms/*/status', '/waiting-room/api/rooms/a/b/status', true],
    ['/waiting-room/api/rooms/*/status', '/waiting-room/api/rooms/shop/status/x', false],
    ['/waiting-room', '/waiting-room', true],
    ['/waiting-room', '/waiting-room/', false],
    ['/a?c', '/abc', true],
    ['/a?c', '/ac', false],
    ['/a.c', '/abc', false],
    ['/Waiting-Room/*', '/waiting-room/x', false],
  ])('%s matches %s: %s', (pattern, path, expected) => {
    expect(pathPatternMatches(pattern, path)).toBe(expected);
  });
});

describe('the behavior of a path', () => {
  it.each([
    ['/waiting-room/api/rooms/shop/status', 'status'],
    ['/waiting-room/api/rooms/shop/tokens', 'api'],
    ['/waiting-room/api/openapi.json', 'api'],
    ['/waiting-room', 'page'],
    ['/waiting-room/', 'pageAssets'],
    ['/waiting-room/assets/client.js', 'pageAssets'],
    ['/waiting-room/api', 'pageAssets'],
    ['/waiting-roomy', 'default'],
    ['/', 'default'],
    ['/products/1', 'default'],
  ])('%s is served by %s', (path, name) => {
    expect(behaviorFor(path).name).toBe(name);
  });

  it('allows the methods each behavior allows in lib/gate/gate.ts', () => {
    expect(behaviorFor('/waiting-room/').methods).toEqual(['GET', 'HEAD']);
    expect(behaviorFor('/waiting-room/api/rooms/shop/status').methods).toEqual(['GET', 'HEAD', 'OPTIONS']);
    expect(behaviorFor('/waiting-room/api/rooms/shop/tokens').methods).toContain('DELETE');
    expect(behaviorFor('/checkout').methods).toContain('POST');
  });
});
