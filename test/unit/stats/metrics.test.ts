import { describe, expect, it } from 'vitest';
import { MemoryMetricsSink } from '../../../lambdas/adapters/memory-metrics.js';
import { DEFAULT_TIMINGS, type Room } from '../../../lambdas/domain/index.js';
import { MetricsPublisher, metricPoints, ratesBetween, utilization, type MetricPoint } from '../../../lambdas/domain/reporting/metrics.js';
import type { PublishedCounters, RoomStats, StatsStore } from '../../../lambdas/domain/reporting/stats.js';
import { METRIC, METRIC_UNIT, METRICS_NAMESPACE, ROOM_DIMENSION } from '../../../lambdas/shared/metric-names.js';
import { FakeClock } from '../../helpers/in-memory-store.js';

const T = Date.UTC(2026, 0, 1, 12);

/** shop: 4 seats, 3 taken, 7 counted in line, 6 admissions in the last minute (0.1/s). */
const shop = (overrides: Partial<Room> = {}): Room => ({
  roomId: 'shop',
  capacity: 4,
  mode: 'fifo',
  state: 'open',
  nextTicket: 20,
  activeCount: 3,
  lastAdmittedTicket: 10,
  admittedTotal: 30,
  evictedTotal: 0,
  rate: { prevAt: T - 60_000, prevTotal: 24, prevTicket: 4, curAt: T - 30_000, curTotal: 27, curTicket: 7 },
  lineShards: 32,
  frontFloor: 0,
  wakeSeq: 1,
  epoch: 0,
  createdAt: T - 3_600_000,
  updatedAt: T,
  ...overrides,
});
/** bar: 2 seats, 1 taken, nobody in line. */
const bar = (): Room =>
  shop({ roomId: 'bar', capacity: 2, activeCount: 1, nextTicket: 5, lastAdmittedTicket: 5, admittedTotal: 0, rate: { prevAt: T - 3_600_000, prevTotal: 0, prevTicket: 5, curAt: T - 3_600_000, curTotal: 0, curTicket: 5 } });

const stats = (roomId: string, overrides: Partial<RoomStats> = {}): RoomStats => ({
  roomId,
  waiting: 0,
  active: 0,
  issuedTotal: 0,
  admittedTotal: 0,
  removedTotal: 0,
  expiredTotal: 0,
  updatedAt: T,
  ...overrides,
});

const room = (roomId: string) => ({ [ROOM_DIMENSION]: roomId });
const p = (name: MetricPoint['name'], value: number, dimensions: Record<string, string>, timestamp = T): MetricPoint => ({
  name,
  unit: METRIC_UNIT[name],
  value,
  timestamp,
  dimensions,
});

describe('metric names', () => {
  it('live in one namespace with fixed units', () => {
    expect(METRICS_NAMESPACE).toBe('WaitingRoom');
    expect(Object.values(METRIC)).toEqual([
      'WaitingUsers',
      'ActiveUsers',
      'Capacity',
      'Utilization',
      'AdmissionsPerMinute',
      'EvictionsPerMinute',
      'EstimatedWaitSeconds',
    ]);
    expect(METRIC_UNIT).toEqual({
      WaitingUsers: 'Count',
      ActiveUsers: 'Count',
      Capacity: 'Count',
      Utilization: 'Percent',
      AdmissionsPerMinute: 'Count',
      EvictionsPerMinute: 'Count',
      EstimatedWaitSeconds: 'Seconds',
    });
  });
});

