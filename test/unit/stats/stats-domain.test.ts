import { describe, expect, it } from 'vitest';
import {
  MARKER_RETENTION_MS,
  StatsAggregator,
  ZERO_DELTA,
  compareSequenceNumbers,
  deltaOf,
  foldDeltas,
  groupByRoom,
  padSequenceNumber,
  planStatsWrite,
  type ApplyResult,
  type StatsDelta,
  type StatsStore,
  type TokenChange,
} from '../../../lambdas/domain/reporting/stats.js';
import type { SampleRecordResult, VisitorSample, VisitorSampleStore } from '../../../lambdas/domain/reporting/fairness-samples.js';
import { FakeClock } from '../../helpers/in-memory-store.js';

const change = (sequenceNumber: string, before: TokenChange['before'], after: TokenChange['after'], overrides: Partial<TokenChange> = {}): TokenChange => {
  const c: TokenChange = { roomId: 'shop', sequenceNumber, expired: false, ...overrides };
  if (before) c.before = before;
  if (after) c.after = after;
  return c;
};
const delta = (d: Partial<StatsDelta>): StatsDelta => ({ ...ZERO_DELTA, ...d });

describe('stats: what each stream record counts for', () => {
  it.each<[string, TokenChange, StatsDelta]>([
    ['a new waiting token', change('1', undefined, 'WAITING'), delta({ waiting: 1, issuedTotal: 1 })],
    ['a new token admitted at once', change('1', undefined, 'ADMITTED'), delta({ active: 1, issuedTotal: 1, admittedTotal: 1 })],
    ['an admission (WAITING → ADMITTED)', change('1', 'WAITING', 'ADMITTED'), delta({ waiting: -1, active: 1, admittedTotal: 1 })],
    ['the removal of a waiting token', change('1', 'WAITING', undefined), delta({ waiting: -1, removedTotal: 1 })],
    ['the removal of an admitted token', change('1', 'ADMITTED', undefined), delta({ active: -1, removedTotal: 1 })],
    ['a TTL removal of a waiting token', change('1', 'WAITING', undefined, { expired: true }), delta({ waiting: -1, removedTotal: 1, expiredTotal: 1 })],
    ['a TTL removal of an admitted token', change('1', 'ADMITTED', undefined, { expired: true }), delta({ active: -1, removedTotal: 1, expiredTotal: 1 })],
    ['a heartbeat of a waiting token', change('1', 'WAITING', 'WAITING'), delta({})],
    ['a check-loop step of an admitted token', change('1', 'ADMITTED', 'ADMITTED'), delta({})],
  ])('%s', (_name, input, expected) => {
    expect(deltaOf(input)).toEqual(expected);
  });

  it("folds a token's whole life to nothing but the totals", () => {
    const life = [change('1', undefined, 'WAITING'), change('2', 'WAITING', 'WAITING'), change('3', 'WAITING', 'ADMITTED'), change('4', 'ADMITTED', undefined)];
    expect(foldDeltas(life)).toEqual(delta({ issuedTotal: 1, admittedTotal: 1, removedTotal: 1 }));
  });

  it('groups the changes that count by room, in stream order, and drops the rest', () => {
    const a1 = change('10', undefined, 'WAITING');
    const b1 = change('11', undefined, 'WAITING', { roomId: 'bar' });
    const heartbeat = change('12', 'WAITING', 'WAITING');
    const a2 = change('13', 'WAITING', 'ADMITTED');
    const groups = groupByRoom([a1, b1, heartbeat, a2]);
    expect([...groups.keys()]).toEqual(['shop', 'bar']);
    expect(groups.get('shop')).toEqual([a1, a2]);
    expect(groups.get('bar')).toEqual([b1]);
  });
});

describe('stats: stream positions', () => {
  it('pads sequence numbers so that string order is numeric order', () => {
    expect(padSequenceNumber('999')).toBe(`${'0'.repeat(37)}999`);
    expect(padSequenceNumber('999') < padSequenceNumber('1000')).toBe(true);
    expect(compareSequenceNumbers('99', '100')).toBe(-1);
    expect(compareSequenceNumbers('100', '100')).toBe(0);
  });

  it('refuses what is not a sequence number', () => {
    expect(() => padSequenceNumber('12a')).toThrow(/not a stream sequence number/);
    expect(() => padSequenceNumber('1'.repeat(41))).toThrow(/not a stream sequence number/);
  });
});

