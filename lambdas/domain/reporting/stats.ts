/**
 * Stats (DESIGN §2.4, §5.6): per-room counts kept incrementally from the token table's stream,
 * because DynamoDB is not made for aggregate queries.
 *
 * A stream record tells how one token changed: its state before and after, where "absent" means
 * the item did not exist (a join) or no longer exists (a leave, an eviction, a TTL expiry). The
 * counts follow from the two states alone, so every kind of record is handled by one rule:
 *
 *   waiting       += [after = WAITING]  - [before = WAITING]
 *   active        += [after = ADMITTED] - [before = ADMITTED]
 *   issuedTotal   += [before absent and after present]
 *   admittedTotal += [after = ADMITTED and before ≠ ADMITTED]
 *   removedTotal  += [before present and after absent]
 *   expiredTotal  += a removal made by the table's TTL
 *
 * Heartbeats and check-loop steps change neither state: they count for nothing and are dropped
 * before anything is written. Counting each record exactly once, whatever the retries, is the
 * job of the StatsStore (see planStatsWrite and lambdas/adapters/dynamo-stats.ts).
 */
import type { VisitorSample, VisitorSampleStore } from './fairness-samples.js';
import type { TokenState } from '../model.js';
import type { Clock } from '../ports.js';

/** A token's state as an image shows it; UNKNOWN for an item whose state is not one we know. */
export type ImageState = TokenState | 'UNKNOWN';

/** What one stream record says about one token. */
export interface TokenChange {
  roomId: string;
  /** The record's stream sequence number, as delivered (digits). */
  sequenceNumber: string;
  /** State before the change; undefined when the item did not exist. */
  before?: ImageState;
  /** State after the change; undefined when the item no longer exists. */
  after?: ImageState;
  /** The removal was made by DynamoDB's TTL process rather than by the waiting room. */
  expired: boolean;
  /** The visitor's sample for the fairness report, when the change ends a wait (lambdas/domain/reporting/fairness-samples.ts). */
  sample?: VisitorSample;
}

export const STATS_COUNTERS = ['waiting', 'active', 'issuedTotal', 'admittedTotal', 'removedTotal', 'expiredTotal'] as const;
export type StatsCounter = (typeof STATS_COUNTERS)[number];
export type StatsDelta = Record<StatsCounter, number>;

export const ZERO_DELTA: Readonly<StatsDelta> = Object.freeze({
  waiting: 0,
  active: 0,
  issuedTotal: 0,
  admittedTotal: 0,
  removedTotal: 0,
  expiredTotal: 0,
});

/** A room's counters as the stats table holds them. */
export interface RoomStats extends StatsDelta {
  roomId: string;
  /** Epoch ms of the last change applied (0 if none yet). */
  updatedAt: number;
  /** The counters the metrics publisher saw last time; undefined before its first run. */
  published?: PublishedCounters;
}

/**
 * The counters behind the per-minute rates, as of one run of the metrics publisher: the room
 * item's own admittedTotal and evictedTotal (exact, changed in the admission and eviction
 * transactions), not the stream-derived stats, which cannot tell a leave from an eviction.
 */
export interface PublishedCounters {
  at: number;
  admittedTotal: number;
  evictedTotal: number;
  /** The run found the room quiet and published its final set: quiet runs after it publish nothing (lambdas/domain/reporting/metrics.ts). */
  idle?: boolean;
}

const one = (condition: boolean): number => (condition ? 1 : 0);

/** What one change does to its room's counters. */
export function deltaOf(change: Pick<TokenChange, 'before' | 'after' | 'expired'>): StatsDelta {
  const { before, after } = change;
  const removed = before !== undefined && after === undefined;
  return {
    waiting: one(after === 'WAITING') - one(before === 'WAITING'),
    active: one(after === 'ADMITTED') - one(before === 'ADMITTED'),
    issuedTotal: one(before === undefined && after !== undefined),
    admittedTotal: one(after === 'ADMITTED' && before !== 'ADMITTED'),
    removedTotal: one(removed),
    expiredTotal: one(removed && change.expired),
  };
}

export function isZeroDelta(delta: Readonly<StatsDelta>): boolean {
  return STATS_COUNTERS.every((counter) => delta[counter] === 0);
}

