/**
 * MetricsSink in memory: what the metrics publisher sends when WR_METRICS_SINK=memory (the local
 * runtime, which has no CloudWatch) and in tests. One instance per process, `memoryMetrics`, so
 * that the local runtime reads what the handler wrote:
 *
 *   import { memoryMetrics } from '../lambdas/adapters/memory-metrics.js';
 *   memoryMetrics.recentPoints(Date.now() - 60_000);
 *
 * No AWS import: the local runtime can load it without the SDKs.
 */
import type { MetricPoint, MetricsSink } from '../domain/reporting/metrics.js';
import { ROOM_DIMENSION } from '../shared/metric-names.js';

export class MemoryMetricsSink implements MetricsSink {
  private points: MetricPoint[] = [];

  /**
   * @param retentionMs points older than this, relative to the newest point, are dropped
   * @param maxPoints at most this many points are kept (the oldest go first)
   */
  constructor(
    private readonly retentionMs = 60 * 60_000,
    private readonly maxPoints = 100_000,
  ) {}

  async publish(points: readonly MetricPoint[]): Promise<void> {
    for (const point of points) this.points.push({ ...point, dimensions: { ...point.dimensions } });
    const newest = this.points.reduce((max, p) => Math.max(max, p.timestamp), Number.NEGATIVE_INFINITY);
    this.points = this.points.filter((p) => p.timestamp >= newest - this.retentionMs).slice(-this.maxPoints);
  }

  /** Points stamped at or after `sinceMs` (epoch ms), oldest first. */
  recentPoints(sinceMs = Number.NEGATIVE_INFINITY): MetricPoint[] {
    return this.points.filter((p) => p.timestamp >= sinceMs).map((p) => ({ ...p, dimensions: { ...p.dimensions } }));
  }

  /** The newest value of a metric for a room, or for the whole service when `roomId` is omitted. */
  latest(name: MetricPoint['name'], roomId?: string): MetricPoint | undefined {
    for (let i = this.points.length - 1; i >= 0; i--) {
      const p = this.points[i]!;
      const pointRoom = p.dimensions[ROOM_DIMENSION];
      if (p.name === name && pointRoom === roomId && (roomId !== undefined || Object.keys(p.dimensions).length === 0)) return { ...p };
    }
    return undefined;
  }

  clear(): void {
    this.points = [];
  }
}

/** The process's one in-memory sink. */
export const memoryMetrics = new MemoryMetricsSink();

/** Points stamped at or after `sinceMs` in the process's in-memory sink. */
export const recentPoints = (sinceMs?: number): MetricPoint[] => memoryMetrics.recentPoints(sinceMs);
