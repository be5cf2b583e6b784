/**
 * The admin page's chart data on AWS: the console answers `GET /console/admin/metrics` (which the
 * local runtime serves from its metrics sink) from CloudWatch, with GetMetricData over the last
 * 15 minutes of WaitingUsers and ActiveUsers per room, in the shape the page reads:
 * `{ points: [{ at, roomId, name, value }], notices: [] }` (alarm e-mails are not readable there).
 */
import type { CloudWatchClient} from '@aws-sdk/client-cloudwatch';
import { GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { METRIC, METRICS_NAMESPACE, METRIC_STATISTIC, ROOM_DIMENSION } from '../lambdas/shared/metric-names.js';

const WINDOW_MS = 15 * 60_000;
const CHARTED = [METRIC.waitingUsers, METRIC.activeUsers] as const;

export interface ChartPoint {
  at: string;
  roomId: string;
  name: string;
  value: number;
}

export async function chartPoints(cloudWatch: Pick<CloudWatchClient, 'send'>, roomIds: readonly string[], now = Date.now()): Promise<ChartPoint[]> {
  const queries: { query: MetricDataQuery; roomId: string; name: string }[] = roomIds.flatMap((roomId, r) =>
    CHARTED.map((name, m) => ({
      roomId,
      name,
      query: {
        Id: `m${r}_${m}`,
        MetricStat: { Metric: { Namespace: METRICS_NAMESPACE, MetricName: name, Dimensions: [{ Name: ROOM_DIMENSION, Value: roomId }] }, Period: 60, Stat: METRIC_STATISTIC[name] },
        ReturnData: true,
      },
    })),
  );
  const points: ChartPoint[] = [];
  // GetMetricData takes 500 queries a call.
  for (let i = 0; i < queries.length; i += 500) {
    const batch = queries.slice(i, i + 500);
    const byId = new Map(batch.map((q) => [q.query.Id!, q]));
    let nextToken: string | undefined;
    do {
      const page = await cloudWatch.send(
        new GetMetricDataCommand({ MetricDataQueries: batch.map((q) => q.query), StartTime: new Date(now - WINDOW_MS), EndTime: new Date(now), ...(nextToken ? { NextToken: nextToken } : {}) }),
      );
      for (const result of page.MetricDataResults ?? []) {
        const of = byId.get(result.Id ?? '');
        if (!of) continue;
        (result.Timestamps ?? []).forEach((at, k) => points.push({ at: at.toISOString(), roomId: of.roomId, name: of.name, value: result.Values?.[k] ?? 0 }));
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return points.sort((a, b) => a.at.localeCompare(b.at));
}
