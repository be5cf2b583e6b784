/**
 * The verifier page (web/lottery.html, web/src/lottery-verifier.ts). Its checks and its words are
 * `verifyLotteryTexts` and `lotteryReport`, run here without a DOM on the texts a visitor pastes;
 * the DOM glue is checked as built: the bundle exists, finds every element it needs in the page,
 * never writes HTML, and pulls in nothing of Node.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lotteryReport, verifyLotteryTexts } from '../../../lambdas/domain/events/lottery-verify.js';
import { buildWeb } from '../../../web/build.js';
import { runLottery, type Lottery } from './fixtures.js';

const WEB = path.join(import.meta.dirname, '..', '..', '..', 'web');
let lottery: Lottery;
let built: string;

beforeAll(async () => {
  lottery = await runLottery(30);
  built = mkdtempSync(path.join(tmpdir(), 'wr-lottery-page-'));
  await buildWeb(built);
}, 60_000);
afterAll(() => {
  if (built) rmSync(built, { recursive: true, force: true });
});

describe("the verifier page's checks, on pasted text", () => {
  it('confirm a place from a pasted receipt, publication and JWKS', async () => {
    const { receipt, entry } = lottery.receipts[0]!;
    const result = await verifyLotteryTexts({ receipt: `  ${receipt}\n`, publication: JSON.stringify(lottery.revealed), jwks: JSON.stringify(lottery.jwks) });
    const [summary, ...lines] = lotteryReport(result);
    expect(summary).toBe(`Place ${lottery.order.indexOf(entry) + 1} of 30 in the draw (room shop, event launch-2026, ticket 1)`);
    expect(lines.join('\n')).not.toContain('warning');
  });

  it('name each problem, including text that is not JSON', async () => {
    const { receipt } = lottery.receipts[0]!;
    const reordered = await verifyLotteryTexts({ receipt, publication: JSON.stringify({ ...lottery.revealed, entries: lottery.order }) });
    expect(lotteryReport(reordered)).toEqual([
      'NOT CONFIRMED: 1 problem',
      expect.stringMatching(/^ {2}problem \(list-not-sorted\): The list is not sorted/),
      "  warning: The receipt's signature was NOT checked (no JWKS given): anyone could have written this receipt",
    ]);
    const broken = await verifyLotteryTexts({ receipt: 'x', publication: '<html>', jwks: 'nope' });
    expect(broken.ok ? [] : broken.problems.map((p) => p.code).sort()).toEqual(['publication-malformed', 'receipt-malformed']);
    const badJwks = await verifyLotteryTexts({ receipt, publication: JSON.stringify(lottery.revealed), jwks: 'nope' });
    expect(badJwks.ok ? [] : badJwks.problems.map((p) => p.code)).toEqual(['jwks-invalid']);
  });

  it('treat an empty JWKS field as none given', async () => {
    const result = await verifyLotteryTexts({ receipt: lottery.receipts[1]!.receipt, publication: JSON.stringify(lottery.revealed), jwks: '  ' });
    expect(result).toMatchObject({ ok: true, signature: { checked: false } });
  });
});

describe('the verifier page, built', () => {
  it('is copied with its bundle, which finds every element it needs in the page', () => {
    const html = readFileSync(path.join(built, 'lottery.html'), 'utf8');
    expect(html).toContain('<script type="module" src="/assets/lottery-verifier.js"></script>');
    const source = readFileSync(path.join(WEB, 'src', 'lottery-verifier.ts'), 'utf8');
    const ids = [...source.matchAll(/byId<\w+>\('([\w-]+)'\)/g)].map((m) => m[1]!);
    expect(ids.length).toBeGreaterThan(5);
    for (const id of ids) expect(html, id).toContain(`id="${id}"`);
  });

  it('writes text only, and bundles no Node module', () => {
    const bundle = readFileSync(path.join(built, 'assets', 'lottery-verifier.js'), 'utf8');
    expect(bundle.length).toBeLessThan(100_000);
    expect(bundle).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect(bundle).not.toMatch(/from\s*["']node:|require\(["']node:/);
    expect(readFileSync(path.join(WEB, 'src', 'lottery-verifier.ts'), 'utf8')).not.toMatch(/innerHTML|insertAdjacentHTML/);
  });
});
