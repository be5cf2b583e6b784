/**
 * The token table's stream and the two Lambda mappings that read it (enqueuer, stats aggregator).
 *
 * A record goes to the stream shard of its item (a hash of the token id over `shards`, as a
 * table's partitions map to stream shards). Each mapping reads each shard on its own: Lambda polls
 * a shard four times a second and invokes the function with the records it finds (after the
 * mapping's filter, up to its batch size), one batch of a shard at a time, going straight on with
 * the next batch when more are waiting; a mapping with a batching window first gathers records
 * for that long (or until the batch is full). So batches fill up with load: one record each in a
 * quiet room without a window, hundreds in a drop. Reading the stream is free; the model counts
 * only invocations and what the functions do.
 */
import type { TokenState } from '../../lambdas/domain/index.js';
import type { StreamMapping } from './assumptions.js';
import type { Simulation } from './simulation.js';

export interface StreamRecord {
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  tokenId: string;
  roomId: string;
  /** The token's state before and after; absent: the item did not exist / no longer exists. */
  before?: TokenState;
  after?: TokenState;
}

export interface StreamConsumer {
  readonly name: string;
  readonly batchSize: number;
  /** MaximumBatchingWindow of the mapping, ms (0: none). */
  readonly batchingWindowMs: number;
  /** The mapping's event filter. */
  accepts(record: StreamRecord): boolean;
  /** Processes one batch from `shard` starting at `at`; resolves with the invocation's end. */
  process(batch: StreamRecord[], shard: number, at: number): Promise<number>;
}

interface Lane {
  readonly consumer: StreamConsumer;
  readonly shard: number;
  pending: StreamRecord[];
  /** A poll or a batch is under way (one batch per shard at a time). */
  active: boolean;
  /** The shard's record count at this lane's last poll: a poll reads every record, filtered out or not. */
  readUpTo: number;
  /** When the batch being gathered (batching window) is due. */
  windowEndsAt: number | undefined;
}

export class TokenStream {
  private readonly lanes: Lane[][];
  /** Records written to each shard so far. */
  private readonly written: number[];
  records = 0;

  constructor(
    private readonly sim: Simulation,
    readonly shards: number,
    consumers: readonly StreamConsumer[],
    private readonly mapping: StreamMapping,
    private readonly random: () => number = Math.random,
  ) {
    this.lanes = Array.from({ length: shards }, (_, shard) => consumers.map((consumer) => ({ consumer, shard, pending: [], active: false, readUpTo: 0, windowEndsAt: undefined })));
    this.written = new Array<number>(shards).fill(0);
  }

  publish(record: StreamRecord, at: number): void {
    this.records += 1;
    const shard = shardOf(record.tokenId, this.shards);
    this.written[shard]! += 1;
    // A poller that loops while it reads (the local one) wakes for any record; Lambda's for those that pass its filter.
    const wakesForAny = this.mapping.repollAfterRecordsMs !== undefined;
    for (const lane of this.lanes[shard]!) {
      const accepted = lane.consumer.accepts(record);
      if (accepted) lane.pending.push(record);
      if (!lane.active && (accepted || wakesForAny)) {
        lane.active = true;
        const lag = this.mapping.visibilityLagMs + (this.mapping.visibilityLagJitterMs ?? 0) * this.random();
        this.sim.at(this.nextPoll(at + lag, shard), () => this.poll(lane));
      }
    }
  }

  /** The shard's next poll at or after `at` (each shard polls on its own phase). */
  private nextPoll(at: number, shard: number): number {
    const every = this.mapping.pollIntervalMs;
    const phase = (shard * 37) % every;
    return phase + Math.ceil((at - phase) / every) * every;
  }

  private async poll(lane: Lane): Promise<void> {
    const readAny = this.written[lane.shard]! > lane.readUpTo;
    lane.readUpTo = this.written[lane.shard]!;
    const { batchSize, batchingWindowMs } = lane.consumer;
    if (batchingWindowMs > 0 && lane.pending.length > 0 && lane.pending.length < batchSize) {
      // Gathering: invoke when the window ends (or, polling on, when the batch is full).
      lane.windowEndsAt ??= this.sim.now + batchingWindowMs;
      if (this.sim.now < lane.windowEndsAt) {
        this.sim.at(Math.min(lane.windowEndsAt, this.sim.now + this.mapping.pollIntervalMs), () => this.poll(lane));
        return;
      }
    }
    lane.windowEndsAt = undefined;
    const batch = lane.pending.splice(0, batchSize);
    const end = batch.length > 0 ? await lane.consumer.process(batch, lane.shard, this.sim.now) : this.sim.now;
    const repoll = this.mapping.repollAfterRecordsMs;
    if (lane.pending.length > 0) this.sim.at(end, () => this.poll(lane));
    else if (repoll !== undefined && readAny) this.sim.at(end + repoll, () => this.poll(lane));
    else lane.active = false;
  }
}

/** A stable hash of a token id onto `shards` (FNV-1a). */
export function shardOf(tokenId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < tokenId.length; i++) {
    hash ^= tokenId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}
