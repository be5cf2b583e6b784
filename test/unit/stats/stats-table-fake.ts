/**
 * A stats table in memory behind aws-sdk-client-mock: GetItem, BatchGetItem and UpdateItem with the
 * subset of the expression language the stats adapters write (SET / ADD / REMOVE on document paths;
 * conditions joined by AND of attribute_exists, attribute_not_exists, = and size(path) <= value). Conditions are
 * evaluated and nested SETs under a missing map are refused, as DynamoDB does, so that tests of
 * replays, retries and concurrent writers exercise the adapter's real conditions.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import { isDeepStrictEqual } from 'node:util';

type Item = Record<string, unknown>;
type Names = Record<string, string> | undefined;
type Values = Record<string, unknown> | undefined;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the stub's input/output types vary by command
type DocumentStub = AwsStub<any, any, any>;

class ValidationException extends Error {
  override name = 'ValidationException';
}

function pathOf(expression: string, names: Names): string[] {
  return expression
    .trim()
    .split('.')
    .map((part) => {
      if (!part.startsWith('#')) return part;
      const name = names?.[part];
      if (name === undefined) throw new ValidationException(`unknown attribute name ${part}`);
      return name;
    });
}

function valueOf(token: string, values: Values): unknown {
  const key = token.trim();
  if (!values || !(key in values)) throw new ValidationException(`unknown attribute value ${key}`);
  return structuredClone(values[key]);
}

function read(item: Item, path: string[]): unknown {
  let node: unknown = item;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Item)[part];
  }
  return node;
}

function parentOf(item: Item, path: string[]): Item {
  const parent = path.length === 1 ? item : read(item, path.slice(0, -1));
  if (typeof parent !== 'object' || parent === null) {
    throw new ValidationException('The document path provided in the update expression is invalid for update');
  }
  return parent as Item;
}

export function conditionHolds(condition: string | undefined, item: Item, names: Names, values: Values): boolean {
  if (!condition) return true;
  return condition.split(' AND ').every((term) => {
    const t = term.trim();
    let m = /^attribute_not_exists\((.+)\)$/.exec(t);
    if (m) return read(item, pathOf(m[1]!, names)) === undefined;
    m = /^attribute_exists\((.+)\)$/.exec(t);
    if (m) return read(item, pathOf(m[1]!, names)) !== undefined;
    m = /^size\((.+)\) <= (:\w+)$/.exec(t);
    if (m) {
      const value = read(item, pathOf(m[1]!, names));
      const size = typeof value === 'string' || Array.isArray(value) ? value.length : typeof value === 'object' && value !== null ? Object.keys(value).length : undefined;
      return size !== undefined && size <= (valueOf(m[2]!, values) as number);
    }
    m = /^(\S+) = (:\w+)$/.exec(t);
    if (m) return isDeepStrictEqual(read(item, pathOf(m[1]!, names)), valueOf(m[2]!, values));
    throw new Error(`the fake does not understand the condition term ${JSON.stringify(t)}`);
  });
}

export function applyUpdate(expression: string, item: Item, names: Names, values: Values): void {
  const parts = expression.trim().split(/\s*\b(SET|ADD|REMOVE)\s+/).filter((p) => p.length > 0);
  for (let i = 0; i < parts.length; i += 2) {
    const clause = parts[i];
    const actions = (parts[i + 1] ?? '').split(',').map((a) => a.trim());
    for (const action of actions) {
      if (clause === 'SET') {
        const [lhs, rhs] = action.split(' = ');
        const path = pathOf(lhs!, names);
        parentOf(item, path)[path[path.length - 1]!] = valueOf(rhs!, values);
      } else if (clause === 'ADD') {
        const [lhs, rhs] = action.split(/\s+/);
        const path = pathOf(lhs!, names);
        const parent = parentOf(item, path);
        const key = path[path.length - 1]!;
        parent[key] = (typeof parent[key] === 'number' ? (parent[key] as number) : 0) + (valueOf(rhs!, values) as number);
      } else if (clause === 'REMOVE') {
        const path = pathOf(action, names);
        delete parentOf(item, path)[path[path.length - 1]!];
      } else {
        throw new Error(`the fake does not understand the clause ${String(clause)}`);
      }
    }
  }
}

export class FakeStatsTable {
  readonly items = new Map<string, Item>();
  /** Every UpdateItem input received, in order, including refused ones. */
  readonly updates: UpdateCommandInput[] = [];
  private readonly beforeUpdates: (() => Promise<void>)[] = [];
  private readonly failures = new Map<string, Error[]>();
  private readonly unprocessed = new Set<string>();

  constructor(readonly tableName = 'stats-table') {}

  install(stub: DocumentStub): this {
    stub.on(GetCommand).callsFake(async (input: { Key: Item }) => {
      const item = this.items.get(String(input.Key.roomId));
      return { Item: item ? structuredClone(item) : undefined };
    });
    stub.on(UpdateCommand).callsFake(async (input: UpdateCommandInput) => this.update(input));
    stub.on(BatchGetCommand).callsFake(async (input: { RequestItems: Record<string, { Keys: Item[] }> }) => {
      const keys = input.RequestItems[this.tableName]?.Keys ?? [];
      const found: Item[] = [];
      const left: Item[] = [];
      for (const key of keys) {
        const id = String(key.roomId);
        if (this.unprocessed.delete(id)) left.push(key);
        else if (this.items.has(id)) found.push(structuredClone(this.items.get(id)!));
      }
      return {
        Responses: { [this.tableName]: found },
        UnprocessedKeys: left.length > 0 ? { [this.tableName]: { Keys: left } } : {},
      };
    });
    return this;
  }

  /** Runs `write` just before the next UpdateItem is applied: a concurrent writer between read and write. */
  beforeNextUpdate(write: () => Promise<void>): void {
    this.beforeUpdates.push(write);
  }

  /** The next UpdateItem on `roomId` fails with `error`. */
  failNextUpdate(roomId: string, error: Error): void {
    const queue = this.failures.get(roomId) ?? [];
    queue.push(error);
    this.failures.set(roomId, queue);
  }

  /** The next BatchGetItem leaves `roomId` unprocessed. */
  leaveUnprocessedOnce(roomId: string): void {
    this.unprocessed.add(roomId);
  }

  item(roomId: string): Item | undefined {
    return this.items.get(roomId);
  }

  private async update(input: UpdateCommandInput): Promise<object> {
    const hook = this.beforeUpdates.shift();
    if (hook) await hook();
    this.updates.push(input);
    const roomId = String((input.Key as Item).roomId);
    const failure = this.failures.get(roomId)?.shift();
    if (failure) throw failure;
    const existing = this.items.get(roomId);
    const names = input.ExpressionAttributeNames;
    const values = input.ExpressionAttributeValues;
    if (!conditionHolds(input.ConditionExpression, existing ?? {}, names, values)) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
    const item = existing ? structuredClone(existing) : { roomId };
    applyUpdate(input.UpdateExpression!, item, names, values);
    this.items.set(roomId, item);
    return {};
  }
}
