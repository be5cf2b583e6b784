/**
 * The local runtime's synth cache. Every start synthesizes the same stack `cdk deploy` deploys
 * (local/template.ts); loading aws-cdk-lib's constructs and synthesizing take 5-15 s on two cores,
 * paid again by every `npm start` and by each integration test file. The template is a function of
 * the props and of the sources that build it, so it is kept under a key that hashes both: the props
 * as JSON, and the content of every file under the folders the stack is built from (lib, lambdas,
 * edge, web) with the lock file. A change to any of them is a new key; entries beyond the newest
 * MAX_ENTRIES are removed. Props that are not plain data (a construct, a token) are never cached.
 * WR_SYNTH_CACHE=off turns the cache off.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../lib/paths.js';
import type { CfnTemplate } from './template.js';

/** The folders (and files) of REPO_ROOT whose content the template depends on. */
export const TEMPLATE_SOURCES = ['lib', 'lambdas', 'edge', 'web', 'package.json', 'package-lock.json'];

const MAX_ENTRIES = 24;

export function templateCacheDir(): string {
  return path.join(tmpdir(), `wr-synth-cache-${userInfo().uid}`);
}

/** The template for `props`: from the cache when its key is there, else from `synth` (given a scratch folder), then kept. */
export async function cachedTemplate(props: unknown, synth: (outdir: string) => Promise<CfnTemplate>, dir = templateCacheDir()): Promise<CfnTemplate> {
  const key = process.env.WR_SYNTH_CACHE === 'off' ? undefined : cacheKey(props);
  const file = key ? path.join(dir, `${key}.json`) : undefined;
  if (file && existsSync(file)) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate;
    } catch {
      // A torn or foreign file: synthesize again and replace it.
    }
  }
  const outdir = mkdtempSync(path.join(tmpdir(), 'wr-local-synth-'));
  let template: CfnTemplate;
  try {
    template = await synth(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  if (file) keep(dir, file, template);
  return template;
}

/** The cache key of props with the current sources, or undefined when the props are not plain data. */
export function cacheKey(props: unknown, root = REPO_ROOT): string | undefined {
  const json = plainJson(props);
  if (json === undefined) return undefined;
  const hash = createHash('sha256').update(json).update('\0');
  for (const file of sourceFiles(root)) hash.update(path.relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex').slice(0, 40);
}

/** Classes of aws-cdk-lib whose instances are plain data, serialized by JSON.stringify in full. */
const DATA_CLASSES = new Set(['Duration', 'TimeUnit']);

function plainJson(value: unknown): string | undefined {
  let plain = true;
  const json = JSON.stringify(value, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const proto = Object.getPrototypeOf(v) as object | null;
      // Plain objects, and CDK's Duration (an amount and a TimeUnit are all it holds).
      if (proto !== Object.prototype && proto !== null && !DATA_CLASSES.has(proto.constructor?.name)) plain = false;
    }
    if (typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') plain = false;
    if (typeof v === 'string' && v.includes('${Token[')) plain = false;
    return v;
  });
  return plain ? json : undefined;
}

function sourceFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (at: string) => {
    if (!existsSync(at)) return;
    if (statSync(at).isFile()) {
      files.push(at);
      return;
    }
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      walk(path.join(at, entry.name));
    }
  };
  for (const source of TEMPLATE_SOURCES) walk(path.join(root, source));
  return files;
}

function keep(dir: string, file: string, template: CfnTemplate): void {
  try {
    mkdirSync(dir, { recursive: true });
    // Written aside and renamed: a concurrent start reads the whole file or none.
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify(template));
    renameSync(partial, file);
    const entries = readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .map((name) => ({ name, at: statSync(path.join(dir, name)).mtimeMs }))
      .sort((a, b) => b.at - a.at);
    for (const old of entries.slice(MAX_ENTRIES)) rmSync(path.join(dir, old.name), { force: true });
  } catch {
    // The cache is an optimisation: a start never fails because of it.
  }
}
