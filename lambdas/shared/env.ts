/**
 * Configuration from environment variables, checked once at start-up: a missing or malformed
 * variable fails fast with its name.
 */
import { z } from 'zod';
import { DEFAULT_TIMINGS, assertTimings, type Timings } from '../domain/index.js';

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
export const TIMING_ENV = {
  WR_HEARTBEAT_TIMEOUT_SECONDS: seconds(DEFAULT_TIMINGS.heartbeatTimeoutSeconds),
  WR_CHECK_DELAY_SECONDS: seconds(DEFAULT_TIMINGS.checkDelaySeconds),
  WR_HEARTBEAT_INTERVAL_SECONDS: seconds(DEFAULT_TIMINGS.heartbeatIntervalSeconds),
  WR_TOKEN_RETENTION_SECONDS: seconds(DEFAULT_TIMINGS.tokenRetentionSeconds),
  WR_ASSUMED_VISIT_SECONDS: seconds(DEFAULT_TIMINGS.assumedVisitSeconds),
  WR_PASS_TTL_SECONDS: seconds(DEFAULT_TIMINGS.passTtlSeconds),
};

/** Environment variables for a set of timings: what the construct and the local runtime pass to functions. */
export function timingsToEnv(t: Timings): Record<keyof typeof TIMING_ENV, string> {
  return {
    WR_HEARTBEAT_TIMEOUT_SECONDS: String(t.heartbeatTimeoutSeconds),
    WR_CHECK_DELAY_SECONDS: String(t.checkDelaySeconds),
    WR_HEARTBEAT_INTERVAL_SECONDS: String(t.heartbeatIntervalSeconds),
    WR_TOKEN_RETENTION_SECONDS: String(t.tokenRetentionSeconds),
    WR_ASSUMED_VISIT_SECONDS: String(t.assumedVisitSeconds),
    WR_PASS_TTL_SECONDS: String(t.passTtlSeconds),
  };
}

export function timingsFromEnv(env: NodeJS.ProcessEnv = process.env): Timings {
  const e = readEnv(TIMING_ENV, env);
  try {
    return assertTimings({
      heartbeatTimeoutSeconds: e.WR_HEARTBEAT_TIMEOUT_SECONDS,
      checkDelaySeconds: e.WR_CHECK_DELAY_SECONDS,
      heartbeatIntervalSeconds: e.WR_HEARTBEAT_INTERVAL_SECONDS,
      tokenRetentionSeconds: e.WR_TOKEN_RETENTION_SECONDS,
      assumedVisitSeconds: e.WR_ASSUMED_VISIT_SECONDS,
      passTtlSeconds: e.WR_PASS_TTL_SECONDS,
    });
  } catch (error) {
    throw new ConfigurationError((error as Error).message);
  }
}
