/**
 * What the scale model counts: every request to every AWS service, every capacity unit, every
 * byte out, by name (a Tally), per simulated second where a rate matters (Series), and per
 * DynamoDB partition (PartitionMeter). Costs are computed from a Tally afterwards (costs.ts), so a
 * scenario can price any window of its run: the difference of two snapshots.
 *
 * Every request is attributed to a cause, so the report can say which part of the load the
 * waiting visitors make: join (arrivals and their first check), waiting (a waiting visitor's
 * request, the check of a waiting token, a status fetch), admitted (an admitted visitor's request,
 * the check of an admitted token), system (stream consumers, metrics, admin).
 */
import { SIZE } from './assumptions.js';
import { PartitionMeter } from './partitions.js';

export type Cause = 'join' | 'waiting' | 'admitted' | 'system';
export const CAUSES: readonly Cause[] = ['join', 'waiting', 'admitted', 'system'];

/** Named counters; snapshots subtract. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(key: string, amount = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + amount);
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Every key that starts with `prefix`, with the prefix cut off. */
  withPrefix(prefix: string): Map<string, number> {
    const found = new Map<string, number>();
    for (const [key, value] of this.counts) if (key.startsWith(prefix)) found.set(key.slice(prefix.length), value);
    return found;
  }

  toObject(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  static from(counts: Record<string, number>): Tally {
    const tally = new Tally();
    for (const [key, value] of Object.entries(counts)) tally.counts.set(key, value);
    return tally;
  }

  snapshot(): Tally {
    const copy = new Tally();
    for (const [key, value] of this.counts) copy.counts.set(key, value);
    return copy;
  }

  /** This tally minus an earlier snapshot of it. */
  since(earlier: Tally): Tally {
    const diff = new Tally();
    for (const [key, value] of this.counts) diff.counts.set(key, value - earlier.get(key));
    return diff;
  }
}

/** Per-second counts of a few named rates. */
export class Series {
  private readonly series = new Map<string, number[]>();

  constructor(private readonly start: number) {}

  /** The counts of one series, by second since the start (hot paths keep the array). */
  of(name: string): number[] {
    let values = this.series.get(name);
    if (!values) {
      values = [];
      this.series.set(name, values);
    }
    return values;
  }

  add(name: string, at: number, amount = 1): void {
    this.addTo(this.of(name), at, amount);
  }

  addTo(values: number[], at: number, amount = 1): void {
    const second = Math.floor((at - this.start) / 1000);
    if (second < 0) return;
    while (values.length <= second) values.push(0);
    values[second]! += amount;
  }

  /** Mean per second over [fromMs, toMs) since the start. */
  mean(name: string, fromMs: number, toMs: number): number {
    const values = this.series.get(name) ?? [];
    const from = Math.floor(fromMs / 1000);
    const to = Math.floor(toMs / 1000);
    let sum = 0;
    for (let s = from; s < to; s++) sum += values[s] ?? 0;
    return to > from ? sum / (to - from) : 0;
  }

  /** The busiest second in [fromMs, toMs), and when it was. */
  peak(name: string, fromMs: number, toMs: number): { value: number; second: number } {
    const values = this.series.get(name) ?? [];
    let best = { value: 0, second: Math.floor(fromMs / 1000) };
    for (let s = Math.floor(fromMs / 1000); s < Math.floor(toMs / 1000); s++) {
      if ((values[s] ?? 0) > best.value) best = { value: values[s]!, second: s };
    }
    return best;
  }
}

/** Keys of the counters a cause feeds, built once (a counter key built per call costs a string and its hash). */
interface CauseKeys {
  backend: string;
  ops: string;
  units: string;
  backendSeries: number[];
  ddbSeries: number[];
}

export class Meter {
  readonly tally = new Tally();
  readonly series: Series;
  /** Units per partition and second; `restartPartitions` starts a fresh one (a ceiling judges only its hold). */
  partitions = new PartitionMeter();
  /** The cause of the request being executed (requests run one at a time). */
  cause: Cause = 'system';
  /** The function whose invocation is running ('-': none), for `ddb.fn.<function>.<table>.<command>`. */
  running = '-';
  private readonly causeKeys: Record<Cause, CauseKeys>;
  private readonly apiSeries: number[];
  private readonly commandKeys = new Map<string, string>();
  private readonly tableKeys = new Map<string, { read: string; write: string }>();
  private readonly onKeys = new Map<string, string>();

  /** `ddb.on.<table>.<command>`: which table each operation went to, and `ddb.fn.*` from which function (shown by the calibration). */
  private countOn(table: string, command: string): void {
    const id = `${table}|${command}`;
    let key = this.onKeys.get(id);
    if (!key) this.onKeys.set(id, (key = `ddb.on.${table}.${command}`));
    this.tally.add(key);
    const byFunction = `${this.running}|${id}`;
    let fnKey = this.onKeys.get(byFunction);
    if (!fnKey) this.onKeys.set(byFunction, (fnKey = `ddb.fn.${this.running}.${table}.${command}`));
    this.tally.add(fnKey);
  }

