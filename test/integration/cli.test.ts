/**
 * The operator's CLI against the local runtime (--local): creating and changing a room, reading
 * it, listing, watching live counts, starting a metrics run, and the exit codes of an unknown
 * room, refused input and an API that is not there. Runs the real entry (bin/waiting-room.ts)
 * in a process of its own, as an operator would.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../cli/errors.js';
import { REPO_ROOT } from '../../lib/paths.js';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { freePort } from '../../local/emulators.js';

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, rooms: [], schedules: false, log: () => undefined }); // with pages: the metrics route the console's chart reads
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bin/waiting-room.ts'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(runtime.port) },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('waiting-room CLI on the local runtime', () => {
  it('creates, changes, reads, lists and watches a room, and starts a metrics run', async () => {
    const created = await cli('rooms', 'set', 'clishop', '--capacity', '3', '--local', '--json');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ roomId: 'clishop', capacity: 3, state: 'open', activeCount: 0 });

    const paused = await cli('rooms', 'set', 'clishop', '--state', 'paused', '--local');
    expect(paused).toMatchObject({ code: 0 });
    expect(paused.stdout).toMatch(/^clishop: paused, 0 of 3 seats taken/);

    const got = await cli('rooms', 'get', 'clishop', '--local', '--json');
    expect(JSON.parse(got.stdout)).toMatchObject({ roomId: 'clishop', capacity: 3, state: 'paused' });

    const listed = await cli('rooms', 'list', '--local');
    expect(listed.stdout).toMatch(/^clishop\s+paused\s+0\/3\s+0\s+0\s+0$/m);

    const watched = await cli('rooms', 'watch', 'clishop', '--every', '1', '--count', '2', '--local', '--json');
    const readings = watched.stdout.trim().split('\n').map((line) => JSON.parse(line) as { room: { roomId: string }; waiting: number });
    expect(readings).toHaveLength(2);
    expect(readings.every((r) => r.room.roomId === 'clishop' && r.waiting === 0)).toBe(true);

    const refreshed = await cli('metrics', 'refresh', '--local', '--json');
    expect(refreshed.code).toBe(0);
    expect(JSON.parse(refreshed.stdout)).toMatchObject({ executionArn: expect.stringContaining('arn:aws:states:') });
  }, 120_000);

  it('serves the admin console: the page, its calls signed through the proxy, the chart data; Ctrl-C ends it', async () => {
    const listen = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bin/waiting-room.ts'), 'console', '--local', '--port', String(runtime.port), '--listen', String(listen)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await vi.waitFor(() => expect(output).toMatch(/Admin console on http:\/\/127\.0\.0\.1:\d+/), { timeout: 60_000, interval: 200 });
      const base = `http://127.0.0.1:${listen}`;
      const html = await (await fetch(`${base}/`)).text();
      expect(html).toContain('data-api-base="/console"');
      const rooms = await fetch(`${base}/console/admin/rooms`);
      expect(rooms.status).toBe(200);
      expect(((await rooms.json()) as { rooms: { roomId: string }[] }).rooms.some((r) => r.roomId === 'clishop')).toBe(true);
      expect((await fetch(`${base}/console/admin/metrics`)).status).toBe(200);
      expect((await fetch(`${base}/console/admin/rooms`, { headers: { 'Sec-Fetch-Site': 'cross-site' } })).status).toBe(403);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      await expect(exited).resolves.toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);

  it('lists the failure queues, moves a dead-letter message back to its source queue, purges a stream failure queue', async () => {
    const queueUrl = (id: string) => runtime.resources.get(runtime.logicalId(id, 'AWS::SQS::Queue'))!.ref;
    const dlq = queueUrl('WaitingRoomCheckLoopCheckDlq');
    const streamFailures = queueUrl('WaitingRoomCheckLoopStreamFailures');
    // A check of a token that is gone: the checker drops it once it is back in the check queue.
    await runtime.clients.sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: JSON.stringify({ tokenId: 'AAAAAAAAAAAAAAAAAAAAAA', roomId: 'clishop', seq: 1 }) }));
    await runtime.clients.sqs.send(new SendMessageCommand({ QueueUrl: streamFailures, MessageBody: JSON.stringify({ DDBStreamBatchInfo: { batchSize: 2 } }) }));

    const listed = await cli('dlq', 'list', '--local', '--json');
    expect(listed.code).toBe(0);
    const queues = (JSON.parse(listed.stdout) as { queues: { name: string; messages: number; redrivesTo: string | null }[] }).queues;
    expect(queues.map((q) => [q.name, q.messages])).toEqual([['CheckDlq', 1], ['EnqueuerStreamFailures', 1], ['StatsStreamFailures', 0]]);
    expect(queues[0]!.redrivesTo).toMatch(/CheckQueue/);
    const peeked = await cli('dlq', 'list', '--local', '--peek', '5');
    expect(peeked.stdout).toMatch(/check of token AAAAAAAAAAAAAAAAAAAAAA in clishop/);
    expect(peeked.stdout).toMatch(/a stream batch of 2 records/);

    const refused = await cli('dlq', 'redrive', 'EnqueuerStreamFailures', '--local');
    expect(refused.code).toBe(EXIT.usage);
    const redriven = await cli('dlq', 'redrive', 'CheckDlq', '--local', '--json');
    expect(redriven.code).toBe(0);
    expect(JSON.parse(redriven.stdout)).toMatchObject({ queue: 'CheckDlq', method: 'local-move', status: 'COMPLETED', moved: 1 });
    expect(runtime.queueMessages('WaitingRoomCheckLoopCheckDlq')).toHaveLength(0);

    expect((await cli('dlq', 'purge', 'EnqueuerStreamFailures', '--local')).code).toBe(EXIT.usage); // no --yes
    expect((await cli('dlq', 'purge', 'EnqueuerStreamFailures', '--local', '--yes')).code).toBe(0);
    await vi.waitFor(() => expect(runtime.queueMessages('WaitingRoomCheckLoopStreamFailures')).toHaveLength(0), { timeout: 10_000 });
  }, 120_000);

  it('ends with the exit code scripts rely on: unknown room, refused input, nothing listening', async () => {
    const unknown = await cli('rooms', 'get', 'nosuchroom', '--local');
    expect(unknown.code).toBe(EXIT.notFound);
    expect(unknown.stderr).toMatch(/^waiting-room: .*nosuchroom/);

    const refused = await cli('rooms', 'set', 'fresh', '--state', 'open', '--local');
    expect(refused.code).toBe(EXIT.usage); // a new room needs a capacity
    expect(refused.stderr).toMatch(/capacity/i);

    const nobody = await cli('rooms', 'list', '--local', '--port', String(await freePort()));
    expect(nobody.code).toBe(EXIT.unreachable);
    expect(nobody.stderr).toMatch(/Cannot reach the waiting-room API/);
  }, 120_000);
});
