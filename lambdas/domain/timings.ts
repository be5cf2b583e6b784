/**
 * Timings of the waiting room (DESIGN §4). One definition, used by the Lambda functions (through
 * environment variables), the CDK construct (validation of props), the local runtime and the page.
 * Why the defaults are what they are: README "Zones, and why these timings".
 */
export interface Timings {
  /** An admitted or front-zone visitor silent for this long is removed by the checker. */
  heartbeatTimeoutSeconds: number;
  /** Delay of a token's first check after its join (SQS DelaySeconds: a whole number, 1-900); later checks are due at the token's deadline. */
  checkDelaySeconds: number;
  /** How often a waiting visitor in the front zone heartbeats. */
  heartbeatIntervalSeconds: number;
  /** How often an admitted visitor heartbeats (the seat is freed heartbeatTimeoutSeconds after the last one, whatever this is). */
  admittedHeartbeatIntervalSeconds: number;
  /** How often a waiting visitor far from the front sends its keep-my-place signal. */
  keepPlaceIntervalSeconds: number;
  /** A far-back visitor silent for this long is removed (it is never admitted without heartbeating first). */
  keepPlaceTimeoutSeconds: number;
  /** The front zone: the waiting tickets expected to be admitted within this many seconds. */
  frontZoneSeconds: number;
  /** The token item's TTL after its last signal: a safety net, never relied upon for correctness. */
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
  // Admitted visitors are most of a visit's requests: every 8 s still leaves a lost heartbeat and
  // 4 s of slack before the 20 s timeout, and a visit costs 40 % less (README "What it costs").
  admittedHeartbeatIntervalSeconds: 8,
  keepPlaceIntervalSeconds: 300,
  keepPlaceTimeoutSeconds: 1200,
  frontZoneSeconds: 60,
  tokenRetentionSeconds: 24 * 60 * 60,
  assumedVisitSeconds: 300,
  passTtlSeconds: 60,
});

/**
 * Timings with defaults for what is not given. The admitted visitors' heartbeat interval follows
 * the front zone's when only that one is given (a test that heartbeats every second wants both).
 */
export function timingsWithDefaults(given: Partial<Timings> = {}): Timings {
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<Timings>;
  return {
    ...DEFAULT_TIMINGS,
    ...(defined.heartbeatIntervalSeconds !== undefined ? { admittedHeartbeatIntervalSeconds: defined.heartbeatIntervalSeconds } : {}),
    ...defined,
  };
}

/** SQS's largest DelaySeconds: checks further away than this hop through intermediate checks. */
export const MAX_CHECK_DELAY_SECONDS = 900;

/** Returns the list of problems with a set of timings; empty when they are usable. */
export function timingProblems(t: Timings): string[] {
  const problems: string[] = [];
  const positive = (name: keyof Timings) => {
    if (!Number.isFinite(t[name]) || t[name] <= 0) problems.push(`${name} must be a positive number (got ${t[name]})`);
  };
  (Object.keys(DEFAULT_TIMINGS) as (keyof Timings)[]).forEach(positive);
  if (!Number.isInteger(t.checkDelaySeconds) || t.checkDelaySeconds < 1 || t.checkDelaySeconds > MAX_CHECK_DELAY_SECONDS) {
    problems.push(`checkDelaySeconds must be a whole number from 1 to ${MAX_CHECK_DELAY_SECONDS}, the SQS DelaySeconds range (got ${t.checkDelaySeconds})`);
  }
  for (const interval of ['heartbeatIntervalSeconds', 'admittedHeartbeatIntervalSeconds'] as const) {
    if (t[interval] >= t.heartbeatTimeoutSeconds) {
      problems.push(
        `${interval} (${t[interval]}) must be shorter than heartbeatTimeoutSeconds (${t.heartbeatTimeoutSeconds}), or every visitor is evicted`,
      );
    }
  }
  if (t.keepPlaceIntervalSeconds >= t.keepPlaceTimeoutSeconds) {
    problems.push(
      `keepPlaceIntervalSeconds (${t.keepPlaceIntervalSeconds}) must be shorter than keepPlaceTimeoutSeconds (${t.keepPlaceTimeoutSeconds}), or every far-back visitor is evicted`,
    );
  }
  if (t.keepPlaceTimeoutSeconds < t.heartbeatTimeoutSeconds) {
    problems.push(`keepPlaceTimeoutSeconds (${t.keepPlaceTimeoutSeconds}) must not be shorter than heartbeatTimeoutSeconds (${t.heartbeatTimeoutSeconds})`);
  }
  if (t.tokenRetentionSeconds < t.keepPlaceTimeoutSeconds + 2 * MAX_CHECK_DELAY_SECONDS) {
    problems.push('tokenRetentionSeconds must outlast the longest eviction window (keep-place timeout + two 900 s checks)');
  }
  return problems;
}

export function assertTimings(t: Timings): Timings {
  const problems = timingProblems(t);
  if (problems.length > 0) throw new Error(`Invalid waiting-room timings: ${problems.join('; ')}`);
  return t;
}

/** The silence after which a token is removed: the keep-place timeout for a far-back waiting token, else the heartbeat timeout. */
export function silenceLimitMs(token: { state: 'WAITING' | 'ADMITTED'; signal: 'heartbeat' | 'keep-place' }, t: Timings): number {
  const seconds = token.state === 'WAITING' && token.signal === 'keep-place' ? t.keepPlaceTimeoutSeconds : t.heartbeatTimeoutSeconds;
  return seconds * 1000;
}
