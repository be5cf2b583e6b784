/**
 * The k6 rehearsal (rehearsal/k6.js). k6 itself cannot be installed here, so the script is checked
 * without it: it parses as an ES module, imports nothing k6 could not load (its own modules and
 * files beside it), declares the pass marks of rehearsal/thresholds.json and its arrivals, and,
 * bundled with stand-ins for k6's modules, runs one visitor's journey on the routes of DESIGN §3.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, transform, type Plugin } from 'esbuild';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { REPO_ROOT } from '../../../lib/paths.js';
import type { TokenView } from '../../../lambdas/domain/model.js';

const DIR = path.join(REPO_ROOT, 'rehearsal');
const K6_MODULES = ['k6', 'k6/http', 'k6/metrics'];
const MARKS = JSON.parse(readFileSync(path.join(DIR, 'thresholds.json'), 'utf8')) as {
  latencyMs: Record<string, { p95: number; p99: number }>;
} & Record<string, { value: number }>;

describe('the k6 script', () => {
  it('parses as an ES module, as does the journey it imports', async () => {
    for (const file of ['k6.js', 'journey.js']) {
      const source = readFileSync(path.join(DIR, file), 'utf8');
      await expect(transform(source, { loader: 'js', format: 'esm', sourcefile: file }), file).resolves.toMatchObject({ warnings: [] });
    }
  });

  it("imports only k6's own modules and the journey beside it (k6 has no Node built-ins, no npm)", async () => {
    const { metafile } = await build({ entryPoints: [path.join(DIR, 'k6.js')], bundle: true, write: false, format: 'esm', metafile: true, external: K6_MODULES, logLevel: 'silent' });
    const imports = Object.fromEntries(Object.entries(metafile.inputs).map(([file, input]) => [path.basename(file), input.imports.map((i) => i.path)]));
    expect(imports).toEqual({ 'k6.js': ['k6/http', 'k6', 'k6/metrics', 'rehearsal/journey.js'], 'journey.js': [] });
  });
});

// -----------------------------------------------------------------------------------------------
// The script on stand-ins for k6: its modules (k6, k6/http, k6/metrics) call into `fake`, the
// globals it reads (open, __ENV) are set, and sleep() moves the fake clock.

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  name: string;
}
interface FakeResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
  error?: string;
}
const fake = {
  sent: [] as Sent[],
  samples: new Map<string, (number | boolean)[]>(),
  respond: (_request: Sent): FakeResponse => ({ status: 500, body: '', headers: {} }),
  request(method: string, url: string, _body: unknown, params: { headers: Record<string, string>; tags: { name: string } }): FakeResponse {
    const request = { method, url, headers: params.headers, name: params.tags.name };
    fake.sent.push(request);
    return fake.respond(request);
  },
  sleep(seconds: number) {
    vi.setSystemTime(Date.now() + seconds * 1000);
  },
  add(metric: string, value: number | boolean) {
    fake.samples.set(metric, [...(fake.samples.get(metric) ?? []), value]);
  },
};

const STAND_INS: Record<string, string> = {
  k6: 'export const sleep = (s) => globalThis.__fakeK6.sleep(s); export const check = (value, checks) => Object.values(checks).every((f) => f(value));',
  'k6/http': 'export default { request: (...args) => globalThis.__fakeK6.request(...args) };',
  'k6/metrics':
    'class Metric { constructor(name) { this.name = name; } add(value) { globalThis.__fakeK6.add(this.name, value); } } export class Counter extends Metric {} export class Rate extends Metric {}',
};
const standIns: Plugin = {
  name: 'k6-stand-ins',
  setup(b) {
    b.onResolve({ filter: /^k6(\/.*)?$/ }, (args) => ({ path: args.path, namespace: 'k6' }));
    b.onLoad({ filter: /.*/, namespace: 'k6' }, (args) => ({ contents: STAND_INS[args.path], loader: 'js' }));
  },
};

const bundles = mkdtempSync(path.join(tmpdir(), 'k6-rehearsal-'));
afterAll(() => rmSync(bundles, { recursive: true, force: true }));
afterEach(() => {
  vi.useRealTimers();
  fake.sent = [];
  fake.samples = new Map();
});

