/**
 * The rehearsal kit against the local runtime, so that it cannot rot: `npm run rehearse` (Artillery,
 * rehearsal/artillery.yml) at its `local` size (30 visitors in 10 s) drives the real visitor journey
 * (join, status reads and keep-place far back, heartbeats in the front zone and once admitted, a
 * stay, the leave) into a room of 5 seats, in a process of its own, and its pass marks (the ensure
 * block) decide its exit code. The runtime's own state is checked beside it: never more admitted
 * than the capacity, everybody admitted once, nobody evicted or left behind.
 *
 * Timings: a small front zone (5 s) so that most of the line is far back and keeps its place every
 * 10 s; heartbeats every 2 s against the default 20 s timeout, so that a starved machine (2 cores:
 * runtime, emulators and Artillery together) has 18 s before silence could evict anyone. Shorter
 * stays (the admitted heartbeat interval) shorten the run but empty the far back: at 1 s, 5-6 status
 * reads and 2-4 keep-places in a run instead of about 34 and 13, too close to the zero the
 * far-back assertions below fail at.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/paths.js';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { admin, eventually, roomActiveCount, sleep } from '../helpers/visitor.js';

const TIMINGS = {
  heartbeatTimeoutSeconds: 20,
  heartbeatIntervalSeconds: 2,
  admittedHeartbeatIntervalSeconds: 2,
  checkDelaySeconds: 2,
  keepPlaceIntervalSeconds: 10,
  keepPlaceTimeoutSeconds: 60,
  frontZoneSeconds: 5,
};
const CAPACITY = 5;
/** The `local` environment of artillery.yml: 3 arrivals a second for 10 s. */
const ARRIVAL_SECONDS = 10;
const VISITORS = 30;
/** A stay of two and a half admitted heartbeat intervals: two heartbeats while admitted, then the leave. */
const STAY_SECONDS = 2.5 * TIMINGS.admittedHeartbeatIntervalSeconds;
/**
 * How long the last in line waits: the visitors ahead pass in rounds of CAPACITY, each round a stay
 * plus up to a heartbeat interval before the next learns it was admitted. Thrice that before a
 * visitor gives up (which fails the run): a slow machine stretches the rounds, it must not fail them.
 */
const LONGEST_WAIT_SECONDS = (VISITORS / CAPACITY) * (STAY_SECONDS + TIMINGS.heartbeatIntervalSeconds);
const MAX_WAIT_SECONDS = 3 * LONGEST_WAIT_SECONDS;
/** Artillery's start-up (a few seconds) with room to spare, the arrivals, the longest patience and a stay. */
const RUN_LIMIT_MS = (30 + ARRIVAL_SECONDS + MAX_WAIT_SECONDS + STAY_SECONDS) * 1000;

let runtime: LocalRuntime;
let reports: string;

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, rooms: [], schedules: false, log: () => undefined, timings: TIMINGS });
  reports = mkdtempSync(path.join(tmpdir(), 'rehearsal-'));
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
  if (reports) rmSync(reports, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  output: string;
  report?: { aggregate: { counters: Record<string, number> } };
}

/** `npm run rehearse -- <args>` against the runtime, with a JSON report; killed (with its children) past RUN_LIMIT_MS. */
async function rehearse(name: string, args: string[]): Promise<Run> {
  const reportFile = path.join(reports, `${name}.json`);
  const child = spawn('npm', ['run', '--silent', 'rehearse', '--', '--target', runtime.url, '--output', reportFile, ...args], {
    cwd: REPO_ROOT,
    detached: true, // its own process group: a timeout ends npm, the shell and Artillery's workers together
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), RUN_LIMIT_MS);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  let report: Run['report'];
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8')) as Run['report'];
  } catch {
    report = undefined; // no report: the run failed before its end (the output says why)
  }
  return { code, output, ...(report ? { report } : {}) };
}

