#!/usr/bin/env node
/**
 * `npm start`: the whole waiting room on this machine, on DynamoDB Local and fauxqs.
 *
 *   PORT=3000 WR_DEMO_CAPACITY=5 WR_HEARTBEAT_TIMEOUT_SECONDS=20 npm start [-- --data DIR]   (npm start -- --help lists every setting)
 */
import '../local/preamble.js';
import * as z from 'zod';
import { DEFAULT_TIMINGS, timingProblems, timingsWithDefaults, type Timings } from '../lambdas/domain/index.js';
import { TIMING_VARIABLES } from '../lambdas/shared/env.js';
import { WEBHOOK_FORMATS } from '../lambdas/notify/alarm-notice.js';
import { startLocalRuntime } from '../local/runtime.js';
import { launcherChain, watchLaunchers } from '../local/launcher.js';

const USAGE = `Usage: npm start [-- --data DIR] [-- --unsigned-admin]

Runs the waiting room locally on DynamoDB Local (Java 17+) and fauxqs.
  --data DIR         keep DynamoDB data in DIR between runs (default: in memory)
  --unsigned-admin   take /admin requests without a SigV4 signature, for curl (default: signed,
                     as on AWS; \`npm run cli -- ... --local\` and the admin page sign)

Environment (defaults in brackets):
  PORT                                    HTTP port [3000]
  EDGE_PORT                               port of the local edge, the gate in front of a demo site as CloudFront runs it; 0 picks a free one [3080]
  WR_DEMO_CAPACITY                        capacity of the room "demo" [5]
  WR_HEARTBEAT_TIMEOUT_SECONDS            silence after which a front-zone or admitted visitor is removed [20]
  WR_CHECK_DELAY_SECONDS                  delay of a visitor's first check, 1-900 [10]
  WR_HEARTBEAT_INTERVAL_SECONDS           how often front-zone visitors heartbeat [5]
  WR_ADMITTED_HEARTBEAT_INTERVAL_SECONDS  how often admitted visitors heartbeat [${DEFAULT_TIMINGS.admittedHeartbeatIntervalSeconds}, or the above when only that is set]
  WR_KEEP_PLACE_INTERVAL_SECONDS          how often far-back visitors keep their place [300]
  WR_KEEP_PLACE_TIMEOUT_SECONDS           silence after which a far-back visitor is removed [1200]
  WR_FRONT_ZONE_SECONDS                   the front zone: tickets due within this many seconds [60]
  WR_ALARM_WEBHOOK_URL                    also post alarm notices to this webhook (a chat channel or any URL) [none]
  WR_ALARM_WEBHOOK_FORMAT                 slack ({"text"}) or json [slack]`;

