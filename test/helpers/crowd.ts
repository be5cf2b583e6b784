/**
 * A crowd of visitors in a process of its own (the load generator of test/integration/overload.test.ts):
 * in the test's process, a thousand clients would share one event loop with the local runtime, and
 * the time their requests wait for that loop would pass for the server's answer time.
 *
 *   tsx test/helpers/crowd.ts <baseUrl> <roomId> <visitors> <runMs>
 *
 * Each visitor follows the page's protocol (bench/scale/visitor.ts) with a visit of 2-6 s and a
 * leave; a join answered 429 is sent again after a second with jitter (as after Retry-After), up to
 * JOIN_ATTEMPTS times. Prints one JSON line: every join attempt's status and time, the token ids
 * joined, admissions, tokens lost while following the protocol, and other failures by kind.
 */
import { HttpVisitorApi } from '../../bench/scale/http-api.js';
import { RealScheduler } from '../../bench/scale/real-scheduler.js';
import { ApiError, Visitor, type JoinAnswer } from '../../bench/scale/visitor.js';

const JOIN_ATTEMPTS = 4;

export interface CrowdReport {
  joinAnswers: { status: number; ms: number }[];
  joined: string[];
  admitted: number;
  lost: string[];
  failures: Record<string, number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The visitors' API, timing every join attempt and retrying 429s as the page does. */
class MeasuredApi extends HttpVisitorApi {
  readonly joinAnswers: CrowdReport['joinAnswers'] = [];

  override async join(roomId: string): Promise<JoinAnswer> {
    for (let attempt = 1; ; attempt++) {
      const sent = performance.now();
      try {
        const answer = await super.join(roomId);
        this.joinAnswers.push({ status: 201, ms: performance.now() - sent });
        return answer;
      } catch (error) {
        this.joinAnswers.push({ status: error instanceof ApiError ? error.status : 0, ms: performance.now() - sent });
        if (!(error instanceof ApiError && error.status === 429) || attempt === JOIN_ATTEMPTS) throw error;
        await sleep(1_000 * (0.5 + Math.random()));
      }
    }
  }
}

async function main(): Promise<void> {
  const [baseUrl, roomId, count, runMs] = process.argv.slice(2);
  if (!baseUrl || !roomId || !count || !runMs) throw new Error('usage: crowd.ts <baseUrl> <roomId> <visitors> <runMs>');
  const api = new MeasuredApi(baseUrl);
  const scheduler = new RealScheduler();
  const report: CrowdReport = { joinAnswers: api.joinAnswers, joined: [], admitted: 0, lost: [], failures: {} };
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const visitors = Array.from(
    { length: Number(count) },
    () =>
      new Visitor(roomId, { visitMs: 2_000 + random() * 4_000, endsSilently: false }, api, scheduler, {
        admitted: () => (report.admitted += 1),
        lost: (visitor) => report.lost.push(visitor.tokenId),
        failed: (_visitor, error) => {
          const key = error instanceof ApiError ? String(error.status) : String(error);
          report.failures[key] = (report.failures[key] ?? 0) + 1;
        },
      }),
  );
  // All at once: the burst that shedding is for.
  await Promise.all(
    visitors.map(async (visitor) => {
      await visitor.start();
      if (visitor.tokenId) report.joined.push(visitor.tokenId);
    }),
  );
  await sleep(Number(runMs));
  scheduler.stop();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
