/**
 * Metrics (DESIGN §2.5): what the metrics publisher sends to CloudWatch every 10 s, computed from
 * the rooms, their counted stats and the counters of the previous run. Names, units and dimensions
 * come from lambdas/shared/metric-names.ts, which the CDK alarms also read.
 *
 * Gauges (waiting, active, capacity, utilization, estimated wait) are snapshots: publishing one
 * twice in a period changes neither its Maximum nor its Average. Rates are not: a run publishes a
 * room's AdmissionsPerMinute and EvictionsPerMinute only after it has claimed the interval since
 * the previous run with a conditional write, so two overlapping runs never count one interval twice.
 *
 * Idle rooms cost nothing (CloudWatch bills a custom metric only for the hours it receives data).
 * A room is quiet in a run when nobody waits, nobody holds a seat and nothing happened since the
 * previous publication: its admission and eviction counters equal the ones recorded as `published`,
 * and neither its room item nor its stats were written since. The first quiet run publishes the
 * room's set once more (zeros, rates 0) and records `idle` with its counters, so graphs and alarms
 * settle; later quiet runs find `idle` recorded and publish nothing for the room, nor claim anything.
 * Any activity (a join, an admission, a leave, an eviction, an admin change) ends the quiet: the next
 * run publishes again. The summary says `idle` when every room was quiet, and the state machine
 * then skips the rest of its minute (lib/constructs/metrics-loop.ts).
 */
import { eventStepDueWithin } from '../events/events.js';
import { METRIC, METRIC_UNIT, roomDimensions, type MetricName, type MetricUnit } from '../../shared/metric-names.js';
import type { RoomCalibrator } from '../line/estimate-calibration.js';
import type { Room } from '../model.js';
import type { Clock } from '../ports.js';
import { statusOf } from '../rooms/rooms.js';
import type { PublishedCounters, RoomStats, StatsStore } from './stats.js';
import type { Timings } from '../timings.js';

export interface MetricPoint {
  name: MetricName;
  unit: MetricUnit;
  value: number;
  /** Epoch ms. */
  timestamp: number;
  /** `{ RoomId }` for a room; empty for the whole service. */
  dimensions: Readonly<Record<string, string>>;
}

/** Where metric points go: CloudWatch on AWS, memory in the local runtime and tests. */
export interface MetricsSink {
  publish(points: readonly MetricPoint[]): Promise<void>;
}

/** The rooms to report on. DynamoStore and the in-memory store both satisfy it. */
export interface RoomsSource {
  listRooms(): Promise<Room[]>;
}

/** How far ahead a run looks for an event's draw or end: a minute, the loop's schedule, and a margin. */
export const EVENT_LOOKAHEAD_MS = 75_000;

/** A rate needs at least this much time between two runs: closer runs are an overlap. */
export const MIN_RATE_SPAN_MS = 1_000;
/** Past this, the previous run is too old for a rate to say anything about the last minute. */
export const MAX_RATE_SPAN_MS = 10 * 60_000;

