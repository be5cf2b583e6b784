/**
 * `npm start` as a user runs it: the entry point in its own process, driven over HTTP, stopped
 * with Ctrl-C (SIGINT); and its one-line refusals when a port is taken or Java is missing.
 *
 * Each test starts processes of its own (its own ports, its own DynamoDB Local, found by port),
 * so those without timings of their own run concurrently, two at a time (the integration
 * project's maxConcurrency): a start-up takes about 1.4 cores for 10-25 s, and one after the
 * other they leave the second core mostly idle. The test with short heartbeat timings (--data)
 * runs alone, after them.
 */
import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/paths.js';
import { Visitor } from '../helpers/visitor.js';

const ENTRY = path.join(REPO_ROOT, 'bin/local.ts');
const baseEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'WARN', EDGE_PORT: '0' };
/** The DynamoDB Local processes listening on `port` (other test files may run their own). */
const javaOnPort = (port: string) => {
  try {
    return execSync(`pgrep -f '^java .*DynamoDBLocal.jar .*-port ${port}$'`, { encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
  } catch {
    return 0; // pgrep exits 1 when nothing matches
  }
};

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs `command` (by default the entry point itself), collecting what it prints. */
function start(env: NodeJS.ProcessEnv, args: string[] = [], command: [string, ...string[]] = [process.execPath, '--import', 'tsx', ENTRY]): Run {
  const [file, ...rest] = command;
  const child = spawn(file, [...rest, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Runs the entry point to its exit (a refusal comes within seconds): its exit code and what it printed to stderr. */
function runToExit(env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stderr }));
  });
}

/**
 * Waits for the banner (start-up takes 10-20 s on a loaded 2-core machine: two minutes leave
 * room), failing at once if the process exits; returns the API's URL and DynamoDB Local's port
 * from the banner. The runs take PORT=0 and learn their port here: a port found free beforehand
 * can be taken by another test's emulator before the runtime listens on it.
 */
