import { defineConfig } from 'vitest/config';

/**
 * Test projects, one per level (STYLE.md): unit (domain, handlers, adapters, web client),
 * infra (CDK template and cdk-nag), integration (local runtime over HTTP on real emulators),
 * e2e (the page in headless Chromium). `npm test` runs them all: unit and infra together first,
 * then integration, then e2e (sequence.groupOrder). The last two time things against configured
 * timeouts on a real runtime: on two cores, a runtime with Chromium beside another runtime under
 * load starves both (a first check took over 10 s where it takes 2.5 s).
 *
 * Unit and infra run two files at a time (GROUP_0_WORKERS; vitest's default on two cores is one):
 * they time nothing against a runtime, and one worker leaves the second core idle while the
 * package test waits on its children and the other files load aws-cdk-lib. Vitest requires the
 * same maxWorkers for projects of one groupOrder.
 */
/** Files of the unit and infra projects run at once (see above). */
const GROUP_0_WORKERS = 2;

export default defineConfig({
  test: {
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'SILENT' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000, maxWorkers: GROUP_0_WORKERS, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'infra', include: ['test/infra/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 180_000, maxWorkers: GROUP_0_WORKERS, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          // Tests marked concurrent (npm-start.test.ts: processes of their own) run two at a time:
          // four start-ups at once on two cores, beside other load, came within reach of the
          // two-minute banner wait.
          maxConcurrency: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 240_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
