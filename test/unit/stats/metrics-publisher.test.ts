import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CloudWatchMetricsSink } from '../../../lambdas/adapters/cloudwatch-metrics.js';
import { memoryMetrics } from '../../../lambdas/adapters/memory-metrics.js';
import type * as MetricsPublisherModule from '../../../lambdas/handlers/metrics-publisher.js';
import type { PublishSummary } from '../../../lambdas/handlers/metrics-publisher.js';
import { HANDLER_ENV, useHandlerEnv } from '../../helpers/env.js';
import { FakeStatsTable } from './stats-table-fake.js';

const ddb = mockClient(DynamoDBDocumentClient);
const cw = mockClient(CloudWatchClient);
const T = Date.UTC(2026, 0, 1, 12);
let table: FakeStatsTable;
let handler: () => Promise<PublishSummary>;
let module: typeof MetricsPublisherModule;

const roomItem = {
  roomId: 'shop',
  capacity: 4,
  state: 'open',
  activeCount: 3,
  lastAdmittedTicket: 10,
  admittedTotal: 30,
  evictedTotal: 3,
  ratePrevAt: T - 60_000,
  ratePrevTotal: 24,
  rateCurAt: T - 30_000,
  rateCurTotal: 27,
  createdAt: T - 3_600_000,
  updatedAt: T,
};
/** The room's ticket counter, an item of the same table (the scan must not take it for a room). */
const counterItem = (nextTicket: number) => ({ roomId: 'shop#tickets', nextTicket });

beforeAll(async () => {
  useHandlerEnv();
  process.env.WR_METRICS_SINK = 'memory';
  module = await import('../../../lambdas/handlers/metrics-publisher.js');
  handler = module.handler;
});
afterAll(() => {
  delete process.env.WR_METRICS_SINK;
});
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T);
  memoryMetrics.clear();
  table = new FakeStatsTable(HANDLER_ENV.STATS_TABLE).install(ddb);
  table.items.set('shop', { roomId: 'shop', waiting: 7, active: 3, issuedTotal: 20, admittedTotal: 10, removedTotal: 3, expiredTotal: 0, updatedAt: T });
  ddb.on(ScanCommand, { TableName: HANDLER_ENV.ROOMS_TABLE }).resolves({ Items: [roomItem, counterItem(20)] });
});
afterEach(() => {
  vi.useRealTimers();
  ddb.reset();
  cw.reset();
});

const values = (since: number, roomId?: string) =>
  Object.fromEntries(memoryMetrics.recentPoints(since).filter((p) => p.dimensions.RoomId === roomId).map((p) => [p.name, p.value]));

describe('metrics publisher handler', () => {
  it('publishes to the in-memory sink with WR_METRICS_SINK=memory and returns a summary', async () => {
    await expect(handler()).resolves.toEqual({ publishedAt: T, rooms: 1, points: 10, idle: false });
    // A new visitor would be 8th in the counted line, at 0.1 admissions/s.
    expect(values(T, 'shop')).toEqual({ WaitingUsers: 7, ActiveUsers: 3, Capacity: 4, Utilization: 75, EstimatedWaitSeconds: 80 });
    expect(values(T)).toEqual({ WaitingUsers: 7, ActiveUsers: 3, Capacity: 4, Utilization: 75, EstimatedWaitSeconds: 80 });
    expect(table.item('shop')).toMatchObject({ publishedAt: T, publishedAdmittedTotal: 30, publishedEvictedTotal: 3 });
    expect(cw.calls()).toHaveLength(0);
  });

  it('publishes per-minute rates on the next run, 10 s later', async () => {
    await handler();
    vi.setSystemTime(T + 10_000);
    // The rates come from the room item's counters.
    ddb.on(ScanCommand, { TableName: HANDLER_ENV.ROOMS_TABLE }).resolves({ Items: [{ ...roomItem, admittedTotal: 32, evictedTotal: 4 }, counterItem(20)] });
    await expect(handler()).resolves.toEqual({ publishedAt: T + 10_000, rooms: 1, points: 14, idle: false });
    expect(values(T + 10_000, 'shop')).toMatchObject({ AdmissionsPerMinute: 12, EvictionsPerMinute: 6 });
    expect(values(T + 10_000)).toMatchObject({ AdmissionsPerMinute: 12, EvictionsPerMinute: 6 });
  });

  it('publishes a final set for a room gone quiet, then reports idle and sends nothing, through the stats table', async () => {
    const quietRoom = { ...roomItem, activeCount: 0, updatedAt: T - 60_000 };
    ddb.on(ScanCommand, { TableName: HANDLER_ENV.ROOMS_TABLE }).resolves({ Items: [quietRoom, counterItem(10)] });
    table.items.set('shop', { roomId: 'shop', waiting: 0, active: 0, issuedTotal: 20, admittedTotal: 10, removedTotal: 10, expiredTotal: 0, updatedAt: T - 60_000 });
    await expect(handler()).resolves.toMatchObject({ points: 10, idle: false });
    vi.setSystemTime(T + 10_000);
    await expect(handler()).resolves.toEqual({ publishedAt: T + 10_000, rooms: 1, points: 14, idle: true });
    expect(table.item('shop')).toMatchObject({ publishedAt: T + 10_000, publishedIdle: true });
    vi.setSystemTime(T + 20_000);
    await expect(handler()).resolves.toEqual({ publishedAt: T + 20_000, rooms: 1, points: 0, idle: true });
    expect(memoryMetrics.recentPoints(T + 20_000)).toEqual([]);
  });

  it('sends to CloudWatch in the namespace of METRICS_NAMESPACE by default', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const sink = module.sinkFromEnv({ ...HANDLER_ENV, METRICS_NAMESPACE: 'ShopQueue' });
    expect(sink).toBeInstanceOf(CloudWatchMetricsSink);
    const publish = module.createMetricsPublisher({ sink, env: { ...HANDLER_ENV } });
    await publish();
    const input = cw.commandCalls(PutMetricDataCommand)[0]!.args[0].input;
    expect(input.Namespace).toBe('ShopQueue');
    expect(input.MetricData).toHaveLength(10);
  });

  it('defaults to the WaitingRoom namespace, and to the in-memory sink only when asked', () => {
    expect(module.sinkFromEnv({ ...HANDLER_ENV, WR_METRICS_SINK: 'memory' })).toBe(memoryMetrics);
    const sink = module.sinkFromEnv({ ...HANDLER_ENV });
    expect(sink).toBeInstanceOf(CloudWatchMetricsSink);
    expect((sink as unknown as { namespace: string }).namespace).toBe('WaitingRoom');
  });

  it('takes the sink it is given (the local runtime passes its own)', async () => {
    const points: string[] = [];
    const publish = module.createMetricsPublisher({ sink: { publish: async (p) => void points.push(...p.map((x) => x.name)) }, env: { ...HANDLER_ENV } });
    await publish();
    expect(points).toHaveLength(10);
  });

  it('fails fast, naming the variable, when a table is not configured', () => {
    expect(() => module.createMetricsPublisher({ sink: memoryMetrics, env: { ROOMS_TABLE: 'rooms' } })).toThrow(/STATS_TABLE/);
    expect(() => module.sinkFromEnv({ ...HANDLER_ENV, WR_METRICS_SINK: 'stdout' })).toThrow(/WR_METRICS_SINK/);
  });
});
