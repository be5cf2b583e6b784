/**
 * One benchmark scenario against a fresh local runtime, in this process; prints one JSON line.
 *   npx tsx bench/scenarios.ts <raw-putitem|join|heartbeat|leave-to-admission|eviction-to-admission|cleanup>
 * Run them all with `npm run bench`.
 */
import '../local/preamble.js';
import { DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.js';
import { Visitor, admin, sleep } from '../test/helpers/visitor.js';

const CONCURRENCY = 32;

/** Runs `count` tasks with at most `concurrency` in flight; returns the elapsed seconds. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return (performance.now() - started) / 1000;
}

export function quantiles(values: number[]): { median: number; p99: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p99: at(0.99), min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

async function runtime(timings: Record<string, number> = {}): Promise<LocalRuntime> {
  return startLocalRuntime({ port: 0, rooms: [], pages: false, schedules: false, timings, log: () => undefined });
}

/** The local name of the tokens table. */
const tokensTable = (rt: LocalRuntime) => rt.resources.get(rt.logicalId('WaitingRoomTablesTokens', 'AWS::DynamoDB::Table'))!.ref;

async function tokenItem(rt: LocalRuntime, tokenId: string): Promise<Record<string, unknown> | undefined> {
  const documents = DynamoDBDocumentClient.from(rt.clients.dynamodb);
  const { Item } = await documents.send(
    new GetCommand({ TableName: tokensTable(rt), Key: { tokenId }, ConsistentRead: true }),
  );
  return Item;
}

async function admittedAt(rt: LocalRuntime, tokenId: string): Promise<number | undefined> {
  const item = await tokenItem(rt, tokenId);
  return typeof item?.admittedAt === 'number' ? item.admittedAt : undefined;
}

const scenarios: Record<string, () => Promise<Record<string, unknown>>> = {
  /** The emulator's own write rate, from this process: the ceiling everything else shares. */
  async 'raw-putitem'() {
    const rt = await runtime();
    try {
      const client = new DynamoDBClient({});
      const table = rt.resources.get(rt.logicalId('WaitingRoomTablesStats', 'AWS::DynamoDB::Table'))!.ref;
      const count = 3000;
      const seconds = await pool(count, CONCURRENCY, (i) => client.send(new PutItemCommand({ TableName: table, Item: { roomId: { S: `bench-${i}` }, n: { N: String(i) } } })));
      return { operations: count, seconds, perSecond: count / seconds };
    } finally {
      await rt.stop();
    }
  },

  /** Joins into a full room (everyone waits): ticket, token write, room read, over HTTP. */
  async join() {
    const rt = await runtime();
    try {
      await admin(rt.url, 'PUT', '/rooms/bench', { capacity: 0 });
      const count = 1500;
      const seconds = await pool(count, CONCURRENCY, () => Visitor.join(rt.url, 'bench'));
      return { operations: count, seconds, perSecond: count / seconds };
    } finally {
      await rt.stop();
    }
  },

  /** Heartbeats of 500 waiting visitors, each at most once a second (the check loop runs meanwhile). */
  async heartbeat() {
    const rt = await runtime();
    try {
      await admin(rt.url, 'PUT', '/rooms/bench', { capacity: 0 });
      const visitors: Visitor[] = [];
      await pool(500, CONCURRENCY, async () => visitors.push(await Visitor.join(rt.url, 'bench')));
      await sleep(1100);
      const rounds = 4;
      let count = 0;
      const started = performance.now();
      for (let round = 0; round < rounds; round++) {
        const roundStart = performance.now();
        await pool(visitors.length, CONCURRENCY, async (i) => {
          await visitors[i]!.heartbeat();
          count += 1;
        });
        const left = 1050 - (performance.now() - roundStart);
        if (left > 0 && round < rounds - 1) await sleep(left); // each token writes again only after a second
      }
      const seconds = (performance.now() - started) / 1000;
      return { operations: count, seconds, perSecond: count / seconds, note: 'includes the pause that lets each token be written again' };
    } finally {
      await rt.stop();
    }
  },

  /** A visitor leaves; how long until the next in line (heartbeating) is admitted (server time of admission). */
  async 'leave-to-admission'() {
    const rt = await runtime();
    try {
      await admin(rt.url, 'PUT', '/rooms/bench', { capacity: 1 });
      const latencies: number[] = [];
      let holder = await Visitor.join(rt.url, 'bench');
      for (let i = 0; i < 100; i++) {
        const next = await Visitor.join(rt.url, 'bench');
        // The next in line is in the front zone and heartbeats, as its page does: only live,
        // heartbeating visitors are admitted (a join answered from a view up to a second old may
        // have told it to keep its place instead).
        await next.heartbeat();
        const sent = Date.now();
        await holder.leave();
        const at = await admittedAt(rt, next.view.tokenId);
        if (at === undefined) throw new Error('the next visitor was not admitted by the time the leave answered');
        latencies.push(at - sent);
        holder = next;
      }
      return { samples: latencies.length, ms: quantiles(latencies) };
    } finally {
      await rt.stop();
    }
  },

  /**
   * A visitor goes silent; how long after its silence reached the heartbeat timeout the next in
   * line is admitted (timeout 2 s, check delay 1 s: eviction falls within one check delay).
   */
  async 'eviction-to-admission'() {
    const timeoutS = 2;
    const delayS = 1;
    const rt = await runtime({ heartbeatTimeoutSeconds: timeoutS, checkDelaySeconds: delayS, heartbeatIntervalSeconds: 0.5 });
    try {
      await admin(rt.url, 'PUT', '/rooms/bench', { capacity: 1 });
      const latencies: number[] = [];
      // The server's own record of the silent visitor's last heartbeat is the baseline.
      let silent = await Visitor.join(rt.url, 'bench');
      for (let i = 0; i < 30; i++) {
        const lastSeen = Number((await tokenItem(rt, silent.view.tokenId))?.lastSeenAt);
        const next = await Visitor.join(rt.url, 'bench');
        next.startHeartbeats(730); // not a divisor of the check delay: the silence starts at a random phase of the loop
        let at: number | undefined;
        while ((at = await admittedAt(rt, next.view.tokenId)) === undefined) await sleep(20);
        next.stopHeartbeats();
        await next.settled();
        latencies.push(at - (lastSeen + timeoutS * 1000));
        silent = next; // from now on it is silent
      }
      return { samples: latencies.length, timeoutSeconds: timeoutS, checkDelaySeconds: delayS, ms: quantiles(latencies) };
    } finally {
      await rt.stop();
    }
  },
};

/** Tokens left in the tokens table (a consistent count). */
async function tokenCount(rt: LocalRuntime): Promise<number> {
  const client = rt.clients.dynamodb;
  const table = tokensTable(rt);
  let count = 0;
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, Select: 'COUNT', ConsistentRead: true, ExclusiveStartKey: start }));
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return count;
}

