/**
 * The Artillery rehearsal (rehearsal/artillery.yml) read and judged by Artillery's own code: the
 * script parses and validates as `artillery run` parses it, names the journey's routes, its
 * processor has every function the flow calls, its pass marks are rehearsal/thresholds.json's
 * numbers, and the ensure plugin's verdict on a report passes a good run and fails each broken one.
 * (test/integration/rehearsal.test.ts runs it for real against the local runtime.)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../lib/paths.js';
import { METHOD, STEPS, pathOf, type StepKind } from '../../../rehearsal/journey.js';

const SCRIPT = path.join(REPO_ROOT, 'rehearsal/artillery.yml');
const MARKS = JSON.parse(readFileSync(path.join(REPO_ROOT, 'rehearsal/thresholds.json'), 'utf8')) as PassMarks;

interface Mark {
  value: number;
}
interface PassMarks {
  latencyMs: Record<'join' | 'heartbeat' | 'status', { p95: number; p99: number }>;
  maxThrottledShare: Mark;
  maxServerErrors: Mark;
  maxEvicted: Mark;
  minFrontAdmittedShare: Mark;
  minAdmittedLeftShare: Mark;
  maxGaveUp: Mark;
  maxFailedVisitors: Mark;
}

type Request = { name: string; url: string; ifTrue?: string; headers?: Record<string, string>; followRedirect?: boolean };
type FlowItem = { function?: string; loop?: FlowItem[]; whileTrue?: string } & Partial<Record<'get' | 'post' | 'delete', Request>>;
interface Ensure {
  thresholds: Record<string, number>[];
  conditions: { expression: string }[];
}
interface Script {
  config: {
    target: string;
    processor: string;
    variables: Record<string, unknown>;
    plugins: { ensure: Ensure; 'metrics-by-endpoint': { useOnlyRequestNames: boolean } };
    environments: Record<string, { phases: Record<string, unknown>[] }>;
  };
  scenarios: { name: string; beforeRequest: string; afterResponse: string; flow: FlowItem[] }[];
}

/** Artillery's own modules (not in its exports map, so loaded by file; untyped, hence the interfaces). */
const artillery = (file: string) => import(pathToFileURL(path.join(REPO_ROOT, 'node_modules/artillery/dist', file)).href);
let script: Script;
let validate: (script: Script) => string | undefined;
let ensurePlugin: {
  statsToVars(data: { report: { counters: Record<string, number>; rates: Record<string, number>; summaries: Record<string, Record<string, number>> } }): unknown;
  runChecks(checks: Ensure, vars: unknown): { original: string; result: number }[];
};

/** The ensure plugin logs through Artillery's global; quiet here. */
const previousGlobal = (globalThis as { artillery?: unknown }).artillery;
beforeAll(async () => {
  const util = (await artillery('lib/util.js')) as { readScript(p: string): Promise<string>; parseScript(text: string): Promise<Script> };
  script = await util.parseScript(await util.readScript(SCRIPT));
  validate = ((await artillery('lib/util/validate-script.js')) as { default: typeof validate }).default;
  ensurePlugin = ((await artillery('builtin-packages/artillery-plugin-ensure/dist/plugin.js')) as { Plugin: typeof ensurePlugin }).Plugin;
  (globalThis as { artillery?: unknown }).artillery = { log: () => undefined };
});
afterAll(() => {
  (globalThis as { artillery?: unknown }).artillery = previousGlobal;
});

/** The ensure block the pass marks make, as artillery.yml must state it (same order). */
function ensureOf(marks: PassMarks): Ensure {
  const latency = (step: 'join' | 'heartbeat' | 'status', p: 'p95' | 'p99') => `plugins.metrics-by-endpoint.response_time.${step}.${p}`;
  return {
    thresholds: (['join', 'heartbeat'] as const).flatMap((step) => (['p95', 'p99'] as const).map((p) => ({ [latency(step, p)]: marks.latencyMs[step][p] }))),
    conditions: [
      // Status reads happen only far back: a run without any passes (filtrex: a missing metric compares false).
      `not (${latency('status', 'p95')} >= ${marks.latencyMs.status.p95})`,
      `not (${latency('status', 'p99')} >= ${marks.latencyMs.status.p99})`,
      `journey.server_errors <= ${marks.maxServerErrors.value}`,
      `journey.throttled <= ${marks.maxThrottledShare.value} * http.responses`,
      `journey.evicted <= ${marks.maxEvicted.value}`,
      `journey.admitted >= ${marks.minFrontAdmittedShare.value} * journey.front`,
      `journey.left >= ${marks.minAdmittedLeftShare.value} * journey.admitted`,
      `journey.gave_up <= ${marks.maxGaveUp.value}`,
      `vusers.failed <= ${marks.maxFailedVisitors.value}`,
    ].map((expression) => ({ expression })),
  };
}

