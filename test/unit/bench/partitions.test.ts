/**
 * The scale model's partition meter and unit arithmetic (bench/scale): what its ceilings and
 * "no partition over its limit" figures rest on.
 */
import { describe, expect, it } from 'vitest';
import { PARTITION_LIMITS, PartitionMeter } from '../../../bench/scale/partitions.js';
import { readUnits, writeUnits } from '../../../bench/scale/metered-store.js';

describe('capacity units', () => {
  it('counts reads per 4 KB (half when eventually consistent) and writes per 1 KB, at least one', () => {
    expect(readUnits(100, true)).toBe(1);
    expect(readUnits(100, false)).toBe(0.5);
    expect(readUnits(4097, true)).toBe(2);
    expect(writeUnits(10)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
  });
});

describe('PartitionMeter', () => {
  it('sums units per partition key and second, and reports the busiest', () => {
    const meter = new PartitionMeter();
    for (let i = 0; i < 600; i += 1) meter.add('tokens', 'a', 5, 0, 1);
    for (let i = 0; i < 400; i += 1) meter.add('tokens', 'a', 6, 2, 1);
    meter.add('tokens', 'b', 5, 0, 700);
    const { read, write } = meter.peaks();
    expect(write).toEqual({ partition: 'tokens/b', units: 700, second: 5 });
    expect(read).toEqual({ partition: 'tokens/a', units: 800, second: 6 });
    expect(meter.overLimit()).toEqual([]);
  });

  it('names a partition over its limit, with the seconds it was over, however late a unit of a second arrives', () => {
    const meter = new PartitionMeter();
    meter.add('line-index', 'room#3', 10, 0, PARTITION_LIMITS.writeUnitsPerSecond);
    meter.add('line-index', 'room#3', 12, 0, 10); // a later second starts
    meter.add('line-index', 'room#3', 10, 0, 1); // one more unit of second 10, still open
    meter.add('line-index', 'room#3', 30, 0, 1);
    const over = meter.overLimit();
    expect(over.map((r) => [r.partition, r.maxWrite, r.overAt, r.secondsOverWrite])).toEqual([['line-index/room#3', 1001, [10], 1]]);
    expect(meter.overLimit(11, 40)).toEqual([]);
  });

  it('keeps the same key of two tables apart (a table and its index are separate partitions)', () => {
    const meter = new PartitionMeter();
    meter.add('tokens', 'k', 1, 0, 600);
    meter.add('line-index', 'k', 1, 0, 600);
    expect(meter.overLimit()).toEqual([]);
    expect(meter.records().map((r) => r.partition).sort()).toEqual(['line-index/k', 'tokens/k']);
  });
});
