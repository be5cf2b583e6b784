/**
 * Capacity units per partition key and second, against DynamoDB's per-partition limits (1,000
 * write units and 3,000 read units a second, on the table and on each index: DESIGN §5.9).
 *
 * Units are added at the simulated second of the call. Requests run atomically but each on its own
 * clock, so a second can still receive units a little after a later one started: seconds are kept
 * open for a few seconds, then folded into per-partition maxima. Only partitions that ever reach a
 * tenth of a limit are remembered by name (a million token items never come close), so memory
 * stays bounded while every partition that matters is named in the report.
 */

export const PARTITION_LIMITS = { readUnitsPerSecond: 3_000, writeUnitsPerSecond: 1_000 } as const;

/** Seconds kept open before they are folded. */
const OPEN_SECONDS = 4;
const NOTABLE_FRACTION = 0.1;

export interface PartitionPeak {
  partition: string;
  units: number;
  /** Simulated second (since the start) of the peak. */
  second: number;
}

export interface PartitionRecord {
  partition: string;
  maxRead: number;
  maxReadSecond: number;
  maxWrite: number;
  maxWriteSecond: number;
  secondsOverRead: number;
  secondsOverWrite: number;
  /** The seconds (since the start) in which it was over a limit. */
  overAt: number[];
}

export class PartitionMeter {
  /** Open seconds: per table, read and write units per key (keys are the items' own strings: no names built per call). */
  private readonly open = new Map<number, Map<string, { read: Map<string, number>; write: Map<string, number> }>>();
  private latestSecond = Number.NEGATIVE_INFINITY;
  private readonly notable = new Map<string, PartitionRecord>();
  private maxRead: PartitionPeak = { partition: '-', units: 0, second: 0 };
  private maxWrite: PartitionPeak = { partition: '-', units: 0, second: 0 };

  /** Units on the partition `key` of `table` (a table or an index) in simulated second `second`. */
  add(table: string, key: string, second: number, readUnits: number, writeUnits: number): void {
    let bucket = this.open.get(second);
    if (!bucket) {
      bucket = new Map();
      this.open.set(second, bucket);
      if (second > this.latestSecond) {
        this.latestSecond = second;
        for (const s of this.open.keys()) if (s < second - OPEN_SECONDS) this.fold(s);
      }
    }
    let units = bucket.get(table);
    if (!units) {
      units = { read: new Map(), write: new Map() };
      bucket.set(table, units);
    }
    if (readUnits > 0) units.read.set(key, (units.read.get(key) ?? 0) + readUnits);
    if (writeUnits > 0) units.write.set(key, (units.write.get(key) ?? 0) + writeUnits);
  }

  /** Folds every open second; call before reading the results. */
  flush(): void {
    for (const s of [...this.open.keys()]) this.fold(s);
  }

  peaks(): { read: PartitionPeak; write: PartitionPeak } {
    this.flush();
    return { read: { ...this.maxRead }, write: { ...this.maxWrite } };
  }

  /** Partitions that reached a tenth of a limit, busiest (relative to its limit) first. */
  records(): PartitionRecord[] {
    this.flush();
    const load = (r: PartitionRecord) => Math.max(r.maxRead / PARTITION_LIMITS.readUnitsPerSecond, r.maxWrite / PARTITION_LIMITS.writeUnitsPerSecond);
    return [...this.notable.values()].sort((a, b) => load(b) - load(a));
  }

  /** Partitions over a limit in at least one second (of [fromSecond, toSecond) when given). */
  overLimit(fromSecond = Number.NEGATIVE_INFINITY, toSecond = Number.POSITIVE_INFINITY): PartitionRecord[] {
    return this.records().filter((r) => r.overAt.some((s) => s >= fromSecond && s < toSecond));
  }

  private fold(second: number): void {
    const bucket = this.open.get(second);
    if (!bucket) return;
    this.open.delete(second);
    for (const [table, units] of bucket) {
      for (const [key, read] of units.read) this.record(table, key, second, read, 'read');
      for (const [key, write] of units.write) this.record(table, key, second, write, 'write');
    }
  }

  private record(table: string, key: string, second: number, amount: number, kind: 'read' | 'write'): void {
    const limit = kind === 'read' ? PARTITION_LIMITS.readUnitsPerSecond : PARTITION_LIMITS.writeUnitsPerSecond;
    const max = kind === 'read' ? this.maxRead : this.maxWrite;
    if (amount > max.units) {
      const peak = { partition: `${table}/${key}`, units: amount, second };
      if (kind === 'read') this.maxRead = peak;
      else this.maxWrite = peak;
    }
    if (amount < NOTABLE_FRACTION * limit) return;
    const partition = `${table}/${key}`;
    let record = this.notable.get(partition);
    if (!record) {
      record = { partition, maxRead: 0, maxReadSecond: 0, maxWrite: 0, maxWriteSecond: 0, secondsOverRead: 0, secondsOverWrite: 0, overAt: [] };
      this.notable.set(partition, record);
    }
    if (kind === 'read') {
      if (amount > record.maxRead) [record.maxRead, record.maxReadSecond] = [amount, second];
      if (amount > limit) record.secondsOverRead += 1;
    } else {
      if (amount > record.maxWrite) [record.maxWrite, record.maxWriteSecond] = [amount, second];
      if (amount > limit) record.secondsOverWrite += 1;
    }
    if (amount > limit && record.overAt[record.overAt.length - 1] !== second) record.overAt.push(second);
  }
}
