/**
 * Creates the rooms given in the construct's props at deploy time, with one idempotent UpdateItem
 * per room. Counters are created only if missing, so a redeploy never resets a live room's tickets
 * or seats; capacity, state, mode and rate limit too are set only when missing, so a redeploy never
 * undoes what an operator changed since through the admin API. With `reset`, they are set from the
 * props on every deploy (the call carries the synthesis time, so CloudFormation runs it each time;
 * a room listed without a rate limit loses the one it had).
 * (Timestamps are set by the first join.)
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId, type AwsSdkCall } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { QueueMode, RoomState } from '../../lambdas/domain/index.js';
import { ROOMS_KEY } from '../../lambdas/shared/schema.js';

export interface RoomDefinition {
  readonly roomId: string;
  readonly capacity: number;
  /** @default 'open' */
  readonly state?: RoomState;
  /** fifo, random, passthrough or reject (lambdas/domain/line/queue-modes.ts). @default 'fifo' */
  readonly mode?: QueueMode;
  /** At most this many admissions a minute, besides the seats (lambdas/domain/admission/admission-rate.ts). @default no limit */
  readonly newVisitorsPerMinute?: number;
}

export class SeedRooms extends Construct {
  constructor(scope: Construct, id: string, props: { readonly table: Table; readonly rooms: RoomDefinition[]; readonly lineShards: number; readonly reset: boolean }) {
    super(scope, id);
    const settings = props.reset
      ? '#capacity = :capacity, #state = :state, #mode = :mode, seededAt = :seededAt'
      : '#capacity = if_not_exists(#capacity, :capacity), #state = if_not_exists(#state, :state), #mode = if_not_exists(#mode, :mode)';
    for (const room of props.rooms) {
      const rate = room.newVisitorsPerMinute;
      const rateSet = rate === undefined ? '' : props.reset ? ', newVisitorsPerMinute = :rate' : ', newVisitorsPerMinute = if_not_exists(newVisitorsPerMinute, :rate)';
      const rateRemove = rate === undefined && props.reset ? ' REMOVE newVisitorsPerMinute, rateSlotAt' : '';
      const call: AwsSdkCall = {
        service: 'DynamoDB',
        action: 'updateItem',
        parameters: {
          TableName: props.table.tableName,
          Key: { [ROOMS_KEY]: { S: room.roomId } },
          // Like DynamoStore.upsertRoom: counters only when missing, the line's shards fixed at creation,
          // and a wake-up for the admitter (the change may free seats). Tickets live in their own item.
          UpdateExpression:
            `SET ${settings}, ` +
            'activeCount = if_not_exists(activeCount, :zero), lastAdmittedTicket = if_not_exists(lastAdmittedTicket, :zero), ' +
            'admittedTotal = if_not_exists(admittedTotal, :zero), lineShards = if_not_exists(lineShards, :shards), ' +
            `frontFloor = if_not_exists(frontFloor, :zero)${rateSet}${rateRemove} ADD wakeSeq :one`,
          ExpressionAttributeNames: { '#capacity': 'capacity', '#state': 'state', '#mode': 'mode' },
          ExpressionAttributeValues: {
            ':capacity': { N: String(room.capacity) },
            ':state': { S: room.state ?? 'open' },
            ':mode': { S: room.mode ?? 'fifo' },
            ...(rate !== undefined ? { ':rate': { N: String(rate) } } : {}),
            ':zero': { N: '0' },
            ':one': { N: '1' },
            ':shards': { N: String(props.lineShards) },
            ...(props.reset ? { ':seededAt': { N: String(Date.now()) } } : {}),
          },
        },
        physicalResourceId: PhysicalResourceId.of(`room-${room.roomId}`),
      };
      new AwsCustomResource(this, `Room-${room.roomId}`, {
        onCreate: call,
        onUpdate: call,
        policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: [props.table.tableArn] }),
        installLatestAwsSdk: false,
      });
    }
    // AwsCustomResource runs on one provider function per stack, created beside this construct.
    const provider = Stack.of(this).node.tryFindChild(AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '').replace(/^/, 'AWS'));
    for (const scope of [this, ...(provider ? [provider] : [])]) {
      Validations.of(scope).acknowledge(
        {
          id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason: 'The CDK custom-resource provider function uses the AWS managed basic execution role for its own logs.',
        },
        { id: 'AwsSolutions::AwsSolutions-L1', reason: 'The runtime of the CDK-managed custom-resource provider is chosen by aws-cdk-lib.' },
      );
    }
  }
}
