/**
 * 200 visitors at once against a room of capacity 5 on the local runtime, over HTTP: joins,
 * heartbeats, leaves and visitors who go silent, with the seat count sampled throughout.
 * Timings: heartbeat timeout 15 s, check delay 3 s, heartbeats every 1.5 s. The runtime, fauxqs
 * and the 200 clients share one Node process (and two cores with DynamoDB Local): the generous
 * timeout keeps CPU starvation from passing for silence; what is tested is correctness.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { HttpError, Visitor, admin, eventually, roomActiveCount, sleep } from '../helpers/visitor.js';

const BEAT_MS = 1500;
let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    port: 0,
    timings: { heartbeatTimeoutSeconds: 15, checkDelaySeconds: 3, heartbeatIntervalSeconds: 1.5 },
    rooms: [],
    log: () => undefined,
  });
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
});

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;

describe('under concurrent load', () => {
  it('never admits more than capacity while 200 visitors join, heartbeat, leave and go silent, and leaves nobody waiting', async () => {
    const url = runtime.url;
    const capacity = 5;
    const roomId = 'load';
    await admin(url, 'PUT', `/rooms/${roomId}`, { capacity });
    const samples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(await roomActiveCount(url, roomId));
        await sleep(25);
      }
    })();

    const outcomes = { admitted: 0, evicted: 0, leftWaiting: 0 };
    const latencies: number[] = [];
    const timed = async <T>(call: () => Promise<T>) => {
      const started = performance.now();
      try {
        return await call();
      } finally {
        latencies.push(performance.now() - started);
      }
    };
    const random = (() => {
      let seed = 42;
      return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    })();
    const journey = async (i: number) => {
      await sleep(i * 10); // arrivals over two seconds
      const v = await timed(() => Visitor.join(url, roomId));
      const waitingLeaver = i % 20 === 7; // 10 visitors give up while waiting
      const goesSilent = i % 50 === 3; // 4 visitors go silent once admitted
      for (;;) {
        if (v.view.state === 'admitted') {
          outcomes.admitted += 1;
          if (goesSilent) {
            // Stops heartbeating: the checker must free the seat.
            await eventually(
              async () => v.read().then(() => undefined, (e: unknown) => (e instanceof HttpError && e.status === 404 ? true : undefined)),
              30_000,
              'eviction',
              500,
            );
            outcomes.evicted += 1;
            return;
          }
          await sleep(100 + random() * 200);
          await timed(() => v.heartbeat());
          await timed(() => v.leave());
          return;
        }
        if (waitingLeaver && random() < 0.5) {
          await timed(() => v.leave());
          outcomes.leftWaiting += 1;
          return;
        }
        await sleep(BEAT_MS * (0.6 + random() * 0.3));
        await timed(() => v.heartbeat());
      }
    };
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => journey(i)));
    sampling = false;
    await sampler;
    console.log(
      `load: 200 visitors in ${((Date.now() - started) / 1000).toFixed(1)} s, ${latencies.length} requests, ` +
        `latency p50 ${percentile(latencies, 50).toFixed(0)} ms p99 ${percentile(latencies, 99).toFixed(0)} ms, ` +
        `${samples.length} samples, max seats ${Math.max(...samples)}; outcomes ${JSON.stringify(outcomes)}`,
    );

    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason));
    expect(failures).toEqual([]);
    expect(outcomes.admitted + outcomes.leftWaiting).toBe(200);
    expect(outcomes.evicted).toBe(4);
    expect(samples.length).toBeGreaterThan(100);
    expect(Math.max(...samples)).toBeLessThanOrEqual(capacity);
    expect(Math.max(...samples)).toBe(capacity); // the room was full at times: the test exercised contention
    await eventually(async () => ((await roomActiveCount(url, roomId)) === 0 ? true : undefined), 30_000, 'an empty room');
  }, 240_000);
});
