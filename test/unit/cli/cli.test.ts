/**
 * The operator's CLI without a server: its command line, its targets (a stack's output, the API
 * URL's region), SigV4 signing of every request on AWS, the JSON it prints, and the exit code and
 * one-line message of each kind of failure (cli/errors.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FetchLike } from '../../../cli/admin-api.js';
import { parseArgs } from '../../../cli/args.js';
import { EXIT } from '../../../cli/errors.js';
import { runCli, type CliIo } from '../../../cli/main.js';
import { regionOfApiUrl } from '../../../cli/target.js';

const ROOM = { roomId: 'shop', capacity: 5, state: 'open', mode: 'fifo', activeCount: 2, lastTicket: 9, lastAdmittedTicket: 4, admittedTotal: 4, evictedTotal: 1, epoch: 0, createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:01:00.000Z' };
const API = 'https://abc123.execute-api.eu-west-1.amazonaws.com';

afterEach(() => vi.unstubAllEnvs());

function io(answer: (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => { status: number; body?: unknown } | Error) {
  const out: string[] = [];
  const err: string[] = [];
  const requests: { url: string; method: string; headers: Record<string, string>; body?: string }[] = [];
  const fetchFn: FetchLike = async (url, init) => {
    requests.push({ url, ...init });
    const a = answer(url, init);
    if (a instanceof Error) throw a;
    return { status: a.status, text: async () => (a.body === undefined ? '' : JSON.stringify(a.body)) };
  };
  const cli: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, fetch: fetchFn, stackOutputs: async (name): Promise<Record<string, string>> => (name === 'shop-prod' ? { ApiUrl: `${API}/` } : {}) };
  return { cli, out, err, requests };
}

describe('the command line', () => {
  it('reads words, valued options and flags, and refuses what it does not know', () => {
    expect(parseArgs(['rooms', 'set', 'shop', '--capacity', '5', '--state=paused', '--json'])).toEqual({
      words: ['rooms', 'set', 'shop'],
      options: new Map<string, string | true>([['capacity', '5'], ['state', 'paused'], ['json', true]]),
    });
    expect(() => parseArgs(['--capacity'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--json=yes'])).toThrow(/takes no value/);
  });

  it('knows the region of an API Gateway URL', () => {
    expect(regionOfApiUrl(API)).toBe('eu-west-1');
    expect(regionOfApiUrl('http://127.0.0.1:3000')).toBeUndefined();
  });
});

describe('on AWS', () => {
  it('finds the API from the stack and signs every request with SigV4 for execute-api in its region', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.stubEnv('AWS_PROFILE', '');
    const { cli, out, requests } = io(() => ({ status: 200, body: ROOM }));
    await expect(runCli(['rooms', 'set', 'shop', '--capacity', '5', '--stack', 'shop-prod'], cli)).resolves.toBe(EXIT.ok);
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request).toMatchObject({ url: `${API}/admin/rooms/shop`, method: 'PUT', body: '{"capacity":5}' });
    expect(request!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);
    expect(request!.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(out.join('\n')).toMatch(/shop: open, 2 of 5 seats taken/);
  });

  it('says what is missing: no such stack output, no region, no credentials', async () => {
    const { cli, err } = io(() => ({ status: 200, body: ROOM }));
    await expect(runCli(['rooms', 'list', '--stack', 'other'], cli)).resolves.toBe(EXIT.usage);
    expect(err.at(-1)).toMatch(/no ApiUrl output/);
    await expect(runCli(['rooms', 'list', '--api', 'https://example.com'], cli)).resolves.toBe(EXIT.usage);
    expect(err.at(-1)).toMatch(/--region/);
  });
});

describe('answers and failures', () => {
  const local = ['--local', '--port', '3999'];

  it('prints the API\'s JSON with --json, and a table for people', async () => {
    const { cli, out } = io(() => ({ status: 200, body: { rooms: [{ ...ROOM, roomId: 'zoo' }, ROOM] } }));
    await expect(runCli(['rooms', 'list', ...local, '--json'], cli)).resolves.toBe(EXIT.ok);
    expect(JSON.parse(out.join('\n'))).toEqual({ rooms: [ROOM, { ...ROOM, roomId: 'zoo' }] });
    out.length = 0;
    await runCli(['rooms', 'list', ...local], cli);
    expect(out[0]).toMatch(/^ROOM\s+STATE\s+SEATS\s+IN LINE\s+ADMITTED\s+EVICTED$/);
    expect(out[1]).toMatch(/^shop\s+open\s+2\/5\s+5\s+4\s+1$/);
  });

  it.each([
    ['an unknown room', { status: 404, body: { error: { code: 'ROOM_NOT_FOUND', message: 'Room nope not found' } } }, EXIT.notFound, /Room nope not found/],
    ['a refusal', { status: 403, body: { message: 'Forbidden' } }, EXIT.denied, /execute-api:Invoke/],
    ['bad input', { status: 400, body: { error: { code: 'BAD_REQUEST', message: 'capacity: too big' } } }, EXIT.usage, /capacity: too big/],
    ['a failing API', { status: 503, body: { error: { code: 'UNAVAILABLE', message: 'DynamoDB Local died' } } }, EXIT.unreachable, /try again/],
    ['throttling', { status: 429, body: { message: 'Too Many Requests' } }, EXIT.unreachable, /throttling/],
  ])('ends %s with its exit code and a sentence', async (_what, answer, code, message) => {
    const { cli, err } = io(() => answer);
    await expect(runCli(['rooms', 'get', 'nope', ...local], cli)).resolves.toBe(code);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
  });

  it('says when the API cannot be reached, and reports failures as JSON with --json', async () => {
    const { cli, err } = io(() => Object.assign(new TypeError('fetch failed'), { cause: new Error('connect ECONNREFUSED 127.0.0.1:3999') }));
    await expect(runCli(['rooms', 'get', 'shop', ...local, '--json'], cli)).resolves.toBe(EXIT.unreachable);
    expect(JSON.parse(err[0]!)).toEqual({ error: { exitCode: EXIT.unreachable, message: expect.stringMatching(/Cannot reach .*ECONNREFUSED/) } });
  });

  it('refuses bad usage before any request', async () => {
    const { cli, requests, err } = io(() => ({ status: 200, body: ROOM }));
    for (const argv of [
      ['rooms', 'set', 'shop', ...local],
      ['rooms', 'set', 'shop', '--state', 'ajar', ...local],
      ['rooms', 'set', 'shop', '--capacity', '-1', ...local],
      ['rooms', 'get', 'bad/id', ...local],
      ['rooms', 'fly', ...local],
      ['rooms', 'list'],
      ['rooms', 'list', '--local', '--api', API],
      ['rooms', 'set', 'shop', '--message', 'x'.repeat(281), ...local],
      ['rooms', 'set', 'shop', '--message', 'two\nlines', ...local],
      ['rooms', 'set', 'shop', '--message', 'hi', '--clear-message', ...local],
      ['rooms', 'set', 'shop', '--message', ...local],
      ['rooms', 'stop', ...local],
      ['rooms', 'set', 'shop', '--mode', 'lottery', ...local],
      ['rooms', 'set', 'shop', '--rate', '0', ...local],
      ['rooms', 'set', 'shop', '--rate', '600', '--no-rate', ...local],
    ]) {
      await expect(runCli(argv, cli), argv.join(' ')).resolves.toBe(EXIT.usage);
    }
    expect(requests).toEqual([]);
    expect(err).toHaveLength(15);
    expect(err[12]).toMatch(/--mode must be fifo, passthrough, reject, random \(got lottery\)/);
    expect(err[13]).toMatch(/--rate must be a whole number from 1 to 60000/);
    expect(err[7]).toMatch(/--message must be at most 280 characters/);
  });
});

describe('the message to the line and the emergency stop', () => {
  const local = ['--local', '--port', '3999'];

  it('sets the message with --message, clears it with --clear-message, and shows it', async () => {
    const { cli, out, requests } = io((_url, init) => ({ status: 200, body: { ...ROOM, ...(JSON.parse(init.body!).message ? { message: JSON.parse(init.body!).message } : {}) } }));
    await expect(runCli(['rooms', 'set', 'shop', '--message', 'Saturday is sold out', ...local], cli)).resolves.toBe(EXIT.ok);
    expect(requests[0]).toMatchObject({ method: 'PUT', body: '{"message":"Saturday is sold out"}' });
    expect(out.join('\n')).toMatch(/message to the line: "Saturday is sold out"/);
    out.length = 0;
    await expect(runCli(['rooms', 'set', 'shop', '--clear-message', '--json', ...local], cli)).resolves.toBe(EXIT.ok);
    expect(requests[1]).toMatchObject({ body: '{"message":null}' });
    expect(JSON.parse(out.join('\n'))).toEqual(ROOM);
  });

  it('sets the queueing mode with --mode and the rate limit with --rate, removes it with --no-rate, and shows both', async () => {
    const { cli, out, requests } = io(() => ({ status: 200, body: { ...ROOM, mode: 'reject', newVisitorsPerMinute: 600 } }));
    await expect(runCli(['rooms', 'set', 'shop', '--mode', 'reject', '--rate', '600', ...local], cli)).resolves.toBe(EXIT.ok);
    expect(requests[0]).toMatchObject({ method: 'PUT', body: '{"mode":"reject","newVisitorsPerMinute":600}' });
    expect(out.join('\n')).toMatch(/shop: open \(reject\), \d+ of \d+ seats taken, at most 600 admissions a minute/);
    await expect(runCli(['rooms', 'set', 'shop', '--no-rate', ...local], cli)).resolves.toBe(EXIT.ok);
    expect(requests[1]).toMatchObject({ body: '{"newVisitorsPerMinute":null}' });
  });

  it('stops a room in an emergency with --revoke-passes (with any state), and `rooms stop` queues everyone', async () => {
    const { cli, out, requests } = io(() => ({ status: 200, body: { ...ROOM, state: 'paused', epoch: 1 } }));
    await expect(runCli(['rooms', 'set', 'shop', '--state', 'closed', '--revoke-passes', ...local], cli)).resolves.toBe(EXIT.ok);
    expect(requests[0]).toMatchObject({ method: 'PUT', body: '{"state":"closed","revokePasses":true}' });
    await expect(runCli(['rooms', 'stop', 'shop', ...local], cli)).resolves.toBe(EXIT.ok);
    expect(requests[1]).toMatchObject({ url: 'http://127.0.0.1:3999/admin/rooms/shop', method: 'PUT', body: '{"state":"paused","revokePasses":true}' });
    expect(out.join('\n')).toMatch(/Stopped shop: paused, and the admission of everyone inside revoked \(epoch 1\)/);
    expect(out.join('\n')).toMatch(/emergency stops: 1/);
    out.length = 0;
    await runCli(['rooms', 'stop', 'shop', '--json', ...local], cli);
    expect(JSON.parse(out.join('\n'))).toEqual({ ...ROOM, state: 'paused', epoch: 1 });
  });
});

describe('rooms report', () => {
  const local = ['--local', '--port', '3999'];
  const REPORT = {
    roomId: 'shop',
    windowStart: '2026-12-01T11:00:00.000Z',
    windowEnd: '2026-12-01T12:00:00.000Z',
    admitted: 1200,
    abandoned: 300,
    samples: 1500,
    exact: true,
    kendallTau: 0.97,
    orderGamma: 1,
    waitP50Seconds: 95,
    waitP90Seconds: 420,
    abandonmentRate: 0.2,
    predicted: { samples: 1200, ratioSamples: 1100, medianRatio: 0.71, p10Ratio: 0.4, p90Ratio: 0.98, meanAbsoluteErrorSeconds: 48, rangeSamples: 0, withinRangeShare: null },
  };

  it("prints the room's fairness and accuracy, or the API's report with --json", async () => {
    const { cli, out, requests } = io(() => ({ status: 200, body: REPORT }));
    await expect(runCli(['rooms', 'report', 'shop', ...local], cli)).resolves.toBe(EXIT.ok);
    expect(requests[0]).toMatchObject({ url: 'http://127.0.0.1:3999/admin/rooms/shop/report', method: 'GET' });
    const text = out.join('\n');
    expect(text).toMatch(/admitted 1200, gave up or went silent while waiting 300 \(abandonment 20\.0 %\)/);
    expect(text).toMatch(/Kendall tau 0\.97, gamma 1\.00/);
    expect(text).toMatch(/p50 95 s, p90 7\.0 min/);
    expect(text).toMatch(/p10 0\.40, median 0\.71, p90 0\.98/);
    out.length = 0;
    await runCli(['rooms', 'report', 'shop', '--json', ...local], cli);
    expect(JSON.parse(out.join('\n'))).toEqual(REPORT);
  });

  it('says when counts are estimates, and shows no figure it does not have', async () => {
    const { cli, out } = io(() => ({ status: 200, body: { ...REPORT, exact: false, kendallTau: null, waitP50Seconds: null } }));
    await runCli(['rooms', 'report', 'shop', ...local], cli);
    expect(out.join('\n')).toMatch(/counts are estimates[\s\S]*about 1200[\s\S]*Kendall tau —[\s\S]*p50 —/);
  });
});

describe('keys rotate', () => {
  const rotateIo = (payload: unknown, extra: { FunctionError?: string } = {}) => {
    const base = io(() => ({ status: 200, body: ROOM }));
    const invoked: unknown[] = [];
    base.cli.stackOutputs = async (): Promise<Record<string, string>> => ({ ApiUrl: `${API}/`, RotatePassKeyFunctionName: 'shop-prod-rotate', RotateEdgePassKeyFunctionName: 'shop-prod-rotate-edge' });
    base.cli.lambda = {
      send: (async (command: { input: unknown }) => {
        invoked.push(command.input);
        return { Payload: new TextEncoder().encode(JSON.stringify(payload)), ...extra };
      }) as never,
    };
    return { ...base, invoked };
  };

  it("invokes the stack's rotate function and says which key signs now", async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    const { cli, out, invoked } = rotateIo({ kid: 'k2', nextKid: 'k3', previousKids: ['k1'], initialized: false, prepublished: true });
    await expect(runCli(['keys', 'rotate', '--stack', 'shop-prod'], cli)).resolves.toBe(EXIT.ok);
    expect(invoked).toEqual([expect.objectContaining({ FunctionName: 'shop-prod-rotate' })]);
    expect(out.join('\n')).toMatch(/signed with k2[\s\S]*next key k3[\s\S]*k1/);
  });

  it("with --edge, invokes the gate's edge key rotation instead, and prints its JSON as it is", async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    const answer = { kid: 'e2', nextKid: 'e3', previousKids: ['e1'], initialized: false, stored: 1, removed: 1 };
    const { cli, out, invoked } = rotateIo(answer);
    await expect(runCli(['keys', 'rotate', '--edge', '--stack', 'shop-prod'], cli)).resolves.toBe(EXIT.ok);
    expect(invoked).toEqual([expect.objectContaining({ FunctionName: 'shop-prod-rotate-edge' })]);
    expect(out.join('\n')).toMatch(/edge passes are now signed with e2[\s\S]*e3[\s\S]*e1[\s\S]*1 written, 1 removed/);
    const json = rotateIo(answer);
    await runCli(['keys', 'rotate', '--edge', '--stack', 'shop-prod', '--json'], json.cli);
    expect(JSON.parse(json.out.join('\n'))).toEqual(answer);
  });

  it('fails plainly when the function fails, without a stack, and locally', async () => {
    const failing = rotateIo({ errorMessage: 'boom' }, { FunctionError: 'Unhandled' });
    await expect(runCli(['keys', 'rotate', '--stack', 'shop-prod'], failing.cli)).resolves.toBe(EXIT.failed);
    expect(failing.err.at(-1)).toMatch(/rotation failed.*boom/);
    await expect(runCli(['keys', 'rotate', '--api', API], failing.cli)).resolves.toBe(EXIT.usage);
    expect(failing.err.at(-1)).toMatch(/needs --stack/);
    await expect(runCli(['keys', 'rotate', '--local'], failing.cli)).resolves.toBe(EXIT.usage);
    expect(failing.err.at(-1)).toMatch(/nothing to rotate/);
  });
});
