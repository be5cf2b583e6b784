/** The console's chart on AWS (cli/console-metrics.ts): GetMetricData per room and metric, in the admin page's shape. */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { chartPoints } from '../../../cli/console-metrics.js';

describe('the console chart from CloudWatch', () => {
  it('asks for WaitingUsers and ActiveUsers of each room over 15 minutes, and answers points in time order', async () => {
    const cw = mockClient(CloudWatchClient);
    const now = Date.UTC(2026, 11, 1, 12, 0, 0);
    cw.on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [{ Id: 'm0_0', Timestamps: [new Date(now - 60_000)], Values: [40] }],
        NextToken: 'more',
      })
      .resolvesOnce({ MetricDataResults: [{ Id: 'm0_1', Timestamps: [new Date(now - 120_000)], Values: [5] }] });
    const points = await chartPoints(new CloudWatchClient({ region: 'eu-west-1' }), ['shop'], now);
    expect(points).toEqual([
      { at: new Date(now - 120_000).toISOString(), roomId: 'shop', name: 'ActiveUsers', value: 5 },
      { at: new Date(now - 60_000).toISOString(), roomId: 'shop', name: 'WaitingUsers', value: 40 },
    ]);
    const [first, second] = cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(first!.MetricDataQueries).toEqual([
      expect.objectContaining({ Id: 'm0_0', MetricStat: { Metric: { Namespace: 'WaitingRoom', MetricName: 'WaitingUsers', Dimensions: [{ Name: 'RoomId', Value: 'shop' }] }, Period: 60, Stat: 'Maximum' } }),
      expect.objectContaining({ Id: 'm0_1', MetricStat: expect.objectContaining({ Metric: expect.objectContaining({ MetricName: 'ActiveUsers' }) }) }),
    ]);
    expect(first!.EndTime!.getTime() - first!.StartTime!.getTime()).toBe(15 * 60_000);
    expect(second!.NextToken).toBe('more');
    cw.restore();
  });
});
