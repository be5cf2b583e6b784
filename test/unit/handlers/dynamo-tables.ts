/**
 * DynamoDB tables in memory behind aws-sdk-client-mock, for the handler tests: the handlers run
 * with their real adapters (DynamoStore, DynamoWaitingCounts), and a test states what is in the
 * tables before and after a request instead of scripting each answer.
 *
 * It answers the commands the adapters send (GetItem, BatchGetItem, Query on a declared index,
 * Scan, PutItem, UpdateItem, DeleteItem, TransactWriteItems) with the part of the expression
 * language they write: SET (with if_not_exists), ADD and REMOVE on top-level attributes; conditions
 * made of comparisons, BETWEEN, attribute_exists, attribute_not_exists, AND, OR, NOT and
 * parentheses. As DynamoDB does, it refuses an expression name or value that is missing or unused,
 * a key twice in one BatchGetItem, an item twice in one transaction; a failed condition is a
 * ConditionalCheckFailedException (with the old item, marshalled, when asked for) and a cancelled
 * transaction names a reason per item. Reads are always current: what eventual consistency hides
 * is the business of the contract test on DynamoDB Local (test/integration/store-contract.test.ts).
 *
 * A test that wants a failure stubs it over the fake: `ddb.on(UpdateCommand, { TableName }).rejects(…)`.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DeleteCommandInput,
  type PutCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import { isDeepStrictEqual } from 'node:util';

export type Item = Record<string, unknown>;
type Names = Record<string, string> | undefined;
type Values = Record<string, unknown> | undefined;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the stub's input/output types vary by command
type DocumentStub = AwsStub<any, any, any>;

class ValidationException extends Error {
  override name = 'ValidationException';
}

export interface IndexSchema {
  partitionKey: string;
  sortKey: string;
}

export interface TableSchema {
  /** The partition key (the tables here have no sort key). */
  key: string;
  /** Indexes that project the keys only, by name. */
  indexes?: Record<string, IndexSchema>;
}

// ---------------------------------------------------------------------------------------------
// Expressions.