  constructor(readonly start: number) {
    this.series = new Series(start);
    this.apiSeries = this.series.of('api');
    const keys = (cause: Cause): CauseKeys => ({
      backend: `backend.${cause}`,
      ops: `ddb.ops.${cause}`,
      units: `ddb.units.${cause}`,
      backendSeries: this.series.of(`backend.${cause}`),
      ddbSeries: this.series.of(`ddb.${cause}`),
    });
    this.causeKeys = { join: keys('join'), waiting: keys('waiting'), admitted: keys('admitted'), system: keys('system') };
  }

  /** From now on, partitions are counted afresh (what was counted before is dropped). */
  restartPartitions(): void {
    this.partitions = new PartitionMeter();
  }

  second(at: number): number {
    return Math.floor((at - this.start) / 1000);
  }

  /** A request that reached a function (or a check message processed): the figure the 5,000/s is about. */
  backend(cause: Cause, at: number): void {
    const keys = this.causeKeys[cause];
    this.tally.add(keys.backend);
    this.series.addTo(keys.backendSeries, at);
  }

  api(route: string, at: number): void {
    this.tally.add(`api.req.${route}`);
    this.series.addTo(this.apiSeries, at);
  }

  dynamo(command: string, at: number, partitions: readonly DynamoUnits[]): void {
    const first = partitions[0];
    const causeKeys = this.operation(command, first?.table === 'line-index' ? 'tokens' : (first?.table ?? '-'), at);
    const second = this.second(at);
    for (const p of partitions) {
      this.partitions.add(p.table, p.key, second, p.read, p.write);
      this.units(p.table, p.read, p.write, causeKeys);
    }
  }

  /** One call that consumed the same units on each of `keys` (a BatchGetItem of tokens). */
  dynamoEach(command: string, at: number, table: string, keys: readonly string[], readEach: number, writeEach: number): void {
    const causeKeys = this.operation(command, table, at);
    const second = this.second(at);
    for (const key of keys) this.partitions.add(table, key, second, readEach, writeEach);
    this.units(table, readEach * keys.length, writeEach * keys.length, causeKeys);
  }

  /** Counts one operation (by command, cause and table, and in its second); the cause's keys. */
  private operation(command: string, table: string, at: number): CauseKeys {
    const causeKeys = this.causeKeys[this.cause];
    let commandKey = this.commandKeys.get(command);
    if (!commandKey) this.commandKeys.set(command, (commandKey = `ddb.cmd.${command}`));
    this.tally.add(commandKey);
    this.tally.add(causeKeys.ops);
    this.series.addTo(causeKeys.ddbSeries, at);
    this.countOn(table, command);
    return causeKeys;
  }

  /** Adds read and write units: in all, on the table, for the cause. */
  private units(table: string, read: number, write: number, causeKeys: CauseKeys): void {
    let tableKeys = this.tableKeys.get(table);
    if (!tableKeys) this.tableKeys.set(table, (tableKeys = { read: `ddb.rru.${table}`, write: `ddb.wru.${table}` }));
    if (read > 0) {
      this.tally.add('ddb.rru', read);
      this.tally.add(tableKeys.read, read);
      this.tally.add(causeKeys.units, read);
    }
    if (write > 0) {
      this.tally.add('ddb.wru', write);
      this.tally.add(tableKeys.write, write);
      this.tally.add(causeKeys.units, write);
    }
  }

  /** The counter keys of one function, built once. */
  lambdaKeys(fn: string): LambdaKeys {
    return {
      invocations: `lambda.${fn}.invocations`,
      billedMs: `lambda.${fn}.billedMs`,
      coldStarts: `lambda.${fn}.coldStarts`,
      throttled: `lambda.${fn}.throttled`,
      throttledMs: `lambda.${fn}.throttledMs`,
    };
  }

  lambda(keys: LambdaKeys, billedMs: number, cold: boolean): void {
    this.tally.add(keys.invocations);
    this.tally.add(keys.billedMs, billedMs);
    if (cold) this.tally.add(keys.coldStarts);
  }

  sqs(action: string, requests = 1): void {
    if (requests > 0) this.tally.add(`sqs.${action}`, requests);
  }

  log(lines = 1): void {
    this.tally.add('logs.bytes', lines * SIZE.logLine);
  }
}

export interface LambdaKeys {
  invocations: string;
  billedMs: string;
  coldStarts: string;
  throttled: string;
  throttledMs: string;
}

/** Capacity units one call consumed on one partition of a table or index. */
export interface DynamoUnits {
  table: string;
  key: string;
  read: number;
  write: number;
}