export interface Rates {
  admissionsPerMinute: number;
  evictionsPerMinute: number;
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

/**
 * Admissions and evictions per minute between two runs' counters. Undefined without a usable
 * previous run: none yet, too close, too old, or counters that went down (a room was recreated).
 */
export function ratesBetween(previous: PublishedCounters | undefined, current: PublishedCounters): Rates | undefined {
  if (!previous) return undefined;
  const span = current.at - previous.at;
  const admitted = current.admittedTotal - previous.admittedTotal;
  const evicted = current.evictedTotal - previous.evictedTotal;
  if (span < MIN_RATE_SPAN_MS || span > MAX_RATE_SPAN_MS || admitted < 0 || evicted < 0) return undefined;
  const minutes = span / 60_000;
  return { admissionsPerMinute: round2(admitted / minutes), evictionsPerMinute: round2(evicted / minutes) };
}

const ZERO_RATES: Readonly<Rates> = Object.freeze({ admissionsPerMinute: 0, evictionsPerMinute: 0 });

/** The counters a run records for the next one, from the room item. */
export function countersOf(room: Pick<Room, 'admittedTotal' | 'evictedTotal'>, now: number): PublishedCounters {
  return { at: now, admittedTotal: room.admittedTotal, evictedTotal: room.evictedTotal };
}

/** Active seats as a percentage of capacity; 0 for a room without seats. */
export function utilization(active: number, capacity: number): number {
  return capacity > 0 ? round2((active / capacity) * 100) : 0;
}

/**
 * True when a room had no activity since the previous publication: nobody waiting or active now,
 * the same admission and eviction counters, and no write to its room item or its stats since.
 * Never quiet before its first publication.
 */
export function isQuiet(room: Room, stats: RoomStats | undefined, gauges: { waiting: number; active: number }, now: number): boolean {
  const previous = stats?.published;
  if (!previous || gauges.waiting > 0 || gauges.active > 0) return false;
  const counters = countersOf(room, now);
  return (
    counters.admittedTotal === previous.admittedTotal &&
    counters.evictedTotal === previous.evictedTotal &&
    room.updatedAt <= previous.at &&
    (stats?.updatedAt ?? 0) <= previous.at
  );
}

/** The room's status as published: waiting as counted by the aggregator once it has counted. */
function roomStatusOf(room: Room, stats: RoomStats | undefined, now: number, timings: Timings) {
  // Counted waiting once the aggregator has written the room's stats (updatedAt > 0; an item made
  // only by the publisher's claim does not count); before that, the room item's upper bound.
  const counted = stats && stats.updatedAt > 0 ? Math.max(0, stats.waiting) : undefined;
  return statusOf(room, now, timings, counted);
}

interface RoomSnapshot {
  waiting: number;
  active: number;
  capacity: number;
  estimatedWaitSeconds: number;
  rates?: Rates;
}

function snapshotOf(room: Room, stats: RoomStats | undefined, rates: Rates | undefined, now: number, timings: Timings): RoomSnapshot {
  const status = roomStatusOf(room, stats, now, timings);
  const snapshot: RoomSnapshot = {
    waiting: status.waiting,
    active: status.active,
    capacity: status.capacity,
    estimatedWaitSeconds: status.estimatedWaitSeconds,
  };
  if (rates) snapshot.rates = rates;
  return snapshot;
}

function pointsOf(snapshot: RoomSnapshot, dimensions: Readonly<Record<string, string>>, timestamp: number): MetricPoint[] {
  const point = (name: MetricName, value: number): MetricPoint => ({ name, unit: METRIC_UNIT[name], value, timestamp, dimensions });
  const points = [
    point(METRIC.waitingUsers, snapshot.waiting),
    point(METRIC.activeUsers, snapshot.active),
    point(METRIC.capacity, snapshot.capacity),
    point(METRIC.utilization, utilization(snapshot.active, snapshot.capacity)),
  ];
  if (snapshot.rates) {
    points.push(point(METRIC.admissionsPerMinute, snapshot.rates.admissionsPerMinute));
    points.push(point(METRIC.evictionsPerMinute, snapshot.rates.evictionsPerMinute));
  }
  points.push(point(METRIC.estimatedWaitSeconds, snapshot.estimatedWaitSeconds));
  return points;
}

export interface MetricsInput {
  rooms: readonly Room[];
  stats: ReadonlyMap<string, RoomStats>;
  /** Rates of the rooms whose interval this run claimed. */
  rates: ReadonlyMap<string, Rates>;
  /** Rooms quiet since their final set: no points of their own (they still count in the service's sums). */
  skipped?: ReadonlySet<string>;
  now: number;
  timings: Timings;
}

/**
 * Every point of one run: each room's (dimension RoomId), then the service's (no dimension):
 * sums of waiting, active and capacity, utilization of the sums, sums of the rates this run holds
 * (omitted when it holds none) and the longest estimated wait. Skipped rooms have no points; when
 * every room is skipped, neither has the service.
 */
export function metricPoints(input: MetricsInput): MetricPoint[] {
  const { now, timings } = input;
  const skipped = input.skipped ?? new Set<string>();
  const rooms = [...input.rooms].sort((a, b) => a.roomId.localeCompare(b.roomId));
  if (rooms.every((room) => skipped.has(room.roomId))) return [];
  const snapshots = rooms.map((room) => snapshotOf(room, input.stats.get(room.roomId), input.rates.get(room.roomId), now, timings));
  const points = snapshots.flatMap((snapshot, i) => (skipped.has(rooms[i]!.roomId) ? [] : pointsOf(snapshot, roomDimensions(rooms[i]!.roomId), now)));
  const rated = snapshots.flatMap((s) => (s.rates ? [s.rates] : []));
  const service: RoomSnapshot = {
    waiting: snapshots.reduce((sum, s) => sum + s.waiting, 0),
    active: snapshots.reduce((sum, s) => sum + s.active, 0),
    capacity: snapshots.reduce((sum, s) => sum + s.capacity, 0),
    estimatedWaitSeconds: snapshots.reduce((max, s) => Math.max(max, s.estimatedWaitSeconds), 0),
  };
  if (rated.length > 0) {
    service.rates = {
      admissionsPerMinute: round2(rated.reduce((sum, r) => sum + r.admissionsPerMinute, 0)),
      evictionsPerMinute: round2(rated.reduce((sum, r) => sum + r.evictionsPerMinute, 0)),
    };
  }
  points.push(...pointsOf(service, {}, now));
  return points;
}

// ---------------------------------------------------------------------------------------------
// Use case.

export interface MetricsPublisherDeps {
  rooms: RoomsSource;
  stats: StatsStore;
  sink: MetricsSink;
  clock: Clock;
  timings: Timings;
  /** A room's interval could not be claimed because of an error; its rates are left out of this run. */
  onClaimError?: (roomId: string, error: unknown) => void;
  /** Calibrates the rooms' wait ranges after each run (at most once a minute per active room). */
  calibrator?: Pick<RoomCalibrator, 'refresh'>;
}

/** What one run did: the handler's return value, read by the state machine. */
export interface PublishSummary {
  /** Epoch ms of the run. */
  publishedAt: number;
  rooms: number;
  points: number;
  /** Every room was quiet (see isQuiet): later runs this minute would publish nothing, so the state machine stops. */
  idle: boolean;
}

export class MetricsPublisher {
  constructor(private readonly deps: MetricsPublisherDeps) {}

