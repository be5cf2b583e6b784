/**
 * Issue 12, items 4-6, on the local runtime (DynamoDB Local + the queue emulator), over HTTP, with
 * short timings: heartbeat timeout 3 s, heartbeats every second (admitted visitors too), a pass
 * lifetime of 3 s.
 *
 * - The emergency stop, measured: N visitors inside heartbeat every second; the room is stopped
 *   (paused, revokePasses). Each one's next heartbeat after a room view's life is refused (410), so
 *   every refusal comes within a heartbeat interval plus the view's life of the stop; the last pass
 *   any of them got expires within one pass lifetime (plus that second) of the stop, and nothing
 *   renews it; the seats are freed; the line keeps its place and goes in, in the new epoch, once the
 *   room reopens. The figures are printed.
 * - The origin frees a seat with the visitor's pass (POST /rooms/{roomId}/passes/revoke).
 * - The message to the line: in the status (a new ETag with it), in the views, in the admin view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOM_VIEW_MAX_AGE_MS, type RoomStatus } from '../../lambdas/domain/index.js';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { PassRejectedError, clearJwksCache, verifyPass } from '../../verifier/index.js';
import { HttpError, Visitor, admin, eventually, roomActiveCount, sleep } from '../helpers/visitor.js';

const BEAT_MS = 1_000;
const PASS_TTL_S = 3;
/** Visitors inside when the room is stopped, and in line behind them. */
const INSIDE = 6;
const IN_LINE = 2;
/** What a request takes on this runtime, at most, as a margin on the bounds (two shared, loaded cores). */
const LATENCY_MS = 2_000;

let runtime: LocalRuntime;
let url: string;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    timings: { heartbeatTimeoutSeconds: 3, checkDelaySeconds: 1, heartbeatIntervalSeconds: BEAT_MS / 1000, passTtlSeconds: PASS_TTL_S },
    checkerTimeoutSeconds: 1,
    rooms: [],
    schedules: false,
    log: () => undefined,
  });
  url = runtime.url;
}, 120_000);
afterAll(async () => {
  clearJwksCache();
  await runtime?.stop();
});

let roomCounter = 0;
async function room(capacity: number): Promise<string> {
  const roomId = `stop-${++roomCounter}-${Date.now()}`;
  await admin(url, 'PUT', `/rooms/${roomId}`, { capacity });
  return roomId;
}

const status = async (roomId: string) => (await (await fetch(`${url}/rooms/${roomId}/status`)).json()) as RoomStatus;

/** A visitor heartbeating every BEAT_MS, recording each pass it gets and when its heartbeat was first refused. */
class Beating {
  passes: { pass: string; expiresAt: number; at: number }[] = [];
  refused?: { at: number; status: number; code?: string };
  private running = true;
  private loop?: Promise<void>;

  constructor(readonly visitor: Visitor) {
    if (visitor.view.pass) this.passes.push({ pass: visitor.view.pass, expiresAt: visitor.view.passExpiresAt!, at: Date.now() });
  }

