/**
 * Timings of the waiting room (DESIGN §4). One definition, used by the Lambda functions (through
 * environment variables), the CDK construct (validation of props) and the local runtime.
 */
export interface Timings {
  /** A visitor silent for this long is removed by the checker. */
  heartbeatTimeoutSeconds: number;
  /** Delay between two checks of one token (SQS DelaySeconds: a whole number, 0-900). */
  checkDelaySeconds: number;
  /** How often clients are told to heartbeat. */
  heartbeatIntervalSeconds: number;
  /** The token item's TTL after its last heartbeat: a safety net, never relied upon for correctness. */
  tokenRetentionSeconds: number;
  /** Assumed length of a visit, for wait estimates before any admission rate has been measured. */
  assumedVisitSeconds: number;
  /** Lifetime of an admission pass; refreshed by every heartbeat. */
  passTtlSeconds: number;
}

export const DEFAULT_TIMINGS: Timings = Object.freeze({
  heartbeatTimeoutSeconds: 20,
  checkDelaySeconds: 10,
  heartbeatIntervalSeconds: 5,
  tokenRetentionSeconds: 24 * 60 * 60,
  assumedVisitSeconds: 300,
  passTtlSeconds: 60,
});

/** Returns the list of problems with a set of timings; empty when they are usable. */
export function timingProblems(t: Timings): string[] {
  const problems: string[] = [];
  const positive = (name: keyof Timings) => {
    if (!Number.isFinite(t[name]) || t[name] <= 0) problems.push(`${name} must be a positive number (got ${t[name]})`);
  };
  (Object.keys(DEFAULT_TIMINGS) as (keyof Timings)[]).forEach(positive);
  if (!Number.isInteger(t.checkDelaySeconds) || t.checkDelaySeconds < 1 || t.checkDelaySeconds > 900) {
    problems.push(`checkDelaySeconds must be a whole number from 1 to 900, the SQS DelaySeconds range (got ${t.checkDelaySeconds})`);
  }
  if (t.heartbeatIntervalSeconds >= t.heartbeatTimeoutSeconds) {
    problems.push(
      `heartbeatIntervalSeconds (${t.heartbeatIntervalSeconds}) must be shorter than heartbeatTimeoutSeconds (${t.heartbeatTimeoutSeconds}), or every visitor is evicted`,
    );
  }
  if (t.tokenRetentionSeconds < t.heartbeatTimeoutSeconds + 2 * t.checkDelaySeconds) {
    problems.push('tokenRetentionSeconds must outlast the eviction window (heartbeat timeout + 2 check delays)');
  }
  return problems;
}

export function assertTimings(t: Timings): Timings {
  const problems = timingProblems(t);
  if (problems.length > 0) throw new Error(`Invalid waiting-room timings: ${problems.join('; ')}`);
  return t;
}
