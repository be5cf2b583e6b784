/**
 * Builds the browser assets: bundles the waiting-room page, the admin page, the lottery verifier
 * page and the client library with esbuild (ESM, ES2020, minified, with source maps) into
 * `<outDir>/assets/`, and copies the stylesheet there and the three pages to `<outDir>/`.
 *
 *   npx tsx web/build.ts web/dist
 *
 * The local runtime calls `buildWeb` at start-up and serves `<outDir>`: the pages at
 * /waiting-room.html and /admin.html, the assets under /assets/.
 */
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const WEB_DIR = dirname(fileURLToPath(import.meta.url));

/** Entry points, by output name (`assets/<name>.js`). */
const ENTRY_POINTS = {
  'waiting-room': join(WEB_DIR, 'src', 'waiting-room.ts'),
  admin: join(WEB_DIR, 'src', 'admin.ts'),
  client: join(WEB_DIR, 'src', 'client.ts'),
  'lottery-verifier': join(WEB_DIR, 'src', 'lottery-verifier.ts'),
};

const PAGES = ['waiting-room.html', 'admin.html', 'lottery.html'];

/** Builds into `outDir`; returns the absolute paths written (scripts, source maps, stylesheet, pages). */
export async function buildWeb(outDir: string): Promise<string[]> {
  const root = resolve(outDir);
  const assets = join(root, 'assets');
  await mkdir(assets, { recursive: true });
  const result = await build({
    entryPoints: ENTRY_POINTS,
    outdir: assets,
    bundle: true,
    format: 'esm',
    target: 'es2020',
    platform: 'browser',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
  });
  const written = Object.keys(result.metafile.outputs).map((path) => resolve(path));
  const styles = join(assets, 'styles.css');
  await copyFile(join(WEB_DIR, 'styles.css'), styles);
  written.push(styles);
  for (const page of PAGES) {
    const target = join(root, page);
    await copyFile(join(WEB_DIR, page), target);
    written.push(target);
  }
  return written.sort();
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  const outDir = process.argv[2] ?? join(WEB_DIR, 'dist');
  buildWeb(outDir).then(
    (paths) => {
      for (const path of paths) console.log(path);
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
