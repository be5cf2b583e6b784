/**
 * `waiting-room lottery verify --room ID <target>` (cli/lottery.ts): the publication read from the
 * room's API (GET /rooms/{roomId}/lottery) and the receipt's signature checked with the API's own
 * keys, unsigned; the API found as the other commands find it; a room with nothing published is
 * exit 3.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FetchLike } from '../../../cli/admin-api.js';
import { EXIT } from '../../../cli/errors.js';
import { runCli } from '../../../cli/main.js';
import { runLottery, type Lottery } from '../lottery/fixtures.js';

const API = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
let lottery: Lottery;

beforeAll(async () => {
  lottery = await runLottery(20);
}, 60_000);

/** The CLI against an API that serves the lottery of room `shop` (and 404 for any other path). */
async function run(argv: string[], answers: (url: string) => unknown = () => undefined) {
  const out: string[] = [];
  const err: string[] = [];
  const asked: { url: string; headers: Record<string, string> }[] = [];
  const fetch: FetchLike = async (url, init) => {
    asked.push({ url, headers: init.headers });
    const body = answers(url) ?? (url.endsWith('/rooms/shop/lottery') ? lottery.revealed : url.endsWith('/.well-known/jwks.json') ? lottery.jwks : undefined);
    return body === undefined ? { status: 404, text: async () => '{"error":{"code":"ROOM_NOT_FOUND","message":"not found"}}' } : { status: 200, text: async () => JSON.stringify(body) };
  };
  const stackOutputs = async (name: string): Promise<Record<string, string>> => (name === 'shop-prod' ? { ApiUrl: `${API}/` } : {});
  const code = await runCli(['lottery', 'verify', ...argv], { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, fetch, stackOutputs });
  return { code, out: out.join('\n'), err: err.join('\n'), asked };
}

describe('lottery verify --room', () => {
  it("reads the room's publication and the API's keys from the stack's API, unsigned, and confirms the place", async () => {
    const { code, out, err, asked } = await run(['--receipt', lottery.receipts[2]!.receipt, '--room', 'shop', '--stack', 'shop-prod']);
    expect(err).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(asked.map((a) => a.url).sort()).toEqual([`${API}/.well-known/jwks.json`, `${API}/rooms/shop/lottery`]);
    expect(asked.every((a) => a.headers.authorization === undefined)).toBe(true);
    expect(out).toContain(`receipt: signed ES256 by the room's key ${lottery.keySet.current.kid}`);
    expect(out).not.toContain('warning');
  });

  it('finds the local runtime with --local and its port, and takes the keys from --jwks when given', async () => {
    const { code, asked } = await run(['--receipt', lottery.receipts[0]!.receipt, '--room', 'shop', '--local', '--port', '3999', '--jwks', 'https://keys.example/jwks.json'], (url) =>
      url === 'https://keys.example/jwks.json' ? lottery.jwks : undefined,
    );
    expect(code).toBe(EXIT.ok);
    expect(asked.map((a) => a.url).sort()).toEqual(['http://127.0.0.1:3999/rooms/shop/lottery', 'https://keys.example/jwks.json']);
  });

  it('ends with exit 3 when the room has nothing published', async () => {
    const { code, err } = await run(['--receipt', lottery.receipts[0]!.receipt, '--room', 'other', '--api', API]);
    expect(code).toBe(EXIT.notFound);
    expect(err).toMatch(/Nothing published for room other at https:\/\/abc123\.execute-api\.eu-west-1\.amazonaws\.com \(--api .*\): no such room, or it has no event/);
  });

  it('needs exactly one of --publication and --room, and a target with --room only', async () => {
    const receipt = lottery.receipts[0]!.receipt;
    for (const [argv, message] of [
      [['--receipt', receipt], /--publication FILE\|URL or --room ID/],
      [['--receipt', receipt, '--room', 'shop', '--publication', 'p.json', '--local'], /--publication FILE\|URL or --room ID/],
      [['--receipt', receipt, '--room', 'shop'], /Say which API: --stack NAME/],
      [['--receipt', receipt, '--room', 'bad/id', '--local'], /bad\/id is not a room id/],
      [['--receipt', receipt, '--publication', 'p.json', '--local'], /give --room ID instead of --publication/],
    ] as const) {
      const { code, err, asked } = await run([...argv]);
      expect(code, argv.join(' ')).toBe(EXIT.usage);
      expect(err, argv.join(' ')).toMatch(message);
      expect(asked).toEqual([]);
    }
  });
});
