/**
 * The local runtime watches its emulators: when DynamoDB Local dies, it says so once, and every
 * request is answered 503 with that reason instead of a 500 per data route (issue 10, item 8).
 * `npm start` then exits non-zero (npm-start.test.ts).
 */
import { execSync } from 'node:child_process';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { dynamoDbJavaPid } from '../helpers/emulators.js';
import { eventually } from '../helpers/visitor.js';

let runtime: LocalRuntime;
const fatal: string[] = [];
const logged: string[] = [];

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, rooms: [{ roomId: 'demo', capacity: 1 }], schedules: false, pages: false, log: (line) => logged.push(line), onFatal: (reason) => fatal.push(reason) });
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
});

/** An address of this machine other than loopback, if it has one. */
const outside = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
const connects = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe('the emulators on the network', () => {
  it.runIf(outside !== undefined)('keeps SQS/SNS (fauxqs, any credentials) on loopback only', async () => {
    const port = Number(new URL(runtime.emulators.messaging).port);
    expect(await connects('127.0.0.1', port)).toBe(true);
    expect(await connects(outside!, port)).toBe(false);
  });
});

describe('a dead emulator', () => {
  it('is named once, and turns every answer into a 503 that says why', async () => {
    expect((await fetch(`${runtime.url}/rooms/demo/status`)).status).toBe(200);
    execSync(`kill -9 ${dynamoDbJavaPid(runtime)}`);
    await eventually(async () => (fatal.length > 0 ? true : undefined), 10_000, 'the runtime noticing');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatch(/^DynamoDB Local \(port \d+\) exited \(signal 9\)/);
    expect(logged).toContain(fatal[0]);
    for (const path of ['/rooms/demo/status', '/rooms/demo/tokens', '/nothing/here']) {
      const answer = await fetch(`${runtime.url}${path}`, { method: path.endsWith('tokens') ? 'POST' : 'GET' });
      expect(answer.status, path).toBe(503);
      expect(((await answer.json()) as { error: { code: string; message: string } }).error).toEqual({ code: 'UNAVAILABLE', message: fatal[0] });
    }
  });
});
