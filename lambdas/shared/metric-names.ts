/**
 * The waiting room's CloudWatch metrics: one namespace, every name, unit and dimension in one
 * module, read by the metrics publisher (lambdas/) and by the alarms of the CDK construct (lib/),
 * so that an alarm always watches a metric that is actually published.
 *
 * Dimensions. Each metric is published twice per run of the publisher:
 * - per room, with exactly one dimension `RoomId=<roomId>`;
 * - for the whole service, with NO dimension. Not `RoomId=ALL`: "ALL" is a valid room id
 *   (ROOM_ID_PATTERN), so a room could collide with the aggregate. CloudWatch matches an alarm to
 *   a metric by its exact dimension set, so a service-wide alarm is declared with no dimensions
 *   (`new Metric({ namespace: METRICS_NAMESPACE, metricName: METRIC.waitingUsers })`) and a room
 *   alarm with `dimensionsMap: roomDimensions(roomId)`.
 *
 * The publisher runs every 10 s (6 times a minute) at standard resolution: alarms should use a
 * 60 s period (or more) and the statistic given in METRIC_STATISTIC.
 */

/** Default namespace of every metric; the publisher reads METRICS_NAMESPACE to override it. */
export const METRICS_NAMESPACE = 'WaitingRoom';

/** The one dimension of per-room metrics. */
export const ROOM_DIMENSION = 'RoomId';

export const METRIC = {
  /** Visitors in line, as counted by the stats aggregator (Count). */
  waitingUsers: 'WaitingUsers',
  /** Seats taken: the room's authoritative activeCount (Count). */
  activeUsers: 'ActiveUsers',
  /** Seats the room offers (Count). */
  capacity: 'Capacity',
  /** activeUsers / capacity × 100, 0 when the capacity is 0 (Percent). */
  utilization: 'Utilization',
  /** Admissions per minute over the interval since the previous publish (Count, per minute). */
  admissionsPerMinute: 'AdmissionsPerMinute',
  /**
   * Tokens removed per minute over the interval since the previous publish (Count, per minute):
   * evictions after silence, but also voluntary leaves and TTL expiries, which the token stream
   * cannot tell apart from evictions.
   */
  evictionsPerMinute: 'EvictionsPerMinute',
  /** Estimated wait of a visitor joining now (Seconds). Service-wide: the longest of all rooms. */
  estimatedWaitSeconds: 'EstimatedWaitSeconds',
} as const;

export type MetricKey = keyof typeof METRIC;
export type MetricName = (typeof METRIC)[MetricKey];

/** The CloudWatch units this project publishes (a subset of StandardUnit). */
export type MetricUnit = 'Count' | 'Percent' | 'Seconds';

/**
 * CloudWatch has no "Count/Minute" unit: the per-minute rates are published as Count and their
 * name says the period.
 */
export const METRIC_UNIT: Readonly<Record<MetricName, MetricUnit>> = {
  WaitingUsers: 'Count',
  ActiveUsers: 'Count',
  Capacity: 'Count',
  Utilization: 'Percent',
  AdmissionsPerMinute: 'Count',
  EvictionsPerMinute: 'Count',
  EstimatedWaitSeconds: 'Seconds',
};

/** The statistic an alarm or a dashboard should read each metric with (several points per period). */
export const METRIC_STATISTIC: Readonly<Record<MetricName, 'Average' | 'Maximum'>> = {
  WaitingUsers: 'Maximum',
  ActiveUsers: 'Maximum',
  Capacity: 'Maximum',
  Utilization: 'Maximum',
  AdmissionsPerMinute: 'Average',
  EvictionsPerMinute: 'Average',
  EstimatedWaitSeconds: 'Maximum',
};

/** Seconds between two runs of the publisher (the state machine runs it 6 times a minute). */
export const METRICS_INTERVAL_SECONDS = 10;

/** The dimensions of a room's metrics. */
export function roomDimensions(roomId: string): Record<string, string> {
  return { [ROOM_DIMENSION]: roomId };
}