describe('metrics: rates from counter deltas', () => {
  const at = (offsetMs: number, admittedTotal: number, evictedTotal: number): PublishedCounters => ({ at: T + offsetMs, admittedTotal, evictedTotal });

  it('scales the deltas since the previous run to a minute', () => {
    expect(ratesBetween(at(-10_000, 27, 20), at(0, 30, 25))).toEqual({ admissionsPerMinute: 18, evictionsPerMinute: 30 });
    expect(ratesBetween(at(-60_000, 0, 0), at(0, 7, 1))).toEqual({ admissionsPerMinute: 7, evictionsPerMinute: 1 });
    expect(ratesBetween(at(-30_000, 0, 0), at(0, 1, 0))).toEqual({ admissionsPerMinute: 2, evictionsPerMinute: 0 });
  });

  it.each<[string, PublishedCounters | undefined]>([
    ['there is no previous run', undefined],
    ['the previous run is less than a second old', at(-999, 0, 0)],
    ['the previous run is more than 10 minutes old', at(-600_001, 0, 0)],
    ['the counters went down', at(-10_000, 31, 0)],
  ])('gives no rate when %s', (_name, previous) => {
    expect(ratesBetween(previous, at(0, 30, 25))).toBeUndefined();
  });

  it('gives 0 % utilization for a room without seats', () => {
    expect(utilization(0, 0)).toBe(0);
    expect(utilization(3, 4)).toBe(75);
    expect(utilization(1, 3)).toBe(33.33);
  });
});

describe('metrics: the points of one run', () => {
  it('publishes every metric per room (dimension RoomId) and for the service (no dimension)', () => {
    const points = metricPoints({
      rooms: [shop(), bar()],
      stats: new Map([['shop', stats('shop', { waiting: 7, active: 2 })]]),
      rates: new Map([['shop', { admissionsPerMinute: 18, evictionsPerMinute: 30 }]]),
      now: T,
      timings: DEFAULT_TIMINGS,
    });
    expect(points).toEqual([
      // bar has no stats yet: its line is the room's upper bound (0), and no rate.
      p('WaitingUsers', 0, room('bar')),
      p('ActiveUsers', 1, room('bar')),
      p('Capacity', 2, room('bar')),
      p('Utilization', 50, room('bar')),
      p('EstimatedWaitSeconds', 0, room('bar')),
      // shop: counted waiting, authoritative active seats; a new visitor is 8th in the counted line, at 0.1 admissions/s.
      p('WaitingUsers', 7, room('shop')),
      p('ActiveUsers', 3, room('shop')),
      p('Capacity', 4, room('shop')),
      p('Utilization', 75, room('shop')),
      p('AdmissionsPerMinute', 18, room('shop')),
      p('EvictionsPerMinute', 30, room('shop')),
      p('EstimatedWaitSeconds', 80, room('shop')),
      // service: sums, utilization of the sums, sum of the rates held, longest wait.
      p('WaitingUsers', 7, {}),
      p('ActiveUsers', 4, {}),
      p('Capacity', 6, {}),
      p('Utilization', 66.67, {}),
      p('AdmissionsPerMinute', 18, {}),
      p('EvictionsPerMinute', 30, {}),
      p('EstimatedWaitSeconds', 80, {}),
    ]);
  });

  it("uses the room's upper bound for the line until the aggregator has counted it", () => {
    const waiting = (roomStats: RoomStats) =>
      metricPoints({ rooms: [shop()], stats: new Map([['shop', roomStats]]), rates: new Map(), now: T, timings: DEFAULT_TIMINGS })[0];
    expect(waiting(stats('shop', { updatedAt: 0, published: { at: T - 10_000, admittedTotal: 0, evictedTotal: 0 } }))).toEqual(
      p('WaitingUsers', 10, room('shop')),
    );
    expect(waiting(stats('shop', { waiting: 4 }))).toEqual(p('WaitingUsers', 4, room('shop')));
  });

  it('leaves the service rates out when no room has one, and clamps a negative counted line to 0', () => {
    const points = metricPoints({
      rooms: [shop({ state: 'paused' })],
      stats: new Map([['shop', stats('shop', { waiting: -1 })]]),
      rates: new Map(),
      now: T,
      timings: DEFAULT_TIMINGS,
    });
    // Nobody counted in line: a new visitor would be first, 10 s away at 0.1 admissions/s.
    expect(points.map((x) => `${x.name}${x.dimensions.RoomId ? `/${x.dimensions.RoomId}` : ''}=${x.value}`)).toEqual([
      'WaitingUsers/shop=0',
      'ActiveUsers/shop=3',
      'Capacity/shop=4',
      'Utilization/shop=75',
      'EstimatedWaitSeconds/shop=10',
      'WaitingUsers=0',
      'ActiveUsers=3',
      'Capacity=4',
      'Utilization=75',
      'EstimatedWaitSeconds=10',
    ]);
  });
});