  start(): this {
    this.loop = (async () => {
      while (this.running && !this.refused) {
        await sleep(BEAT_MS);
        if (!this.running) return;
        try {
          const view = await this.visitor.heartbeat();
          if (view.pass) this.passes.push({ pass: view.pass, expiresAt: view.passExpiresAt!, at: Date.now() });
        } catch (error) {
          if (!(error instanceof HttpError)) throw error;
          this.refused = { at: Date.now(), status: error.status, code: (error.body as { error?: { code?: string } })?.error?.code };
        }
      }
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

describe('the emergency stop', () => {
  it('refuses every visitor inside within a heartbeat and a room view of the stop, lets no pass renew past one pass lifetime, and keeps the line', async () => {
    const roomId = await room(INSIDE);
    const inside: Beating[] = [];
    for (let i = 0; i < INSIDE; i++) inside.push(new Beating(await Visitor.join(url, roomId)).start());
    const line: Beating[] = [];
    for (let i = 0; i < IN_LINE; i++) line.push(new Beating(await Visitor.join(url, roomId)).start());
    try {
      expect(inside.map((b) => b.visitor.view.state)).toEqual(Array(INSIDE).fill('admitted'));
      expect(line.map((b) => b.visitor.view.state)).toEqual(Array(IN_LINE).fill('waiting'));
      await sleep(BEAT_MS); // a renewal in the old epoch

      const stoppedAt = Date.now();
      const stopped = await admin<{ state: string; epoch: number }>(url, 'PUT', `/rooms/${roomId}`, { state: 'paused', revokePasses: true });
      expect(stopped).toMatchObject({ state: 'paused', epoch: 1 });

      // Every visitor inside is refused at its first heartbeat once the functions' room views are fresh.
      const refusalBoundMs = BEAT_MS + ROOM_VIEW_MAX_AGE_MS + LATENCY_MS;
      await eventually(async () => (inside.every((b) => b.refused) ? true : undefined), refusalBoundMs + 2_000, 'every visitor inside refused', 50);
      const refusedAfter = inside.map((b) => b.refused!.at - stoppedAt);
      expect(inside.map((b) => [b.refused!.status, b.refused!.code])).toEqual(Array(INSIDE).fill([410, 'ADMISSION_REVOKED']));
      expect(Math.max(...refusedAfter)).toBeLessThanOrEqual(refusalBoundMs);

      // The last pass any of them got: renewed at most a room view's life after the stop, so it
      // expires within one pass lifetime of the stop (plus that second).
      const lastPass = inside.flatMap((b) => b.passes).reduce((a, b) => (b.expiresAt > a.expiresAt ? b : a));
      const lastPassExpiresAfter = lastPass.expiresAt - stoppedAt;
      expect(lastPassExpiresAfter).toBeLessThanOrEqual(PASS_TTL_S * 1000 + ROOM_VIEW_MAX_AGE_MS + LATENCY_MS);
      expect(inside.every((b) => b.passes.every((p) => p.at <= b.refused!.at))).toBe(true);

      // The seats are free, the line kept its place, nobody is let in while paused.
      expect(await roomActiveCount(url, roomId)).toBe(0);
      // The line learns of the pause at its next heartbeat once the room views are fresh (as the visitors inside did).
      await eventually(async () => (line.every((b) => b.visitor.view.roomState === 'paused') ? true : undefined), refusalBoundMs + 2_000, 'the line told of the pause', 50);
      expect(line.map((b) => [b.refused, b.visitor.view.state, b.visitor.view.roomState])).toEqual(Array(IN_LINE).fill([undefined, 'waiting', 'paused']));
      const afterStop = await status(roomId);
      expect(afterStop).toMatchObject({ epoch: 1, active: 0, state: 'paused' });

      // An origin that reads the room's epoch refuses the last pass at once; offline, it expires.
      const jwksUrl = `${url}/.well-known/jwks.json`;
      const rejection = (promise: Promise<unknown>) => promise.then(() => 'accepted', (e: unknown) => (e instanceof PassRejectedError ? e.reason : String(e)));
      await expect(rejection(verifyPass(lastPass.pass, { jwksUrl, roomId, minEpoch: afterStop.epoch }))).resolves.toBe('revoked');
      await sleep(Math.max(0, lastPass.expiresAt - Date.now()) + 1_000);
      await expect(rejection(verifyPass(lastPass.pass, { jwksUrl, roomId, clockToleranceSeconds: 0 }))).resolves.toBe('expired');
      const measuredAt = Date.now() - stoppedAt;

      // Reopened: the line goes in, in order, its passes in the new epoch.
      await admin(url, 'PUT', `/rooms/${roomId}`, { state: 'open' });
      await eventually(async () => (line.every((b) => b.visitor.view.state === 'admitted') ? true : undefined), 5_000, 'the line admitted', 100);
      const fresh = line.map((b) => b.passes.at(-1)!.pass);
      for (const pass of fresh) await expect(verifyPass(pass, { jwksUrl, roomId, minEpoch: 1 })).resolves.toMatchObject({ epoch: 1 });

      console.log(
        `[emergency stop] ${INSIDE} visitors inside heartbeating every ${BEAT_MS / 1000} s: refused ${(Math.min(...refusedAfter) / 1000).toFixed(2)}-${(Math.max(...refusedAfter) / 1000).toFixed(2)} s after the stop ` +
          `(bound ${(refusalBoundMs / 1000).toFixed(1)} s); the last pass they got expired ${(lastPassExpiresAfter / 1000).toFixed(2)} s after it (pass lifetime ${PASS_TTL_S} s); ` +
          `measured over ${(measuredAt / 1000).toFixed(1)} s`,
      );
    } finally {
      await Promise.all([...inside, ...line].map((b) => b.stop()));
    }
  }, 60_000);
});

describe('the origin frees a seat with the pass', () => {
  it('answers 204, gives the seat to the next in line at once, and is idempotent; a bad pass is 401', async () => {
    const roomId = await room(1);
    const done = await Visitor.join(url, roomId);
    const next = new Beating(await Visitor.join(url, roomId)).start();
    try {
      const pass = done.view.pass!;
      const revoke = (headers: Record<string, string>) => fetch(`${url}/rooms/${roomId}/passes/revoke`, { method: 'POST', headers });
      const freedAt = Date.now();
      expect((await revoke({ Authorization: `Bearer ${pass}` })).status).toBe(204);
      await eventually(async () => ((await next.visitor.read()).state === 'admitted' ? true : undefined), 2_000, 'the next visitor admitted', 50);
      expect(Date.now() - freedAt).toBeLessThan(2_000);
      expect(await roomActiveCount(url, roomId)).toBe(1);
      // Again, and from the cookie: nothing left to free.
      expect((await revoke({ Cookie: `wr_pass=${pass}` })).status).toBe(204);
      expect(await roomActiveCount(url, roomId)).toBe(1);
      await expect(done.heartbeat()).rejects.toMatchObject({ status: 404 });

      const missing = await revoke({});
      expect(missing.status).toBe(401);
      expect(await missing.json()).toMatchObject({ error: { code: 'MISSING_PASS' } });
      const forged = await revoke({ Authorization: `Bearer ${pass.slice(0, -4)}AAAA` });
      expect(forged.status).toBe(401);
      expect(await forged.json()).toMatchObject({ error: { code: 'INVALID_PASS' } });
      const elsewhere = await fetch(`${url}/rooms/another-room/passes/revoke`, { method: 'POST', headers: { Authorization: `Bearer ${next.passes.at(-1)?.pass ?? pass}` } });
      expect(elsewhere.status).toBe(401);
    } finally {
      await next.stop();
    }
  }, 30_000);
});

describe('the message to the line', () => {
  it('is in the admin view, every token view and the status, whose ETag changes with it', async () => {
    const roomId = await room(0);
    const waiting = await Visitor.join(url, roomId);
    const before = await fetch(`${url}/rooms/${roomId}/status`);
    const etag = before.headers.get('etag')!;
    expect(await before.json()).not.toHaveProperty('message');

    await expect(admin(url, 'PUT', `/rooms/${roomId}`, { message: ' Saturday is <b>sold out</b> ' })).resolves.toMatchObject({ message: 'Saturday is <b>sold out</b>' });
    // Within a room view's life, every function's view has it.
    const changed = await eventually(
      async () => {
        const response = await fetch(`${url}/rooms/${roomId}/status`, { headers: { 'If-None-Match': etag } });
        if (response.status !== 200) return undefined;
        const body = (await response.json()) as RoomStatus;
        return body.message ? { body, etag: response.headers.get('etag') } : undefined;
      },
      ROOM_VIEW_MAX_AGE_MS + 2_000,
      'the status with the message',
    );
    expect(changed.body.message).toBe('Saturday is <b>sold out</b>');
    expect(changed.etag).not.toBe(etag);
    await expect(waiting.heartbeat()).resolves.toMatchObject({ message: 'Saturday is <b>sold out</b>' });

    const refused = await fetch(`${url}/admin/rooms/${roomId}`, { method: 'PUT' }).then((r) => r.status);
    expect(refused).toBe(403); // unsigned
    await expect(admin(url, 'PUT', `/rooms/${roomId}`, { message: 'x'.repeat(281) })).rejects.toMatchObject({ status: 400 });
    await admin(url, 'PUT', `/rooms/${roomId}`, { message: null });
    await eventually(async () => ((await status(roomId)).message === undefined ? true : undefined), ROOM_VIEW_MAX_AGE_MS + 2_000, 'the message cleared');
    await waiting.leave();
  }, 30_000);
});
