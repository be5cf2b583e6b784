import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lineShardOf, readHead, type Signal, type Token } from '../../../lambdas/domain/index.js';
import { InMemoryStore } from '../../helpers/in-memory-store.js';

const NOW = 1_000_000;
const LIVE_SINCE = NOW - 20_000;

function token(ticket: number, overrides: Partial<Token> = {}): Token {
  return {
    tokenId: `t${String(ticket).padStart(21, '0')}`,
    roomId: 'room',
    ticket,
    secretHash: 'h',
    state: 'WAITING',
    signal: 'heartbeat',
    issuedAt: NOW,
    lastSeenAt: NOW,
    heard: true,
    checkSeq: 0,
    checkDueAt: NOW,
    expiresAtSeconds: 0,
    ...overrides,
  };
}

async function line(shards: number, tokens: Token[]) {
  const store = new InMemoryStore();
  for (const t of tokens) await store.putToken(t, shards);
  return store;
}

describe('the head of a sharded line', () => {
  it('spreads tickets over the shards by ticket number', () => {
    expect([0, 1, 31, 32, 33].map((t) => lineShardOf(t, 32))).toEqual([0, 1, 31, 0, 1]);
  });

  it('merges the shards in ticket order and keeps only live tokens', async () => {
    const tokens = [5, 1, 9, 2, 7, 3, 8].map((t) => token(t));
    tokens[1] = token(1, { lastSeenAt: LIVE_SINCE - 1 }); // silent
    tokens[3] = token(2, { signal: 'keep-place' }); // far back, keeping its place
    const store = await line(4, tokens);
    const head = await readHead(store, { roomId: 'room', lineShards: 4, want: 3, liveSince: LIVE_SINCE, maxEntries: 100 });
    expect(head.live.map((t) => t.ticket)).toEqual([3, 5, 7]);
    expect(head.notLive).toBe(2);
  });

  it('looks only ahead of a ticket when asked, and says when it read everything', async () => {
    const store = await line(8, [10, 11, 12, 40].map((t) => token(t)));
    const ahead = await readHead(store, { roomId: 'room', lineShards: 8, want: 1, liveSince: LIVE_SINCE, maxEntries: 100, beforeTicket: 10 });
    expect(ahead).toMatchObject({ live: [], exhausted: true });
    const head = await readHead(store, { roomId: 'room', lineShards: 8, want: 1, liveSince: LIVE_SINCE, maxEntries: 100, beforeTicket: 40 });
    expect(head.live.map((t) => t.ticket)).toEqual([10]);
  });

  it('stops after about maxEntries entries when the head is full of ghosts', async () => {
    const ghosts = Array.from({ length: 500 }, (_, i) => token(i + 1, { signal: 'keep-place' }));
    const store = await line(4, [...ghosts, token(1_000)]);
    const head = await readHead(store, { roomId: 'room', lineShards: 4, want: 1, liveSince: LIVE_SINCE, maxEntries: 40 });
    expect(head.live).toEqual([]);
    expect(head.exhausted).toBe(false);
    expect(store.calls.filter((c) => c === 'listLine').length).toBeLessThanOrEqual(4 * 15);
  });

  it('returns exactly the first live tokens in ticket order, whatever the shards and gaps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 16 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 400 }), { maxLength: 120 }),
        fc.array(fc.constantFrom<Signal | 'silent'>('heartbeat', 'heartbeat', 'keep-place', 'silent'), { minLength: 120, maxLength: 120 }),
        fc.integer({ min: 1, max: 60 }),
        async (shards, tickets, kinds, want) => {
          const tokens = tickets.map((t, i) =>
            kinds[i] === 'silent' ? token(t, { lastSeenAt: LIVE_SINCE - 1 }) : token(t, { signal: kinds[i] as Signal }),
          );
          const store = await line(shards, tokens);
          const head = await readHead(store, { roomId: 'room', lineShards: shards, want, liveSince: LIVE_SINCE, maxEntries: 10_000 });
          const expected = tokens
            .filter((t) => t.signal === 'heartbeat' && t.lastSeenAt >= LIVE_SINCE)
            .map((t) => t.ticket)
            .sort((a, b) => a - b)
            .slice(0, want);
          expect(head.live.map((t) => t.ticket)).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