export function addDeltas(a: Readonly<StatsDelta>, b: Readonly<StatsDelta>): StatsDelta {
  const sum = { ...ZERO_DELTA };
  for (const counter of STATS_COUNTERS) sum[counter] = a[counter] + b[counter];
  return sum;
}

/** The sum of the deltas of some changes. */
export function foldDeltas(changes: readonly TokenChange[]): StatsDelta {
  return changes.reduce<StatsDelta>((sum, change) => addDeltas(sum, deltaOf(change)), { ...ZERO_DELTA });
}

/**
 * The changes that count, grouped by room, each group in the order given (stream order). Changes
 * that count for nothing (heartbeats, check-loop steps) are dropped.
 */
export function groupByRoom(changes: readonly TokenChange[]): Map<string, TokenChange[]> {
  const rooms = new Map<string, TokenChange[]>();
  for (const change of changes) {
    if (isZeroDelta(deltaOf(change))) continue;
    const group = rooms.get(change.roomId);
    if (group) group.push(change);
    else rooms.set(change.roomId, [change]);
  }
  return rooms;
}

// ---------------------------------------------------------------------------------------------
// Exactly once: stream positions per shard.

/**
 * DynamoDB stream sequence numbers are strings of 21 to 40 digits. Padded with zeros to this
 * width, string order is numeric order, which is what a DynamoDB condition compares.
 */
export const SEQUENCE_NUMBER_WIDTH = 40;
const DIGITS = /^[0-9]+$/;

export class InvalidSequenceNumberError extends Error {
  override name = 'InvalidSequenceNumberError';
}

export function padSequenceNumber(sequenceNumber: string): string {
  if (!DIGITS.test(sequenceNumber) || sequenceNumber.length > SEQUENCE_NUMBER_WIDTH) {
    throw new InvalidSequenceNumberError(`not a stream sequence number: ${JSON.stringify(sequenceNumber)}`);
  }
  return sequenceNumber.padStart(SEQUENCE_NUMBER_WIDTH, '0');
}