/** A stats table in memory, with the claim's condition. */
class MemoryStats implements StatsStore {
  rows = new Map<string, RoomStats>();
  beforeClaim: (() => Promise<void>) | undefined;
  claimError: Error | undefined;
  async applyChanges(): Promise<never> {
    throw new Error('not used');
  }
  async getStats(roomIds: readonly string[]): Promise<Map<string, RoomStats>> {
    return new Map(roomIds.flatMap((id) => (this.rows.has(id) ? [[id, structuredClone(this.rows.get(id)!)] as const] : [])));
  }
  async claimPublication(roomId: string, previousAt: number | undefined, next: PublishedCounters): Promise<boolean> {
    const hook = this.beforeClaim;
    this.beforeClaim = undefined;
    if (hook) await hook();
    if (this.claimError) throw this.claimError;
    const row = this.rows.get(roomId) ?? stats(roomId, { updatedAt: 0 });
    if (row.published?.at !== previousAt) return false;
    this.rows.set(roomId, { ...row, published: next });
    return true;
  }
}

describe('metrics publisher', () => {
  const setup = () => {
    const clock = new FakeClock(T);
    const store = new MemoryStats();
    store.rows.set('shop', stats('shop', { waiting: 7, admittedTotal: 30, removedTotal: 25 }));
    const sink = new MemoryMetricsSink();
    // The rates come from the room item's own counters (exact), not the stats table.
    const rooms = [shop({ admittedTotal: 30, evictedTotal: 25 })];
    const publisher = new MetricsPublisher({ rooms: { listRooms: async () => rooms }, stats: store, sink, clock, timings: DEFAULT_TIMINGS });
    return { clock, store, sink, publisher, rooms };
  };
  const rateValues = (points: MetricPoint[], roomId?: string) =>
    points
      .filter((x) => (x.name === 'AdmissionsPerMinute' || x.name === 'EvictionsPerMinute') && x.dimensions.RoomId === roomId)
      .map((x) => [x.name, x.value]);

  it('publishes no rate on its first run, and records the counters for the next', async () => {
    const { store, sink, publisher } = setup();
    await expect(publisher.publish()).resolves.toEqual({ publishedAt: T, rooms: 1, points: 10, idle: false });
    expect(rateValues(sink.recentPoints(), 'shop')).toEqual([]);
    expect(sink.recentPoints().map((x) => x.name)).toContain('WaitingUsers');
    expect(store.rows.get('shop')?.published).toEqual({ at: T, admittedTotal: 30, evictedTotal: 25 });
  });

  it('publishes per-minute rates from the counters moved since the previous run', async () => {
    const { clock, store, sink, publisher, rooms } = setup();
    await publisher.publish();
    clock.advance(10_000);
    rooms[0] = shop({ admittedTotal: 33, evictedTotal: 26 });
    await expect(publisher.publish()).resolves.toEqual({ publishedAt: T + 10_000, rooms: 1, points: 14, idle: false });
    const second = sink.recentPoints(T + 10_000);
    expect(rateValues(second, 'shop')).toEqual([
      ['AdmissionsPerMinute', 18],
      ['EvictionsPerMinute', 6],
    ]);
    expect(rateValues(second)).toEqual([
      ['AdmissionsPerMinute', 18],
      ['EvictionsPerMinute', 6],
    ]);
    expect(store.rows.get('shop')?.published).toEqual({ at: T + 10_000, admittedTotal: 33, evictedTotal: 26 });
  });

  it('lets only one of two overlapping runs publish the rates of an interval', async () => {
    const { clock, store, sink, publisher, rooms } = setup();
    await publisher.publish();
    clock.advance(10_000);
    rooms[0] = shop({ admittedTotal: 36, evictedTotal: 25 });
    const otherSink = new MemoryMetricsSink();
    const other = new MetricsPublisher({ rooms: { listRooms: async () => rooms }, stats: store, sink: otherSink, clock, timings: DEFAULT_TIMINGS });
    // The other run claims the interval between this run's read and its claim.
    store.beforeClaim = async () => {
      await other.publish();
    };
    await publisher.publish();
    expect(rateValues(otherSink.recentPoints(), 'shop')).toEqual([
      ['AdmissionsPerMinute', 36],
      ['EvictionsPerMinute', 0],
    ]);
    expect(rateValues(sink.recentPoints(T + 10_000), 'shop')).toEqual([]);
    expect(sink.recentPoints(T + 10_000).filter((x) => x.name === 'WaitingUsers')).toHaveLength(2); // gauges are still published
  });

  it("leaves out a room's rates when its claim fails, and says so", async () => {
    const { clock, store, sink } = setup();
    const errors: string[] = [];
    const publisher = new MetricsPublisher({
      rooms: { listRooms: async () => [shop()] },
      stats: store,
      sink,
      clock,
      timings: DEFAULT_TIMINGS,
      onClaimError: (roomId, error) => errors.push(`${roomId}: ${(error as Error).message}`),
    });
    store.claimError = new Error('throttled');
    await expect(publisher.publish()).resolves.toEqual({ publishedAt: T, rooms: 1, points: 10, idle: false });
    expect(errors).toEqual(['shop: throttled']);
  });
});