function tokenize(expression: string): string[] {
  const pattern = /\s*(<>|<=|>=|[=<>(),]|[#:]?\w+)\s*/y;
  const tokens: string[] = [];
  while (pattern.lastIndex < expression.length) {
    const match = pattern.exec(expression);
    if (!match) throw new Error(`the fake does not read the expression ${JSON.stringify(expression)}`);
    tokens.push(match[1]!);
  }
  return tokens;
}

/** DynamoDB's check of the names and values a request brings: each one used, each one used defined. */
function checkPlaceholders(expressions: (string | undefined)[], names: Names, values: Values): void {
  const used = new Set(expressions.flatMap((e) => (e ? tokenize(e) : [])).filter((t) => t.startsWith('#') || t.startsWith(':')));
  for (const placeholder of used) {
    const defined = placeholder.startsWith('#') ? names && placeholder in names : values && placeholder in values;
    if (!defined) throw new ValidationException(`An expression attribute name or value used in expression is not defined: ${placeholder}`);
  }
  for (const placeholder of [...Object.keys(names ?? {}), ...Object.keys(values ?? {})]) {
    if (!used.has(placeholder)) throw new ValidationException(`Value provided in ExpressionAttributeNames or ExpressionAttributeValues unused in expressions: ${placeholder}`);
  }
}

class Reader {
  private at = 0;
  constructor(
    private readonly tokens: string[],
    private readonly names: Names,
    private readonly values: Values,
  ) {}

  get done(): boolean {
    return this.at >= this.tokens.length;
  }
  peek(): string | undefined {
    return this.tokens[this.at];
  }
  next(): string {
    const token = this.tokens[this.at++];
    if (token === undefined) throw new Error('the expression ends too soon');
    return token;
  }
  expect(token: string): void {
    const got = this.next();
    if (got !== token) throw new Error(`expected ${token} in the expression, got ${got}`);
  }
  /** An attribute name: `#name` or a bare name. */
  attribute(): string {
    const token = this.next();
    return token.startsWith('#') ? this.names![token]! : token;
  }
  /** A value or an attribute of `item`. */
  operand(item: Item): unknown {
    const token = this.peek();
    if (token?.startsWith(':')) return structuredClone(this.values![this.next()]);
    return item[this.attribute()];
  }
}

const COMPARATORS: Record<string, (a: unknown, b: unknown) => boolean> = {
  '=': (a, b) => isDeepStrictEqual(a, b),
  '<>': (a, b) => !isDeepStrictEqual(a, b),
  '<': (a, b) => ordered(a, b) && (a as number) < (b as number),
  '<=': (a, b) => ordered(a, b) && (a as number) <= (b as number),
  '>': (a, b) => ordered(a, b) && (a as number) > (b as number),
  '>=': (a, b) => ordered(a, b) && (a as number) >= (b as number),
};
const ordered = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');

/** Evaluates a condition (or key condition) on an item; a missing attribute compares as false. */
export function conditionHolds(expression: string | undefined, item: Item, names: Names, values: Values): boolean {
  if (!expression) return true;
  const reader = new Reader(tokenize(expression), names, values);
  const disjunction = (): boolean => {
    let holds = conjunction();
    while (reader.peek() === 'OR') {
      reader.next();
      const other = conjunction();
      holds = holds || other;
    }
    return holds;
  };
  const conjunction = (): boolean => {
    let holds = negation();
    while (reader.peek() === 'AND') {
      reader.next();
      const other = negation();
      holds = holds && other;
    }
    return holds;
  };
  const negation = (): boolean => {
    if (reader.peek() !== 'NOT') return primary();
    reader.next();
    return !negation();
  };
  const primary = (): boolean => {
    const token = reader.peek();
    if (token === '(') {
      reader.next();
      const holds = disjunction();
      reader.expect(')');
      return holds;
    }
    if (token === 'attribute_exists' || token === 'attribute_not_exists') {
      reader.next();
      reader.expect('(');
      const present = item[reader.attribute()] !== undefined;
      reader.expect(')');
      return token === 'attribute_exists' ? present : !present;
    }
    const left = reader.operand(item);
    const operator = reader.next();
    if (operator === 'BETWEEN') {
      const low = reader.operand(item);
      reader.expect('AND');
      const high = reader.operand(item);
      return COMPARATORS['>=']!(left, low) && COMPARATORS['<=']!(left, high);
    }
    const compare = COMPARATORS[operator];
    if (!compare) throw new Error(`the fake does not know the operator ${operator}`);
    return compare(left, reader.operand(item));
  };
  const holds = disjunction();
  if (!reader.done) throw new Error(`the fake did not read all of ${JSON.stringify(expression)}`);
  return holds;
}

const UPDATE_CLAUSES = new Set(['SET', 'ADD', 'REMOVE']);

/** Applies an update expression: every right-hand side reads the item as it was before. Returns the attributes it set. */
export function applyUpdate(expression: string, item: Item, names: Names, values: Values): string[] {
  const before = structuredClone(item);
  const reader = new Reader(tokenize(expression), names, values);
  const changed: string[] = [];
  const target = (): string => {
    const attribute = reader.attribute();
    if (changed.includes(attribute)) throw new ValidationException(`Two document paths overlap: ${attribute}`);
    changed.push(attribute);
    return attribute;
  };
  while (!reader.done) {
    const clause = reader.next();
    if (!UPDATE_CLAUSES.has(clause)) throw new Error(`the fake does not know the update clause ${clause}`);
    do {
      if (reader.peek() === ',') reader.next();
      const attribute = target();
      if (clause === 'REMOVE') {
        delete item[attribute];
      } else if (clause === 'ADD') {
        const current = before[attribute];
        item[attribute] = (typeof current === 'number' ? current : 0) + (reader.operand(before) as number);
      } else {
        reader.expect('=');
        if (reader.peek() === 'if_not_exists') {
          reader.next();
          reader.expect('(');
          const existing = before[reader.attribute()];
          reader.expect(',');
          const fallback = reader.operand(before);
          reader.expect(')');
          item[attribute] = existing ?? fallback;
        } else {
          item[attribute] = reader.operand(before);
        }
      }
    } while (reader.peek() === ',');
  }
  return changed.filter((attribute) => item[attribute] !== undefined);
}

// ---------------------------------------------------------------------------------------------
// Tables.

export class FakeTable {
  private readonly items = new Map<string, Item>();

  constructor(
    readonly name: string,
    readonly schema: TableSchema,
  ) {}

  /** Writes items as they are (a test's starting state). */
  put(...items: Item[]): this {
    for (const item of items) this.items.set(String(item[this.schema.key]), structuredClone(item));
    return this;
  }

  /** The item of a key, as it is now. */
  get(key: string): Item | undefined {
    const item = this.items.get(key);
    return item && structuredClone(item);
  }

  all(): Item[] {
    return [...this.items.values()].map((item) => structuredClone(item));
  }

  delete(key: string): void {
    this.items.delete(key);
  }

  keyOf(key: Item): string {
    const value = key[this.schema.key];
    if (typeof value !== 'string' || value === '') throw new ValidationException(`The provided key element does not match the schema of ${this.name}`);
    return value;
  }
}

interface Write {
  table: FakeTable;
  key: string;
  /** The request's update expression, if any: its placeholders count with the condition's. */
  update?: string;
  condition?: string;
  names: Names;
  values: Values;
  /** ReturnValuesOnConditionCheckFailure ALL_OLD. */
  returnOld: boolean;
  /** The item after the write (undefined: deleted), from the item before it. */
  apply: (existing: Item | undefined) => { item: Item | undefined; returned?: Item };
}

export class FakeTables {
  private readonly tables = new Map<string, FakeTable>();

  constructor(schemas: Record<string, TableSchema>) {
    for (const [name, schema] of Object.entries(schemas)) this.tables.set(name, new FakeTable(name, schema));
  }

  table(name: string): FakeTable {
    const table = this.tables.get(name);
    if (!table) throw Object.assign(new Error(`Requested resource not found: table ${name}`), { name: 'ResourceNotFoundException' });
    return table;
  }

  /** Answers the document client's commands from these tables. */
  install(stub: DocumentStub): this {
    stub.on(GetCommand).callsFake(async (input: { TableName: string; Key: Item; ProjectionExpression?: string; ExpressionAttributeNames?: Names }) => {
      checkPlaceholders([input.ProjectionExpression], input.ExpressionAttributeNames, undefined);
      const table = this.table(input.TableName);
      const item = table.get(table.keyOf(input.Key));
      return { Item: item && project(item, input.ProjectionExpression, input.ExpressionAttributeNames) };
    });
    stub.on(BatchGetCommand).callsFake(async (input: { RequestItems: Record<string, { Keys: Item[] }> }) => {
      const responses: Record<string, Item[]> = {};
      const requested = Object.entries(input.RequestItems);
      if (requested.reduce((n, [, r]) => n + r.Keys.length, 0) > 100) throw new ValidationException('Too many items requested for the BatchGetItem call');
      for (const [name, { Keys }] of requested) {
        const table = this.table(name);
        const keys = Keys.map((key) => table.keyOf(key));
        if (new Set(keys).size !== keys.length) throw new ValidationException('Provided list of item keys contains duplicates');
        responses[name] = keys.flatMap((key) => {
          const item = table.get(key);
          return item ? [item] : [];
        });
      }
      return { Responses: responses, UnprocessedKeys: {} };
    });
    stub.on(ScanCommand).callsFake(async (input: { TableName: string }) => ({ Items: this.table(input.TableName).all() }));
    stub.on(QueryCommand).callsFake(async (input: QueryInput) => this.query(input));
    stub.on(PutCommand).callsFake(async (input: PutCommandInput) => this.write([this.putWrite(input)])[0]);
    stub.on(UpdateCommand).callsFake(async (input: UpdateCommandInput) => this.write([this.updateWrite(input)])[0]);
    stub.on(DeleteCommand).callsFake(async (input: DeleteCommandInput) => this.write([this.deleteWrite(input)])[0]);
    stub.on(TransactWriteCommand).callsFake(async (input: { TransactItems: TransactItem[] }) => {
      const writes = input.TransactItems.map((entry) => {
        if (entry.Put) return this.putWrite(entry.Put);
        if (entry.Update) return this.updateWrite(entry.Update);
        if (entry.Delete) return this.deleteWrite(entry.Delete);
        throw new Error(`the fake does not know the transaction item ${Object.keys(entry).join()}`);
      });
      const items = writes.map((w) => `${w.table.name}/${w.key}`);
      if (new Set(items).size !== items.length) throw new ValidationException('Transaction request cannot include multiple operations on one item');
      this.write(writes, true);
      return {};
    });
    return this;
  }

  private putWrite(input: PutCommandInput): Write {
    const table = this.table(input.TableName!);
    return this.writeOf(table, table.keyOf(input.Item!), input, () => ({ item: structuredClone(input.Item!) }));
  }

  private updateWrite(input: UpdateCommandInput): Write {
    const table = this.table(input.TableName!);
    const key = table.keyOf(input.Key!);
    return this.writeOf(table, key, input, (existing) => {
      const item = existing ? structuredClone(existing) : { [table.schema.key]: key };
      const changed = applyUpdate(input.UpdateExpression!, item, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
      if (input.ReturnValues === 'ALL_NEW') return { item, returned: structuredClone(item) };
      if (input.ReturnValues === 'UPDATED_NEW') return { item, returned: Object.fromEntries(changed.map((a) => [a, structuredClone(item[a])])) };
      if (input.ReturnValues === 'ALL_OLD') return { item, ...(existing ? { returned: structuredClone(existing) } : {}) };
      return { item };
    });
  }

  private deleteWrite(input: DeleteCommandInput): Write {
    const table = this.table(input.TableName!);
    return this.writeOf(table, table.keyOf(input.Key!), input, () => ({ item: undefined }));
  }

  private writeOf(table: FakeTable, key: string, input: WriteInput, apply: Write['apply']): Write {
    return {
      table,
      key,
      update: input.UpdateExpression,
      condition: input.ConditionExpression,
      names: input.ExpressionAttributeNames,
      values: input.ExpressionAttributeValues,
      returnOld: input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD',
      apply,
    };
  }

  /** Checks every condition, then applies every write (all or nothing); a failure as DynamoDB answers it. */
  private write(writes: Write[], transaction = false): object[] {
    const failed = writes.map((w) => {
      checkPlaceholders([w.update, w.condition], w.names, w.values);
      return !conditionHolds(w.condition, w.table.get(w.key) ?? {}, w.names, w.values);
    });
    if (transaction && failed.some(Boolean)) {
      throw new TransactionCanceledException({
        message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${failed.map((f) => (f ? 'ConditionalCheckFailed' : 'None')).join(', ')}]`,
        $metadata: {},
        CancellationReasons: failed.map((f) => (f ? { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' } : { Code: 'None' })),
      });
    }
    if (!transaction && failed[0]) throw this.conditionFailure(writes[0]!);
    return writes.map((w) => {
      const { item, returned } = w.apply(w.table.get(w.key));
      if (item) w.table.put(item);
      else w.table.delete(w.key);
      return returned ? { Attributes: returned } : {};
    });
  }

  private conditionFailure(write: Write): Error {
    const old = write.table.get(write.key);
    const error = new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    // The document client leaves the old item in DynamoDB's attribute-value form.
    return old && write.returnOld ? Object.assign(error, { Item: marshall(old) }) : error;
  }

  private query(input: QueryInput): { Items: Item[]; LastEvaluatedKey?: Item } {
    checkPlaceholders([input.KeyConditionExpression], input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    const table = this.table(input.TableName);
    const index = input.IndexName ? table.schema.indexes?.[input.IndexName] : undefined;
    if (!index) throw new Error(`the fake queries only the indexes it declares (asked for ${String(input.IndexName)})`);
    const projected = (item: Item): Item => ({ [table.schema.key]: item[table.schema.key], [index.partitionKey]: item[index.partitionKey], [index.sortKey]: item[index.sortKey] });
    const sortValue = (item: Item) => item[index.sortKey] as number;
    let entries = table
      .all()
      .filter((item) => item[index.partitionKey] !== undefined && item[index.sortKey] !== undefined)
      .map(projected)
      .filter((entry) => conditionHolds(input.KeyConditionExpression, entry, input.ExpressionAttributeNames, input.ExpressionAttributeValues))
      .sort((a, b) => sortValue(a) - sortValue(b));
    if (input.ScanIndexForward === false) entries.reverse();
    if (input.ExclusiveStartKey) {
      const start = entries.findIndex((entry) => entry[table.schema.key] === input.ExclusiveStartKey![table.schema.key]);
      entries = entries.slice(start + 1);
    }
    if (input.Limit === undefined || entries.length <= input.Limit) return { Items: entries };
    const page = entries.slice(0, input.Limit);
    return { Items: page, LastEvaluatedKey: page[page.length - 1] };
  }
}

interface QueryInput {
  TableName: string;
  IndexName?: string;
  KeyConditionExpression: string;
  ExpressionAttributeNames?: Names;
  ExpressionAttributeValues?: Values;
  ScanIndexForward?: boolean;
  Limit?: number;
  ExclusiveStartKey?: Item;
}

/** What the writes' inputs have in common (a put and a delete have no update expression). */
interface WriteInput {
  UpdateExpression?: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Names;
  ExpressionAttributeValues?: Values;
  ReturnValuesOnConditionCheckFailure?: string;
}

interface TransactItem {
  Put?: PutCommandInput;
  Update?: UpdateCommandInput;
  Delete?: DeleteCommandInput;
}

function project(item: Item, projection: string | undefined, names: Names): Item {
  if (!projection) return item;
  const attributes = projection.split(',').map((a) => a.trim()).map((a) => (a.startsWith('#') ? names![a]! : a));
  return Object.fromEntries(attributes.filter((a) => item[a] !== undefined).map((a) => [a, item[a]]));
}
