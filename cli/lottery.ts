/**
 * `waiting-room lottery verify`: checks a visitor's lottery place (verifier/LOTTERY.md) from their
 * receipt, the room's publication and, optionally, the room's JWKS. No target and no credentials:
 * everything it reads is public, or the visitor's own.
 *
 *   waiting-room lottery verify --receipt FILE|JWS --publication FILE|URL [--jwks FILE|URL] [--json]
 *
 * Prints the place, the commitment check and the list check (`lotteryReport`, the lines the
 * verifier page shows). Exit codes: 0 confirmed, 1 the check found a problem (as a failed
 * `gpg --verify` does), 2 bad usage or a file that cannot be read, 5 a URL that cannot be fetched.
 *
 * It parses its own options: cli/args.ts declares the valued options of the other commands only.
 */
import { readFile } from 'node:fs/promises';
import { lotteryReport, verifyLotteryTexts } from '../lambdas/domain/lottery-verify.js';
import type { FetchLike } from './admin-api.js';
import { CliError, EXIT, type ExitCode } from './errors.js';

export const LOTTERY_USAGE = `Usage: waiting-room lottery verify --receipt FILE|JWS --publication FILE|URL [--jwks FILE|URL] [--json]

Checks that a place in an event's lottery follows from the revealed seed and the published list:
  --receipt      the visitor's signed receipt: a file holding it, or the receipt itself
  --publication  the room's lottery publication (JSON): a file, or an http(s) URL
  --jwks         the room's public keys (GET /.well-known/jwks.json): a file or a URL. Without it the
                 receipt's signature is NOT checked, and a warning says so
  --json         the result as JSON

What is hashed, and how to redo each step by hand: verifier/LOTTERY.md.
Exit codes: 0 confirmed, 1 a problem found, 2 bad usage or unreadable file, 5 URL unreachable.`;

export interface LotteryCliIo {
  out(line: string): void;
  err(line: string): void;
  fetch?: FetchLike;
}

const OPTIONS = new Set(['receipt', 'publication', 'jwks']);
const FLAGS = new Set(['json', 'help']);
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

/** The text of a file, or of an http(s) URL's answer; every failure a CliError. */
async function readSource(source: string, what: string, io: LotteryCliIo): Promise<string> {
  if (isUrl(source)) {
    const fetchFn = io.fetch ?? (fetch as unknown as FetchLike);
    let answer: Awaited<ReturnType<FetchLike>>;
    try {
      answer = await fetchFn(source, { method: 'GET', headers: { accept: 'application/json' } });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
      throw new CliError(`Cannot fetch the ${what} from ${source}: ${cause}`, EXIT.unreachable);
    }
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
    const jwksArg = args.options.get('jwks');
    if (!receiptArg || !publicationArg) throw new CliError('lottery verify needs --receipt FILE|JWS and --publication FILE|URL', EXIT.usage);

    const [receipt, publication, jwks] = await Promise.all([
      COMPACT_JWS.test(receiptArg) ? receiptArg : readSource(receiptArg, 'receipt', io),
      readSource(publicationArg, 'publication', io),
      jwksArg === undefined ? undefined : readSource(jwksArg, 'JWKS', io),
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