interface K6Script {
  options: {
    scenarios: { visitors: Record<string, unknown> };
    thresholds: Record<string, string[]>;
  };
  default: () => void;
}

let loads = 0;
/** The script as k6 would run it with these environment variables (a fresh module each time: its settings are read at load). */
async function loadScript(env: Record<string, string> = {}): Promise<K6Script> {
  const { outputFiles } = await build({ entryPoints: [path.join(DIR, 'k6.js')], bundle: true, write: false, format: 'esm', plugins: [standIns], logLevel: 'silent' });
  const file = path.join(bundles, `k6-${++loads}.mjs`);
  writeFileSync(file, outputFiles[0]!.text);
  Object.assign(globalThis, { __fakeK6: fake, __ENV: env, open: (name: string) => readFileSync(path.join(DIR, name), 'utf8') });
  return (await import(pathToFileURL(file).href)) as K6Script;
}

describe("the k6 script's options", () => {
  it('are the pass marks of rehearsal/thresholds.json, for the same steps as the Artillery scenario', async () => {
    const { options } = await loadScript();
    const latency = (step: string) => [`p(95)<${MARKS.latencyMs[step]!.p95}`, `p(99)<${MARKS.latencyMs[step]!.p99}`];
    expect(options.thresholds).toEqual({
      'http_req_waiting{name:join}': latency('join'),
      'http_req_waiting{name:heartbeat}': latency('heartbeat'),
      'http_req_waiting{name:status}': latency('status'),
      journey_throttled_share: [`rate<=${MARKS.maxThrottledShare!.value}`],
      journey_server_errors: [`count<=${MARKS.maxServerErrors!.value}`],
      journey_evicted: [`count<=${MARKS.maxEvicted!.value}`],
      journey_front_admitted: [`rate>=${MARKS.minFrontAdmittedShare!.value}`],
      journey_admitted_left: [`rate>=${MARKS.minAdmittedLeftShare!.value}`],
      journey_gave_up: [`count<=${MARKS.maxGaveUp!.value}`],
      journey_failed: [`count<=${MARKS.maxFailedVisitors!.value}`],
      dropped_iterations: ['count==0'],
    });
  });

  it("ramp arrivals as the environment says; by default the Artillery `local` size (3 a second for 10 s)", async () => {
    expect((await loadScript()).options.scenarios.visitors).toMatchObject({
      executor: 'ramping-arrival-rate',
      startRate: 3,
      timeUnit: '1s',
      stages: [{ target: 3, duration: '10s' }],
      maxVUs: 3 * (60 + 120) + 10,
      gracefulStop: `${1800 + 60 + 60}s`,
    });
    const drop = await loadScript({ REHEARSAL_ARRIVAL_RATE: '50', REHEARSAL_RAMP_SECONDS: '120', REHEARSAL_HOLD_SECONDS: '300', REHEARSAL_STAY_SECONDS: '30' });
    expect(drop.options.scenarios.visitors).toMatchObject({
      startRate: 1,
      stages: [
        { target: 50, duration: '120s' },
        { target: 50, duration: '300s' },
      ],
      maxVUs: 50 * (30 + 120) + 10,
    });
    await expect(loadScript({ REHEARSAL_ARRIVAL_RATE: 'many' })).rejects.toThrow('REHEARSAL_ARRIVAL_RATE must be a number');
  });
});