async function ready(run: Run): Promise<{ url: string; dynamoPort: string }> {
  const deadline = Date.now() + 120_000;
  while (!run.output().includes('Waiting room ready')) {
    if (Date.now() > deadline || run.child.exitCode !== null) throw new Error(`no banner:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const url = /API +(http:\/\/127\.0\.0\.1:\d+)/.exec(run.output())?.[1] ?? '';
  const dynamoPort = /DynamoDB Local http:\/\/127\.0\.0\.1:(\d+)/.exec(run.output())?.[1] ?? '';
  expect(url, run.output()).not.toBe('');
  return { url, dynamoPort };
}

describe('npm start', () => {
  it.concurrent('serves the API, answers a whole visit, and leaves nothing running after Ctrl-C', async () => {
    let dynamoPort = '';
    const run = start({ ...baseEnv, PORT: '0', WR_DEMO_CAPACITY: '1' });
    try {
      const started = await ready(run);
      dynamoPort = started.dynamoPort;
      const url = started.url;
      expect(run.output()).toContain(`${url}/?room=demo`);
      expect(run.output()).toMatch(/demo \(capacity 1\)/);
      expect(dynamoPort).not.toBe('');
      expect(javaOnPort(dynamoPort)).toBe(1);
      const visitor = await Visitor.join(url, 'demo');
      expect(visitor.view.state).toBe('admitted');
      expect((await visitor.read()).ticket).toBe(1);
      expect((await visitor.heartbeat()).state).toBe('admitted');
      await visitor.leave();
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('Nothing left running');
    expect(javaOnPort(dynamoPort)).toBe(0);
  }, 180_000);

  it.concurrent.each([
    ['SIGINT', 'Nothing left running'],
    ['SIGKILL', 'exited: stopping'],
  ] as const)("stops everything when npm's own process gets %s (npm start, not just its children)", async (signal, said) => {
    const run = start({ ...baseEnv, PORT: '0' }, [], ['npm', 'start', '--silent']);
    const npm = run.child;
    const output = run.output;
    try {
      const { url, dynamoPort } = await ready(run);
      npm.kill(signal);
      // The runtime notices within a second (SIGINT is passed on; npm's death is watched for), then stops the emulators.
      const stopDeadline = Date.now() + 30_000;
      while (javaOnPort(dynamoPort) > 0 || !output().includes(said)) {
        if (Date.now() > stopDeadline) throw new Error(`still running 30 s after ${signal} to npm:\n${output()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const answered = await fetch(`${url}/rooms/demo/status`).then(() => true, () => false);
      expect(answered).toBe(false);
    } finally {
      if (npm.exitCode === null) npm.kill('SIGINT');
    }
  }, 180_000);

  it.concurrent('stops and exits non-zero, naming the emulator, when DynamoDB Local dies under it', async () => {
    const run = start({ ...baseEnv, PORT: '0' });
    try {
      const { dynamoPort } = await ready(run);
      execSync(`pkill -9 -f '^java .*DynamoDBLocal.jar .*-port ${dynamoPort}$'`);
      const code = await Promise.race([run.exited, new Promise((resolve) => setTimeout(() => resolve('still running 30 s later'), 30_000))]);
      expect(code, run.output()).toBe(1);
      expect(run.output()).toMatch(new RegExp(`DynamoDB Local \\(port ${dynamoPort}\\) exited \\(signal 9\\)`));
      expect(run.output()).toContain('Nothing left running');
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGINT');
    }
  }, 180_000);

  it.concurrent('says in one line that the port is taken, and exits non-zero', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as net.AddressInfo;
    try {
      const result = await runToExit({ ...baseEnv, PORT: String(port) });
      expect(result.status).toBe(1);
      const lines = result.stderr.trim().split('\n').filter((l) => l.startsWith('npm start:'));
      expect(lines).toEqual([`npm start: Port ${port} (PORT) is already in use: set PORT to a free port`]);
    } finally {
      server.close();
    }
  }, 90_000);

  it.concurrent('says in one line that Java is missing, and exits non-zero', async () => {
    const bin = mkdtempSync(path.join(tmpdir(), 'wr-nojava-'));
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const result = await runToExit({ ...baseEnv, PATH: bin, PORT: '0' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^npm start: Java is not installed \(DynamoDB Local needs Java 17 or newer\)/m);
  }, 90_000);

  it.concurrent('refuses a malformed setting, naming it', async () => {
    const result = await runToExit({ ...baseEnv, WR_CHECK_DELAY_SECONDS: '2.5' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/npm start: WR_CHECK_DELAY_SECONDS="2.5"/);
  }, 90_000);

  it('keeps DynamoDB data between runs with --data DIR, and resumes the check loops', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'wr-data-'));
    const env = { ...baseEnv, WR_DEMO_CAPACITY: '1', WR_HEARTBEAT_TIMEOUT_SECONDS: '3', WR_CHECK_DELAY_SECONDS: '1', WR_HEARTBEAT_INTERVAL_SECONDS: '1' };
    const runOnce = async <T>(work: (url: string, output: () => string) => Promise<T>): Promise<T> => {
      const run = start({ ...env, PORT: '0' }, ['--data', dataDir]);
      try {
        const { url } = await ready(run);
        return await work(url, run.output);
      } finally {
        run.child.kill('SIGINT');
        expect(await run.exited).toBe(0);
      }
    };
    const [silent, waiting] = await runOnce(async (url, output) => {
      expect(output()).toContain(`kept in ${dataDir}`);
      const a = await Visitor.join(url, 'demo');
      const b = await Visitor.join(url, 'demo');
      expect([a.view.state, b.view.state]).toEqual(['admitted', 'waiting']);
      return [a, b] as const;
    });
    await runOnce(async (url, output) => {
      expect(output()).toMatch(/resumed the check loops of 2 tokens/);
      const b = Visitor.resume(url, 'demo', waiting.credential);
      expect((await b.read()).state).toBe('waiting'); // the data survived the restart
      b.startHeartbeats(500);
      try {
        // The silent visitor's check loop runs again: it is evicted and the seat goes to b.
        const deadline = Date.now() + 15_000;
        while ((await b.read()).state !== 'admitted') {
          if (Date.now() > deadline) throw new Error('the waiting visitor was not admitted after the restart');
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      } finally {
        b.stopHeartbeats();
        await b.settled();
      }
      expect(silent.view.ticket).toBe(1);
    });
  }, 300_000);
});