function fail(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

function parseArgs(argv: string[]): { dataDir?: string; unsignedAdmin?: boolean } {
  const result: { dataDir?: string; unsignedAdmin?: boolean } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg === '--data') {
      const dir = argv[++i];
      if (!dir) fail('--data needs a directory');
      result.dataDir = dir;
    } else if (arg.startsWith('--data=')) {
      result.dataDir = arg.slice('--data='.length);
    } else if (arg === '--unsigned-admin') {
      result.unsignedAdmin = true;
    } else {
      fail(`unknown argument ${arg}\n\n${USAGE}`);
    }
  }
  return result;
}

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  EDGE_PORT: z.coerce.number().int().min(0).max(65535).default(3080),
  WR_DEMO_CAPACITY: z.coerce.number().int().min(0).max(1_000_000).default(5),
  WR_ALARM_WEBHOOK_URL: z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL').optional(),
  WR_ALARM_WEBHOOK_FORMAT: z.enum(WEBHOOK_FORMATS).default('slack'),
});

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    fail(`${issue.path.join('.')}=${JSON.stringify(process.env[String(issue.path[0])])}: ${issue.message}`);
  }
  const env = parsed.data;
  // Any timing given as its WR_* variable (lambdas/shared/env.ts); the others keep their defaults.
  const given: Partial<Timings> = {};
  for (const [key, variable] of Object.entries(TIMING_VARIABLES) as [keyof Timings, string][]) {
    const raw = process.env[variable];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) fail(`${variable}=${JSON.stringify(raw)}: must be a positive number of seconds`);
    given[key] = value;
  }
  const timings = timingsWithDefaults(given);
  // Each problem names the variable it comes from, when it was set.
  const problems = timingProblems(timings).map((problem) => {
    const key = (Object.keys(TIMING_VARIABLES) as (keyof Timings)[]).find((k) => problem.startsWith(k) && given[k] !== undefined);
    return key ? `${TIMING_VARIABLES[key]}=${JSON.stringify(process.env[TIMING_VARIABLES[key]])}: ${problem}` : problem;
  });
  if (problems.length > 0) fail(problems.join('; '));

  console.log('Starting the waiting room: DynamoDB Local, fauxqs, the stack...');
  const started = Date.now();
  let stopping = false;
  const startup: { runtime?: Awaited<ReturnType<typeof startLocalRuntime>> } = {}; // stop() may come before start-up ends
  const stop = async (why: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    (exitCode === 0 ? console.log : console.error)(`\n${why}: stopping the waiting room and the emulators...`);
    await startup.runtime?.stop();
    console.log('Stopped. Nothing left running.');
    process.exit(exitCode);
  };
  const runtime = await startLocalRuntime({
    port: env.PORT,
    timings,
    rooms: [{ roomId: 'demo', capacity: env.WR_DEMO_CAPACITY }],
    edge: { port: env.EDGE_PORT },
    ...(args.dataDir ? { dataDir: args.dataDir } : {}),
    ...(args.unsignedAdmin ? { unsignedAdmin: true } : {}),
    ...(env.WR_ALARM_WEBHOOK_URL ? { notifications: { webhooks: [{ name: 'Local', url: env.WR_ALARM_WEBHOOK_URL, format: env.WR_ALARM_WEBHOOK_FORMAT }] } } : {}),
    // A dead emulator stops everything, loudly: never serve silently broken.
    onFatal: (reason) => void stop(reason, 1),
  });
  startup.runtime = runtime;

  // A signal to npm's own process id stops npm alone: its going stops the runtime too.
  watchLaunchers(launcherChain(), (pid) => void stop(`the launcher (process ${pid}) exited`));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const u = runtime.url;
  console.log(
    [
      '',
      `Waiting room ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      `  API          ${u}`,
      `  Waiting page ${u}/?room=demo`,
      `  Admin page   ${u}/admin`,
      `  Admin API    ${args.unsignedAdmin ? 'unsigned (--unsigned-admin): curl -X PUT ' + u + '/admin/rooms/demo -d \'{"capacity":2}\'' : 'SigV4-signed, as on AWS: npm run cli -- rooms list --local'}`,
      `  Demo origin  ${u}/origin/demo/ (admits only visitors with a valid pass for the room demo)`,
      ...(runtime.edge
        ? [
            `  Edge (the gate, like CloudFront)  ${runtime.edge.url}/ → demo origin ${runtime.edge.origin.url}/`,
            `               every path waits in the room demo: open ${runtime.edge.url}/products/1, queue at ${runtime.edge.url}/waiting-room/, API at ${runtime.edge.url}/waiting-room/api/`,
          ]
        : []),
      `  Rooms        demo (capacity ${env.WR_DEMO_CAPACITY})`,
      `  Timings      heartbeat every ${timings.heartbeatIntervalSeconds} s in the front zone (the next ${timings.frontZoneSeconds} s of the line) and ${timings.admittedHeartbeatIntervalSeconds} s once admitted, removed after ${timings.heartbeatTimeoutSeconds} s of silence;`,
      `               far back: keep-place every ${timings.keepPlaceIntervalSeconds} s, removed after ${timings.keepPlaceTimeoutSeconds} s`,
      `  Data         ${args.dataDir ? `kept in ${args.dataDir}` : 'in memory (npm start -- --data DIR keeps it)'}`,
      `  Emulators    DynamoDB Local ${runtime.emulators.dynamodb} (on every interface: it has no bind option) · SQS/SNS ${runtime.emulators.messaging} (loopback only); aws --endpoint-url ..., any credentials`,
      `  Try          curl -s -X POST ${u}/rooms/demo/tokens`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
