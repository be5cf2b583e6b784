/**
 * The waiting room as deployed on AWS, in the model: the tables (one FastStore seen through a
 * MeteredStore per environment), the token stream with its two consumers, the check queue with
 * the checker's mapping, the edge cache in front of the status, and one LambdaFunction per
 * handler. Every execution environment gets its own DomainDeps, built the way the handlers build
 * theirs: the real Visitors, Rooms and CheckLoop, with this environment's room views and ticket
 * blocks (environmentOf), its clock, its pass-key cache, and a sleep that moves its clock.
 */
import {
  Admissions,
  CheckLoop,
  DEFAULT_LINE_SHARDS,
  ROOM_VIEW_MAX_AGE_MS,
  Rooms,
  Visitors,
  environmentOf,
  timingsWithDefaults,
  type CheckQueue,
  type DomainDeps,
  type EnvironmentOptions,
  type IdSource,
  type PassIssuer,
  type RemovalReason,
  type Timings,
  type TokenState,
  type WaitingCounts,
  type WaitingRoomEvents,
} from '../../lambdas/domain/index.js';
import { DEFAULT_LINGER_MS } from '../../lambdas/adapters/sqs-check-queue.js';
import { deltaOf, ZERO_DELTA, addDeltas, type StatsDelta } from '../../lambdas/domain/reporting/stats.js';
import { SAMPLE_BUCKET_MS, mergeIntoBucket, sampleOutcomeOf, type SampleBucket, type VisitorSample } from '../../lambdas/domain/reporting/fairness-samples.js';
import { SAMPLE_RING_SLOTS, encodeSample } from '../../lambdas/adapters/dynamo-fairness.js';
import { AWS_PROFILE, ENQUEUER_STREAM, LATENCY_MS, STATS_STREAM, PASS_KEY_CACHE_MS, PASS_SIGNING_MS, SIZE, type InfrastructureProfile } from './assumptions.js';
import { CheckQueueModel, type PendingSend, type QueuedMessage } from './check-queue.js';
import { EdgeCache } from './edge-cache.js';
import { FastStore } from './fast-store.js';
import { LambdaFunction, type LambdaEnvironment } from './lambda-pool.js';
import { MeteredStore, TABLE, readUnits, writeUnits, type StoreInfrastructure } from './metered-store.js';
import { AdmitterLeases, RoomHistory, TransactionSpans } from './store-in-time.js';
import type { Cause, Meter } from './meter.js';
import { seededRandom, type EnvClock, type Simulation } from './simulation.js';
import { TokenStream, type StreamRecord } from './token-stream.js';

/** What a function environment holds at module scope, as the handlers do. */
export interface Runtime {
  deps: DomainDeps;
  visitors: Visitors;
  rooms: Rooms;
  checkLoop: CheckLoop;
  /** Where this environment's check messages go (into the outbox). */
  checks: CheckQueue;
  /** Check messages this invocation scheduled: sent together (SendMessageBatch) when it ends. */
  outbox: PendingSend[];
}

export interface DeploymentOptions {
  timings?: Partial<Timings>;
  /** Shards of the line index of rooms created here. @default DEFAULT_LINE_SHARDS */
  lineShards?: number;
  /** Stream shards of the token table: one per table partition (on-demand: about 1,000 write units a second each). */
  streamShards: number;
  /** Sign admission passes (and read the key set from Secrets Manager). @default true */
  passes?: boolean;
  /** Model DynamoDB's cancellation of overlapping transactions on a room item. @default true */
  transactionConflicts?: boolean;
  /** Per-environment cache options (room-view age, ticket-block lifetime). */
  environment?: EnvironmentOptions;
  /** AWS (the default) or the local runtime's pollers and environments (calibration). */
  profile?: InfrastructureProfile;
  /** Checker timeout in seconds; the queue's visibility timeout is six times this (lib/constructs/check-loop.ts). @default 20 */
  checkerTimeoutSeconds?: number;
  seed?: number;
}

export interface RemovalEvent {
  tokenId: string;
  state: TokenState;
  reason: RemovalReason;
  at: number;
}

