/** Small helpers shared by the DynamoDB adapters: reading item attributes and naming SDK errors. */

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
