/**
 * `waiting-room lottery verify`: checks a visitor's lottery place (verifier/LOTTERY.md) from their
 * receipt, the room's publication and, optionally, the room's JWKS. No credentials: everything it
 * reads is public, or the visitor's own.
 *
 *   waiting-room lottery verify --receipt FILE|JWS --publication FILE|URL [--jwks FILE|URL] [--json]
 *   waiting-room lottery verify --receipt FILE|JWS --room ID (--stack NAME | --api URL | --local [--port N]) [--jwks FILE|URL] [--json]
 *
 * With --room, the publication is the room's own (GET /rooms/{roomId}/lottery) and the JWKS the
 * API's (GET /.well-known/jwks.json) unless --jwks names another: the API is found as the other
 * commands find it (cli/target.ts), and nothing is signed.
 *
 * Prints the place, the commitment check and the list check (`lotteryReport`, the lines the
 * verifier page shows). Exit codes: 0 confirmed, 1 the check found a problem (as a failed
 * `gpg --verify` does), 2 bad usage or a file that cannot be read, 5 a URL that cannot be fetched.
 *
 * It parses its own options: cli/args.ts declares the valued options of the other commands only.
 */
import { readFile } from 'node:fs/promises';
import { lotteryReport, verifyLotteryTexts } from '../lambdas/domain/events/lottery-verify.js';
import { ROOM_ID_PATTERN } from '../lambdas/domain/id-patterns.js';
import type { FetchLike } from './admin-api.js';
import { CliError, EXIT, type ExitCode } from './errors.js';
import { locateApi, type TargetDeps } from './target.js';

export const LOTTERY_USAGE = `Usage: waiting-room lottery verify --receipt FILE|JWS --publication FILE|URL [--jwks FILE|URL] [--json]
       waiting-room lottery verify --receipt FILE|JWS --room ID <target> [--jwks FILE|URL] [--json]

Checks that a place in an event's lottery follows from the revealed seed and the published list:
  --receipt      the visitor's signed receipt: a file holding it, or the receipt itself
  --publication  the room's lottery publication (JSON): a file, or an http(s) URL
  --room         or read the room's publication from its API (GET /rooms/ID/lottery), and its keys
                 (GET /.well-known/jwks.json) unless --jwks names others; target: --stack NAME
                 [--region R] [--profile P], --api URL, or --local [--port N] (nothing is signed)
  --jwks         the room's public keys (GET /.well-known/jwks.json): a file or a URL. Without it
                 (and without --room) the receipt's signature is NOT checked, and a warning says so
  --json         the result as JSON

What is hashed, and how to redo each step by hand: verifier/LOTTERY.md.
Exit codes: 0 confirmed, 1 a problem found, 2 bad usage or unreadable file, 3 no such room or
nothing published for it, 5 URL unreachable.`;

export interface LotteryCliIo {
  out(line: string): void;
  err(line: string): void;
  fetch?: FetchLike;
  /** For --room: the environment (PORT, AWS_REGION, AWS_PROFILE) and the stack's outputs (a seam for tests). */
  env?: NodeJS.ProcessEnv;
  stackOutputs?: TargetDeps['stackOutputs'];
}

const OPTIONS = new Set(['receipt', 'publication', 'jwks', 'room', 'stack', 'api', 'region', 'profile', 'port']);
const FLAGS = new Set(['json', 'help', 'local']);
/** The options that name the API, for --room only. */
const TARGET = ['stack', 'api', 'region', 'profile', 'port'];
/** A compact JWS: three base64url parts. A file name never looks like one (it has no second dot-separated base64url part of a JWS's length). */
const COMPACT_JWS = /^[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+$/;

function parseLotteryArgs(argv: readonly string[]): { words: string[]; options: Map<string, string>; flags: Set<string> } {
  const words: string[] = [];
  const options = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      words.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (FLAGS.has(name) && inline === undefined) {
      flags.add(name);
      continue;
    }
    if (!OPTIONS.has(name)) throw new CliError(`Unknown option ${arg} for lottery verify: try waiting-room lottery --help`, EXIT.usage);
    const value = inline ?? argv[++i];
    if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) throw new CliError(`--${name} needs a value`, EXIT.usage);
    options.set(name, value);
  }
  return { words, options, flags };
}

const isUrl = (value: string) => /^https?:\/\//i.test(value);

