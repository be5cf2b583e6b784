/**
 * Configuration from environment variables, checked once at start-up: a missing or malformed
 * variable fails fast with its name.
 */
import * as z from 'zod';
import { DEFAULT_LINE_SHARDS, DEFAULT_TIMINGS, MAX_LINE_SHARDS, assertTimings, type Timings } from '../domain/index.js';
import { TIMING_KEYS as timingKeys, TIMING_VARIABLES, type TimingVariable } from './env-names.js';

export { TIMING_VARIABLES, timingsToEnv } from './env-names.js';

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

export function readEnv<T extends z.ZodRawShape>(shape: T, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<T>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigurationError(`Invalid environment: ${problems.join('; ')}`);
  }
  return result.data;
}

export const required = () => z.string().min(1, 'is required');
const seconds = (fallback: number) => z.coerce.number().positive().default(fallback);

/** The timings every function reads, with the defaults of DESIGN §4. */
export const TIMING_ENV = Object.fromEntries(timingKeys.map((key) => [TIMING_VARIABLES[key], seconds(DEFAULT_TIMINGS[key])])) as Record<
  TimingVariable,
  ReturnType<typeof seconds>
>;

export function timingsFromEnv(env: NodeJS.ProcessEnv = process.env): Timings {
  const e = readEnv(TIMING_ENV, env) as Record<TimingVariable, number>;
  try {
    return assertTimings(Object.fromEntries(timingKeys.map((key) => [key, e[TIMING_VARIABLES[key]]])) as unknown as Timings);
  } catch (error) {
    throw new ConfigurationError((error as Error).message);
  }
}

/** Shards of the line index for rooms created by this deployment (WR_LINE_SHARDS). */
export function lineShardsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return readEnv({ WR_LINE_SHARDS: z.coerce.number().int().min(1).max(MAX_LINE_SHARDS).default(DEFAULT_LINE_SHARDS) }, env).WR_LINE_SHARDS;
}
