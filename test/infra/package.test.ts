/**
 * The installable construct: `npm pack` makes a package that a fresh CDK app installs and
 * synthesizes. The app is the README's ("In your own CDK app": its cdk.json and `bin/app.mjs`),
 * written to a temporary directory with the tarball, aws-cdk-lib, constructs and the CDK CLI at
 * this repository's versions, installed from the npm cache where it can (network allowed), and
 * synthesized with its own `npx cdk synth`. Its functions' bundles are checked against the ones
 * NodejsFunction makes in this repository. Slow (a build, an install, two synths): a minute or two.
 * Independent steps overlap, each on a core of its own: the repository's bundled synth runs while
 * `npm pack` builds, and the consumer's type check while the app synthesizes.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRY_METADATA, PREBUNDLED_FUNCTIONS_DIR, REPO_ROOT } from '../../lib/paths.js';
import { synthWaitingRoom } from '../helpers/synth.js';

const MINUTE = 60_000;
const STACK = 'ShopWaitingRoom';
const work = mkdtempSync(path.join(tmpdir(), 'wr-package-'));
const appDir = path.join(work, 'app');
const cdkOut = path.join(appDir, 'cdk.out');

type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };
let template: { Resources: Record<string, Resource>; Outputs?: Record<string, unknown> };
/** The repository's own stack, bundled by NodejsFunction (synthesized while `npm pack` builds). */
let repository: ReturnType<typeof synthWaitingRoom> | undefined;
/** The consumer's type check, started beside the app's synth: its error, if it failed. */
let typeCheck: Promise<Error | undefined>;

/** Runs a command to completion, printing how long it took; its stdout. */
async function run(label: string, file: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  const started = Date.now();
  console.log(`package test: ${label}...`);
  const { stdout } = await promisify(execFile)(file, args, {
    cwd,
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true' },
  }).catch((error: unknown) => {
    const { stdout: out, stderr: err } = error as { stdout?: string; stderr?: string };
    throw new Error(`${label} failed: ${(error as Error).message}\n${out ?? ''}\n${err ?? ''}`.trim());
  });
  console.log(`package test: ${label} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return stdout;
}

/** The README's app: its cdk.json (the `echo ... > cdk.json` line) and bin/app.mjs (the js block that starts `// bin/app.mjs`). */
function readmeApp(): { cdkJson: string; appMjs: string } {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const cdkJson = /^echo '(.+)' > cdk\.json$/m.exec(readme)?.[1];
  const appMjs = /^```js\n(\/\/ bin\/app\.mjs\n[\s\S]*?)^```$/m.exec(readme)?.[1];
  if (!cdkJson || !appMjs) throw new Error('README.md has no "In your own CDK app" example (a cdk.json line and a js block starting `// bin/app.mjs`)');
  return { cdkJson, appMjs };
}

/** Every file under a directory. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

beforeAll(async () => {
  const repo = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  // prepack builds dist/ (scripts/build-package.ts), as on a clean clone. Meanwhile (the build is
  // mostly tsc, on one core) the repository's stack is synthesized with NodejsFunction's bundling,
  // in this process: the two builds read the same sources and write to different places.
  const packed = run('npm pack (build included)', 'npm', ['pack', '--pack-destination', work], REPO_ROOT, 4 * MINUTE);
  packed.catch(() => undefined); // awaited below; a failure must not pass for an unhandled rejection meanwhile
  const synthStarted = Date.now();
  try {
    repository = synthWaitingRoom();
  } finally {
    console.log(`package test: the repository's bundled synth in ${((Date.now() - synthStarted) / 1000).toFixed(1)} s (beside npm pack)`);
  }
  await packed;
  const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball to ${work}`);

  const { cdkJson, appMjs } = readmeApp();
  mkdirSync(path.join(appDir, 'bin'), { recursive: true });
  writeFileSync(path.join(appDir, 'cdk.json'), `${cdkJson}\n`);
  writeFileSync(path.join(appDir, 'bin', 'app.mjs'), appMjs);
  const dependencies = {
    'serverless-waiting-room': `file:${path.join(work, tarball)}`,
    ...Object.fromEntries(['aws-cdk-lib', 'constructs', 'aws-cdk'].map((name) => [name, repo.devDependencies[name]])),
  };
  writeFileSync(path.join(appDir, 'package.json'), `${JSON.stringify({ name: 'shop-app', private: true, type: 'module', dependencies }, null, 2)}\n`);

  await run('npm install into a fresh app', 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], appDir, 5 * MINUTE);
  // The consumer's type check needs only the installed package: it runs beside the app's synth
  // (its file is outside bin/, and cdk.out holds only what the app writes), and its test awaits it.
  typeCheck = typeCheckConsumer().then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
  await run('npx cdk synth', 'npx', ['--no', 'cdk', 'synth', '--quiet', '--no-notices'], appDir, 3 * MINUTE);
  template = JSON.parse(readFileSync(path.join(cdkOut, `${STACK}.template.json`), 'utf8')) as typeof template;
}, 12 * MINUTE);

afterAll(async () => {
  await typeCheck; // never remove the app under a running tsc
  if (repository) rmSync(repository.outdir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

/** tsc over a consumer of the installed package: the props are readonly, the declarations behind the exports map. */
async function typeCheckConsumer(): Promise<void> {
  writeFileSync(
    path.join(appDir, 'check.ts'),
    [
      "import { App, Stack } from 'aws-cdk-lib';",
      "import { WaitingRoom, type WaitingRoomProps } from 'serverless-waiting-room';",
      "import { verifyPass } from 'serverless-waiting-room/verifier';",
      "const props: WaitingRoomProps = { adminEmail: 'ops@example.com', rooms: [{ roomId: 'shop', capacity: 200 }] };",
      '// @ts-expect-error: props are readonly',
      "props.adminEmail = 'other@example.com';",
      "export const jwksUrl: string = new WaitingRoom(new Stack(new App(), 'S'), 'Room', props).jwksUrl;",
      'export const verify: typeof verifyPass = verifyPass;',
      '',
    ].join('\n'),
  );
  const options = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];
  await run('tsc over a consumer', process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), ...options, 'check.ts'], appDir, 2 * MINUTE);
}

