/**
 * What the scale model assumes about AWS where the code cannot tell: latencies, sizes, polling
 * rates. One file, so that every figure can be traced to a number someone can argue with.
 * Prices live in prices.ts; the rules (timings, shards, block lifetimes) come from the domain, and
 * the event source mappings' batch sizes and windows from the constructs that set them.
 */
import { CHECK_DELIVERY_SLACK_MS } from '../../lambdas/domain/index.js';
import { STATS_BATCHING_WINDOW_SECONDS, STATS_BATCH_SIZE } from '../../lib/constructs/stats-aggregator.js';

/** Modelled latency of one call, in milliseconds, as seen by a Lambda function in the same region. */
export const LATENCY_MS = {
  getItem: 3,
  batchGetItem: 4,
  query: 4,
  scan: 5,
  putItem: 5,
  updateItem: 5,
  deleteItem: 5,
  /** TransactWriteItems: a base plus a little per item (two-phase commit over more partitions). */
  transactBase: 10,
  transactPerItem: 0.1,
  sqsSend: 6,
  sqsReceive: 10,
  sqsDelete: 5,
  secretsGet: 15,
  putMetricData: 10,
} as const;

/** Time a Lambda invocation spends outside store calls: event parsing, validation, JSON, logging. */
export const INVOCATION_OVERHEAD_MS = 2;
/** Signing an ES256 pass on a 512 MB arm64 function (about a third of a vCPU). */
export const PASS_SIGNING_MS = 1;
/**
 * A new execution environment's INIT phase (Node.js 22, a 0.5 MB ESM bundle with the SDK). Billed
 * like the handler since AWS standardised INIT billing (August 2025).
 */
export const COLD_START_MS = 300;
/** Lambda's scaling rate per function: up to 1,000 more environments every 10 seconds (since November 2023). */
export const LAMBDA_SCALING = { burst: 1_000, perSecond: 100 } as const;
/** Memory of every function unless lib/constructs/function.ts says otherwise (it does not). */
export const FUNCTION_MEMORY_MB = 512;
/** Each environment caches the pass key set this long (lambdas/adapters/pass-key-sources.ts). */
export const PASS_KEY_CACHE_MS = 5 * 60_000;

/** Sizes, in bytes (1 KB = 1,024 B), of what goes over the wire and into the tables. */
export const SIZE = {
  /** A response's status line and headers. */
  headers: 0.3 * 1024,
  tokenView: 0.4 * 1024,
  tokenViewWithPass: 0.8 * 1024,
  /** The join answer carries the secret once. */
  secret: 0.06 * 1024,
  status: 0.4 * 1024,
  errorBody: 0.15 * 1024,
  /** A token item with its attributes, and a room item: both under 1 KB, so one write unit and half a (consistent: one) read unit. */
  tokenItem: 400,
  roomItem: 600,
  /** A KEYS_ONLY line-index entry (table key, index keys), as a query reads it. */
  lineEntry: 60,
  /** The stats item: counters and publication fields, plus one marker per stream shard that wrote to the room (lambdas/adapters/dynamo-stats.ts). */
  statsItemBase: 250,
  statsItemPerShard: 95,
  /** One structured log line with the Lambda context that Powertools Logger injects. */
  logLine: 400,
} as const;

/** The CloudWatch metrics one busy room publishes (lib/constructs/metrics-loop.ts: 14 for one room). */
export const METRICS_PER_BUSY_ROOM = 14;

/** Lambda's SQS event source mapping (the checker's). */
export interface QueueMapping {
  minPollers: number;
  scaleUpPerSecond: number;
  maxPollers: number;
  batchSize: number;
  waitSeconds: number;
  /** The mapping's batching window: a batch is gathered until it is full or this long has passed since its first message. */
  batchingWindowMs: number;
}

export interface StreamMapping {
  pollIntervalMs: number;
  visibilityLagMs: number;
  /** Up to this much more, at random (DynamoDB Local's records show 3-20 ms after the write). */
  visibilityLagJitterMs?: number;
  /** After a poll that found records, poll again this soon, found or not (the local poller loops without sleeping while it reads). */
  repollAfterRecordsMs?: number;
}

/** What each stream mapping asks for (lib/constructs/check-loop.ts, lib/constructs/stats-aggregator.ts). */
export const ENQUEUER_STREAM = { batchSize: 100, batchingWindowMs: 0 } as const;
export const STATS_STREAM = { batchSize: STATS_BATCH_SIZE, batchingWindowMs: STATS_BATCHING_WINDOW_SECONDS * 1000 } as const;

