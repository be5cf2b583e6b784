/**
 * The rehearsal of a drop with k6 (https://k6.io): each iteration is one visitor doing what the
 * waiting page does, planned by rehearsal/journey.js (the same planner the Artillery scenario
 * drives): join; far back, read the shared room status and keep its place; in the front zone and
 * once admitted, heartbeat; stay a while; leave. 429s wait out Retry-After. The pass marks are
 * rehearsal/thresholds.json, read at start-up; k6 exits 99 when one fails.
 *
 *   k6 run rehearsal/k6.js                                  # npm start's runtime: 30 visitors in 10 s
 *   REHEARSAL_TARGET="$ApiUrl" REHEARSAL_STATUS_BASE="$StatusUrl" REHEARSAL_ROOM_ID=shop \
 *   REHEARSAL_ARRIVAL_RATE=50 REHEARSAL_RAMP_SECONDS=120 REHEARSAL_HOLD_SECONDS=300 k6 run rehearsal/k6.js
 *
 * Settings (environment variables, or k6's -e NAME=value), with their defaults:
 *   REHEARSAL_TARGET            http://127.0.0.1:3000  the API (the stack's ApiUrl output)
 *   REHEARSAL_STATUS_BASE       the target             where status polls go (the StatusUrl output, CloudFront)
 *   REHEARSAL_ROOM_ID           rehearsal              the room (it must exist)
 *   REHEARSAL_ARRIVAL_RATE      3                      visitors a second at the peak
 *   REHEARSAL_RAMP_SECONDS      0                      from 1 a second up to the peak rate
 *   REHEARSAL_HOLD_SECONDS      10                     at the peak rate
 *   REHEARSAL_STAY_SECONDS      60                     an admitted visitor's stay
 *   REHEARSAL_MAX_WAIT_SECONDS  1800                   a waiting visitor gives up after this
 *   REHEARSAL_MAX_VUS           rate × (stay + 120 s)  visitors at once (each one holds a VU for its whole journey)
 */
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import { COUNTS, Journey, METHOD, UnexpectedAnswer, baseUrl, pathOf } from './journey.js';

/** The pass marks: one file for k6 and Artillery. open() reads files at start-up only (the init context). */
const PASS_MARKS = JSON.parse(open('./thresholds.json'));

function setting(name, fallback) {
  const value = __ENV[name];
  return value === undefined || value === '' ? fallback : value;
}

