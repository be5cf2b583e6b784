/**
 * The demo protected origin of the local runtime (`/origin/{roomId}/`): it lets in only a pass
 * signed by this runtime's key, whatever the request claims about where it was sent, and answers
 * bad addresses with 400 (issue 10, item 9).
 */
import http from 'node:http';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { rawRequest } from '../helpers/raw-http.js';
import { Visitor, admin } from '../helpers/visitor.js';

let runtime: LocalRuntime;
/** Another server on this machine, publishing its own key in a JWKS. */
let impostor: http.Server;
let impostorPort: number;
let forgedPass: string;

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, rooms: [], schedules: false, log: () => undefined });
  await admin(runtime.url, 'PUT', '/rooms/shop', { capacity: 5 });
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'impostor', alg: 'ES256', use: 'sig' };
  impostor = http.createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
  impostorPort = (impostor.address() as { port: number }).port;
  const now = Math.floor(Date.now() / 1000);
  forgedPass = await new SignJWT({ room: 'shop', ticket: 1 })
    .setProtectedHeader({ alg: 'ES256', kid: 'impostor', typ: 'JWT' })
    .setIssuer('waiting-room')
    .setSubject('A'.repeat(22))
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(privateKey);
}, 120_000);
afterAll(async () => {
  impostor?.close();
  await runtime?.stop();
});

/** A raw GET, so that the Host header can be anything. */
const get = (path: string, headers: http.OutgoingHttpHeaders = {}) => rawRequest(runtime.port, 'GET', path, headers);

describe('the demo origin', () => {
  it('refuses a pass signed by another server, even when the Host header names that server', async () => {
    const answer = await get('/origin/shop/', { Host: `127.0.0.1:${impostorPort}`, Cookie: `wr_pass=${forgedPass}` });
    expect(answer.status).toBe(403);
    const plain = await get('/origin/shop/', { Cookie: `wr_pass=${forgedPass}` });
    expect(plain.status).toBe(403);
  });

  it("lets in this runtime's own pass, whatever the Host header, and shows its expiry as a date of now", async () => {
    const visitor = await Visitor.join(runtime.url, 'shop');
    expect(visitor.view.state).toBe('admitted');
    const pass = (visitor.view as { pass?: string }).pass!;
    const answer = await get('/origin/shop/', { Host: `127.0.0.1:${impostorPort}`, Cookie: `wr_pass=${pass}` });
    expect(answer.status).toBe(200);
    const shown = /valid until (\S+?Z)/.exec(answer.body)?.[1];
    expect(Math.abs(Date.parse(shown ?? '') - Date.now()), `expiry shown: ${shown}`).toBeLessThan(5 * 60_000);
  });

  it.each(['/origin/%E0%A4%A/', '/origin/%/', '/origin/%zz/'])('answers 400 for the malformed address %s', async (path) => {
    expect((await get(path)).status).toBe(400);
  });
});
