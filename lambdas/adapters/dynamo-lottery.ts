/**
 * Kept lottery draws (lambdas/domain/events/event-draw.ts) in the stats table, in parts of at most
 * DRAW_PART_ENTRIES entries (an item holds 400 KB):
 *
 *   roomId `<roomId>#lottery#<eventId>#<part>` (room and event ids never contain `#`)
 *   commitment   the event's commitment (a draw of an earlier event with the same id is not this one's)
 *   parts        on part 0: how many parts there are; seed, closedAt and boundary with it
 *   entries      the part's published entries, 32 bytes each, in the publication's (sorted) order
 *   plan         the part's private plan in draw order, as JSON [tokenId, from, to][] (never served)
 *
 * Part 0 is written last: a draw whose part 0 is there is whole.
 */
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DrawPlanEntry, LotteryDraws, StoredDraw } from '../domain/index.js';
import { STATS_KEY } from '../shared/schema.js';
import { batchGetAll } from './dynamo-items.js';

/** Entries (and plan entries) per item: 32 bytes plus about 60 of plan each, well under 400 KB. */
export const DRAW_PART_ENTRIES = 3_000;

export const drawPartKey = (roomId: string, eventId: string, part: number): string => `${roomId}#lottery#${eventId}#${part}`;

const toBytes = (entries: readonly string[]): Uint8Array => Uint8Array.from(Buffer.from(entries.join(''), 'hex'));
const fromBytes = (bytes: Uint8Array): string[] => {
  const hex = Buffer.from(bytes).toString('hex');
  return Array.from({ length: hex.length / 64 }, (_, i) => hex.slice(64 * i, 64 * i + 64));
};

export class DynamoLotteryDraws implements LotteryDraws {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(draw: StoredDraw): Promise<void> {
    const { roomId, eventId, commitment, seed, closedAt, entries } = draw.publication;
    const parts = Math.max(1, Math.ceil(Math.max(entries.length, draw.plan.length) / DRAW_PART_ENTRIES));
    const item = (part: number) => ({
      [STATS_KEY]: drawPartKey(roomId, eventId, part),
      commitment,
      entries: toBytes(entries.slice(part * DRAW_PART_ENTRIES, (part + 1) * DRAW_PART_ENTRIES)),
      plan: JSON.stringify(draw.plan.slice(part * DRAW_PART_ENTRIES, (part + 1) * DRAW_PART_ENTRIES).map((p) => [p.tokenId, p.from, p.to])),
      ...(part === 0 ? { parts, seed, closedAt, boundary: draw.boundary } : {}),
    });
    for (let part = parts - 1; part >= 0; part--) {
      await this.client.send(new PutCommand({ TableName: this.table, Item: item(part) }));
    }
  }

  async get(roomId: string, eventId: string, commitment: string): Promise<StoredDraw | undefined> {
    const [head] = await this.read(roomId, eventId, [0]);
    if (!head || head.commitment !== commitment || typeof head.parts !== 'number') return undefined;
    const rest = head.parts > 1 ? await this.read(roomId, eventId, Array.from({ length: head.parts - 1 }, (_, i) => i + 1)) : [];
    const items = [head, ...rest];
    if (items.length !== head.parts || items.some((i) => i.commitment !== commitment)) return undefined;
    const entries = items.flatMap((i) => fromBytes(i.entries as Uint8Array));
    const plan = items.flatMap((i) => (JSON.parse(String(i.plan)) as [string, number, number][]).map(([tokenId, from, to]): DrawPlanEntry => ({ tokenId, from, to })));
    return {
      publication: { roomId, eventId, commitment, seed: String(head.seed), entries, closedAt: Number(head.closedAt) },
      plan,
      boundary: Number(head.boundary),
    };
  }

  /** The parts asked for that exist, in that order (strongly consistent: a draw just kept is read whole). */
  private async read(roomId: string, eventId: string, parts: number[]): Promise<Record<string, unknown>[]> {
    const items = await batchGetAll(
      this.client,
      this.table,
      parts.map((part) => ({ [STATS_KEY]: drawPartKey(roomId, eventId, part) })),
      { consistent: true, attempts: 5, backoffMs: (attempt) => Math.round(Math.random() * 25 * 2 ** attempt), sleep: (ms) => new Promise((r) => setTimeout(r, ms)), what: 'draw parts' },
    );
    const found = new Map(items.map((item) => [String(item[STATS_KEY]), item]));
    return parts.flatMap((part) => {
      const item = found.get(drawPartKey(roomId, eventId, part));
      return item ? [item] : [];
    });
  }
}
