/**
 * MetricsSink on CloudWatch: PutMetricData in as few requests as its limits allow. A request holds
 * at most 1000 metrics and 1 MB (API reference, PutMetricData); values must be finite numbers.
 */
import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { MetricPoint, MetricsSink } from '../domain/reporting/metrics.js';
import { METRICS_NAMESPACE } from '../shared/metric-names.js';

export interface PutMetricDataLimits {
  /** Metrics (MetricData entries) per request. */
  maxMetrics: number;
  /** Request size in bytes. */
  maxBytes: number;
}

export const PUT_METRIC_DATA_LIMITS: Readonly<PutMetricDataLimits> = Object.freeze({ maxMetrics: 1000, maxBytes: 1_000_000 });

/** Room kept in each request for the action, version and namespace. */
const REQUEST_OVERHEAD_BYTES = 1_024;

/**
 * A generous estimate of a datum's encoded size: the query encoding repeats the member path
 * (`MetricData.member.N.Dimensions.member.M.Name=`) before every field, which the factor covers.
 */
export function estimatedDatumBytes(datum: MetricDatum): number {
  return 3 * Buffer.byteLength(JSON.stringify(datum), 'utf8') + 64;
}

export function toDatum(point: MetricPoint): MetricDatum {
  if (!Number.isFinite(point.value)) {
    throw new RangeError(`metric ${point.name} ${JSON.stringify(point.dimensions)} has no finite value (${point.value})`);
  }
  const datum: MetricDatum = { MetricName: point.name, Timestamp: new Date(point.timestamp), Value: point.value, Unit: point.unit };
  const dimensions = Object.entries(point.dimensions).map(([Name, Value]) => ({ Name, Value }));
  // A service-wide point has no dimension at all (not an empty list, which the query encoding sends as a field).
  if (dimensions.length > 0) datum.Dimensions = dimensions;
  return datum;
}

/** Splits data into requests that respect both limits, keeping their order. */
export function batchMetricData(data: readonly MetricDatum[], limits: PutMetricDataLimits = PUT_METRIC_DATA_LIMITS): MetricDatum[][] {
  const batches: MetricDatum[][] = [];
  let current: MetricDatum[] = [];
  let bytes = REQUEST_OVERHEAD_BYTES;
  for (const datum of data) {
    const size = estimatedDatumBytes(datum);
    if (current.length > 0 && (current.length >= limits.maxMetrics || bytes + size > limits.maxBytes)) {
      batches.push(current);
      current = [];
      bytes = REQUEST_OVERHEAD_BYTES;
    }
    current.push(datum);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export class CloudWatchMetricsSink implements MetricsSink {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly namespace: string = METRICS_NAMESPACE,
    private readonly limits: PutMetricDataLimits = PUT_METRIC_DATA_LIMITS,
  ) {}

  async publish(points: readonly MetricPoint[]): Promise<void> {
    for (const batch of batchMetricData(points.map(toDatum), this.limits)) {
      await this.client.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData: batch }));
    }
  }
}
