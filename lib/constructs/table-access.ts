/**
 * Least-privilege DynamoDB permissions: exact actions on exact table and index ARNs (no wildcards).
 * TransactWriteItems needs the item-level actions it performs (UpdateItem, PutItem, DeleteItem).
 */
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { LINE_INDEX } from '../../lambdas/shared/schema.js';

export type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query' | 'Scan' | 'BatchGetItem';

export function grantTable(grantee: IGrantable, table: Table, actions: TableAction[]): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: [table.tableArn] }),
  );
}

/** Query on the line index (the waiting tokens) only. */
export function grantLineIndex(grantee: IGrantable, tokens: Table): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${tokens.tableArn}/index/${LINE_INDEX.name}`] }),
  );
}

/**
 * What joining, signals, admission, eviction and leaving need (the DynamoStore's writes): read rooms
 * with their ticket counters (BatchGetItem, GetItem), change them (UpdateItem: counters, lease, counts);
 * write, read in batches, change and delete tokens; read the line.
 */
export function grantAdmission(grantee: IGrantable, tables: { rooms: Table; tokens: Table }): void {
  grantTable(grantee, tables.rooms, ['GetItem', 'UpdateItem', 'BatchGetItem']);
  grantTable(grantee, tables.tokens, ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchGetItem']);
  grantLineIndex(grantee, tables.tokens);
}