describe('metrics publisher: idle rooms', () => {
  /** A room nobody is in: 4 seats, every ticket admitted and gone. */
  const empty = (overrides: Partial<Room> = {}) => shop({ activeCount: 0, nextTicket: 10, lastAdmittedTicket: 10, admittedTotal: 30, evictedTotal: 5, updatedAt: T - 60_000, ...overrides });
  const setup = (rooms: Room[]) => {
    const clock = new FakeClock(T);
    const store = new MemoryStats();
    for (const r of rooms) store.rows.set(r.roomId, stats(r.roomId, { updatedAt: T - 60_000 }));
    const sink = new MemoryMetricsSink();
    const publisher = new MetricsPublisher({ rooms: { listRooms: async () => rooms }, stats: store, sink, clock, timings: DEFAULT_TIMINGS });
    /** The next run, 10 s after the previous one: its summary and the points it published. */
    const run = async () => {
      clock.advance(10_000);
      const summary = await publisher.publish();
      return { summary, points: sink.recentPoints(clock.now()).filter((x) => x.timestamp === clock.now()) };
    };
    return { clock, store, sink, publisher, rooms, run };
  };
  const named = (points: MetricPoint[]) => points.map((x) => `${x.name}${x.dimensions.RoomId ? `/${x.dimensions.RoomId}` : ''}=${x.value}`);

  it('publishes one final set of zeros, rates included, when a room goes quiet, and then nothing', async () => {
    const { store, run } = setup([empty()]);
    // First run: nothing recorded yet, so not quiet (no previous run to compare with).
    expect((await run()).summary).toMatchObject({ points: 10, idle: false });
    const final = await run();
    expect(final.summary).toEqual({ publishedAt: T + 20_000, rooms: 1, points: 14, idle: true });
    expect(named(final.points)).toEqual([
      'WaitingUsers/shop=0',
      'ActiveUsers/shop=0',
      'Capacity/shop=4',
      'Utilization/shop=0',
      'AdmissionsPerMinute/shop=0',
      'EvictionsPerMinute/shop=0',
      'EstimatedWaitSeconds/shop=0',
      'WaitingUsers=0',
      'ActiveUsers=0',
      'Capacity=4',
      'Utilization=0',
      'AdmissionsPerMinute=0',
      'EvictionsPerMinute=0',
      'EstimatedWaitSeconds=0',
    ]);
    expect(store.rows.get('shop')?.published).toEqual({ at: T + 20_000, admittedTotal: 30, evictedTotal: 5, idle: true });

    for (let i = 0; i < 3; i++) {
      const later = await run();
      expect(later.summary).toEqual({ publishedAt: T + 30_000 + i * 10_000, rooms: 1, points: 0, idle: true });
      expect(later.points).toEqual([]);
    }
    // Nothing claimed while quiet: the record still names the final set.
    expect(store.rows.get('shop')?.published).toEqual({ at: T + 20_000, admittedTotal: 30, evictedTotal: 5, idle: true });
  });

  it.each<[string, (room: Room, stats: RoomStats, now: number) => void]>([
    ['a visitor joins the line', (_room, s) => void (s.waiting = 1)],
    ['a seat is taken', (room) => void (room.activeCount = 1)],
    ['an admission and a leave happen between two runs', (room) => void (room.admittedTotal += 1)],
    ['a silent visitor is evicted', (room) => void (room.evictedTotal += 1)],
    ['the room item changes (a leave, or an admin raising the capacity)', (room, _s, now) => void (room.updatedAt = now - 1_000)],
    ['the aggregator counts a change (a join and a leave between two runs)', (_room, s, now) => void (s.updatedAt = now - 1_000)],
  ])('publishes again once %s, then settles with a new final set', async (_name, change) => {
    const { store, rooms, clock, run } = setup([empty()]);
    await run();
    await run(); // the final set
    expect((await run()).points).toEqual([]);
    change(rooms[0]!, store.rows.get('shop')!, clock.now() + 10_000);
    const busy = await run();
    expect(busy.summary.idle).toBe(false);
    expect(busy.points.length).toBeGreaterThan(0);
    expect(store.rows.get('shop')?.published?.idle).toBeUndefined();
    // Back to quiet (the visitor gone, nothing else happening): one final set, then nothing.
    Object.assign(rooms[0]!, { activeCount: 0 });
    Object.assign(store.rows.get('shop')!, { waiting: 0 });
    const final = await run();
    expect(final.summary.idle).toBe(true);
    expect(named(final.points)).toContain('ActiveUsers=0');
    expect((await run()).points).toEqual([]);
  });

  it('keeps publishing the rooms with activity, and the service, while the others are skipped', async () => {
    const { rooms, run } = setup([empty(), empty({ roomId: 'bar', capacity: 2 })]);
    await run();
    await run(); // both rooms' final sets
    rooms[1]!.activeCount = 1;
    rooms[1]!.updatedAt = T + 25_000;
    const mixed = await run();
    expect(mixed.summary).toMatchObject({ rooms: 2, idle: false });
    expect(new Set(mixed.points.map((x) => x.dimensions.RoomId ?? 'service'))).toEqual(new Set(['bar', 'service']));
    // The service still sums every room: shop's seats count in its capacity.
    expect(named(mixed.points)).toEqual(expect.arrayContaining(['ActiveUsers=1', 'Capacity=6', 'Utilization=16.67']));
  });

  it('reports idle with no rooms at all, publishing nothing', async () => {
    const { sink, publisher } = setup([]);
    await expect(publisher.publish()).resolves.toEqual({ publishedAt: T, rooms: 0, points: 0, idle: true });
    expect(sink.recentPoints()).toEqual([]);
  });

  it('still claims rates exactly once when two runs find a room quiet at once', async () => {
    const { store, clock, rooms, run } = setup([empty()]);
    await run();
    const otherSink = new MemoryMetricsSink();
    const other = new MetricsPublisher({ rooms: { listRooms: async () => rooms }, stats: store, sink: otherSink, clock, timings: DEFAULT_TIMINGS });
    store.beforeClaim = async () => {
      await other.publish();
    };
    const final = await run();
    // The other run claimed the final set first: this one publishes its gauges without rates.
    expect(named(otherSink.recentPoints())).toContain('AdmissionsPerMinute/shop=0');
    expect(named(final.points).filter((x) => x.includes('PerMinute'))).toEqual([]);
    expect(store.rows.get('shop')?.published?.idle).toBe(true);
  });
});
