/** Synthesizes the waiting-room stack for infrastructure tests, with cdk-nag's AwsSolutions checks. */
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { WaitingRoomStack } from '../../lib/waiting-room-stack.js';
import type { WaitingRoomProps } from '../../lib/waiting-room.js';

export interface Synthesized {
  stack: WaitingRoomStack;
  template: Template;
  outdir: string;
}

export interface NagViolation {
  ruleName: string;
  paths: string[];
}

/** The violations cdk-nag wrote to the validation report, if synthesis failed on them. */
export function nagViolations(outdir: string): NagViolation[] {
  const file = path.join(outdir, 'validation-report.json');
  if (!existsSync(file)) return [];
  const report = JSON.parse(readFileSync(file, 'utf8')) as {
    pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
  };
  return report.pluginReports.flatMap((r) =>
    r.violations.map((v) => ({ ruleName: v.ruleName, paths: v.violatingConstructs.map((c) => c.constructPath) })),
  );
}

/**
 * Every synthesis folder of this test file (a bundled one holds every function's bundle, about
 * 2 MB): removed after the file's tests (vitest imports this module once per test file), so that
 * test runs leave nothing in the temporary folder.
 */
const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function synthWaitingRoom(props: Partial<WaitingRoomProps> = {}, options: { bundle?: boolean } = {}): Synthesized {
  const outdir = mkdtempSync(path.join(tmpdir(), 'wr-synth-'));
  outdirs.push(outdir);
  const app = new App({
    outdir,
    // Skipping bundling keeps template tests fast; the nag test bundles for real.
    context: options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {},
  });
  const stack = new WaitingRoomStack(app, 'WaitingRoomTest', {
    env: { account: '123456789012', region: 'eu-west-1' },
    waitingRoom: { adminEmail: 'ops@example.com', ...props },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
  } catch (error) {
    const found = nagViolations(outdir).map((v) => `${v.ruleName} at ${v.paths.join(', ')}`);
    throw new Error(`${(error as Error).message}\n${found.join('\n')}`);
  }
  return { stack, template: Template.fromStack(stack), outdir };
}