const requestsOf = (flow: FlowItem[]): { method: string; request: Request }[] =>
  flow.flatMap((item) => [
    ...(item.loop ? requestsOf(item.loop) : []),
    ...(['get', 'post', 'delete'] as const).flatMap((method) => (item[method] ? [{ method: method.toUpperCase(), request: item[method] }] : [])),
  ]);

describe('the Artillery script', () => {
  it('parses and validates as `artillery run` reads it, with the ensure plugin loaded', () => {
    expect(validate(script)).toBeUndefined();
    expect(script.config.target).toBe('http://127.0.0.1:3000');
    // Artillery 2.0.34 loads a plugin only when config.plugins names it: a top-level config.ensure would never be judged.
    expect(Object.keys(script.config.plugins)).toEqual(['metrics-by-endpoint', 'ensure']);
    expect(script.config.plugins['metrics-by-endpoint'].useOnlyRequestNames).toBe(true);
    expect(script.config.variables).toMatchObject({ roomId: 'rehearsal', statusBase: '' });
  });

  it("sends the journey's requests, each named by its step, on the routes of DESIGN §3", () => {
    const requests = requestsOf(script.scenarios[0]!.flow);
    expect(requests.map((r) => r.request.name)).toEqual([...STEPS]);
    for (const { method, request } of requests) {
      const kind = request.name as StepKind;
      const base = kind === 'status' ? '{{ statusBase }}' : '{{ api }}';
      const url = request.url.replace('{{ roomId }}', 'ROOM').replace('{{ tokenId }}', 'TOKEN');
      expect(`${method} ${url}`).toBe(`${METHOD[kind]} ${base}${pathOf(kind, 'ROOM', 'TOKEN')}`);
      const signed = kind !== 'join' && kind !== 'status';
      expect(request.headers?.authorization, kind).toBe(signed ? 'Bearer {{ secret }}' : undefined);
    }
    // A 304 must be the status read's answer: following redirects, Artillery would wait for another response.
    expect(requests.find((r) => r.request.name === 'status')?.request.followRedirect).toBe(false);
  });

  it('calls only functions its processor exports', async () => {
    const processor = (await import(pathToFileURL(path.join(REPO_ROOT, 'rehearsal', script.config.processor)).href)) as Record<string, unknown>;
    const [scenario] = script.scenarios;
    const named = (flow: FlowItem[]): string[] =>
      flow.flatMap((item) => [
        ...(item.function ? [item.function] : []),
        ...(item.loop ? named(item.loop) : []),
        ...(item.whileTrue ? [item.whileTrue] : []),
        ...(item.loop ? [] : requestsOf([item]).flatMap((r) => (r.request.ifTrue ? [r.request.ifTrue] : []))),
      ]);
    const used = [scenario!.beforeRequest, scenario!.afterResponse, ...named(scenario!.flow)];
    expect(used).toEqual(['beforeStep', 'afterStep', 'startJourney', 'nextStep', 'joinDue', 'statusDue', 'keepPlaceDue', 'heartbeatDue', 'leaveDue', 'journeyGoesOn']);
    for (const name of used) expect(typeof processor[name], name).toBe('function');
  });

  it("is sized by environment: `local` the suite's small run, `drop` from REHEARSAL_* variables", () => {
    expect(script.config.environments.local!.phases).toEqual([{ name: 'arrivals', duration: 10, arrivalRate: 3 }]);
    expect(script.config.environments.drop!.phases).toEqual([
      // The "s": a missing variable makes the duration "undefineds", which Artillery refuses instead of running forever.
      { name: 'ramp', duration: '{{ $env.REHEARSAL_RAMP_SECONDS }}s', arrivalRate: 1, rampTo: '{{ $env.REHEARSAL_ARRIVAL_RATE }}' },
      { name: 'peak', duration: '{{ $env.REHEARSAL_HOLD_SECONDS }}s', arrivalRate: '{{ $env.REHEARSAL_ARRIVAL_RATE }}' },
    ]);
  });
});

