/**
 * Runs one group of scenarios in its own process and prints its results as one JSON line
 * (`RESULT {...}`): run.ts starts two of these side by side, one per core, so that the drop (the
 * longest) and everything else take the time of the longer of the two. Progress goes to stderr.
 *
 *   node --import tsx bench/scale/worker.ts drop|others [--quick]
 */
import {
  FULL_ADMISSIONS,
  FULL_CEILINGS,
  QUICK_ADMISSIONS,
  QUICK_CEILINGS,
  measureAdmissionCeiling,
  measureJoinCeiling,
  type AdmissionCeiling,
  type JoinCeiling,
} from './scenarios/ceilings.js';
import { FULL_COST_PROFILE, QUICK_COST_PROFILE, runCostProfile, type CostProfileResult } from './scenarios/cost-profile.js';
import { FULL_DROP_START, QUICK_DROP_START, runDropStart, type DropStartResult } from './scenarios/drop-start.js';
import { FULL_DROP, QUICK_DROP, runDrop, type DropResult } from './scenarios/drop.js';
import { runIdleMonth, type IdleResult } from './scenarios/idle.js';

export type WorkerJob = 'drop' | 'others';
type Timed<T> = T & { wallSeconds: number };

export interface DropJobResult {
  drop: Timed<DropResult>;
}

export interface OthersJobResult {
  idle: Timed<IdleResult>;
  costProfile: Timed<CostProfileResult>;
  joins: Timed<JoinCeiling>;
  admissions: Timed<AdmissionCeiling>;
  dropStart: Timed<DropStartResult>[];
}

const started = Date.now();
const progress = (what: string) => process.stderr.write(`  [${((Date.now() - started) / 1000).toFixed(0)} s] ${what}\n`);

async function timed<T>(what: string, work: () => Promise<T>): Promise<Timed<T>> {
  progress(`${what}…`);
  const t = Date.now();
  const result = await work();
  const wallSeconds = (Date.now() - t) / 1000;
  progress(`${what} done in ${wallSeconds.toFixed(0)} s`);
  return { ...result, wallSeconds };
}

async function dropJob(quick: boolean): Promise<DropJobResult> {
  const options = quick ? QUICK_DROP : FULL_DROP;
  return { drop: await timed(`(a) drop of ${options.visitors.toLocaleString('en-US')} visitors`, () => runDrop(options, (line) => progress(`  (a) ${line}`))) };
}

async function othersJob(quick: boolean): Promise<OthersJobResult> {
  const idle = await timed('(c) idle month', () => runIdleMonth());
  const costProfile = await timed('(b) cost profile', () => runCostProfile(quick ? QUICK_COST_PROFILE : FULL_COST_PROFILE));
  const joins = await timed('join ceiling ladder', () => measureJoinCeiling(quick ? QUICK_CEILINGS : FULL_CEILINGS));
  const admissions = await timed('admission ceiling', () => measureAdmissionCeiling(quick ? QUICK_ADMISSIONS : FULL_ADMISSIONS));
  const dropStart: Timed<DropStartResult>[] = [];
  for (const size of quick ? QUICK_DROP_START : FULL_DROP_START) {
    dropStart.push(await timed(`drop into an empty room, ${size.visitors.toLocaleString('en-US')} visitors`, () => runDropStart(size)));
  }
  return { idle, costProfile, joins, admissions, dropStart };
}

const job = process.argv[2];
if (job === 'drop' || job === 'others') {
  const quick = process.argv.includes('--quick');
  const result = job === 'drop' ? await dropJob(quick) : await othersJob(quick);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}
