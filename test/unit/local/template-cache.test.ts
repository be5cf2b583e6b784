/** The local runtime's synth cache (local/template-cache.ts): a hit only for the same props and sources. */
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheKey, cachedTemplate } from '../../../local/template-cache.js';
import type { CfnTemplate } from '../../../local/template.js';

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'wr-cache-test-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const template = (n: number): CfnTemplate => ({ Resources: { [`R${n}`]: { Type: 'AWS::SQS::Queue' } } });

describe('the synth cache', () => {
  it('synthesizes once for the same props, again for other props', async () => {
    const dir = scratch();
    let synths = 0;
    const synth = async () => template(++synths);
    const props = { adminEmail: 'a@b.co', rooms: [{ roomId: 'demo', capacity: 5 }], checkerTimeout: Duration.seconds(20) };
    expect(await cachedTemplate(props, synth, dir)).toEqual(template(1));
    expect(await cachedTemplate({ ...props }, synth, dir)).toEqual(template(1));
    expect(await cachedTemplate({ ...props, checkerTimeout: Duration.seconds(3) }, synth, dir)).toEqual(template(2));
    expect(synths).toBe(2);
    expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(2);
  });

  it('keys on the content of the sources the stack is built from', () => {
    const root = scratch();
    mkdirSync(path.join(root, 'lib'));
    writeFileSync(path.join(root, 'lib', 'a.ts'), 'one');
    const before = cacheKey({ a: 1 }, root);
    expect(cacheKey({ a: 1 }, root)).toBe(before);
    writeFileSync(path.join(root, 'lib', 'a.ts'), 'two');
    expect(cacheKey({ a: 1 }, root)).not.toBe(before);
    expect(cacheKey({ a: 2 }, root)).not.toBe(cacheKey({ a: 1 }, root));
  });

  it('never caches props that are not plain data, and synthesizes again over a torn file', async () => {
    class Construct {}
    expect(cacheKey({ topic: new Construct() })).toBeUndefined();
    expect(cacheKey({ fn: () => 1 })).toBeUndefined();
    expect(cacheKey({ email: '${Token[TOKEN.12]}' })).toBeUndefined();
    const dir = scratch();
    let synths = 0;
    const synth = async () => template(++synths);
    await cachedTemplate({ torn: true }, synth, dir);
    const [file] = readdirSync(dir);
    writeFileSync(path.join(dir, file!), '{"Resources": ');
    expect(await cachedTemplate({ torn: true }, synth, dir)).toEqual(template(2));
    expect(await cachedTemplate({ torn: true }, synth, dir)).toEqual(template(2));
  });
});
