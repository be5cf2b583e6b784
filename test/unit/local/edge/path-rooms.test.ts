/**
 * The demo origin's own reading of which room a path belongs to (local/edge/path-rooms.ts) agrees
 * with the gate function's, path by path: the origin is an independent witness of the same rules.
 */
import { describe, expect, it } from 'vitest';
import { isCloudFrontResponse } from '../../../../edge/cloudfront-event.js';
import { loadGate } from '../../../../edge/run-gate.js';
import { defaultGateRooms, localGateConfig } from '../../../../local/edge/gate-config.js';
import { LOCAL_GATE_ISSUER } from '../../../../local/edge/keys.js';
import { roomOfPath } from '../../../../local/edge/path-rooms.js';
import { viewerEvent } from '../../edge/fixtures.js';

const CONFIGS = {
  'the local default (two rooms)': localGateConfig(defaultGateRooms(['demo', 'concert']), LOCAL_GATE_ISSUER),
  'prefixes and exact paths': localGateConfig(
    [
      { roomId: 'shop', paths: ['/shop/*', '/checkout'] },
      { roomId: 'concert', paths: ['/concert*'] },
    ],
    LOCAL_GATE_ISSUER,
  ),
};
const PATHS = [
  '/', '/products/1', '/concert', '/concert/', '/concerts', '/concert/seats', '/shop', '/shop/', '/shop/item', '/checkout', '/checkout/',
  '/robots.txt', '/favicon.ico', '/robots.txt/x', '/waiting-room', '/waiting-room/', '/waiting-room/assets/client.js', '/waiting-room/api',
  '/waiting-room/api/rooms/demo/tokens', '/waiting-roomy', '/WAITING-ROOM/', '/Shop/item',
];

/** The room the gate function wants a pass of for `path` (its 403 names the queue), or null when it lets the request through. */
async function gateRoom(gate: ReturnType<typeof loadGate>, path: string): Promise<string | null> {
  const result = await gate(viewerEvent({ uri: path, accept: 'application/json' }));
  if (!isCloudFrontResponse(result)) return null;
  const body = JSON.parse((result.body as { data: string }).data) as { error: { queue: string } };
  return /\/rooms\/([^/]+)\/tokens$/.exec(body.error.queue)![1]!;
}

describe.each(Object.entries(CONFIGS))('the rooms of paths, %s', (_name, config) => {
  const gate = loadGate({ config, kvs: new Map() });
  it.each(PATHS)('%s: the origin and the gate agree', async (path) => {
    expect(roomOfPath(config, path)).toBe(await gateRoom(gate, path));
  });
});

describe('the local rooms', () => {
  it('give the first room every path, and each other room its own prefix, listed before', () => {
    expect(defaultGateRooms([])).toEqual([]);
    expect(defaultGateRooms(['demo'])).toEqual([{ roomId: 'demo', paths: ['/*'] }]);
    expect(defaultGateRooms(['demo', 'a', 'b'])).toEqual([
      { roomId: 'a', paths: ['/a/*'] },
      { roomId: 'b', paths: ['/b/*'] },
      { roomId: 'demo', paths: ['/*'] },
    ]);
  });

  it('are checked as the construct checks them', () => {
    expect(() => localGateConfig([{ roomId: 'bad room', paths: ['/*'] }], LOCAL_GATE_ISSUER)).toThrow(/rooms\[0\]\.roomId/);
    expect(localGateConfig([], LOCAL_GATE_ISSUER)).toMatchObject({ issuer: 'waiting-room:local', waitingPath: '/waiting-room/', apiPath: '/waiting-room/api/', unprotected: ['/robots.txt', '/favicon.ico'] });
  });
});
