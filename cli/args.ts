/**
 * The CLI's command line: words (the command and its operands) and options (`--name value`,
 * `--name=value`, or a flag alone). Which options take a value is declared, so that a flag never
 * swallows the word after it.
 */
import { CliError, EXIT } from './errors.js';

export interface ParsedArgs {
  words: string[];
  options: Map<string, string | true>;
}

/** Options that take a value; any other option is a flag. */
const VALUED = new Set(['api', 'stack', 'region', 'profile', 'capacity', 'state', 'mode', 'rate', 'message', 'event', 'prequeue-start', 'start', 'end', 'at-end', 'every', 'count', 'port', 'listen', 'peek']);

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const words: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      words.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (!/^[a-z][a-z-]*$/.test(name)) throw new CliError(`Unknown option ${arg}`, EXIT.usage);
    if (!VALUED.has(name)) {
      if (inline !== undefined) throw new CliError(`--${name} takes no value`, EXIT.usage);
      options.set(name, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new CliError(`--${name} needs a value`, EXIT.usage);
    options.set(name, value);
  }
  return { words, options };
}

/** A valued option as a string, or undefined. */
export function option(args: ParsedArgs, name: string): string | undefined {
  const value = args.options.get(name);
  return typeof value === 'string' ? value : undefined;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.options.get(name) === true;
}

/** A whole number option within bounds, or undefined when absent. */
export function integerOption(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const raw = option(args, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new CliError(`--${name} must be a whole number from ${min} to ${max} (got ${raw})`, EXIT.usage);
  return value;
}