  async publish(): Promise<PublishSummary> {
    const { rooms: source, stats: store, sink, clock, timings } = this.deps;
    const now = clock.now();
    const rooms = await source.listRooms();
    const stats = await store.getStats(rooms.map((room) => room.roomId));
    const rates = new Map<string, Rates>();
    const skipped = new Set<string>();
    let quietRooms = 0;
    await Promise.all(
      rooms.map(async (room) => {
        const { roomId } = room;
        const current = stats.get(roomId);
        const quiet = isQuiet(room, current, roomStatusOf(room, current, now, timings), now);
        if (quiet) quietRooms++;
        // Quiet since its final set: nothing to publish, nothing to claim.
        if (quiet && current?.published?.idle) {
          skipped.add(roomId);
          return;
        }
        const counters: PublishedCounters = { ...countersOf(room, now), ...(quiet ? { idle: true } : {}) };
        try {
          if (!(await store.claimPublication(roomId, current?.published?.at, counters))) return;
        } catch (error) {
          this.deps.onClaimError?.(roomId, error);
          return;
        }
        const roomRates = quiet ? ZERO_RATES : ratesBetween(current?.published, counters);
        if (roomRates) rates.set(roomId, roomRates);
      }),
    );
    const points = metricPoints({ rooms, stats, rates, skipped, now, timings });
    if (points.length > 0) await sink.publish(points);
    // After the metrics: a calibration failure (reported by the calibrator) never costs a run its points.
    await this.deps.calibrator?.refresh(rooms, now);
    // A room whose event's draw or end is due within the minute keeps the loop going, so that it comes within a run.
    const eventDue = rooms.some((room) => room.event && eventStepDueWithin(room.event, now, EVENT_LOOKAHEAD_MS));
    return { publishedAt: now, rooms: rooms.length, points: points.length, idle: quietRooms === rooms.length && !eventDue };
  }
}
