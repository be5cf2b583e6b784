/**
 * The package build: `npm run build:package`, and `npm pack` / `npm publish` through `prepack`.
 * Writes what a CDK app that installs this package needs, into dist/ (never committed):
 *
 *   dist/lib, dist/verifier, dist/bin, ...  compiled by tsc (tsconfig.build.json), with declarations
 *   dist/functions/<handler>/index.mjs      each handler of lambdas/handlers, bundled by esbuild with
 *                                           the options NodejsFunction bundles it with in the repository
 *                                           (HANDLER_BUNDLING); the constructs deploy these as they are
 *   dist/pages/                             the waiting-room and admin pages (web/build.ts), for the CLI's
 *                                           console and for your site
 *   dist/openapi.json                       the API's OpenAPI document (lambdas/api/document.ts)
 *   dist/edge/*.js                          the CloudFront Functions' code that lib/gate reads at synth
 *                                           (edge/*.js, plain JavaScript: copied as it is)
 *
 * Then checks what the package would need at run time: the compiled code may import only Node's
 * built-ins, `dependencies` and `peerDependencies`, and a bundle only Node's built-ins. Exits 1,
 * saying what is wrong, otherwise.
 */
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { openApiDocument } from '../lambdas/api/document.js';
import { HANDLER_BUNDLING } from '../lib/constructs/function.js';
import { BUILT_PAGES_DIR, PREBUNDLED_FUNCTIONS_DIR, REPO_ROOT } from '../lib/paths.js';
import { buildWeb } from '../web/build.js';

const DIST = path.join(REPO_ROOT, 'dist');
const HANDLERS_DIR = path.join(REPO_ROOT, 'lambdas', 'handlers');
const EDGE_DIR = path.join(REPO_ROOT, 'edge');
/** The package's entry points once compiled (package.json `exports` and `bin`). */
const ENTRY_POINTS = ['lib/index.js', 'verifier/index.js', 'bin/waiting-room.js'];
/** Imports of the compiled code that only the repository follows: web/build.js runs when no pages are built (local/web-assets.ts). */
const REPOSITORY_ONLY = ['*/web/build.js'];

/** HANDLER_BUNDLING in esbuild's terms, as NodejsFunction passes it to esbuild's command line. */
const HANDLER_BUILD_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: HANDLER_BUNDLING.format === OutputFormat.ESM ? 'esm' : 'cjs',
  target: HANDLER_BUNDLING.target,
  minify: HANDLER_BUNDLING.minify,
  sourcemap: HANDLER_BUNDLING.sourceMap,
  sourcesContent: HANDLER_BUNDLING.sourcesContent,
  mainFields: HANDLER_BUNDLING.mainFields,
  external: HANDLER_BUNDLING.externalModules,
  banner: { js: HANDLER_BUNDLING.banner },
  logLevel: 'warning',
};

/** The package an import names (`@scope/name` or `name`), or undefined for a relative path. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  return specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
}

/** The imports that esbuild left out of a build, with the file that makes each. */
function externalImports(metafile: Metafile): { from: string; specifier: string }[] {
  return Object.entries(metafile.inputs).flatMap(([from, input]) =>
    input.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => ({ from, specifier: i.path })),
  );
}

/** Copies the edge functions' JavaScript (edge/*.js) to dist/edge/, where lib/gate finds it once installed. */
async function copyEdgeCode(): Promise<void> {
  // Only the gate reads edge/; a tree without the gate has none.
  if (!existsSync(EDGE_DIR)) return;
  await mkdir(path.join(DIST, 'edge'), { recursive: true });
  for (const file of (await readdir(EDGE_DIR)).filter((name) => name.endsWith('.js'))) {
    await copyFile(path.join(EDGE_DIR, file), path.join(DIST, 'edge', file));
  }
}

function compile(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(REPO_ROOT, 'tsconfig.build.json')], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${String(result.status ?? result.signal)})`);
}

/** Bundles every handler into dist/functions/<handler>/; returns the problems (imports a bundle would need at run time). */
async function bundleHandlers(): Promise<string[]> {
  const handlers = (await readdir(HANDLERS_DIR)).filter((file) => file.endsWith('.ts')).map((file) => file.slice(0, -'.ts'.length));
  const problems = await Promise.all(
    handlers.map(async (handler) => {
      const { metafile } = await build({
        ...HANDLER_BUILD_OPTIONS,
        entryPoints: [path.join(HANDLERS_DIR, `${handler}.ts`)],
        outfile: path.join(DIST, PREBUNDLED_FUNCTIONS_DIR, handler, 'index.mjs'),
        absWorkingDir: REPO_ROOT,
        metafile: true,
      });
      return externalImports(metafile).map(({ specifier }) => `the ${handler} bundle imports ${specifier}: a function's bundle may import only Node's built-ins`);
    }),
  );
  return problems.flat();
}

/** The packages that the compiled entry points import and the package does not declare. */
async function undeclaredImports(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
  const { metafile } = await build({
    entryPoints: ENTRY_POINTS.map((entry) => path.join(DIST, entry)),
    outdir: path.join(DIST, '.imports-check'),
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    external: REPOSITORY_ONLY,
    metafile: true,
    logLevel: 'silent',
  });
  return externalImports(metafile)
    .filter(({ specifier }) => !REPOSITORY_ONLY.some((pattern) => specifier.endsWith(pattern.slice(1))))
    .filter(({ specifier }) => !declared.has(packageOf(specifier) ?? specifier))
    .map(({ from, specifier }) => `${from} imports ${specifier}, which is in neither dependencies nor peerDependencies of package.json`);
}

async function main(): Promise<void> {
  const started = Date.now();
  await rm(DIST, { recursive: true, force: true });
  compile();
  await chmod(path.join(DIST, 'bin', 'waiting-room.js'), 0o755);
  const bundleProblems = await bundleHandlers();
  await buildWeb(path.join(DIST, BUILT_PAGES_DIR));
  await writeFile(path.join(DIST, 'openapi.json'), `${JSON.stringify(openApiDocument(), null, 2)}\n`);
  await copyEdgeCode();
  const problems = [...bundleProblems, ...(await undeclaredImports())];
  if (problems.length > 0) throw new Error(`The package would not work once installed:\n- ${[...new Set(problems)].join('\n- ')}`);
  console.log(`Package built in dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
