/**
 * The three tables (DESIGN §4): rooms (room items and their ticket counter items), tokens (stream +
 * TTL + the sparse, sharded index of the line), stats.
 * Key and index names come from lambdas/shared/schema.ts, which the DynamoDB adapter also reads.
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { ROOMS_KEY, STATS_KEY, TOKENS_KEY, TOKEN_TTL_ATTRIBUTE, LINE_INDEX } from '../../lambdas/shared/schema.js';

export interface WaitingRoomTablesProps {
  readonly removalPolicy: RemovalPolicy;
}

export class WaitingRoomTables extends Construct {
  readonly rooms: Table;
  readonly tokens: Table;
  readonly stats: Table;

  constructor(scope: Construct, id: string, props: WaitingRoomTablesProps) {
    super(scope, id);
    const common = {
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy,
    };
    this.rooms = new Table(this, 'Rooms', {
      ...common,
      partitionKey: { name: ROOMS_KEY, type: AttributeType.STRING },
    });
    this.tokens = new Table(this, 'Tokens', {
      ...common,
      partitionKey: { name: TOKENS_KEY, type: AttributeType.STRING },
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: TOKEN_TTL_ATTRIBUTE,
    });
    this.tokens.addGlobalSecondaryIndex({
      indexName: LINE_INDEX.name,
      partitionKey: { name: LINE_INDEX.partitionKey, type: AttributeType.STRING },
      sortKey: { name: LINE_INDEX.sortKey, type: AttributeType.NUMBER },
      projectionType: ProjectionType.KEYS_ONLY,
    });
    this.stats = new Table(this, 'Stats', {
      ...common,
      partitionKey: { name: STATS_KEY, type: AttributeType.STRING },
    });
  }
}