describe("the Artillery script's pass marks", () => {
  it('are the numbers of rehearsal/thresholds.json, every one of them', () => {
    expect(Object.keys(MARKS).filter((key) => !key.startsWith('$'))).toEqual([
      'latencyMs',
      'maxThrottledShare',
      'maxServerErrors',
      'maxEvicted',
      'minFrontAdmittedShare',
      'minAdmittedLeftShare',
      'maxGaveUp',
      'maxFailedVisitors',
    ]);
    expect(script.config.plugins.ensure).toEqual(ensureOf(MARKS));
  });

  /** A report of a good small run, as Artillery aggregates it. */
  const goodRun = () => ({
    counters: {
      'http.responses': 300,
      'vusers.failed': 0,
      'journey.joined': 30,
      'journey.front': 30,
      'journey.admitted': 30,
      'journey.left': 30,
      'journey.gave_up': 0,
      'journey.evicted': 0,
      'journey.throttled': 2,
      'journey.server_errors': 0,
    } as Record<string, number>,
    rates: {},
    summaries: {
      'plugins.metrics-by-endpoint.response_time.join': { p95: 20, p99: 40 },
      'plugins.metrics-by-endpoint.response_time.heartbeat': { p95: 30, p99: 90 },
      'plugins.metrics-by-endpoint.response_time.status': { p95: 10, p99: 15 },
    } as Record<string, Record<string, number>>,
  });
  const failing = (report: ReturnType<typeof goodRun>) =>
    ensurePlugin
      .runChecks(script.config.plugins.ensure, ensurePlugin.statsToVars({ report }))
      .filter((check) => check.result !== 1)
      .map((check) => check.original);

  it('pass a good run, and one whose line never reached far back (no status reads)', () => {
    expect(failing(goodRun())).toEqual([]);
    const nearOnly = goodRun();
    delete nearOnly.summaries['plugins.metrics-by-endpoint.response_time.status'];
    expect(failing(nearOnly)).toEqual([]);
  });

  it('fail each broken run on the check it breaks', () => {
    const broken = (change: (report: ReturnType<typeof goodRun>) => void) => {
      const report = goodRun();
      change(report);
      return failing(report);
    };
    expect(broken((r) => (r.summaries['plugins.metrics-by-endpoint.response_time.join']!.p99 = 501))).toEqual(['plugins.metrics-by-endpoint.response_time.join.p99 < 500']);
    expect(broken((r) => (r.summaries['plugins.metrics-by-endpoint.response_time.heartbeat']!.p95 = 300))).toEqual([
      'plugins.metrics-by-endpoint.response_time.heartbeat.p95 < 300',
    ]);
    expect(broken((r) => (r.summaries['plugins.metrics-by-endpoint.response_time.status']!.p99 = 1000))).toEqual([
      'not (plugins.metrics-by-endpoint.response_time.status.p99 >= 1000)',
    ]);
    expect(broken((r) => (r.counters['journey.throttled'] = 4))).toEqual(['journey.throttled <= 0.01 * http.responses']);
    expect(broken((r) => (r.counters['journey.server_errors'] = 1))).toEqual(['journey.server_errors <= 0']);
    expect(broken((r) => (r.counters['journey.evicted'] = 1))).toEqual(['journey.evicted <= 0']);
    expect(broken((r) => (r.counters['journey.admitted'] = r.counters['journey.left'] = 29))).toEqual(['journey.admitted >= 1 * journey.front']);
    expect(broken((r) => (r.counters['journey.left'] = 29))).toEqual(['journey.left >= 1 * journey.admitted']);
    expect(broken((r) => (r.counters['journey.gave_up'] = 1))).toEqual(['journey.gave_up <= 0']);
    expect(broken((r) => (r.counters['vusers.failed'] = 1))).toEqual(['vusers.failed <= 0']);
    // A run without heartbeats at all (nobody got that far) cannot pass either.
    expect(broken((r) => delete r.summaries['plugins.metrics-by-endpoint.response_time.heartbeat'])).toEqual([
      'plugins.metrics-by-endpoint.response_time.heartbeat.p95 < 300',
      'plugins.metrics-by-endpoint.response_time.heartbeat.p99 < 1000',
    ]);
  });
});