/** Orders two sequence numbers numerically (negative, zero, positive). */
export function compareSequenceNumbers(a: string, b: string): number {
  const pa = padSequenceNumber(a);
  const pb = padSequenceNumber(b);
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/** The last record of one shard applied to one room. */
export interface ShardMarker {
  /** Padded sequence number of the last applied record. */
  seq: string;
  /** Epoch ms of the write that set it. */
  at: number;
}

export type ShardMarkers = Readonly<Record<string, ShardMarker>>;

/**
 * A shard's marker is dropped from a room this long after that shard last wrote to it. Stream
 * records live 24 h, so by then no record at or below the marker can be delivered again; the
 * rest of the margin absorbs clock skew between writers.
 */
export const MARKER_RETENTION_MS = 48 * 60 * 60 * 1000;

/** One conditional write of a room's stats: what to add, and the markers it depends on. */
export interface StatsWritePlan {
  /** The changes not applied yet (a suffix of the changes given, in stream order). */
  pending: TokenChange[];
  /** How many of the changes given were applied already (a replay or a retry). */
  skipped: number;
  delta: StatsDelta;
  /** The shard's marker as read: the write is conditional on it being unchanged (absent if undefined). */
  previous?: ShardMarker;
  /** The shard's marker after the write. */
  marker: ShardMarker;
  /** Other shards' markers to remove, each on condition that its sequence number is still `seq`. */
  prune: { shardId: string; seq: string }[];
}

/**
 * Plans the write of one shard's changes to one room: keeps the changes past the shard's marker,
 * adds them up, moves the marker to the last of them, and drops other shards' markers that are
 * older than MARKER_RETENTION_MS. Undefined when every change was applied already.
 */
export function planStatsWrite(
  markers: ShardMarkers | undefined,
  shardId: string,
  changes: readonly TokenChange[],
  now: number,
): StatsWritePlan | undefined {
  const previous = markers?.[shardId];
  const ordered = changes
    .map((change) => ({ change, seq: padSequenceNumber(change.sequenceNumber) }))
    .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
  const pending = ordered.filter(({ seq }) => previous === undefined || seq > previous.seq);
  const last = pending[pending.length - 1];
  if (!last) return undefined;
  const prune = Object.entries(markers ?? {})
    .filter(([id, marker]) => id !== shardId && marker.at < now - MARKER_RETENTION_MS)
    .map(([id, marker]) => ({ shardId: id, seq: marker.seq }));
  const plan: StatsWritePlan = {
    pending: pending.map(({ change }) => change),
    skipped: ordered.length - pending.length,
    delta: foldDeltas(pending.map(({ change }) => change)),
    marker: { seq: last.seq, at: now },
    prune,
  };
  if (previous) plan.previous = previous;
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Port and use case.

export interface ApplyResult {
  /** Changes counted by this call. */
  applied: number;
  /** Changes found counted already (a replay or a retry). */
  skipped: number;
}

export interface StatsStore {
  /**
   * Counts one shard's changes to one room, each exactly once however often it is given: a change
   * at or below the shard's marker for the room is skipped. `changes` come from `shardId`, in
   * stream order.
   */
  applyChanges(roomId: string, shardId: string, changes: readonly TokenChange[], now: number): Promise<ApplyResult>;
  /** Strongly consistent read of rooms' stats; rooms without stats are missing from the map. */
  getStats(roomIds: readonly string[]): Promise<Map<string, RoomStats>>;
  /**
   * Records the counters of a publisher run, on condition that the previous run's time is still
   * `previousAt` (absent if undefined). False when another run got there first.
   */
  claimPublication(roomId: string, previousAt: number | undefined, next: PublishedCounters): Promise<boolean>;
}

export interface StatsBatchOutcome {
  /** Rooms with changes that count. */
  rooms: number;
  applied: number;
  skipped: number;
  /** Rooms whose write failed, each with the first (lowest) sequence number of its changes. */
  failures: { roomId: string; fromSequenceNumber: string; error: unknown }[];
  /** Fairness samples recorded, when the batch had any (and a sample store was given). */
  samples?: { kept: number; dropped: number };
}

/**
 * Applies a batch of changes from one shard: one write per room, rooms in parallel; and, given a
 * sample store, the rooms' fairness samples beside their counts. A room whose samples could not be
 * written fails as a whole, so that Lambda retries its records: the counts skip what they counted
 * already (the shard markers) and the samples are idempotent, so the retry mends the samples and
 * counts nothing twice.
 */
export class StatsAggregator {
  constructor(private readonly deps: { stats: StatsStore; clock: Clock; samples?: VisitorSampleStore }) {}

  async apply(shardId: string, changes: readonly TokenChange[]): Promise<StatsBatchOutcome> {
    const rooms = [...groupByRoom(changes)];
    const now = this.deps.clock.now();
    const settled = await Promise.allSettled(rooms.map(([roomId, roomChanges]) => this.applyRoom(roomId, shardId, roomChanges, now)));
    const outcome: StatsBatchOutcome = { rooms: rooms.length, applied: 0, skipped: 0, failures: [] };
    settled.forEach((result, i) => {
      const [roomId, roomChanges] = rooms[i]!;
      if (result.status === 'fulfilled') {
        outcome.applied += result.value.applied;
        outcome.skipped += result.value.skipped;
        if (result.value.samples) {
          outcome.samples ??= { kept: 0, dropped: 0 };
          outcome.samples.kept += result.value.samples.kept;
          outcome.samples.dropped += result.value.samples.dropped;
        }
        return;
      }
      const first = roomChanges.reduce((low, c) => (compareSequenceNumbers(c.sequenceNumber, low) < 0 ? c.sequenceNumber : low), roomChanges[0]!.sequenceNumber);
      outcome.failures.push({ roomId, fromSequenceNumber: first, error: result.reason });
    });
    return outcome;
  }

  /** The room's counts and its samples, written side by side; the first failure of the two is the room's. */
  private async applyRoom(
    roomId: string,
    shardId: string,
    changes: readonly TokenChange[],
    now: number,
  ): Promise<ApplyResult & { samples?: { kept: number; dropped: number } }> {
    const samples = changes.flatMap((change) => (change.sample ? [change.sample] : []));
    const store = this.deps.samples;
    const [counted, sampled] = await Promise.allSettled([
      this.deps.stats.applyChanges(roomId, shardId, changes, now),
      store && samples.length > 0 ? store.record(roomId, samples) : Promise.resolve(undefined),
    ]);
    if (counted.status === 'rejected') throw counted.reason;
    if (sampled.status === 'rejected') throw sampled.reason;
    return sampled.value ? { ...counted.value, samples: sampled.value } : counted.value;
  }
}
