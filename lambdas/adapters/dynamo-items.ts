/** Small helpers shared by the DynamoDB adapters: reading item attributes and naming SDK errors. */
import { BatchGetCommand, type BatchGetCommandOutput } from '@aws-sdk/lib-dynamodb';

/** A number attribute, or `fallback` when it is missing or not a finite number. */
export const num = (value: unknown, fallback = 0): number => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);

/** True when `error` is an SDK error of one of these names (ConditionalCheckFailedException...). */
export const isNamed = (error: unknown, ...names: string[]): boolean => error instanceof Error && names.includes(error.name);

/** Attempts at a single-item write that meets an ongoing transaction on its item. */
export const SINGLE_WRITE_ATTEMPTS = 4;

/**
 * Runs a single-item write, retrying it briefly (with jitter) when DynamoDB answers
 * TransactionConflictException: the item is part of an ongoing transaction (an admission on the
 * room, say). The SDK does not retry that error itself; a persistent one is rethrown.
 */
export async function retryOnTransactionConflict<T>(write: () => Promise<T>, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isNamed(error, 'TransactionConflictException') || attempt >= SINGLE_WRITE_ATTEMPTS) throw error;
      await sleep(Math.round(Math.random() * 20 * 2 ** attempt));
    }
  }
}

/** BatchGetItem reads at most this many keys per request. */
const BATCH_GET_KEYS = 100;

export interface BatchGetAllOptions {
  consistent?: boolean;
  /** A ProjectionExpression, with its attribute names. */
  projection?: { expression: string; names: Record<string, string> };
  /** Requests per chunk of keys before its unprocessed keys are given up on (an error). */
  attempts: number;
  /** The wait before attempt `attempt` (2, 3, …) of a chunk whose keys came back unprocessed. */
  backoffMs: (attempt: number) => number;
  sleep: (ms: number) => Promise<void>;
  /** What the error says was left unprocessed (e.g. "fairness buckets"). @default "keys" */
  what?: string;
}

/**
 * Every item of `keys` in one table that exists, read with BatchGetItem in chunks of 100, each
 * chunk's unprocessed keys asked again after a backoff; throws when a chunk still has some after
 * `attempts` requests (a partial answer is never passed for a whole one). Items in no set order.
 */
export async function batchGetAll(
  client: { send(command: BatchGetCommand): Promise<BatchGetCommandOutput> },
  table: string,
  keys: readonly Record<string, unknown>[],
  options: BatchGetAllOptions,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let start = 0; start < keys.length; start += BATCH_GET_KEYS) {
    let pending = keys.slice(start, start + BATCH_GET_KEYS);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > options.attempts) throw new Error(`BatchGetItem on ${table} left ${pending.length} ${options.what ?? 'keys'} unprocessed after ${options.attempts} attempts`);
      if (attempt > 1) await options.sleep(options.backoffMs(attempt));
      const { Responses, UnprocessedKeys } = await client.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: {
              Keys: [...pending],
              ...(options.consistent !== undefined ? { ConsistentRead: options.consistent } : {}),
              ...(options.projection ? { ProjectionExpression: options.projection.expression, ExpressionAttributeNames: options.projection.names } : {}),
            },
          },
        }),
      );
      items.push(...(Responses?.[table] ?? []));
      pending = (UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
    }
  }
  return items;
}