describe('the installable construct', () => {
  it('synthesizes the README app: each function deploys its pre-bundled handler as an asset, with the same settings', () => {
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[ENTRY_METADATA]);
    const handlers = new Set(readdirSync(path.join(REPO_ROOT, 'lambdas', 'handlers')).map((file) => `lambdas/handlers/${file}`));
    expect(functions.length).toBeGreaterThanOrEqual(12);
    for (const f of functions) {
      expect(handlers, 'a handler of this repository').toContain(f.Metadata![ENTRY_METADATA]);
      expect(f.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
      expect((f.Properties.Code as { S3Key: unknown }).S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
      const asset = path.join(cdkOut, String(f.Metadata!['aws:asset:path']));
      expect(readdirSync(asset).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    }
    expect(template.Outputs).toHaveProperty('ApiUrl');
  });

  it('synthesizes the README app\'s gate from the package: the gate function with its configuration, and the built waiting page deployed', () => {
    const gateFunctions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudFront::Function');
    const code = gateFunctions.map((f) => String((f.Properties.FunctionCode as string | undefined) ?? '')).find((c) => c.includes('const CONFIG'));
    expect(code, 'the gate function, configured').toBeDefined();
    expect(code).toContain('"roomId":"shop"');
    expect(Object.values(template.Resources).some((r) => r.Type === 'Custom::CDKBucketDeployment')).toBe(true);
    expect(template.Outputs).toHaveProperty('GateUrl');
    // The deployed page is the real one (the package's prebuilt pages), rewritten for /waiting-room/.
    const page = readdirSync(cdkOut, { recursive: true, encoding: 'utf8' }).find((file) => file.endsWith(`${path.sep}index.html`) && readFileSync(path.join(cdkOut, file), 'utf8').includes('data-api-base="/waiting-room/api"'));
    expect(page, 'index.html of the waiting page in an asset').toBeDefined();
  });

  it('ships the very bundles that NodejsFunction makes in this repository', () => {
    const { template: synthesized, outdir } = repository!;
    const ours = Object.values(synthesized.findResources('AWS::Lambda::Function') as Record<string, Resource>).filter((f) => f.Metadata?.[ENTRY_METADATA]);
    expect(ours.length).toBeGreaterThanOrEqual(12);
    for (const f of ours) {
      const handler = path.basename(String(f.Metadata![ENTRY_METADATA]), '.ts');
      // A plain App writes no asset metadata: the staged asset is named after its hash, the S3 key's.
      const hash = String((f.Properties.Code as { S3Key: unknown }).S3Key).replace(/\.zip$/, '');
      const bundled = readFileSync(path.join(outdir, `asset.${hash}`, 'index.mjs'));
      const prebundled = readFileSync(path.join(REPO_ROOT, 'dist', PREBUNDLED_FUNCTIONS_DIR, handler, 'index.mjs'));
      expect(prebundled.equals(bundled), `dist/${PREBUNDLED_FUNCTIONS_DIR}/${handler}/index.mjs`).toBe(true);
    }
  });

  it('refers to nothing in this repository: the cloud assembly holds no path of it', () => {
    const mentions = filesUnder(cdkOut).filter((file) => readFileSync(file, 'utf8').includes(REPO_ROOT));
    expect(mentions.map((file) => path.relative(cdkOut, file))).toEqual([]);
  });

  it('types the props as readonly, with declarations behind the exports map', async () => {
    const failed = await typeCheck;
    if (failed) throw failed;
  });

  it('exports the origin pass verifier', async () => {
    const script = "const v = await import('serverless-waiting-room/verifier'); console.log(Object.keys(v).sort().join(' '));";
    const exported = await run('import the verifier', process.execPath, ['--input-type=module', '-e', script], appDir, MINUTE);
    expect(exported.trim().split(' ')).toEqual(expect.arrayContaining(['PassRejectedError', 'passFromHeaders', 'verifyPass']));
  });

  it('installs the operator CLI as the waiting-room command', async () => {
    const help = await run('waiting-room --help', path.join(appDir, 'node_modules', '.bin', 'waiting-room'), ['--help'], appDir, MINUTE);
    expect(help).toContain('Usage: waiting-room <command>');
  });
});
