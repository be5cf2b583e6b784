/**
 * `waiting-room`: the operator's CLI (README, "Operating it").
 *
 *   waiting-room rooms list                     [target] [--json]
 *   waiting-room rooms get ID                   [target] [--json]
 *   waiting-room rooms set ID [--capacity N] [--state open|paused|closed] [--mode fifo|passthrough|reject|random] [--rate N | --no-rate] [--message TEXT | --clear-message] [--revoke-passes]
 *                             [--event ID --prequeue-start TIME --start TIME [--end TIME | --no-end] [--at-end close|passthrough] | --no-event]
 *                                               (creates a missing room)
 *   waiting-room rooms stop ID                  (the emergency stop: paused, and every admission revoked)
 *   waiting-room rooms report ID                (the last hour's fairness and accuracy)
 *   waiting-room rooms watch ID [--every S] [--count N]
 *   waiting-room metrics refresh
 *   waiting-room keys rotate [--edge]           (--stack only)
 *   waiting-room dlq list [--peek N] · dlq redrive NAME [--no-wait] · dlq purge NAME --yes   (--stack or --local)
 *   waiting-room console [--listen PORT]        the admin page on 127.0.0.1, signing its calls
 *   waiting-room lottery verify --receipt FILE|JWS (--publication FILE|URL [--jwks FILE|URL] | --room ID target)
 *
 * target: --stack NAME [--region R] [--profile P] · --api URL · --local [--port N]
 * Exit codes: cli/errors.ts.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { AdminApi, type FetchLike } from './admin-api.js';
import { flag, integerOption, parseArgs } from './args.js';
import { startConsole } from './console.js';
import { edgeKeysRotate, keysRotate, lambdaClient } from './keys.js';
import { runLotteryCli } from './lottery.js';
import { roomsReport } from './report.js';
import { metricsRefresh, roomsGet, roomsList, roomsSet, roomsStop, roomsWatch, watchLine, type Outcome } from './commands.js';
import { dlqList, dlqPurge, dlqRedrive, failureQueuesOf, localOutputs, queueNamed, sqsClientFor, type SqsLike } from './dlq.js';
import { CliError, EXIT, type ExitCode } from './errors.js';
import { resolveTarget, type TargetDeps } from './target.js';

const DEFAULT_CONSOLE_PORT = 3100;

export const USAGE = `Usage: waiting-room <command> <target> [--json]

Commands:
  rooms list                       every room, with its seats and line
  rooms get ID                     one room
  rooms set ID [--capacity N] [--state open|paused|closed] [--mode fifo|passthrough|reject|random]
               [--rate N | --no-rate] [--message TEXT | --clear-message] [--revoke-passes]
                                   change a room (created when missing: give --capacity); --mode: fifo (in
                                   order, the default), passthrough (everyone in, counted), reject (no new
                                   tickets: sold out), random (each seat drawn among the live visitors in
                                   line); --rate: at most N admissions a minute besides the seats;
                                   --message: a note to the line (280 characters, plain text);
                                   --revoke-passes: an emergency stop, everyone inside refused within one
                                   pass lifetime
  rooms set ID --event ID --prequeue-start TIME --start TIME [--end TIME | --no-end] [--at-end close|passthrough]
                                   schedule an event: a pre-queue from --prequeue-start (nobody admitted),
                                   ordered at --start by a lottery anyone can check, then the room until
                                   --end, when it closes (the default) or lets everyone through; TIME is
                                   ISO with a zone (2026-12-05T10:00:00Z) or from now (+30s, +10m, +2h, +1d);
                                   what is left out is kept from the room's event of that id
  rooms set ID --no-event          remove the event (cancelling its lottery)
  rooms stop ID                    the emergency stop that queues everyone: paused, and --revoke-passes
  rooms report ID                  the last hour's fairness and accuracy: arrival vs admission order (Kendall
                                   tau, gamma), p50/p90 wait, abandonment, estimate shown vs real wait
  rooms watch ID [--every S] [--count N]
                                   live counts, every S seconds (default 3), until Ctrl-C
  metrics refresh                  publish the metrics now (a run of the metrics loop)
  keys rotate [--edge]             rotate the admission-pass signing key (--stack; 16 min apart at least),
                                   or with --edge the gate's edge pass key (5 min apart at least)
  dlq list [--peek N]              what sits in each failure queue (--peek: up to N messages, 10 at most)
  dlq redrive NAME [--no-wait]     move a dead-letter queue's messages back to their source queue
                                   (SQS's message-move task), once the cause is fixed
  dlq purge NAME --yes             delete the messages of a failure queue you have dealt with
  console [--listen PORT]          the admin page on http://127.0.0.1:PORT (default 3100), its calls
                                   signed with your credentials; Ctrl-C ends it
  lottery verify --receipt FILE|JWS --publication FILE|URL [--jwks FILE|URL]
  lottery verify --receipt FILE|JWS --room ID <target>
                                   check a visitor's place in an event's lottery from the revealed seed
                                   and the published list, given or read from the room (GET
                                   /rooms/ID/lottery, with the API's keys); exit 1 on a problem; see
                                   waiting-room lottery --help and verifier/LOTTERY.md

Target (one of):
  --stack NAME [--region R] [--profile P]   a deployed stack (reads its ApiUrl output); signs with SigV4
  --api URL [--region R] [--profile P]      the API's URL; signs with SigV4
  --local [--port N]                        npm start on this machine (port: PORT, or 3000)

--json prints the API's own JSON (rooms watch: one object per line).
Exit codes: 0 done, 1 unexpected, 2 bad usage or refused input, 3 no such room,
4 no credentials or not allowed, 5 API unreachable or failing.`;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  fetch?: FetchLike;
  stackOutputs?: TargetDeps['stackOutputs'];
  sleep?: (ms: number) => Promise<void>;
  /** Lambda, for keys rotate (a seam for tests). */
  lambda?: Pick<LambdaClient, 'send'>;
  /** SQS, for dlq (a seam for tests). */
  sqs?: SqsLike;
  /** True once the user interrupted (Ctrl-C): a watch ends. */
  stopped?: () => boolean;
  /** The clock, for times from now (`--start +10m`) and countdowns (a seam for tests). */
  now?: () => number;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  // The lottery verifier needs no target and parses its own options (cli/lottery.ts).
  if (argv[0] === 'lottery') return runLotteryCli(argv.slice(1), io);
  const json = argv.includes('--json');
  try {
    const args = parseArgs(argv);
    const [group, command] = args.words;
    if (flag(args, 'help') || group === 'help' || group === undefined) {
      io.out(USAGE);
      return group === undefined && !flag(args, 'help') ? EXIT.usage : EXIT.ok;
    }
    const known = new Set(['rooms list', 'rooms get', 'rooms set', 'rooms stop', 'rooms watch', 'rooms report', 'metrics refresh', 'keys rotate', 'dlq list', 'dlq redrive', 'dlq purge', 'console undefined']);
    if (!known.has(`${group} ${command}`)) throw new CliError(`Unknown command "${args.words.join(' ')}": try waiting-room --help`, EXIT.usage);
    const target = await resolveTarget(args, { env: io.env, ...(io.stackOutputs ? { stackOutputs: io.stackOutputs } : {}) });
    const api = new AdminApi(target, io.fetch);
    const sleep = io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const stopped = io.stopped ?? (() => false);
    const now = io.now?.() ?? Date.now();
    if (group === 'console') {
      const listen = integerOption(args, 'listen', 0, 65_535) ?? DEFAULT_CONSOLE_PORT;
      const running = await startConsole(target, api, listen).catch((error: NodeJS.ErrnoException) => {
        throw new CliError(error.code === 'EADDRINUSE' ? `Port ${listen} is in use: give --listen PORT` : error.message, EXIT.usage);
      });
      io.out(`Admin console on ${running.url} for ${target.describe} (${target.baseUrl}); Ctrl-C ends it`);
      while (!stopped()) await sleep(200);
      await running.close();
      return EXIT.ok;
    }
    if (command === 'watch') {
      await roomsWatch(api, args, (reading) => io.out(json ? JSON.stringify(reading) : watchLine(reading)), sleep, stopped);
      return EXIT.ok;
    }
    const dlq = async (): Promise<Record<string, () => Promise<Outcome>>> => {
      const queues = failureQueuesOf(target.local ? await localOutputs(target.baseUrl, io.fetch ?? (fetch as unknown as FetchLike)) : target.outputs);
      const sqs = io.sqs ?? sqsClientFor(target, queues);
      return {
        'dlq list': () => dlqList(sqs, queues, integerOption(args, 'peek', 0, 10) ?? 0),
        'dlq redrive': () =>
          dlqRedrive(sqs, queueNamed(queues, args.words[2]), { local: target.local ?? false, wait: !flag(args, 'no-wait'), sleep, ...(json ? {} : { progress: io.out }) }),
        'dlq purge': () => dlqPurge(sqs, queueNamed(queues, args.words[2]), flag(args, 'yes')),
      };
    };
    const run: Record<string, () => Promise<Outcome>> = {
      'rooms list': () => roomsList(api),
      'rooms get': () => roomsGet(api, args, now),
      'rooms set': () => roomsSet(api, args, now),
      'rooms stop': () => roomsStop(api, args, now),
      'rooms report': () => roomsReport(api, args),
      'metrics refresh': () => metricsRefresh(api),
      'keys rotate': () => {
        if (target.local) throw new CliError('The local runtime makes a new pass key set each run: nothing to rotate', EXIT.usage);
        const lambda = io.lambda ?? lambdaClient(target.signing.region, target.signing.credentials);
        return flag(args, 'edge') ? edgeKeysRotate(lambda, target.outputs?.RotateEdgePassKeyFunctionName) : keysRotate(lambda, target.outputs?.RotatePassKeyFunctionName);
      },
    };
    const outcome = await (group === 'dlq' ? await dlq() : run)[`${group} ${command}`]!();
    if (json) io.out(JSON.stringify(outcome.json, null, 2));
    else for (const line of outcome.lines) io.out(line);
    return EXIT.ok;
  } catch (error) {
    const failure = error instanceof CliError ? error : new CliError(`Unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, EXIT.failed);
    if (json) io.err(JSON.stringify({ error: { exitCode: failure.exitCode, message: failure.message, ...(failure.code ? { code: failure.code } : {}) } }));
    else io.err(`waiting-room: ${failure.message}`);
    return failure.exitCode;
  }
}
