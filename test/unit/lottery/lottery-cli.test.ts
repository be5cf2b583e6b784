/**
 * `waiting-room lottery verify` (cli/lottery.ts, through cli/main.ts): a receipt, a publication and
 * a JWKS from files, URLs or the command line; the place, the commitment check and the list check
 * printed; exit 0 when confirmed, 1 on a problem, 2 on bad usage or a file it cannot read, 5 on a
 * URL it cannot fetch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FetchLike } from '../../../cli/admin-api.js';
import { EXIT } from '../../../cli/errors.js';
import { LOTTERY_USAGE, runLotteryCli } from '../../../cli/lottery.js';
import { USAGE, runCli } from '../../../cli/main.js';
import { newLotterySeed } from '../../../lambdas/domain/events/lottery.js';
import { runLottery, type Lottery } from './fixtures.js';

let lottery: Lottery;
let dir: string;
const file = (name: string) => path.join(dir, name);

beforeAll(async () => {
  lottery = await runLottery(50);
  dir = mkdtempSync(path.join(tmpdir(), 'wr-lottery-cli-'));
  writeFileSync(file('receipt.jws'), `${lottery.receipts[4]!.receipt}\n`);
  writeFileSync(file('revealed.json'), JSON.stringify(lottery.revealed, null, 2));
  writeFileSync(file('closed.json'), JSON.stringify(lottery.closed));
  writeFileSync(file('wrong-seed.json'), JSON.stringify({ ...lottery.revealed, seed: newLotterySeed() }));
  writeFileSync(file('jwks.json'), JSON.stringify(lottery.jwks));
  writeFileSync(file('not-json.json'), '{ "roomId": ');
}, 60_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[], fetch?: FetchLike) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['lottery', ...argv], { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, ...(fetch ? { fetch } : {}) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('waiting-room lottery verify', () => {
  it('prints the place, the commitment check and the list check, and exits 0', async () => {
    const { entry } = lottery.receipts[4]!;
    const place = lottery.order.indexOf(entry) + 1;
    const { code, out, err } = await run(['verify', '--receipt', file('receipt.jws'), '--publication', file('revealed.json'), '--jwks', file('jwks.json')]);
    expect(err).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(out).toContain(`Place ${place} of 50 in the draw (room shop, event launch-2026, ticket 5)`);
    expect(out).toContain(`commitment: ${lottery.commitment} is SHA-256 of the revealed seed ${lottery.seed}`);
    expect(out).toContain(`receipt: signed ES256 by the room's key ${lottery.keySet.current.kid}`);
    expect(out).toMatch(/list: 50 entries, sorted and each once, this entry among them; list digest [0-9a-f]{64}/);
    expect(out).not.toContain('warning');
  });

  it('takes the receipt itself on the command line, and --name=value', async () => {
    const { code, out } = await run(['verify', `--receipt=${lottery.receipts[0]!.receipt}`, `--publication=${file('revealed.json')}`]);
    expect(code).toBe(EXIT.ok);
    expect(out).toContain('warning: The receipt\'s signature was NOT checked');
  });

  it('fetches the publication and the JWKS from URLs', async () => {
    const asked: string[] = [];
    const fetch: FetchLike = async (url) => {
      asked.push(url);
      const body = url.endsWith('jwks.json') ? lottery.jwks : lottery.revealed;
      return { status: 200, text: async () => JSON.stringify(body) };
    };
    const { code } = await run(['verify', '--receipt', file('receipt.jws'), '--publication', 'https://shop.example/lottery/launch-2026.json', '--jwks', 'https://api.example/.well-known/jwks.json'], fetch);
    expect(code).toBe(EXIT.ok);
    expect(asked.sort()).toEqual(['https://api.example/.well-known/jwks.json', 'https://shop.example/lottery/launch-2026.json']);
  });

  it('says the place is not drawn yet before the seed is revealed', async () => {
    const { code, out } = await run(['verify', '--receipt', file('receipt.jws'), '--publication', file('closed.json'), '--jwks', file('jwks.json')]);
    expect(code).toBe(EXIT.ok);
    expect(out).toMatch(/^In the lottery, not drawn yet: room shop, event launch-2026, ticket 5 \(50 entries so far\)/);
  });

  it('exits 1 on a problem, naming it', async () => {
    const { code, out } = await run(['verify', '--receipt', file('receipt.jws'), '--publication', file('wrong-seed.json'), '--jwks', file('jwks.json')]);
    expect(code).toBe(EXIT.failed);
    expect(out).toMatch(/^NOT CONFIRMED: 1 problem\n {2}problem \(seed-mismatch\): The revealed seed does not match the commitment/);
    const notJson = await run(['verify', '--receipt', file('receipt.jws'), '--publication', file('not-json.json')]);
    expect(notJson.code).toBe(EXIT.failed);
    expect(notJson.out).toContain('problem (publication-malformed): The publication is not JSON');
  });

  it('prints the result as JSON with --json', async () => {
    const { code, out } = await run(['verify', '--receipt', file('receipt.jws'), '--publication', file('wrong-seed.json'), '--json']);
    expect(code).toBe(EXIT.failed);
    expect(JSON.parse(out)).toMatchObject({ ok: false, problems: [{ code: 'seed-mismatch' }] });
  });

  it('exits 2 on bad usage or a file it cannot read, and 5 on a URL it cannot fetch', async () => {
    expect((await run(['verify', '--publication', file('revealed.json')])).code).toBe(EXIT.usage);
    expect((await run(['verify', '--receipt', file('receipt.jws'), '--publication', file('revealed.json'), '--capacity', '5'])).err).toMatch(/Unknown option --capacity/);
    expect((await run(['verify', '--receipt', file('receipt.jws'), '--publication', file('revealed.json'), '--stack', 'x'])).err).toMatch(/give --room ID instead of --publication/);
    expect((await run(['draw'])).code).toBe(EXIT.usage);
    const missing = await run(['verify', '--receipt', file('nope.jws'), '--publication', file('revealed.json')]);
    expect(missing).toMatchObject({ code: EXIT.usage, err: expect.stringContaining('Cannot read the receipt file') });
    const down: FetchLike = async () => ({ status: 503, text: async () => '' });
    const unreachable = await run(['verify', '--receipt', file('receipt.jws'), '--publication', 'https://shop.example/lottery.json'], down);
    expect(unreachable).toMatchObject({ code: EXIT.unreachable, err: expect.stringContaining('HTTP 503') });
  });

  it('has its own help, and a line in the main help', async () => {
    const out: string[] = [];
    expect(await runLotteryCli(['--help'], { out: (l) => out.push(l), err: () => {} })).toBe(EXIT.ok);
    expect(out.join('\n')).toBe(LOTTERY_USAGE);
    expect(USAGE).toContain('lottery verify --receipt FILE|JWS --publication FILE|URL [--jwks FILE|URL]');
  });
});
