/**
 * `npm run bench`: each scenario in its own process, against its own local runtime (DynamoDB
 * Local + fauxqs), then one table. Load generator and runtime share a process, as the emulator
 * and Node share this machine's cores: the absolute numbers describe this laptop-scale setup, the
 * ratio to raw PutItem is what carries over.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const names = ['raw-putitem', 'join', 'heartbeat', 'leave-to-admission', 'eviction-to-admission', 'cleanup'];
const results: Record<string, Record<string, unknown>> = {};
for (const name of names) {
  process.stdout.write(`running ${name}... `);
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'scenarios.ts'), name], {
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR' },
    timeout: 600_000,
  });
  const line = run.stdout.split('\n').find((l) => l.startsWith('{"scenario"'));
  if (run.status !== 0 || !line) {
    console.log('failed');
    console.error(run.stderr.slice(-2000));
    process.exit(1);
  }
  results[name] = JSON.parse(line) as Record<string, unknown>;
  console.log('done');
}

const rate = (name: string) => Number(results[name]!.perSecond);
const ms = (name: string) => results[name]!.ms as { median: number; p99: number };
const raw = rate('raw-putitem');
console.log(`\nWaiting-room benchmark · ${os.cpus().length} cores · Node ${process.version} · ${new Date().toISOString()}`);
console.table({
  'raw PutItem (emulator)': { 'per second': raw.toFixed(0), 'vs raw PutItem': '1.00', median: '', p99: '' },
  'join (HTTP)': { 'per second': rate('join').toFixed(0), 'vs raw PutItem': (rate('join') / raw).toFixed(2), median: '', p99: '' },
  'heartbeat (HTTP)': { 'per second': rate('heartbeat').toFixed(0), 'vs raw PutItem': (rate('heartbeat') / raw).toFixed(2), median: '', p99: '' },
  'leave → next admitted': { 'per second': '', 'vs raw PutItem': '', median: `${ms('leave-to-admission').median} ms`, p99: `${ms('leave-to-admission').p99} ms` },
  'silence timeout → next admitted': {
    'per second': '',
    'vs raw PutItem': '',
    median: `${ms('eviction-to-admission').median} ms`,
    p99: `${ms('eviction-to-admission').p99} ms`,
  },
  '1,000 silent tokens joined and removed': {
    'per second': rate('cleanup').toFixed(0),
    'vs raw PutItem': (rate('cleanup') / raw).toFixed(2),
    median: `last +${Number(results.cleanup!.lagSeconds).toFixed(1)} s`,
    p99: '',
  },
});
console.log('A join costs one PutItem, plus a ticket-block ADD and a room view read at most once per block and per second; a heartbeat one conditional touch (room view cached a second);');
console.log('The last of 1,000 silent tokens (timeout 2 s) is removed the shown time after its deadline: how far the check loop lags behind a burst.');
console.log('eviction latency is measured from the moment the silence reaches the timeout, so it includes up to one check delay (1 s here).');
