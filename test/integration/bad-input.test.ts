/**
 * Bad input against the local API, one table (issue 10): malformed paths and encodings, ids,
 * credentials, bodies, admin settings, unknown routes, prototype-named keys, the demo origin.
 * Each class has its expected status and error code; none is answered 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { rawRequest } from '../helpers/raw-http.js';
import { Visitor, admin, signedAdminHeaders } from '../helpers/visitor.js';
import { UNSIGNED, cases, type Case } from './bad-input-cases.js';

const lowerCased = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

let runtime: LocalRuntime;
let table: Case[] = [];

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, rooms: [], schedules: false, log: () => undefined });
  await admin(runtime.url, 'PUT', '/rooms/bi', { capacity: 1 });
  await admin(runtime.url, 'PUT', '/rooms/bi-closed', { capacity: 1, state: 'closed' });
  await admin(runtime.url, 'PUT', '/rooms/bi-other', { capacity: 1 });
  const visitor = await Visitor.join(runtime.url, 'bi');
  const other = await Visitor.join(runtime.url, 'bi-other');
  table = cases('bi', 'bi-closed', visitor.credential.view.tokenId, visitor.credential.secret, { token: other.credential.view.tokenId, secret: other.credential.secret });
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
});

describe('bad input', () => {
  it('has at least 60 classes in its table', () => {
    expect(table.length).toBeGreaterThanOrEqual(60);
    expect(new Set(table.map(([what]) => what)).size).toBe(table.length);
  });

  it('answers each class with its status and error code, never 500', async () => {
    const wrong: string[] = [];
    for (const [what, method, path, given, body, status, code] of table) {
      // Admin requests are signed as the CLI signs them, unless the case is about the signature.
      const { [UNSIGNED]: unsigned, ...headers } = given;
      const sign = path.startsWith('/admin/') && unsigned === undefined && !('Authorization' in headers);
      const sent = sign ? { ...headers, ...(await signedAdminHeaders(`http://127.0.0.1:${runtime.port}${path}`, method, body, lowerCased(headers))) } : headers;
      const answer = await rawRequest(runtime.port, method, path, sent, body);
      let got: string | undefined;
      try {
        got = (JSON.parse(answer.body) as { error?: { code?: string } }).error?.code;
      } catch {
        got = undefined;
      }
      if (answer.status === 500 || answer.status !== status || (code !== undefined && got !== code)) {
        wrong.push(`${what}: ${method} ${path.slice(0, 80)} answered ${answer.status} ${got ?? answer.body.slice(0, 80)}, expected ${status} ${code ?? ''}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 120_000);
});
