#!/usr/bin/env node
/**
 * `npm start`: the whole waiting room on this machine, on DynamoDB Local and fauxqs.
 *
 *   PORT=3000 WR_DEMO_CAPACITY=5 WR_HEARTBEAT_TIMEOUT_SECONDS=20 WR_CHECK_DELAY_SECONDS=10 npm start [-- --data DIR]
 */
import '../local/preamble.js';
import { z } from 'zod';
import { DEFAULT_TIMINGS, timingProblems } from '../lambdas/domain/index.js';
import { startLocalRuntime } from '../local/runtime.js';

const USAGE = `Usage: npm start [-- --data DIR]

Runs the waiting room locally on DynamoDB Local (Java 17+) and fauxqs.
  --data DIR   keep DynamoDB data in DIR between runs (default: in memory)

Environment (defaults in brackets):
  PORT                           HTTP port [3000]
  WR_DEMO_CAPACITY               capacity of the room "demo" [5]
  WR_HEARTBEAT_TIMEOUT_SECONDS   silence after which a visitor is removed [20]
  WR_CHECK_DELAY_SECONDS         delay between two checks of a visitor, 1-900 [10]
  WR_HEARTBEAT_INTERVAL_SECONDS  how often clients heartbeat [5]`;

function fail(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

function parseArgs(argv: string[]): { dataDir?: string } {
  const result: { dataDir?: string } = {};
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
    } else {
      fail(`unknown argument ${arg}\n\n${USAGE}`);
    }
  }
  return result;
}

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  WR_DEMO_CAPACITY: z.coerce.number().int().min(0).max(1_000_000).default(5),
  WR_HEARTBEAT_TIMEOUT_SECONDS: z.coerce.number().positive().default(DEFAULT_TIMINGS.heartbeatTimeoutSeconds),
  WR_CHECK_DELAY_SECONDS: z.coerce.number().int().min(1).max(900).default(DEFAULT_TIMINGS.checkDelaySeconds),
  WR_HEARTBEAT_INTERVAL_SECONDS: z.coerce.number().positive().default(DEFAULT_TIMINGS.heartbeatIntervalSeconds),
});

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    fail(`${issue.path.join('.')}=${JSON.stringify(process.env[String(issue.path[0])])}: ${issue.message}`);
  }
  const env = parsed.data;
  const timings = {
    ...DEFAULT_TIMINGS,
    heartbeatTimeoutSeconds: env.WR_HEARTBEAT_TIMEOUT_SECONDS,
    checkDelaySeconds: env.WR_CHECK_DELAY_SECONDS,
    heartbeatIntervalSeconds: env.WR_HEARTBEAT_INTERVAL_SECONDS,
  };
  const problems = timingProblems(timings);
  if (problems.length > 0) fail(problems.join('; '));

  console.log('Starting the waiting room: DynamoDB Local, fauxqs, the stack...');
  const started = Date.now();
  const runtime = await startLocalRuntime({
    port: env.PORT,
    timings,
    rooms: [{ roomId: 'demo', capacity: env.WR_DEMO_CAPACITY }],
    ...(args.dataDir ? { dataDir: args.dataDir } : {}),
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the waiting room and the emulators...`);
    await runtime.stop();
    console.log('Stopped. Nothing left running.');
    process.exit(0);
  };
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
      `  Demo origin  ${u}/origin/ (admits only visitors with a valid pass)`,
      `  Rooms        demo (capacity ${env.WR_DEMO_CAPACITY})`,
      `  Timings      silent visitors removed after ${timings.heartbeatTimeoutSeconds} s · checked every ${timings.checkDelaySeconds} s · heartbeat every ${timings.heartbeatIntervalSeconds} s`,
      `  Data         ${args.dataDir ? `kept in ${args.dataDir}` : 'in memory (npm start -- --data DIR keeps it)'}`,
      `  Emulators    DynamoDB Local ${runtime.emulators.dynamodb} · SQS/SNS ${runtime.emulators.messaging} (aws --endpoint-url ..., any credentials)`,
      `  Try          curl -s -X POST ${u}/rooms/demo/tokens`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
