#!/usr/bin/env node
/** The operator's CLI: `npm run cli -- rooms list --local` (cli/main.ts says what it does). */
import { runCli } from '../cli/main.js';

let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  // A second Ctrl-C ends at once.
  process.once('SIGINT', () => process.exit(130));
});

const code = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  stopped: () => interrupted,
});
process.exitCode = code;