describe("the k6 script's visitor", () => {
  const view = (fields: Partial<TokenView>): TokenView => ({
    roomId: 'shop',
    tokenId: 'tok-1',
    ticket: 40,
    state: 'waiting',
    position: 1,
    estimatedWaitSeconds: 0,
    estimatedWaitLowSeconds: 0,
    estimatedWaitHighSeconds: 0,
    roomState: 'open',
    mode: 'fifo',
    zone: 'front',
    heartbeatIntervalSeconds: 5,
    keepPlaceIntervalSeconds: 300,
    ...fields,
  });
  const json = (status: number, body: unknown, headers: Record<string, string> = {}): FakeResponse => ({ status, body: JSON.stringify(body), headers });
  const described = (r: Sent) => `${r.method} ${r.url} [${r.name}]${r.headers.Authorization ? ` ${r.headers.Authorization}` : ''}${r.headers['If-None-Match'] ? ` If-None-Match ${r.headers['If-None-Match']}` : ''}`;
  const total = (metric: string) => (fake.samples.get(metric) ?? []).reduce<number>((sum, v) => sum + Number(v), 0);

  it('joins far back, reads the status from the status base, heartbeats once in front, is admitted, stays and leaves', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_700_000_000_000);
    const script = await loadScript({
      REHEARSAL_TARGET: 'https://api.example.com/',
      REHEARSAL_STATUS_BASE: 'https://cdn.example.com/',
      REHEARSAL_ROOM_ID: 'shop',
      REHEARSAL_STAY_SECONDS: '20',
    });
    let statusReads = 0;
    fake.respond = (r) => {
      if (r.name === 'join') return json(201, { ...view({ zone: 'far', position: 40, estimatedWaitSeconds: 40 }), secret: 'sec' });
      if (r.name === 'status') {
        statusReads += 1;
        if (statusReads === 1) return json(200, { lastAdmittedTicket: 0, frontZoneTicket: 10, ticketsPerSecond: 1, heartbeatIntervalSeconds: 5, keepPlaceIntervalSeconds: 300 }, { Etag: '"v1"' });
        if (statusReads === 2) return { status: 429, body: '{"message":"Too Many Requests"}', headers: {} };
        return json(200, { lastAdmittedTicket: 35, frontZoneTicket: 45, ticketsPerSecond: 1, heartbeatIntervalSeconds: 5, keepPlaceIntervalSeconds: 300 }, { Etag: '"v2"' });
      }
      if (r.name === 'heartbeat') return json(200, view({ state: 'admitted', position: 0, heartbeatIntervalSeconds: 8, pass: 'jwt' }));
      if (r.name === 'leave') return { status: 204, body: '', headers: {} };
      throw new Error(`unexpected ${described(r)}`);
    };
    script.default();

    expect(fake.sent.map(described)).toEqual([
      'POST https://api.example.com/rooms/shop/tokens [join]',
      'GET https://cdn.example.com/rooms/shop/status [status]',
      'GET https://cdn.example.com/rooms/shop/status [status] If-None-Match "v1"', // throttled: tried again after a second
      'GET https://cdn.example.com/rooms/shop/status [status] If-None-Match "v1"',
      'POST https://api.example.com/rooms/shop/tokens/tok-1/heartbeat [heartbeat] Bearer sec',
      'POST https://api.example.com/rooms/shop/tokens/tok-1/heartbeat [heartbeat] Bearer sec',
      'POST https://api.example.com/rooms/shop/tokens/tok-1/heartbeat [heartbeat] Bearer sec',
      'DELETE https://api.example.com/rooms/shop/tokens/tok-1 [leave] Bearer sec',
    ]);
    expect(Object.fromEntries(['joined', 'front', 'admitted', 'left', 'gave_up', 'evicted', 'throttled', 'server_errors', 'failed'].map((c) => [c, total(`journey_${c}`)]))).toEqual({
      joined: 1,
      front: 1,
      admitted: 1,
      left: 1,
      gave_up: 0,
      evicted: 0,
      throttled: 1,
      server_errors: 0,
      failed: 0,
    });
    expect(fake.samples.get('journey_throttled_share')).toEqual([false, false, true, false, false, false, false, false]);
    expect([fake.samples.get('journey_front_admitted'), fake.samples.get('journey_admitted_left')]).toEqual([[true], [true]]);
  });

  it('counts a visitor whose room is missing as failed, and says so', async () => {
    const script = await loadScript({ REHEARSAL_ROOM_ID: 'nowhere' });
    fake.respond = () => json(404, { error: { code: 'ROOM_NOT_FOUND', message: 'Room not found' } });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    script.default();
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('join answered 404 ROOM_NOT_FOUND: create the room first'));
    expect(total('journey_failed')).toBe(1);
    expect(fake.sent.map(described)).toEqual(['POST http://127.0.0.1:3000/rooms/nowhere/tokens [join]']);
    errors.mockRestore();
  });
});
