/**
 * Counts every AWS SDK call made in this process, by client and operation, by wrapping the send
 * of the SDK's base client class (Smithy's Client, which every v3 client and the DynamoDB document
 * client extend). The local runtime runs every handler in this process, so this sees every call
 * the functions make, as a client middleware on each of their clients would, without touching
 * their code. Document-client commands are counted as the DynamoDB operation they make
 * (GetCommand → GetItem); SendMessageBatch also counts its entries.
 *
 * It also times DynamoDB: how long at least one call was outstanding (DYNAMO_BUSY_MS). DynamoDB
 * Local answers one request at a time, so that time over the calls made is what one call takes on
 * this machine now, whatever the load, which the model's latencies are scaled to (calibrate.ts).
 */
import { createRequire } from 'node:module';
import { runningHandler } from '../../local/lambda-host.js';
import { ADMITTER_HELD_MS, ADMITTER_LEASES } from './store-in-time.js';

type Send = (this: { constructor: { name: string } }, command: unknown, ...rest: unknown[]) => Promise<unknown>;
interface ClientClass {
  prototype: { send: Send };
}

/** lib-dynamodb command names → the DynamoDB operation. */
const DOCUMENT_COMMANDS: Record<string, string> = {
  GetCommand: 'GetItem',
  PutCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
  BatchGetCommand: 'BatchGetItem',
  BatchWriteCommand: 'BatchWriteItem',
  TransactWriteCommand: 'TransactWriteItems',
  TransactGetCommand: 'TransactGetItems',
};

/** The counts' key for the time DynamoDB was busy (the calls it answered are the `ddb.cmd.*` counts). */
export const DYNAMO_BUSY_MS = 'dynamo.busyMs';

export class SdkCounter {
  counts = new Map<string, number>();
  private restore: (() => void)[] = [];

  /** Starts counting (both module formats of the base client, whichever the SDK loaded). */
  async install(): Promise<void> {
    const require = createRequire(import.meta.url);
    const classes = new Set<ClientClass>();
    classes.add((require('@smithy/core/client') as { Client: ClientClass }).Client);
    classes.add(((await import('@smithy/core/client')) as unknown as { Client: ClientClass }).Client);
    const record = (client: string, command: unknown) => this.record(client, command);
    const timed = <T>(client: string, command: unknown, sent: Promise<T>) =>
      client === 'DynamoDBClient' || client === 'DynamoDBDocumentClient' ? this.timeLease(command, this.timeDynamo(sent)) : sent;
    for (const Client of classes) {
      const original = Client.prototype.send;
      Client.prototype.send = function (this: { constructor: { name: string } }, command: unknown, ...rest: unknown[]) {
        record(this.constructor.name, command);
        return timed(this.constructor.name, command, original.call(this, command, ...rest));
      };
      this.restore.push(() => (Client.prototype.send = original));
    }
  }

  uninstall(): void {
    for (const undo of this.restore.splice(0)) undo();
  }

  reset(): void {
    this.counts = new Map();
  }

  private outstanding = 0;
  private busySince = 0;

  /** Adds the time during which at least one DynamoDB call was outstanding (see the header). */
  private timeDynamo<T>(sent: Promise<T>): Promise<T> {
    if (this.outstanding++ === 0) this.busySince = performance.now();
    const done = () => {
      if (--this.outstanding === 0) this.add(DYNAMO_BUSY_MS, performance.now() - this.busySince);
    };
    sent.then(done, done);
    return sent;
  }

  /** When each admitter lease now held was asked for, by owner. */
  private readonly leases = new Map<string, number>();

  /**
   * Times the admitter's leases (ADMITTER_HELD_MS over ADMITTER_LEASES): from the acquire's send to
   * the response of the release that gave the lease back (a release refused by a wake-up keeps it).
   */
  private timeLease<T>(command: unknown, sent: Promise<T>): Promise<T> {
    const input = (command as { input?: { UpdateExpression?: string; ExpressionAttributeValues?: Record<string, unknown> } }).input;
    const owner = input?.ExpressionAttributeValues?.[':owner'];
    if (typeof owner !== 'string' || !input?.UpdateExpression) return sent;
    if (input.UpdateExpression.startsWith('SET admitter = :owner')) {
      const asked = performance.now();
      sent.then(
        () => this.leases.set(owner, asked),
        () => undefined,
      );
    } else if (input.UpdateExpression.includes('REMOVE admitter')) {
      sent.then(
        () => {
          const asked = this.leases.get(owner);
          if (asked === undefined) return;
          this.leases.delete(owner);
          this.add(ADMITTER_LEASES);
          this.add(ADMITTER_HELD_MS, performance.now() - asked);
        },
        () => undefined,
      );
    }
    return sent;
  }

  /** `admit.<function>.batches` and `.tokens`: the admission transactions sent and the tokens they held (shown by the calibration, as the model's). */
  private addAdmission(fn: string, tokens: number): void {
    this.add(`admit.${fn}.batches`);
    this.add(`admit.${fn}.tokens`, tokens);
  }

  private add(key: string, amount = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + amount);
  }

  private record(client: string, command: unknown): void {
    const name = (command as { constructor: { name: string } }).constructor.name;
    const operation = DOCUMENT_COMMANDS[name] ?? name.replace(/Command$/, '');
    if (client === 'DynamoDBClient' || client === 'DynamoDBDocumentClient') {
      this.add(`ddb.cmd.${operation}`);
      const input = (command as { input?: { TableName?: string; RequestItems?: Record<string, unknown>; TransactItems?: Record<string, { TableName?: string }>[] } }).input;
      const table = input?.TableName ?? Object.keys(input?.RequestItems ?? {})[0] ?? Object.values(input?.TransactItems?.[0] ?? {})[0]?.TableName ?? '';
      const fn = runningHandler() ?? '-';
      this.add(`ddb.on.${tableKind(table)}.${operation}`);
      this.add(`ddb.fn.${fn}.${tableKind(table)}.${operation}`);
      const admitted = input?.TransactItems?.filter((item) => (item as { Update?: { ExpressionAttributeValues?: Record<string, unknown> } }).Update?.ExpressionAttributeValues?.[':admitted'] === 'ADMITTED');
      if (admitted?.length) this.addAdmission(fn, admitted.length);
    }
    else if (client === 'SQSClient') {
      this.add(`sqs.${operation}`);
      const input = (command as { input?: { Entries?: unknown[] } }).input;
      if (operation === 'SendMessageBatch') this.add('sqs.messagesSent', input?.Entries?.length ?? 0);
      if (operation === 'SendMessage') this.add('sqs.messagesSent');
    } else this.add(`other.${client}.${operation}`);
  }
}

/** The model's name for a table of the local runtime (its names come from the template's logical ids). */
function tableKind(name: string): string {
  // (Every name contains "WaitingRoom": the table's own part comes after it.)
  const own = name.replace(/waitingroom/i, '');
  if (/token/i.test(own)) return 'tokens';
  if (/stat/i.test(own)) return 'stats';
  if (/room/i.test(own)) return 'rooms';
  return name;
}
