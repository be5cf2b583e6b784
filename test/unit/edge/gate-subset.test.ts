import { describe, expect, it } from 'vitest';
import { gateSource, renderGateCode } from '../../../edge/gate-code.js';
import { CONFIG } from './fixtures.js';
import { subsetViolations } from './runtime-subset.js';

describe('gate function: CloudFront Functions JavaScript runtime 2.0 subset', () => {
  it('uses nothing outside the subset, as written and as rendered with a configuration', () => {
    expect(subsetViolations(gateSource())).toEqual([]);
    expect(subsetViolations(renderGateCode(CONFIG))).toEqual([]);
  });

  it('is caught when broken on purpose: one ?? added to the gate', () => {
    const broken = gateSource().replace('const value = cookie ? cookie.value : undefined;', 'const value = cookie.value ?? undefined;');
    expect(broken).not.toBe(gateSource());
    expect(subsetViolations(broken)).toEqual([expect.stringMatching(/nullish coalescing/)]);
  });

  it('imports only cloudfront and crypto, by default import', () => {
    const imports = gateSource()
      .split('\n')
      .filter((line) => line.startsWith('import'));
    expect(imports).toEqual(["import cf from 'cloudfront';", "import crypto from 'crypto';"]);
  });
});

describe('runtime-subset check', () => {
  it.each([
    ['class', 'class A {}', /class/],
    ['class expression', 'const A = class {};', /class/],
    ['object destructuring', 'const { a } = x;', /destructuring/],
    ['array destructuring', 'const [a] = x;', /destructuring/],
    ['destructured parameter', 'function f({ a }) { return a; }', /destructuring/],
    ['spread in a call', 'f(...xs);', /spread/],
    ['spread in an object', 'const o = { ...x };', /spread/],
    ['spread in an array', 'const a = [...x];', /spread/],
    ['optional chaining', 'const a = x?.y;', /optional chaining/],
    ['optional call', 'f?.();', /optional chaining/],
    ['nullish coalescing', 'const a = x ?? 1;', /nullish/],
    ['logical assignment', 'x ||= 1;', /assignment operator/],
    ['nullish assignment', 'x ??= 1;', /assignment operator/],
    ['for-of', 'for (const a of xs) {}', /for-of/],
    ['default parameter', 'function f(a = 1) { return a; }', /default value/],
    ['generator', 'function* g() { yield 1; }', /generator/],
    ['async arrow', 'const f = async () => 1;', /async/],
    ['async function expression', 'const f = async function () { return 1; };', /async/],
    ['nested async function', 'function outer() { async function inner() { return 1; } return inner; }', /async/],
    ['top-level await', 'await x;', /await outside/],
    ['getter', 'const o = { get a() { return 1; } };', /getter/],
    ['shorthand method', 'const o = { a() { return 1; } };', /shorthand method/],
    ['shorthand property', 'const o = { a };', /shorthand property/],
    ['computed key', "const o = { ['a']: 1 };", /computed/],
    ['tagged template', 'const s = tag`x`;', /tagged template/],
    ['regex lookbehind', 'const r = /(?<=a)b/;', /lookbehind/],
    ['regex named group', 'const r = /(?<year>\\d+)/;', /named group/],
    ['regex u flag', 'const r = /a/u;', /flag/],
    ['regex property escape', 'const r = /\\p{L}/;', /property escape/],
    ['BigInt', 'const n = 1n;', /BigInt/],
    ['optional catch binding', 'try { f(); } catch { g(); }', /optional catch binding/],
    ['export', 'export function handler(event) { return event.request; }', /export/],
    ['named import', "import { createHmac } from 'crypto';", /named import|import other/],
    ['import of another module', "import fs from 'fs';", /import other/],
    ['directive', "'use strict';", /directive/],
    ['setTimeout', 'setTimeout(f, 1);', /setTimeout is not available/],
    ['require', "const c = require('crypto');", /require is not available/],
    ['Map', 'const m = new Map();', /Map is not available/],
    ['eval', 'eval("1");', /eval is not available/],
    ['Array.from', 'const a = Array.from(x);', /Array\.from/],
    ['.at()', 'const a = xs.at(-1);', /\.at\(\)/],
  ])('refuses %s', (_what, code, message) => {
    const found = subsetViolations(code);
    expect(found.length).toBeGreaterThan(0);
    expect(found.join('\n')).toMatch(message);
  });

  it('allows what the runtime documents: const, let, arrows, rest, templates, **, async handler, for-in, labels', () => {
    const code = [
      "import cf from 'cloudfront';",
      "import crypto from 'crypto';",
      'const a = 2 ** 3;',
      'let b = `x${a}y`;',
      'const f = (x, ...rest) => rest.length + x;',
      'function g() { var o = { k: 1, "q": [1, 2] }; for (var k in o) { b += k; } outer: for (let i = 0; i < 2; i++) { if (i) break outer; } return o; }',
      'async function handler(event) { try { await cf.kvs().get("k"); } catch (e) { return event.request; } return crypto.createHmac("sha256", "k").update("d").digest("base64url"); }',
      'const r = /^[A-Za-z0-9_-]+$/gi;',
      'const m = Buffer.from("x").toString("base64url");',
      'x.from = 1; const o2 = { Map: 1 };',
    ].join('\n');
    expect(subsetViolations(code)).toEqual([]);
  });

  it('reports where the problem is', () => {
    expect(subsetViolations('const a = 1;\nconst b = a ?? 2;')).toEqual(['2:11: nullish coalescing (??)']);
  });

  it('reports a source that does not parse', () => {
    expect(subsetViolations('function (')[0]).toMatch(/does not parse/);
  });
});