async function tokensOfRoom(roomId: string): Promise<unknown[]> {
  const documents = DynamoDBDocumentClient.from(runtime.clients.dynamodb);
  const { Items } = await documents.send(
    new ScanCommand({
      TableName: runtime.resources.get(runtime.logicalId('WaitingRoomTablesTokens'))!.ref,
      FilterExpression: 'roomId = :roomId',
      ExpressionAttributeValues: { ':roomId': roomId },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

describe('the rehearsal kit on the local runtime', () => {
  it(
    "passes its pass marks with the local size: every visitor joins, waits, is admitted, stays and leaves, and the room's seats hold",
    async () => {
      const roomId = 'rehearsal';
      await admin(runtime.url, 'PUT', `/rooms/${roomId}`, { capacity: CAPACITY });
      // The seats, sampled throughout the run from the runtime itself.
      const seats: number[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          seats.push(await roomActiveCount(runtime.url, roomId));
          await sleep(100);
        }
      })();

      const started = Date.now();
      const run = await rehearse('local', ['-e', 'local', '-v', JSON.stringify({ roomId, staySeconds: STAY_SECONDS, maxWaitSeconds: MAX_WAIT_SECONDS })]);
      const runSeconds = (Date.now() - started) / 1000;
      sampling = false;
      await sampler;

      // Artillery's verdict: exit 0 only if every pass mark held (the ensure plugin prints each).
      expect(run.code, run.output).toBe(0);
      expect(run.output).toMatch(/^ok: journey\.evicted <= 0$/m);
      expect(run.output).not.toMatch(/^fail: /m);

      // What the visitors did, from the report.
      const counters = run.report!.aggregate.counters;
      const count = (name: string) => counters[name] ?? 0;
      expect({
        created: count('vusers.created'),
        completed: count('vusers.completed'),
        joined: count('journey.joined'),
        front: count('journey.front'),
        admitted: count('journey.admitted'),
        left: count('journey.left'),
        gaveUp: count('journey.gave_up'),
        evicted: count('journey.evicted'),
      }).toEqual({ created: VISITORS, completed: VISITORS, joined: VISITORS, front: VISITORS, admitted: VISITORS, left: VISITORS, gaveUp: 0, evicted: 0 });
      const answered = (step: string, status: number) => count(`plugins.metrics-by-endpoint.${step}.codes.${status}`);
      console.log(
        `rehearsal: ${VISITORS} visitors in ${runSeconds.toFixed(1)} s; heartbeats ${answered('heartbeat', 200)}, ` +
          `status reads ${answered('status', 200) + answered('status', 304)}, keep-place ${answered('keep-place', 200)}`,
      );
      expect(answered('join', 201)).toBe(VISITORS);
      expect(answered('leave', 204)).toBe(VISITORS);
      // Every admitted visitor heartbeats once to take its seat and twice during its stay.
      expect(answered('heartbeat', 200)).toBeGreaterThanOrEqual(3 * VISITORS);
      // The line reached far back: those visitors read the status and kept their place.
      expect(answered('status', 200) + answered('status', 304)).toBeGreaterThan(0);
      expect(answered('keep-place', 200)).toBeGreaterThan(0);
      expect(Object.keys(counters).filter((name) => /^http\.codes\.5\d\d$/.test(name))).toEqual([]);

      // The runtime's side: never over capacity, full at some point (there was a line), and
      // afterwards every seat free, everybody admitted once, nobody evicted, no token left behind.
      expect(Math.max(...seats)).toBe(CAPACITY);
      const room = await admin<{ activeCount: number; admittedTotal: number; evictedTotal: number }>(runtime.url, 'GET', `/rooms/${roomId}`);
      expect(room).toMatchObject({ activeCount: 0, admittedTotal: VISITORS, evictedTotal: 0 });
      expect(await tokensOfRoom(roomId)).toEqual([]);
      await eventually(
        async () => {
          const status = (await (await fetch(`${runtime.url}/rooms/${roomId}/status`)).json()) as { waiting: number; active: number };
          return status.waiting === 0 && status.active === 0 ? status : undefined;
        },
        10_000,
        'the public status to count nobody waiting',
        200,
      );
      // About 45 s here; well within the limit even on a starved machine.
      expect(runSeconds).toBeLessThan(RUN_LIMIT_MS / 1000);
    },
    RUN_LIMIT_MS + 60_000,
  );

  it('exits non-zero when a pass mark fails (a join p99 ceiling of 1 ms)', async () => {
    const roomId = 'rehearsal-strict';
    await admin(runtime.url, 'PUT', `/rooms/${roomId}`, { capacity: CAPACITY });
    // No -e: one visitor (Artillery's default phase). --overrides replaces the latency thresholds.
    const run = await rehearse('strict', [
      '-v',
      JSON.stringify({ roomId, staySeconds: 1, maxWaitSeconds: MAX_WAIT_SECONDS }),
      '--overrides',
      JSON.stringify({ config: { plugins: { ensure: { thresholds: [{ 'plugins.metrics-by-endpoint.response_time.join.p99': 1 }] } } } }),
    ]);
    expect(run.code, run.output).toBe(1);
    expect(run.output).toMatch(/^fail: plugins\.metrics-by-endpoint\.response_time\.join\.p99 < 1$/m);
    // Only that one: the visitor's journey itself was fine.
    expect(run.output.match(/^fail: /gm)).toHaveLength(1);
    expect(run.report!.aggregate.counters).toMatchObject({ 'journey.admitted': 1, 'journey.left': 1, 'vusers.failed': 0 });
  }, 120_000);
});