/** The text of a file, or of an http(s) URL's answer; every failure a CliError (`notFound`: what a 404 means, exit 3). */
async function readSource(source: string, what: string, io: LotteryCliIo, notFound?: string): Promise<string> {
  if (isUrl(source)) {
    const fetchFn = io.fetch ?? (fetch as unknown as FetchLike);
    let answer: Awaited<ReturnType<FetchLike>>;
    try {
      answer = await fetchFn(source, { method: 'GET', headers: { accept: 'application/json' } });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
      throw new CliError(`Cannot fetch the ${what} from ${source}: ${cause}`, EXIT.unreachable);
    }
    if (answer.status === 404 && notFound) throw new CliError(notFound, EXIT.notFound);
    if (answer.status !== 200) throw new CliError(`Cannot fetch the ${what} from ${source}: HTTP ${answer.status}`, EXIT.unreachable);
    return answer.text();
  }
  try {
    return await readFile(source, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw new CliError(`Cannot read the ${what} file ${source}: ${code}`, EXIT.usage);
  }
}

/** Where the publication and the JWKS are read from: as given, or the room's API's (--room). */
async function sourcesOf(
  args: ReturnType<typeof parseLotteryArgs>,
  roomId: string | undefined,
  publication: string | undefined,
  io: LotteryCliIo,
): Promise<{ publication: string; jwks: string | undefined; notFound?: string }> {
  const jwks = args.options.get('jwks');
  const targeted = TARGET.some((name) => args.options.has(name)) || args.flags.has('local');
  if (roomId === undefined) {
    if (targeted) throw new CliError('--stack, --api and --local say where to read --room ID from: give --room ID instead of --publication', EXIT.usage);
    return { publication: publication!, jwks };
  }
  if (!ROOM_ID_PATTERN.test(roomId)) throw new CliError(`${roomId} is not a room id (letters, digits, - and _, up to 64, starting with a letter or digit)`, EXIT.usage);
  const options = new Map<string, string | true>([...args.options, ...(args.flags.has('local') ? [['local', true] as const] : [])]);
  const api = await locateApi({ words: [], options }, { env: io.env ?? {}, ...(io.stackOutputs ? { stackOutputs: io.stackOutputs } : {}) });
  return {
    publication: `${api.baseUrl}/rooms/${roomId}/lottery`,
    jwks: jwks ?? `${api.baseUrl}/.well-known/jwks.json`,
    notFound: `Nothing published for room ${roomId} at ${api.baseUrl} (${api.describe}): no such room, or it has no event`,
  };
}

/** `waiting-room lottery ...` (argv after the word `lottery`). Prints through `io`; returns the exit code. */
export async function runLotteryCli(argv: readonly string[], io: LotteryCliIo): Promise<ExitCode> {
  const json = argv.includes('--json');
  try {
    const args = parseLotteryArgs(argv);
    const [command, ...extra] = args.words;
    if (args.flags.has('help') || command === 'help') {
      io.out(LOTTERY_USAGE);
      return EXIT.ok;
    }
    if (command !== 'verify' || extra.length > 0) {
      throw new CliError(command === undefined ? `lottery needs a command:\n${LOTTERY_USAGE}` : `Unknown command "lottery ${args.words.join(' ')}": try waiting-room lottery --help`, EXIT.usage);
    }
    const receiptArg = args.options.get('receipt');
    const publicationArg = args.options.get('publication');
    const roomId = args.options.get('room');
    if (!receiptArg || (publicationArg === undefined) === (roomId === undefined)) {
      throw new CliError('lottery verify needs --receipt FILE|JWS, and --publication FILE|URL or --room ID with its API (--stack NAME, --api URL or --local)', EXIT.usage);
    }
    const sources = await sourcesOf(args, roomId, publicationArg, io);

    const [receipt, publication, jwks] = await Promise.all([
      COMPACT_JWS.test(receiptArg) ? receiptArg : readSource(receiptArg, 'receipt', io),
      readSource(sources.publication, 'publication', io, sources.notFound),
      sources.jwks === undefined ? undefined : readSource(sources.jwks, 'JWKS', io),
    ]);
    const result = await verifyLotteryTexts({ receipt, publication, jwks });
    if (json) io.out(JSON.stringify(result, null, 2));
    else for (const line of lotteryReport(result)) io.out(line);
    return result.ok ? EXIT.ok : EXIT.failed;
  } catch (error) {
    const failure = error instanceof CliError ? error : new CliError(`Unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, EXIT.failed);
    if (json) io.err(JSON.stringify({ error: { exitCode: failure.exitCode, message: failure.message } }));
    else io.err(`waiting-room: ${failure.message}`);
    return failure.exitCode;
  }
}