describe('stats: planning a room write', () => {
  const now = Date.UTC(2026, 0, 1);
  const batch = [change('100', undefined, 'WAITING'), change('105', undefined, 'WAITING'), change('110', 'WAITING', 'ADMITTED')];

  it('counts everything for a shard without a marker and sets its marker to the last record', () => {
    const plan = planStatsWrite(undefined, 'shard-A', batch, now);
    expect(plan).toEqual({
      pending: batch,
      skipped: 0,
      delta: delta({ waiting: 1, active: 1, issuedTotal: 2, admittedTotal: 1 }),
      marker: { seq: padSequenceNumber('110'), at: now },
      prune: [],
    });
  });

  it('plans nothing for a replayed batch', () => {
    expect(planStatsWrite({ 'shard-A': { seq: padSequenceNumber('110'), at: now } }, 'shard-A', batch, now + 1)).toBeUndefined();
  });

  it('counts only the records past the marker of a batch retried from its middle', () => {
    const plan = planStatsWrite({ 'shard-A': { seq: padSequenceNumber('105'), at: now } }, 'shard-A', batch, now + 1);
    expect(plan?.pending).toEqual([batch[2]]);
    expect(plan?.skipped).toBe(2);
    expect(plan?.delta).toEqual(delta({ waiting: -1, active: 1, admittedTotal: 1 }));
    expect(plan?.previous).toEqual({ seq: padSequenceNumber('105'), at: now });
  });

  it('compares numerically, not as text: 99 comes before 100', () => {
    const plan = planStatsWrite({ 'shard-A': { seq: padSequenceNumber('99'), at: now } }, 'shard-A', [change('100', undefined, 'WAITING')], now);
    expect(plan?.pending).toHaveLength(1);
  });

  it("ignores other shards' markers, which say nothing about this shard", () => {
    const plan = planStatsWrite({ 'shard-B': { seq: padSequenceNumber('999'), at: now } }, 'shard-A', batch, now);
    expect(plan?.pending).toEqual(batch);
    expect(plan?.previous).toBeUndefined();
  });

  it("prunes other shards' markers older than 48 h, never its own", () => {
    const old = now - MARKER_RETENTION_MS - 1;
    const markers = {
      'shard-A': { seq: padSequenceNumber('50'), at: old },
      'shard-old': { seq: padSequenceNumber('7'), at: old },
      'shard-recent': { seq: padSequenceNumber('8'), at: now - MARKER_RETENTION_MS + 1 },
    };
    expect(planStatsWrite(markers, 'shard-A', batch, now)?.prune).toEqual([{ shardId: 'shard-old', seq: padSequenceNumber('7') }]);
  });
});

describe('stats: applying a batch', () => {
  class RecordingStore implements Pick<StatsStore, 'applyChanges'> {
    calls: { roomId: string; shardId: string; changes: readonly TokenChange[]; now: number }[] = [];
    failing = new Set<string>();
    async applyChanges(roomId: string, shardId: string, changes: readonly TokenChange[], now: number): Promise<ApplyResult> {
      this.calls.push({ roomId, shardId, changes, now });
      if (this.failing.has(roomId)) throw new Error(`write of ${roomId} failed`);
      return { applied: changes.length, skipped: 0 };
    }
  }

  it('writes once per room, and names the first record of each room whose write failed', async () => {
    const store = new RecordingStore();
    store.failing.add('bar');
    const clock = new FakeClock();
    const aggregator = new StatsAggregator({ stats: store as unknown as StatsStore, clock });
    const outcome = await aggregator.apply('shard-A', [
      change('1', undefined, 'WAITING'),
      change('2', undefined, 'WAITING', { roomId: 'bar' }),
      change('3', 'WAITING', 'WAITING'),
      change('4', 'WAITING', 'ADMITTED', { roomId: 'bar' }),
      change('5', 'WAITING', 'ADMITTED'),
    ]);
    expect(store.calls.map((c) => [c.roomId, c.shardId, c.changes.map((x) => x.sequenceNumber), c.now])).toEqual([
      ['shop', 'shard-A', ['1', '5'], clock.now()],
      ['bar', 'shard-A', ['2', '4'], clock.now()],
    ]);
    expect(outcome).toMatchObject({ rooms: 2, applied: 2, skipped: 0 });
    expect(outcome.failures).toEqual([{ roomId: 'bar', fromSequenceNumber: '2', error: new Error('write of bar failed') }]);
  });

  it('writes nothing for a batch of heartbeats', async () => {
    const store = new RecordingStore();
    const outcome = await new StatsAggregator({ stats: store as unknown as StatsStore, clock: new FakeClock() }).apply('shard-A', [
      change('1', 'WAITING', 'WAITING'),
      change('2', 'ADMITTED', 'ADMITTED'),
    ]);
    expect(store.calls).toEqual([]);
    expect(outcome).toEqual({ rooms: 0, applied: 0, skipped: 0, failures: [] });
  });

  class RecordingSamples implements VisitorSampleStore {
    calls: { roomId: string; samples: readonly VisitorSample[] }[] = [];
    failing = new Set<string>();
    async record(roomId: string, samples: readonly VisitorSample[]): Promise<SampleRecordResult> {
      this.calls.push({ roomId, samples });
      if (this.failing.has(roomId)) throw new Error(`samples of ${roomId} failed`);
      return { kept: samples.length, dropped: 0 };
    }
  }
  const sampled = (tokenId: string): VisitorSample => ({ tokenId, ticket: 1, issuedAt: 0, admittedAt: 1 });

  it("records each room's samples beside its counts, and fails the room when they cannot be written", async () => {
    const store = new RecordingStore();
    const samples = new RecordingSamples();
    samples.failing.add('bar');
    const outcome = await new StatsAggregator({ stats: store as unknown as StatsStore, clock: new FakeClock(), samples }).apply('shard-A', [
      change('1', undefined, 'WAITING'),
      change('2', 'WAITING', 'ADMITTED', { sample: sampled('a') }),
      change('3', 'WAITING', 'ADMITTED', { roomId: 'bar', sample: sampled('b') }),
      change('4', undefined, 'WAITING', { roomId: 'quiet' }),
    ]);
    expect(samples.calls).toEqual([
      { roomId: 'shop', samples: [sampled('a')] },
      { roomId: 'bar', samples: [sampled('b')] },
    ]);
    // The counts of every room were written: the failed room's retry skips them.
    expect(store.calls.map((c) => c.roomId)).toEqual(['shop', 'bar', 'quiet']);
    expect(outcome).toMatchObject({ rooms: 3, applied: 3, samples: { kept: 1, dropped: 0 } });
    expect(outcome.failures).toEqual([{ roomId: 'bar', fromSequenceNumber: '3', error: new Error('samples of bar failed') }]);
  });
});