scenarios['cleanup'] = async () => {
  // 1,000 visitors join and never speak again (timeouts of 2 s): how fast the check loop removes them.
  const count = 1000;
  const rt = await runtime({ heartbeatTimeoutSeconds: 2, keepPlaceTimeoutSeconds: 2, heartbeatIntervalSeconds: 1, keepPlaceIntervalSeconds: 1, checkDelaySeconds: 1 });
  try {
    await admin(rt.url, 'PUT', '/rooms/bench', { capacity: 0 });
    const joinSeconds = await pool(count, CONCURRENCY, () => Visitor.join(rt.url, 'bench'));
    const joinedAt = performance.now();
    for (;;) {
      const left = await tokenCount(rt);
      if (left === 0) break;
      if (performance.now() - joinedAt > 300_000) throw new Error(`${left} tokens still there 5 minutes after the joins`);
      await sleep(200);
    }
    const secondsAfterLastJoin = (performance.now() - joinedAt) / 1000;
    return {
      operations: count,
      joinSeconds,
      secondsAfterLastJoin,
      // The last token's deadline is the timeout after its join: how far behind the check loop was at the end.
      lagSeconds: secondsAfterLastJoin - 2,
      perSecond: count / (joinSeconds + secondsAfterLastJoin),
      note: 'every silent token removed (a check message, a read and a conditional delete each), joins included in the time',
    };
  } finally {
    await rt.stop();
  }
};

const name = process.argv[2] ?? '';
const scenario = scenarios[name];
if (!scenario) {
  console.error(`unknown scenario ${name}; one of: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
scenario().then(
  (result) => {
    console.log(JSON.stringify({ scenario: name, ...result }));
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