function numberSetting(name, fallback) {
  const value = Number(setting(name, fallback));
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of 0 or more (got ${__ENV[name]})`);
  return value;
}

const API = baseUrl(setting('REHEARSAL_TARGET', 'http://127.0.0.1:3000'));
const STATUS_BASE = baseUrl(setting('REHEARSAL_STATUS_BASE', API));
const ROOM_ID = setting('REHEARSAL_ROOM_ID', 'rehearsal');
const ARRIVAL_RATE = numberSetting('REHEARSAL_ARRIVAL_RATE', 3);
const RAMP_SECONDS = numberSetting('REHEARSAL_RAMP_SECONDS', 0);
const HOLD_SECONDS = numberSetting('REHEARSAL_HOLD_SECONDS', 10);
const STAY_SECONDS = numberSetting('REHEARSAL_STAY_SECONDS', 60);
const MAX_WAIT_SECONDS = numberSetting('REHEARSAL_MAX_WAIT_SECONDS', 1800);
// A visitor holds its VU from the join to the leave: enough VUs for the visitors admitted and in line at once.
const MAX_VUS = numberSetting('REHEARSAL_MAX_VUS', Math.ceil(ARRIVAL_RATE * (STAY_SECONDS + 120)) + 10);

// What the journey counts (journey_joined, journey_admitted, ...), and the shares the pass marks are about.
const counters = Object.fromEntries(COUNTS.map((name) => [name, new Counter(`journey_${name}`)]));
/** Every answer: 429 or not. */
const throttled = new Rate('journey_throttled_share');
/** Every visitor that reached the front zone: admitted or not. */
const frontAdmitted = new Rate('journey_front_admitted');
/** Every admitted visitor: left (204) or not. */
const admittedLeft = new Rate('journey_admitted_left');
/** Visitors whose journey failed: no answer, or an answer outside the protocol. */
const failed = new Counter('journey_failed');

const latency = (step) => [`p(95)<${PASS_MARKS.latencyMs[step].p95}`, `p(99)<${PASS_MARKS.latencyMs[step].p99}`];
const stages = [
  ...(RAMP_SECONDS > 0 ? [{ target: ARRIVAL_RATE, duration: `${RAMP_SECONDS}s` }] : []),
  { target: ARRIVAL_RATE, duration: `${HOLD_SECONDS}s` },
];

export const options = {
  scenarios: {
    visitors: {
      executor: 'ramping-arrival-rate',
      startRate: RAMP_SECONDS > 0 ? 1 : ARRIVAL_RATE,
      timeUnit: '1s',
      stages,
      preAllocatedVUs: Math.min(MAX_VUS, Math.ceil(ARRIVAL_RATE * 10) + 1),
      maxVUs: MAX_VUS,
      // Visitors still in line or admitted when the arrivals end finish their journey.
      gracefulStop: `${MAX_WAIT_SECONDS + STAY_SECONDS + 60}s`,
    },
  },
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(95)', 'p(99)'],
  thresholds: {
    // Time to first byte, as Artillery's response_time (see thresholds.json for each number's source).
    'http_req_waiting{name:join}': latency('join'),
    'http_req_waiting{name:heartbeat}': latency('heartbeat'),
    'http_req_waiting{name:status}': latency('status'),
    journey_throttled_share: [`rate<=${PASS_MARKS.maxThrottledShare.value}`],
    journey_server_errors: [`count<=${PASS_MARKS.maxServerErrors.value}`],
    journey_evicted: [`count<=${PASS_MARKS.maxEvicted.value}`],
    journey_front_admitted: [`rate>=${PASS_MARKS.minFrontAdmittedShare.value}`],
    journey_admitted_left: [`rate>=${PASS_MARKS.minAdmittedLeftShare.value}`],
    journey_gave_up: [`count<=${PASS_MARKS.maxGaveUp.value}`],
    journey_failed: [`count<=${PASS_MARKS.maxFailedVisitors.value}`],
    // Not the stack's: k6 itself had too few VUs to send every visitor (raise REHEARSAL_MAX_VUS).
    dropped_iterations: ['count==0'],
  },
};

/** A response header, whatever case k6 gives its name. */
function header(response, name) {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(response.headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** Sends one step of the journey (each request tagged with the step's name, which the latency thresholds select). */
function send(step, journey) {
  const headers = {};
  if (step.kind !== 'join' && step.kind !== 'status') headers.Authorization = `Bearer ${journey.secret}`;
  if (step.kind === 'status' && journey.etag) headers['If-None-Match'] = journey.etag;
  const base = step.kind === 'status' ? STATUS_BASE : API;
  return http.request(METHOD[step.kind], base + pathOf(step.kind, ROOM_ID, journey.tokenId), null, { headers, redirects: 0, tags: { name: step.kind } });
}

/** One visitor, from its join to its leave. */
export default function visitor() {
  // Every counter gets a sample, so that each threshold has something to judge.
  for (const counter of Object.values(counters)) counter.add(0);
  failed.add(0);
  const journey = new Journey({ staySeconds: STAY_SECONDS, maxWaitSeconds: MAX_WAIT_SECONDS, count: (name) => counters[name].add(1) });
  try {
    for (let step = journey.next(Date.now()); step; step = journey.next(Date.now())) {
      const waitMs = step.at - Date.now();
      if (waitMs > 0) sleep(waitMs / 1000);
      const sentAt = Date.now();
      const response = send(step, journey);
      if (response.status === 0) throw new UnexpectedAnswer(`${step.kind}: no answer (${response.error})`);
      throttled.add(response.status === 429);
      check(response, { 'no 5xx': (r) => r.status < 500 }, { name: step.kind });
      journey.answer(step, { status: response.status, body: response.body ?? '', retryAfter: header(response, 'Retry-After'), etag: header(response, 'ETag') }, sentAt, Date.now());
    }
  } catch (error) {
    failed.add(1);
    if (!(error instanceof UnexpectedAnswer)) throw error; // a bug of the script: k6 shows its stack
    console.error(`visitor ${journey.ticket || '(no ticket)'}: ${error.message}`);
  } finally {
    if (journey.reachedFront) frontAdmitted.add(journey.wasAdmitted);
    if (journey.wasAdmitted) admittedLeft.add(journey.outcome === 'left');
  }
}
