/**
 * Plays a Lambda event source mapping on a DynamoDB stream: reads every shard (GetRecords with
 * iterators), applies the mapping's filters, invokes the function with batches of up to BatchSize
 * records, honours partial batch responses (the batch resumes at the lowest failed sequence
 * number), bisects a failing batch, retries up to MaximumRetryAttempts, and then writes a failure
 * record to the on-failure queue and moves on. With a batching window (MaximumBatchingWindowInSeconds)
 * it gathers a shard's records for up to that long, or until a batch is full, before it invokes,
 * as Lambda does: one invocation a second for the stats aggregator instead of one per poll that
 * finds a record.
 */
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { passesFilters } from './event-filter.js';
import type { LocalFunction } from './lambda-host.js';
import type { EventSourceMappingDefinition } from './template.js';

export interface StreamPollerOptions {
  mapping: EventSourceMappingDefinition;
  fn: LocalFunction;
  streamArn: string;
  streams: DynamoDBStreamsClient;
  sqs: SQSClient;
  onFailureQueueUrl?: string;
  /** Where to begin in each shard: the start of the stream, or only new records. */
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  pollIntervalMs?: number;
  /** Observes every record read (before filtering): the runtime prints admissions and removals from it. */
  onRecord?: (record: DynamoDBRecord) => void;
  onError?: (message: string, error: unknown) => void;
}

type Batch = DynamoDBRecord[];

export function toLambdaRecord(record: _Record, streamArn: string): DynamoDBRecord {
  const created = record.dynamodb?.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
    dynamodb: {
      ...(record.dynamodb as DynamoDBRecord['dynamodb']),
      ...(created ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) } : {}),
    },
  };
}

