/**
 * The waiting page as the gate serves it: under /waiting-room/ of the site's own domain, its
 * assets at /waiting-room/assets/, calling the API at /waiting-room/api (same origin: no CORS, and
 * the pass cookie is first-party).
 *
 * The page is built by web/build.ts, which links its assets from the site root (`/assets/...`) and
 * leaves `data-api-base` empty. Rather than a second build, the built files are staged at synth
 * into a directory of their own, the page rewritten for its place:
 *
 *   <staged>/index.html               waiting-room.html, asset URLs under /waiting-room/assets/,
 *                                     data-api-base="/waiting-room/api"
 *   <staged>/assets/*.js, styles.css  the page's script, the client library (for the site's own
 *                                     pages: README "keep-alive"), the stylesheet; no admin page,
 *                                     no source maps (they name the build machine's paths)
 *
 * The built files come from the installed package (BUILT_PAGES_DIR), or, in the repository, from
 * web/build.ts run once per process (about a second, in a child process: construct code is
 * synchronous and the build is not). The staged copy is kept in the temporary directory under its
 * content hash, so syntheses of the same page share one copy.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BUILT_PAGES_DIR, REPO_ROOT } from '../paths.js';
import { GATE_API_PATH, WAITING_PATH } from './props.js';

/** The built page (web/build.ts) that the gate serves as /waiting-room/index.html. */
export const BUILT_PAGE = 'waiting-room.html';
/** Its name in the bucket, under the waiting-room/ prefix. */
export const GATE_PAGE = 'index.html';
/**
 * Built assets the gate leaves out: the admin page's script (the admin page is not served at the
 * edge), the lottery verifier's (its page is not either: anyone can run it from the package, the
 * CLI or npm start, away from the operator's own servers) and source maps.
 */
export const LEFT_OUT = /^admin\.|^lottery-verifier\.|\.map$/;

/** The built page, rewritten to be served under /waiting-room/ with the API at /waiting-room/api. */
export function gatePageHtml(html: string): string {
  const rewritten = html.replace(/(\s(?:href|src)=")\/assets\//g, `$1${WAITING_PATH}/assets/`);
  if (!/\sdata-api-base="[^"]*"/.test(rewritten)) {
    throw new Error(`The built waiting page has no data-api-base attribute (web/${BUILT_PAGE} changed?): the gate cannot point it at ${GATE_API_PATH}`);
  }
  const result = rewritten.replace(/(\sdata-api-base=")[^"]*"/, `$1${GATE_API_PATH}"`);
  const stray = /\s(?:href|src)="\/assets\//.exec(result);
  if (stray) throw new Error(`The built waiting page still links ${stray[0].trim()}... from the site root after the rewrite`);
  return result;
}

/** A built script without its source-map comment (the maps are not deployed). */
export function withoutSourceMapComment(code: string): string {
  return code.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

/** Where staged pages are kept, one directory per content hash (so repeated syntheses reuse it and leave nothing behind). */
const STAGING_ROOT = path.join(tmpdir(), 'waiting-room-gate');

/** The built pages of the package, or undefined in the repository. */
function packagedPagesDir(): string | undefined {
  const packaged = path.join(REPO_ROOT, BUILT_PAGES_DIR);
  return existsSync(path.join(packaged, BUILT_PAGE)) ? packaged : undefined;
}

/** Runs web/build.ts into a fresh directory (the caller removes it). */
function buildPages(): string {
  const script = path.join(REPO_ROOT, 'web', 'build.ts');
  if (!existsSync(script)) throw new Error(`No built waiting page: neither ${path.join(REPO_ROOT, BUILT_PAGES_DIR, BUILT_PAGE)} nor ${script} exists`);
  mkdirSync(STAGING_ROOT, { recursive: true });
  const out = mkdtempSync(path.join(STAGING_ROOT, 'build-'));
  const result = spawnSync(process.execPath, ['--import', 'tsx', script, out], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) {
    rmSync(out, { recursive: true, force: true });
    throw new Error(`Building the waiting page (node --import tsx web/build.ts) failed (exit ${String(result.status ?? result.signal)}):\n${result.stderr || String(result.error ?? '')}`);
  }
  return out;
}

/** The files the gate deploys from a directory laid out like web/build.ts's output, by relative path. */
function gateFiles(sourceDir: string): Map<string, Buffer> {
  const page = path.join(sourceDir, BUILT_PAGE);
  if (!existsSync(page)) throw new Error(`${sourceDir} has no ${BUILT_PAGE} (expected web/build.ts's output: ${BUILT_PAGE} and assets/)`);
  const files = new Map<string, Buffer>([[GATE_PAGE, Buffer.from(gatePageHtml(readFileSync(page, 'utf8')))]]);
  const assets = path.join(sourceDir, 'assets');
  for (const name of existsSync(assets) ? readdirSync(assets).sort() : []) {
    if (LEFT_OUT.test(name) || name.startsWith('.')) continue;
    const content = readFileSync(path.join(assets, name));
    files.set(`assets/${name}`, name.endsWith('.js') ? Buffer.from(withoutSourceMapComment(content.toString('utf8'))) : content);
  }
  return files;
}

/** Writes the files into STAGING_ROOT/page-<hash> unless an identical copy is there; returns that directory. */
function writeStaged(files: Map<string, Buffer>): string {
  const hash = createHash('sha256');
  for (const [name, content] of files) hash.update(name).update('\0').update(content).update('\0');
  const target = path.join(STAGING_ROOT, `page-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(path.join(target, GATE_PAGE))) return target;
  mkdirSync(STAGING_ROOT, { recursive: true });
  const scratch = mkdtempSync(path.join(STAGING_ROOT, 'staging-'));
  for (const [name, content] of files) {
    mkdirSync(path.dirname(path.join(scratch, name)), { recursive: true });
    writeFileSync(path.join(scratch, name), content);
  }
  try {
    renameSync(scratch, target);
  } catch {
    // Another synthesis staged the same content first.
    rmSync(scratch, { recursive: true, force: true });
  }
  return target;
}

const staged = new Map<string, string>();

/**
 * Stages the page for the gate (from `sourceDir`, laid out like web/build.ts's output; by default
 * the package's built pages, or a build made now and removed once staged); returns the directory.
 */
export function stageWaitingPage(sourceDir?: string): string {
  const from = sourceDir ?? packagedPagesDir();
  const key = from ?? '<web/build.ts>';
  const known = staged.get(key);
  if (known) return known;
  let dir: string;
  if (from) {
    dir = writeStaged(gateFiles(from));
  } else {
    const built = buildPages();
    try {
      dir = writeStaged(gateFiles(built));
    } finally {
      rmSync(built, { recursive: true, force: true });
    }
  }
  staged.set(key, dir);
  return dir;
}
