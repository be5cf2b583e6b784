/**
 * The environment variables that the construct sets and the functions read, and the writer of the
 * timings. Free of zod and of the SDKs (env.ts and the adapters parse these variables), so that
 * the construct, compiled into the package, needs none of the functions' dependencies at synth.
 */
import type { Timings } from '../domain/index.js';

/** The environment variable of each timing (one table: the schema, the writer and the reader follow from it). */
export const TIMING_VARIABLES = {
  heartbeatTimeoutSeconds: 'WR_HEARTBEAT_TIMEOUT_SECONDS',
  checkDelaySeconds: 'WR_CHECK_DELAY_SECONDS',
  heartbeatIntervalSeconds: 'WR_HEARTBEAT_INTERVAL_SECONDS',
  admittedHeartbeatIntervalSeconds: 'WR_ADMITTED_HEARTBEAT_INTERVAL_SECONDS',
  keepPlaceIntervalSeconds: 'WR_KEEP_PLACE_INTERVAL_SECONDS',
  keepPlaceTimeoutSeconds: 'WR_KEEP_PLACE_TIMEOUT_SECONDS',
  frontZoneSeconds: 'WR_FRONT_ZONE_SECONDS',
  tokenRetentionSeconds: 'WR_TOKEN_RETENTION_SECONDS',
  assumedVisitSeconds: 'WR_ASSUMED_VISIT_SECONDS',
  passTtlSeconds: 'WR_PASS_TTL_SECONDS',
} as const satisfies Record<keyof Timings, string>;

export type TimingVariable = (typeof TIMING_VARIABLES)[keyof Timings];
export const TIMING_KEYS = Object.keys(TIMING_VARIABLES) as (keyof Timings)[];

/** Environment variables for a set of timings: what the construct and the local runtime pass to functions. */
export function timingsToEnv(t: Timings): Record<TimingVariable, string> {
  return Object.fromEntries(TIMING_KEYS.map((key) => [TIMING_VARIABLES[key], String(t[key])])) as Record<TimingVariable, string>;
}

/** The environment variable that carries the pass-signing key set as JSON (local runtime). */
export const PASS_KEYS_ENV = 'WR_PASS_KEYS';
/** The environment variable that carries the ARN of the secret holding the pass-signing key set (AWS). */
export const PASS_KEYS_SECRET_ENV = 'PASS_KEYS_SECRET_ARN';