/** The functions, by handler (lambdas/handlers); heartbeat serves both signal routes. */
export const FUNCTION_NAMES = [
  'join',
  'get-token',
  'heartbeat',
  'leave',
  'room-status',
  'admin',
  'check-tokens',
  'enqueue-checks',
  'stats-aggregator',
  'metrics-publisher',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** What each handler's domainDeps gets besides the store (lambdas/shared/wiring.ts): a pass issuer, the check queue, the counted line. */
const WIRING: Partial<Record<FunctionName, { passes?: true; checks?: true; waitingCounts?: true }>> = {
  join: { passes: true },
  'get-token': { passes: true },
  heartbeat: { passes: true, checks: true },
  leave: { checks: true },
  admin: { checks: true },
  'room-status': { waitingCounts: true },
};

/** Token ids and secrets: short, unique and deterministic (the real ones are random; nothing depends on that). */
function sequentialIds(): IdSource {
  let n = 0;
  return {
    tokenId: () => `t${(++n).toString(36)}`,
    secret: () => `s${n.toString(36)}-secret`,
  };
}

export class Deployment {
  readonly timings: Timings;
  readonly store = new FastStore();
  readonly stream: TokenStream;
  readonly queue: CheckQueueModel;
  readonly edge: EdgeCache;
  readonly transactions: TransactionSpans;
  readonly functions: Record<FunctionName, LambdaFunction<Runtime>>;
  /** The stats table, as the stats aggregator keeps it. */
  readonly stats = new Map<string, { counts: StatsDelta; shards: Set<number> }>();
  /** The fairness report's sample buckets of the stats table, by item key (lambdas/adapters/dynamo-fairness.ts). */
  private readonly sampleBuckets = new Map<string, SampleBucket>();
  /** Removals as they happen (for the silent-seat figure). */
  onRemoved?: (event: RemovalEvent) => void;
  private readonly removedStates = new Map<string, TokenState>();
  private readonly lineShards: number;
  private readonly ids = sequentialIds();
  private readonly random: () => number;

  constructor(
    readonly sim: Simulation,
    readonly meter: Meter,
    private readonly options: DeploymentOptions,
  ) {
    this.timings = timingsWithDefaults(options.timings);
    this.lineShards = options.lineShards ?? DEFAULT_LINE_SHARDS;
    this.random = seededRandom(options.seed ?? 1);
    this.transactions = new TransactionSpans(options.transactionConflicts ?? true);
    const profile = options.profile ?? AWS_PROFILE;
    const infra: StoreInfrastructure = {
      store: this.store,
      meter,
      transactions: this.transactions,
      roomHistory: new RoomHistory(),
      leases: new AdmitterLeases((roomId, at, fn) => this.sim.at(at, () => this.continueAdmitting(roomId, fn))),
      latencyScale: profile.dynamoLatencyScale,
      serialCalls: profile.serialDynamoCalls,
      publish: (record, at) => this.stream.publish(record, at),
      removed: (tokenId, state) => this.removedStates.set(tokenId, state),
    };
    const fn = (name: FunctionName) => new LambdaFunction<Runtime>(name, meter, (clock) => this.runtime(infra, clock, name), profile.singleEnvironment);
    this.functions = Object.fromEntries(FUNCTION_NAMES.map((name) => [name, fn(name)])) as Record<FunctionName, LambdaFunction<Runtime>>;
    this.stream = new TokenStream(sim, options.streamShards, [
      { name: 'enqueue-checks', ...ENQUEUER_STREAM, accepts: (r) => r.eventName === 'INSERT', process: (batch, _shard, at) => this.enqueue(batch, at) },
      {
        name: 'stats-aggregator',
        ...STATS_STREAM,
        // The mapping's filters: INSERT, REMOVE, and MODIFY from WAITING to ADMITTED (lib/constructs/stats-aggregator.ts).
        accepts: (r) => r.eventName !== 'MODIFY' || (r.before === 'WAITING' && r.after === 'ADMITTED'),
        process: (batch, shard, at) => this.aggregate(batch, shard, at),
      },
    ], profile.stream, this.random);
    this.queue = new CheckQueueModel(sim, meter, (batch, at) => this.check(batch, at), 6 * (options.checkerTimeoutSeconds ?? 20) * 1000, profile.queue);
    this.edge = new EdgeCache(meter, (roomId, at) => this.originStatus(roomId, at));
  }

  /** Whose a token is, for attributing a request or a check: its state now, or when it was removed. */
  causeOf(tokenId: string): Cause {
    const state = this.store.tokens.get(tokenId)?.state ?? this.removedStates.get(tokenId);
    return state === 'ADMITTED' ? 'admitted' : 'waiting';
  }

  /** Runs an admin change (create a room, change its capacity) as the admin function would; resolves with when its answer came (epoch ms). */
  async configure(roomId: string, change: { capacity?: number; state?: 'open' | 'paused' | 'closed' }): Promise<number> {
    this.meter.cause = 'system';
    return (await this.functions.admin.invoke(this.sim.now, (env) => env.context.rooms.configure(roomId, change))).end;
  }

  /**
   * Sends what an invocation scheduled, before it ends: the adapter groups sends made within 5 ms
   * of each other into SendMessageBatch requests of ten (lambdas/adapters/sqs-check-queue.ts), so a
   * batch handled together leaves together; a request that is not full waits out those 5 ms.
   */
  async flush(env: LambdaEnvironment<Runtime>): Promise<void> {
    const outbox = env.context.outbox;
    if (outbox.length === 0) return;
    const linger = outbox.length % 10 === 0 ? 0 : DEFAULT_LINGER_MS;
    env.clock.time = this.queue.send(outbox.splice(0), env.clock.time + linger);
  }

  private runtime(infra: StoreInfrastructure, clock: EnvClock, fn: FunctionName): Runtime {
    const store = new MeteredStore(infra, clock);
    const outbox: PendingSend[] = [];
    const queue: CheckQueue = {
      schedule: async (message, delaySeconds) => {
        outbox.push({ message, delaySeconds });
      },
      handOver: async (roomId) => {
        outbox.push({ message: { roomId, fill: true }, delaySeconds: 0 });
      },
    };
    const wiring = WIRING[fn] ?? {};
    const deps: DomainDeps = {
      store,
      clock,
      timings: this.timings,
      ids: this.ids,
      ...environmentOf(store, clock, this.options.environment),
      ...(wiring.passes && this.options.passes !== false ? { passes: this.passIssuer(clock) } : {}),
      ...(wiring.checks ? { checks: queue } : {}),
      ...(wiring.waitingCounts ? { waitingCounts: this.waitingCounts(clock) } : {}),
      events: this.events(clock),
      sleep: async (ms) => {
        clock.time += ms;
      },
      random: this.random,
    };
    return { deps, visitors: new Visitors(deps), rooms: new Rooms(deps, this.lineShards), checkLoop: new CheckLoop(deps, queue), checks: queue, outbox };
  }

  /**
   * The lease holder, woken at the end of its span by an admitter it refused (store-in-time.ts
   * AdmitterLeases), admits again, as it does when it finds the wake-up on giving the lease back.
   * Modelled as another invocation of its function (on AWS the same invocation goes on).
   */
  private async continueAdmitting(roomId: string, fn: string): Promise<void> {
    const name = (FUNCTION_NAMES as readonly string[]).includes(fn) ? (fn as FunctionName) : 'check-tokens';
    this.meter.cause = 'system';
    await this.functions[name].invoke(this.sim.now, async (env) => {
      (env.context.deps.store as MeteredStore).continueAsHolder();
      await new Admissions(env.context.deps, env.context.checks).fillSafely(roomId);
      await this.flush(env);
    });
  }

  /** Signs with a key set read from Secrets Manager and cached five minutes per environment. */
  private passIssuer(clock: EnvClock): PassIssuer {
    let refreshAt = Number.NEGATIVE_INFINITY;
    return {
      issue: async (_claims, now) => {
        if (now >= refreshAt) {
          this.meter.tally.add('secrets.calls');
          clock.time += LATENCY_MS.secretsGet;
          refreshAt = now + PASS_KEY_CACHE_MS;
        }
        clock.time += PASS_SIGNING_MS;
        return { pass: 'pass', expiresAt: now + this.timings.passTtlSeconds * 1000 };
      },
    };
  }

  /** The counted line for the status: an eventually consistent read of the stats item, cached a second per environment (lambdas/adapters/dynamo-waiting-counts.ts). */
  private waitingCounts(clock: EnvClock): WaitingCounts {
    const cache = new Map<string, { waiting: number | undefined; at: number }>();
    return {
      waiting: async (roomId) => {
        const cached = cache.get(roomId);
        if (cached && clock.now() - cached.at < ROOM_VIEW_MAX_AGE_MS) return cached.waiting;
        const at = clock.now();
        this.meter.dynamo('GetItem', at, [{ table: TABLE.stats, key: roomId, read: readUnits(this.statsItemBytes(roomId), false), write: 0 }]);
        clock.time += LATENCY_MS.getItem;
        const waiting = this.stats.has(roomId) ? Math.max(0, this.stats.get(roomId)!.counts.waiting) : undefined;
        cache.set(roomId, { waiting, at });
        return waiting;
      },
    };
  }

  private events(clock: EnvClock): WaitingRoomEvents {
    return {
      admitted: () => {
        this.meter.tally.add('visitors.admitted');
        this.meter.series.add('admissions', clock.time);
        this.meter.log();
      },
      removed: (e) => {
        this.meter.tally.add(`visitors.removed.${e.reason}.${e.state}`);
        this.meter.log();
        this.onRemoved?.({ tokenId: e.tokenId, state: e.state, reason: e.reason, at: clock.time });
      },
      admissionDeferred: () => {
        this.meter.tally.add('visitors.admissionDeferred');
        this.meter.log();
      },
    };
  }

  /** A stale edge copy: the status route's origin fetch (API Gateway → room-status). */
  private async originStatus(roomId: string, at: number) {
    this.meter.cause = 'waiting';
    this.meter.api('GET /rooms/{roomId}/status', at);
    this.meter.backend('waiting', at);
    const { value } = await this.functions['room-status'].invoke(at, (env) => env.context.rooms.status(roomId));
    return value;
  }

  /** The checker: one invocation per batch, its records processed in parallel (Powertools' default). */
  private async check(batch: QueuedMessage[], at: number): Promise<{ end: number; failed: ReadonlySet<string> }> {
    const failed = new Set<string>();
    const { end } = await this.functions['check-tokens'].invoke(at, async (env) => {
      const start = env.clock.time;
      let latest = start;
      for (const queued of batch) {
        env.clock.time = start;
        const { message } = queued;
        const cause = 'fill' in message ? 'system' : this.causeOf(message.tokenId);
        this.meter.cause = cause;
        this.meter.backend(cause, start);
        this.meter.tally.add(`checks.${cause}`);
        try {
          let outcome: string;
          if ('fill' in message) {
            await env.context.checkLoop.fill(message.roomId);
            outcome = 'hand-over';
          } else outcome = await env.context.checkLoop.check(message, queued.id);
          this.meter.tally.add(`checks.outcome.${outcome}`);
        } catch {
          failed.add(queued.id);
          this.meter.tally.add('checks.failed');
        }
        latest = Math.max(latest, env.clock.time);
      }
      env.clock.time = latest;
      await this.flush(env);
    });
    return { end, failed };
  }

  /** The enqueuer: each new token's first check. */
  private async enqueue(batch: StreamRecord[], at: number): Promise<number> {
    this.meter.cause = 'join';
    this.meter.backend('join', at);
    const { end } = await this.functions['enqueue-checks'].invoke(at, async (env) => {
      for (const record of batch) await env.context.checkLoop.start({ tokenId: record.tokenId, roomId: record.roomId, checkSeq: 0 });
      await this.flush(env);
    });
    return end;
  }

  /** The stats aggregator: per room of the batch, a consistent read of the stats item and one conditional update (lambdas/adapters/dynamo-stats.ts). */
  private async aggregate(batch: StreamRecord[], shard: number, at: number): Promise<number> {
    this.meter.cause = 'system';
    this.meter.backend('system', at);
    const byRoom = new Map<string, StatsDelta>();
    const samplesByRoom = new Map<string, VisitorSample[]>();
    for (const r of batch) {
      byRoom.set(r.roomId, addDeltas(byRoom.get(r.roomId) ?? ZERO_DELTA, deltaOf({ before: r.before, after: r.after, expired: false })));
      // A wait that ended (admitted, or left while waiting) is a sample of the fairness report.
      const outcome = sampleOutcomeOf(r.before, r.after);
      if (outcome) {
        const sample: VisitorSample = { tokenId: r.tokenId, ticket: 1, issuedAt: at, ...(outcome === 'admitted' ? { admittedAt: at } : { leftWaitingAt: at }) };
        samplesByRoom.set(r.roomId, [...(samplesByRoom.get(r.roomId) ?? []), sample]);
      }
    }
    const { end } = await this.functions['stats-aggregator'].invoke(at, async (env) => {
      for (const [roomId, delta] of byRoom) {
        const stats = this.stats.get(roomId) ?? { counts: { ...ZERO_DELTA }, shards: new Set<number>() };
        this.stats.set(roomId, stats);
        stats.shards.add(shard);
        const bytes = this.statsItemBytes(roomId);
        this.meter.dynamo('GetItem', env.clock.time, [{ table: TABLE.stats, key: roomId, read: readUnits(bytes, true), write: 0 }]);
        env.clock.time += LATENCY_MS.getItem;
        this.meter.dynamo('UpdateItem', env.clock.time, [{ table: TABLE.stats, key: roomId, read: 0, write: writeUnits(bytes) }]);
        env.clock.time += LATENCY_MS.updateItem;
        stats.counts = addDeltas(stats.counts, delta);
        const samples = samplesByRoom.get(roomId);
        if (samples) this.recordSamples(roomId, samples, env);
      }
    });
    return end;
  }

  /**
   * The samples' bucket of their minute (DynamoFairnessSamples.record, beside the counts): a
   * consistent read of the bucket, and a write of it whole (an update is billed on the item's size)
   * when the merge kept any of them.
   */
  private recordSamples(roomId: string, samples: readonly VisitorSample[], env: LambdaEnvironment<Runtime>): void {
    const minute = Math.floor((samples[0]!.admittedAt ?? samples[0]!.leftWaitingAt ?? 0) / SAMPLE_BUCKET_MS);
    const key = `${roomId}#fairness#${((minute % SAMPLE_RING_SLOTS) + SAMPLE_RING_SLOTS) % SAMPLE_RING_SLOTS}`;
    const stored = this.sampleBuckets.get(key);
    const before = bucketBytes(stored);
    this.meter.dynamo('GetItem', env.clock.time, [{ table: TABLE.stats, key, read: readUnits(before, true), write: 0 }]);
    env.clock.time += LATENCY_MS.getItem;
    const merge = mergeIntoBucket(stored, minute, samples.filter((s) => Math.floor((s.admittedAt ?? s.leftWaitingAt ?? 0) / SAMPLE_BUCKET_MS) === minute));
    if (merge.kind !== 'add' && merge.kind !== 'replace') return;
    this.sampleBuckets.set(key, merge.bucket);
    this.meter.dynamo('UpdateItem', env.clock.time, [{ table: TABLE.stats, key, read: 0, write: writeUnits(Math.max(before, bucketBytes(merge.bucket))) }]);
    env.clock.time += LATENCY_MS.updateItem;
  }

  /** The stats item grows by one marker per stream shard that wrote to the room. */
  statsItemBytes(roomId: string): number {
    return SIZE.statsItemBase + SIZE.statsItemPerShard * (this.stats.get(roomId)?.shards.size ?? 0);
  }
}

/** A sample bucket's item size: key, minute, level, version and TTL, and each sample's token id and encoded fields. */
function bucketBytes(bucket: SampleBucket | undefined): number {
  if (!bucket) return 0;
  let bytes = 120;
  for (const [tokenId, sample] of bucket.samples) bytes += tokenId.length + encodeSample(sample).length + 4;
  return bytes;
}
