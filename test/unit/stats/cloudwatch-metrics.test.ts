import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudWatchMetricsSink, PUT_METRIC_DATA_LIMITS, estimatedDatumBytes, toDatum } from '../../../lambdas/adapters/cloudwatch-metrics.js';
import type { MetricPoint } from '../../../lambdas/domain/reporting/metrics.js';

const cw = mockClient(CloudWatchClient);
const client = new CloudWatchClient({ region: 'us-east-1' });
afterEach(() => cw.reset());

const T = Date.UTC(2026, 0, 1, 12);
const point = (i: number, overrides: Partial<MetricPoint> = {}): MetricPoint => ({
  name: 'WaitingUsers',
  unit: 'Count',
  value: i,
  timestamp: T,
  dimensions: { RoomId: `room-${String(i).padStart(4, '0')}` },
  ...overrides,
});
const sizes = () => cw.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input.MetricData!.length);

describe('CloudWatch metrics sink', () => {
  it('sends points as metric data in its namespace, with units, dimensions and timestamps', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    await new CloudWatchMetricsSink(client, 'WaitingRoom').publish([
      point(7, { dimensions: { RoomId: 'shop' } }),
      { name: 'Utilization', unit: 'Percent', value: 66.67, timestamp: T, dimensions: {} },
    ]);
    expect(cw.commandCalls(PutMetricDataCommand)[0]!.args[0].input).toEqual({
      Namespace: 'WaitingRoom',
      MetricData: [
        { MetricName: 'WaitingUsers', Timestamp: new Date(T), Value: 7, Unit: 'Count', Dimensions: [{ Name: 'RoomId', Value: 'shop' }] },
        { MetricName: 'Utilization', Timestamp: new Date(T), Value: 66.67, Unit: 'Percent' },
      ],
    });
  });

  it('splits more than 1000 metrics into several PutMetricData calls, in order', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const points = Array.from({ length: 2500 }, (_, i) => point(i));
    await new CloudWatchMetricsSink(client).publish(points);
    expect(PUT_METRIC_DATA_LIMITS).toEqual({ maxMetrics: 1000, maxBytes: 1_000_000 });
    expect(sizes()).toEqual([1000, 1000, 500]);
    const calls = cw.commandCalls(PutMetricDataCommand);
    expect(calls[1]!.args[0].input.MetricData![0]!.Value).toBe(1000);
    expect(calls[2]!.args[0].input.MetricData![499]!.Value).toBe(2499);
  });

  it('splits by size too, keeping each request under the byte limit', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const each = estimatedDatumBytes(toDatum(point(1)));
    await new CloudWatchMetricsSink(client, 'WaitingRoom', { maxMetrics: 1000, maxBytes: 1024 + 3 * each }).publish(
      Array.from({ length: 7 }, (_, i) => point(i)),
    );
    expect(sizes()).toEqual([3, 3, 1]);
  });

  it('stays under 1 MB for a full request of long room ids', () => {
    const datum = toDatum(point(1, { dimensions: { RoomId: 'r'.repeat(64) } }));
    expect(1024 + 1000 * estimatedDatumBytes(datum)).toBeLessThan(1_000_000);
  });

  it('sends nothing for no points', async () => {
    await new CloudWatchMetricsSink(client).publish([]);
    expect(cw.calls()).toHaveLength(0);
  });

  it('refuses a value CloudWatch would reject, before sending anything', async () => {
    await expect(new CloudWatchMetricsSink(client).publish([point(1), point(Number.NaN)])).rejects.toThrow(/no finite value/);
    expect(cw.calls()).toHaveLength(0);
  });
});