export class StreamPoller {
  private readonly shards = new Map<string, string | undefined>(); // shard id → next iterator (undefined: closed)
  private readonly lastSequence = new Map<string, string>(); // shard id → last record handled
  private readonly initialPosition = new Map<string, 'TRIM_HORIZON' | 'LATEST'>();
  /** Tumbling windows: per shard, the current window's start and the state the function returned. */
  private readonly windows = new Map<string, { start: number; state: unknown }>();
  /** Batching window: per shard, the records read and not yet delivered, and when the first of them was read. */
  private readonly gathering = new Map<string, { records: Batch; since: number }>();
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(private readonly options: StreamPollerOptions) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let lastDiscovery = 0;
    while (!this.stopped) {
      try {
        if (Date.now() - lastDiscovery > 2000) {
          await this.discoverShards();
          lastDiscovery = Date.now();
        }
        let read = 0;
        for (const [shardId, iterator] of this.shards) {
          if (iterator === undefined || this.stopped) continue;
          read += await this.pollShard(shardId, iterator);
        }
        if (read === 0) await this.sleep(this.options.pollIntervalMs ?? 50);
      } catch (error) {
        if (this.stopped) return;
        this.options.onError?.(`stream poller for ${this.options.fn.name}`, error);
        await this.sleep(1000);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async discoverShards(): Promise<void> {
    let exclusiveStart: string | undefined;
    do {
      const { StreamDescription } = await this.options.streams.send(
        new DescribeStreamCommand({ StreamArn: this.options.streamArn, ExclusiveStartShardId: exclusiveStart }),
      );
      for (const shard of StreamDescription?.Shards ?? []) {
        if (!shard.ShardId || this.shards.has(shard.ShardId)) continue;
        // A child shard is read from its start; the first shards from the mapping's starting position.
        const position = this.shards.size === 0 ? this.options.startingPosition : 'TRIM_HORIZON';
        this.initialPosition.set(shard.ShardId, position);
        const { ShardIterator } = await this.options.streams.send(
          new GetShardIteratorCommand({ StreamArn: this.options.streamArn, ShardId: shard.ShardId, ShardIteratorType: position }),
        );
        this.shards.set(shard.ShardId, ShardIterator);
      }
      exclusiveStart = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStart);
  }

  private async pollShard(shardId: string, iterator: string): Promise<number> {
    let page;
    try {
      page = await this.options.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.options.mapping.batchSize }));
    } catch (error) {
      const name = (error as Error).name;
      if (name !== 'TrimmedDataAccessException' && name !== 'ExpiredIteratorException') throw error;
      // DynamoDB Local numbers stream records across all tables, so an iterator taken while a shard
      // was empty reads as "trimmed" once other tables are written; expired iterators happen too.
      // Either way: carry on right after the last record handled (from the starting position if none).
      await this.reposition(shardId);
      return 0;
    }
    const { Records, NextShardIterator } = page;
    const records = (Records ?? []).map((r) => toLambdaRecord(r, this.options.streamArn));
    for (const record of records) this.options.onRecord?.(record);
    const wanted = records.filter((r) => passesFilters(r, this.options.mapping.filters));
    await this.gatherAndDeliver(shardId, wanted, !NextShardIterator);
    const last = records[records.length - 1]?.dynamodb?.SequenceNumber;
    if (last) this.lastSequence.set(shardId, last);
    // The iterator moves on only once the batch is done (delivered, or set aside after its retries).
    this.shards.set(shardId, NextShardIterator ?? undefined);
    return records.length;
  }

  /**
   * Without a batching window, delivers what was read at once; with one, adds it to the shard's
   * gathered records and delivers them, a batch at a time, once the window has passed since the
   * first of them or a batch is full, or the shard is closed. Called on every poll of the shard,
   * records read or not.
   */
  private async gatherAndDeliver(shardId: string, wanted: Batch, shardClosed: boolean): Promise<void> {
    const { batchSize, batchingWindowSeconds = 0 } = this.options.mapping;
    if (batchingWindowSeconds <= 0) {
      if (wanted.length > 0) await this.deliver(shardId, wanted);
      return;
    }
    const gathered = this.gathering.get(shardId) ?? { records: [], since: Date.now() };
    if (gathered.records.length === 0) gathered.since = Date.now();
    gathered.records.push(...wanted);
    this.gathering.set(shardId, gathered);
    const due = shardClosed || Date.now() - gathered.since >= batchingWindowSeconds * 1000;
    while (gathered.records.length > 0 && (due || gathered.records.length >= batchSize) && !this.stopped) {
      await this.deliver(shardId, gathered.records.splice(0, batchSize));
    }
  }

  private async reposition(shardId: string): Promise<void> {
    const after = this.lastSequence.get(shardId);
    const { ShardIterator } = await this.options.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.options.streamArn,
        ShardId: shardId,
        ...(after
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
          : { ShardIteratorType: this.initialPosition.get(shardId) ?? 'TRIM_HORIZON' }),
      }),
    );
    this.shards.set(shardId, ShardIterator);
  }

  private async deliver(shardId: string, records: Batch): Promise<void> {
    const { mapping } = this.options;
    const pending: Batch[] = [records];
    while (pending.length > 0 && !this.stopped) {
      let batch = pending.shift()!;
      for (let attempt = 0; batch.length > 0 && !this.stopped; attempt++) {
        const failedFrom = await this.invoke(shardId, batch);
        if (failedFrom === undefined) break;
        batch = batch.slice(failedFrom);
        const exhausted = mapping.maximumRetryAttempts >= 0 && attempt >= mapping.maximumRetryAttempts;
        if (exhausted) {
          await this.setAside(shardId, batch, attempt + 1);
          break;
        }
        if (mapping.bisectBatchOnFunctionError && failedFrom === 0 && batch.length > 1) {
          const half = Math.ceil(batch.length / 2);
          pending.unshift(batch.slice(half));
          batch = batch.slice(0, half);
        }
        await this.sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
  }

  /**
   * The event Lambda sends: the records, and with a tumbling window the shard id, the window and
   * the state the previous invocation of this window returned.
   */
  private async event(shardId: string, batch: Batch): Promise<Record<string, unknown>> {
    const seconds = this.options.mapping.tumblingWindowSeconds;
    if (seconds === undefined) return { Records: batch };
    const size = Math.max(1, seconds) * 1000;
    const start = Math.floor(Date.now() / size) * size;
    const current = this.windows.get(shardId);
    if (current && current.start !== start) {
      // The previous window closed: its final invocation, with its state and no records.
      await this.options.fn.invoke({ Records: [], ...this.windowFields(shardId, current.start, size, current.state), isFinalInvokeForWindow: true });
      this.windows.delete(shardId);
    }
    return { Records: batch, ...this.windowFields(shardId, start, size, this.windows.get(shardId)?.state ?? {}) };
  }

  private windowFields(shardId: string, start: number, size: number, state: unknown) {
    return {
      shardId,
      eventSourceARN: this.options.streamArn,
      window: { start: new Date(start).toISOString(), end: new Date(start + size).toISOString() },
      state,
      isFinalInvokeForWindow: false,
      isWindowTerminatedEarly: false,
    };
  }

  /** Invokes the function; returns the index from which the batch failed, or undefined on success. */
  private async invoke(shardId: string, batch: Batch): Promise<number | undefined> {
    try {
      const event = await this.event(shardId, batch);
      const response = await this.options.fn.invoke<(DynamoDBBatchResponse & { state?: unknown }) | undefined>(event);
      if ('window' in event) {
        // A windowed invocation that returns no state is a failed invocation.
        if (response?.state === undefined) throw new Error(`${this.options.fn.name} returned no state for its tumbling window`);
        const window = event.window as { start: string };
        this.windows.set(shardId, { start: Date.parse(window.start), state: response.state });
      }
      const failures = this.options.mapping.reportBatchItemFailures ? (response?.batchItemFailures ?? []) : [];
      if (failures.length === 0) return undefined;
      const indexes = failures.map((f) => batch.findIndex((r) => r.dynamodb?.SequenceNumber === f.itemIdentifier));
      // An identifier that names no record of the batch fails the whole batch (as Lambda does).
      return indexes.some((i) => i < 0) ? 0 : Math.min(...indexes);
    } catch (error) {
      this.options.onError?.(`${this.options.fn.name} failed on a stream batch of ${batch.length}`, error);
      return 0;
    }
  }

  /** The on-failure destination record Lambda writes for a stream batch it gave up on. */
  private async setAside(shardId: string, batch: Batch, attempts: number): Promise<void> {
    const first = batch[0]!.dynamodb!;
    const last = batch[batch.length - 1]!.dynamodb!;
    const body = {
      requestContext: { requestId: crypto.randomUUID(), functionArn: this.options.fn.arn, condition: 'RetryAttemptsExhausted', approximateInvokeCount: attempts },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: first.SequenceNumber,
        endSequenceNumber: last.SequenceNumber,
        approximateArrivalOfFirstRecord: new Date((first.ApproximateCreationDateTime ?? 0) * 1000).toISOString(),
        approximateArrivalOfLastRecord: new Date((last.ApproximateCreationDateTime ?? 0) * 1000).toISOString(),
        batchSize: batch.length,
        streamArn: this.options.streamArn,
      },
    };
    if (this.options.onFailureQueueUrl) {
      await this.options.sqs.send(new SendMessageCommand({ QueueUrl: this.options.onFailureQueueUrl, MessageBody: JSON.stringify(body) }));
    }
    this.options.onError?.(`${this.options.fn.name} gave up on ${batch.length} stream records after ${attempts} attempts`, undefined);
  }
}
