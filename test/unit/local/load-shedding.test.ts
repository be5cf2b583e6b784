/**
 * How the local gateway sheds load (issue 10, item 4): the stage's token bucket, a concurrency
 * limit per function with a bounded wait, and the 429 with Retry-After a shed request gets,
 * without its function ever running.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpGateway, compileRoute } from '../../../local/http-gateway.js';
import type { LocalFunction } from '../../../local/lambda-host.js';
import { ConcurrencyLimit, TokenBucket } from '../../../local/load-shedding.js';
import { stageThrottleOf, type CfnTemplate } from '../../../local/template.js';
import { rawRequest } from '../../helpers/raw-http.js';

const join = (port: number) => rawRequest(port, 'POST', '/rooms/shop/tokens');

describe('TokenBucket (the stage throttle)', () => {
  it('lets a burst through at once, then the rate, and says when to come back', () => {
    let now = 0;
    const bucket = new TokenBucket(2, 3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    expect(bucket.retryAfterSeconds()).toBe(1);
    now = 499;
    expect(bucket.take()).toBe(false);
    now = 500;
    expect(bucket.take()).toBe(true);
    now = 10_000; // refills up to the burst, no further
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });
});

describe('ConcurrencyLimit (a function\'s environments)', () => {
  it('queues beyond the limit in arrival order, and gives up on a waiter after its bound', async () => {
    const limit = new ConcurrencyLimit(2);
    const first = await limit.acquire(10);
    const second = await limit.acquire(10);
    expect(limit.active).toBe(2);
    const order: string[] = [];
    const third = limit.acquire(5_000).then((release) => (order.push('third'), release));
    const fourth = limit.acquire(5_000).then((release) => (order.push('fourth'), release));
    const impatient = limit.acquire(20);
    expect(await impatient).toBeUndefined();
    expect(limit.waiting).toBe(2);
    first!();
    first!(); // releasing twice frees one slot only
    const thirdRelease = await third;
    expect(order).toEqual(['third']);
    second!();
    (await fourth)!();
    thirdRelease!();
    expect(order).toEqual(['third', 'fourth']);
    expect(limit.active).toBe(0);
    expect(await limit.acquire(0)).toBeDefined();
  });

  it('answers at once when asked not to wait and every slot is taken', async () => {
    const limit = new ConcurrencyLimit(1);
    await limit.acquire();
    expect(await limit.acquire(0)).toBeUndefined();
  });
});

describe('the stage throttle, as the template sets it', () => {
  it('reads the $default stage\'s rate and burst, and nothing when it sets none', () => {
    const template = (settings?: Record<string, unknown>): CfnTemplate => ({
      Resources: { Stage: { Type: 'AWS::ApiGatewayV2::Stage', Properties: settings ? { DefaultRouteSettings: settings } : {} } },
    });
    expect(stageThrottleOf(template({ ThrottlingRateLimit: 10000, ThrottlingBurstLimit: 5000 }))).toEqual({ rateLimit: 10000, burstLimit: 5000 });
    expect(stageThrottleOf(template())).toBeUndefined();
  });
});

describe('the gateway under overload', () => {
  let gateway: HttpGateway | undefined;
  afterEach(async () => gateway?.close());

  /** A function that holds each invocation until the test lets it go. */
  function slowFunction() {
    const held: (() => void)[] = [];
    const fake = {
      name: 'Join',
      invoked: 0,
      held,
      async invoke<T>(_event: APIGatewayProxyEventV2): Promise<T> {
        fake.invoked += 1;
        await new Promise<void>((resolve) => held.push(resolve));
        return { statusCode: 201, headers: { 'Content-Type': 'application/json' }, body: '{}' } as T;
      },
    };
    return fake;
  }

  async function start(fn: ReturnType<typeof slowFunction>, shedding: ConstructorParameters<typeof HttpGateway>[4]): Promise<number> {
    const route = { routeKey: 'POST /rooms/{roomId}/tokens', method: 'POST', path: '/rooms/{roomId}/tokens', functionLogicalId: 'Join', authorization: 'NONE' };
    gateway = new HttpGateway([compileRoute(route, fn as unknown as LocalFunction)], [], () => undefined, undefined, shedding);
    return gateway.listen(0);
  }

  it('answers 429 with Retry-After once the function has no slot within the wait, and never runs it for that request', async () => {
    const fn = slowFunction();
    const port = await start(fn, { concurrencyPerFunction: 2, maxWaitMs: 100 });
    const running = [join(port), join(port)];
    await expect.poll(() => fn.invoked).toBe(2);
    const started = Date.now();
    const shed = await join(port);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(shed.status).toBe(429);
    expect(shed.headers['retry-after']).toBe('1');
    expect(JSON.parse(shed.body)).toEqual({ error: { code: 'THROTTLED', message: expect.any(String) } });
    expect(gateway!.load()).toEqual({ Join: { active: 2, waiting: 0 } });
    for (const release of fn.held.splice(0)) release();
    expect((await Promise.all(running)).map((r) => r.status)).toEqual([201, 201]);
    expect(fn.invoked).toBe(2);
  });

  it('lets a waiting request run as soon as a slot frees', async () => {
    const fn = slowFunction();
    const port = await start(fn, { concurrencyPerFunction: 1, maxWaitMs: 60_000 });
    const first = join(port);
    await expect.poll(() => fn.invoked).toBe(1);
    const second = join(port);
    await expect.poll(() => gateway!.load().Join!.waiting).toBe(1);
    fn.held.shift()!();
    await expect.poll(() => fn.invoked).toBe(2);
    fn.held.shift()!();
    expect((await Promise.all([first, second])).map((r) => r.status)).toEqual([201, 201]);
  });

  it("answers API Gateway's own 429 beyond the stage's burst", async () => {
    const fn = slowFunction();
    const port = await start(fn, { stage: { rateLimit: 0.001, burstLimit: 1 }, concurrencyPerFunction: 5, maxWaitMs: 100 });
    const first = join(port);
    await expect.poll(() => fn.invoked).toBe(1);
    const throttled = await join(port);
    expect(throttled.status).toBe(429);
    expect(JSON.parse(throttled.body)).toEqual({ message: 'Too Many Requests' });
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    fn.held.shift()!();
    expect((await first).status).toBe(201);
    expect(fn.invoked).toBe(1);
  });
});
