/**
 * The local edge's page bucket holds what the gate deploys: built from the same web/ build,
 * object for object equal to what lib/gate/waiting-page.ts stages for the bucket, and nothing
 * more (no admin script, no source maps, no page under its built name).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageWaitingPage } from '../../../../lib/gate/waiting-page.js';
import { pageBucket, type PageBucket } from '../../../../local/edge/page-bucket.js';
import type { WebAssets } from '../../../../local/web-assets.js';
import { buildWeb } from '../../../../web/build.js';

let built: string;
let staged: string;
let bucket: PageBucket;

beforeAll(async () => {
  built = mkdtempSync(path.join(tmpdir(), 'wr-bucket-test-'));
  await buildWeb(built);
  staged = stageWaitingPage(built);
  // The part of local/web-assets.ts the bucket reads: files of the build by relative path.
  const web: Pick<WebAssets, 'page'> = { page: (file) => readFile(path.join(built, file), 'utf8') };
  bucket = pageBucket(web as WebAssets);
}, 60_000);
afterAll(() => {
  if (built) rmSync(built, { recursive: true, force: true });
});

const stagedFiles = () => ['index.html', ...readdirSync(path.join(staged, 'assets')).map((name) => `assets/${name}`)];

describe('the local page bucket', () => {
  it('holds every object the gate deploys, byte for byte', async () => {
    expect(stagedFiles()).toContain('assets/client.js');
    for (const file of stagedFiles()) {
      const object = await bucket.get(`waiting-room/${file}`);
      expect(object, file).toBeDefined();
      expect(object!.body.equals(readFileSync(path.join(staged, file))), file).toBe(true);
      expect(object!.headers['cache-control']).toBe('public, max-age=60');
    }
  });

  it('holds nothing the gate leaves out', async () => {
    const builtAssets = readdirSync(path.join(built, 'assets'));
    const leftOut = builtAssets.filter((name) => !stagedFiles().includes(`assets/${name}`));
    expect(leftOut.some((name) => name.endsWith('.map'))).toBe(true);
    expect(leftOut.some((name) => name.startsWith('admin.'))).toBe(true);
    for (const key of [...leftOut.map((name) => `waiting-room/assets/${name}`), 'waiting-room/waiting-room.html', 'waiting-room/admin.html', 'waiting-room/assets/../waiting-room.html', 'assets/client.js', 'waiting-room/']) {
      expect(await bucket.get(key), key).toBeUndefined();
    }
  });
});
