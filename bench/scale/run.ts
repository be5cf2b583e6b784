/**
 * `npm run bench:scale`: the scale model of issue 8 (DESIGN §6 "At scale").
 *
 *   npm run bench:scale                  full run: the 1M-visitor drop and the rest, a few minutes
 *   npm run bench:scale -- --quick       scaled down (50,000 visitors), well under a minute
 *   npm run bench:scale -- --calibrate   the model against the local runtime (calibrate.ts)
 *
 * The scenarios run in two worker processes side by side (the drop in one, everything else in the
 * other), each with a large heap and young generation: a million visitors, their tokens and
 * their pending events take a few GB, and most objects die young. The report is printed here; its
 * last line is one JSON object with the figures.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { figuresOf, report } from './report.js';
import type { DropJobResult, OthersJobResult } from './worker.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const NODE_FLAGS = ['--max-old-space-size=12000', '--max-semi-space-size=256', '--import', 'tsx'];

function worker(job: 'drop' | 'others', quick: boolean): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, path.join(here, 'worker.ts'), job, ...(quick ? ['--quick'] : [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'SILENT' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`worker ${job} failed (exit ${code}):\n${stderr.slice(-3000)}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)));
    });
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--calibrate')) {
    const { calibrate } = await import('./calibrate.js');
    process.exitCode = await calibrate({ short: args.includes('--short') });
    return;
  }
  const quick = args.includes('--quick');
  const started = Date.now();
  process.stderr.write(`bench:scale (${quick ? 'quick' : 'full'}): two workers, one per core\n`);
  const [dropJob, others] = (await Promise.all([worker('drop', quick), worker('others', quick)])) as [DropJobResult, OthersJobResult];
  const wallSeconds = (Date.now() - started) / 1000;
  const figures = figuresOf(dropJob, others, quick);
  console.log(report(dropJob, others, figures, wallSeconds));
  console.log(JSON.stringify(figures));
}

await main();
