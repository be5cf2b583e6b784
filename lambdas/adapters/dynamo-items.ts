/** Small helpers shared by the DynamoDB adapters: reading item attributes and naming SDK errors. */

/** A number attribute, or `fallback` when it is missing or not a finite number. */
export const num = (value: unknown, fallback = 0): number => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);

/** True when `error` is an SDK error of one of these names (ConditionalCheckFailedException...). */
export const isNamed = (error: unknown, ...names: string[]): boolean => error instanceof Error && names.includes(error.name);