export const SQS_MAPPING: QueueMapping = {
  /** Pollers when idle; Lambda starts with five. */
  minPollers: 5,
  /** Lambda adds up to 300 concurrent pollers a minute while messages are waiting. */
  scaleUpPerSecond: 5,
  /** Lambda's default maximum for one SQS mapping. */
  maxPollers: 1_250,
  batchSize: 10,
  /** Long-poll wait of each ReceiveMessage. */
  waitSeconds: 20,
  // lib/constructs/check-loop.ts: maxBatchingWindow CHECK_DELIVERY_SLACK_MS (the domain schedules checks that much early).
  batchingWindowMs: CHECK_DELIVERY_SLACK_MS,
};

/** Lambda's DynamoDB stream mappings (enqueuer and stats aggregator): each shard read 4 times a second, one batch per shard at a time. */
export const STREAM_MAPPING: StreamMapping = {
  pollIntervalMs: 250,
  /** A record becomes readable this long after its write. */
  visibilityLagMs: 10,
};

/**
 * What AWS does (the default) or what the local runtime does instead (for calibration): its queue
 * poller runs three pollers with 2 s waits and never scales (local/queue-poller.ts), its stream
 * poller reads the one shard DynamoDB Local has every 50 ms while it finds nothing, and again at
 * once (a GetRecords round trip later) after it found records, gathering for a mapping's batching
 * window as Lambda does (local/stream-poller.ts), each
 * handler module is loaded once, so each function has one environment serving every request, and
 * DynamoDB Local is slower than DynamoDB and answers calls sent together one after the other.
 */
export interface InfrastructureProfile {
  queue: QueueMapping;
  stream: StreamMapping;
  singleEnvironment: boolean;
  /** DynamoDB's latencies (LATENCY_MS) are multiplied by this. */
  dynamoLatencyScale: number;
  /** Calls sent at once are answered one after the other (DynamoDB Local answers one request at a time). */
  serialDynamoCalls: boolean;
}

export const AWS_PROFILE: InfrastructureProfile = { queue: SQS_MAPPING, stream: STREAM_MAPPING, singleEnvironment: false, dynamoLatencyScale: 1, serialDynamoCalls: false };
export const LOCAL_RUNTIME_PROFILE: InfrastructureProfile = {
  queue: { minPollers: 3, scaleUpPerSecond: 0, maxPollers: 3, batchSize: 10, waitSeconds: 2, batchingWindowMs: CHECK_DELIVERY_SLACK_MS },
  // DynamoDB Local shows a stream record 3-20 ms after its write (TOOLCHAIN.md) and answers a call in about 10 ms.
  stream: { pollIntervalMs: 50, visibilityLagMs: 3, visibilityLagJitterMs: 17, repollAfterRecordsMs: 5 },
  singleEnvironment: true,
  dynamoLatencyScale: 2,
  serialDynamoCalls: true,
};

/** CloudFront's cache of the room status: max-age 1 s; every edge's miss collapses into one origin fetch (Origin Shield, one regional cache). */
export const STATUS_MAX_AGE_MS = 1_000;

/** The metrics loop (lib/constructs/metrics-loop.ts): one execution a minute, six publishes 10 s apart while busy, one when idle. */
export const METRICS_LOOP = {
  periodMs: 60_000,
  busyPublishes: 6,
  publishEveryMs: 10_000,
  /** Express billed duration: about 56 s busy (five 10 s waits, six publishes), 0.3 s idle. */
  busyExecutionSeconds: 56,
  idleExecutionSeconds: 0.3,
  /** Express bills at least 64 MB. */
  expressMemoryGb: 0.0625,
  /** Execution log events of 0.35 KB: 11 for an idle run; 48 for a busy one (the header's $0.36 a month). */
  idleLogEvents: 11,
  busyLogEvents: 48,
  logEventBytes: 0.35 * 1024,
  /** The header's figure for one idle publisher run (SDK calls from a warm environment). */
  idlePublisherSeconds: 0.1,
} as const;

/** CloudWatch alarm metrics with the default props (lib/constructs/alarms.ts: 9 alarms reading 10 metrics). */
export const DEFAULT_ALARM_METRICS = 10;
/** Secrets: the pass-key secret (lib/constructs/pass-keys.ts). */
export const SECRETS = 1;
