/**
 * Creates, on the emulators, the tables, queues and topics the synthesized template declares, and
 * returns what each logical id resolves to (names, ARNs, URLs).
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type GlobalSecondaryIndexDescription,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import { resolve, type LocalResource } from './intrinsics.js';
import { resourcesOfType, type CfnTemplate } from './template.js';

export interface ProvisionClients {
  dynamodb: DynamoDBClient;
  sqs: SQSClient;
  sns: SNSClient;
}

export interface Provisioned {
  resources: Map<string, LocalResource>;
  /** Tables that already existed (a --data directory from an earlier run). */
  existingTables: string[];
  /** E-mail subscriptions: the local runtime shows their notifications instead of mailing them. */
  emailSubscriptions: { topicLogicalId: string; endpoint: string }[];
}

type Props = Record<string, unknown>;

/** The CreateTable input for a table resource of the template (key schema, indexes, stream). */
export function createTableInput(logicalId: string, props: Props): CreateTableCommandInput {
  const stream = props.StreamSpecification as { StreamViewType?: string } | undefined;
  const indexes = props.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'];
  return {
    TableName: logicalId,
    KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
    AttributeDefinitions: props.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    BillingMode: 'PAY_PER_REQUEST',
    ...(indexes ? { GlobalSecondaryIndexes: indexes } : {}),
    ...(stream?.StreamViewType ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream.StreamViewType as 'NEW_AND_OLD_IMAGES' } } : {}),
  };
}

/**
 * A table kept from an earlier run (a --data directory) must have the indexes the template declares,
 * with the same keys: a layout change (a renamed or resharded index) would otherwise fail at the first
 * Query, far from its cause.
 */
function assertSameIndexes(logicalId: string, wanted: CreateTableCommandInput, found: readonly GlobalSecondaryIndexDescription[]): void {
  const describe = (indexes: readonly { IndexName?: string; KeySchema?: readonly KeySchemaElement[] }[]) =>
    indexes.map((i) => `${i.IndexName}(${(i.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',')})`).sort();
  const expected = describe(wanted.GlobalSecondaryIndexes ?? []);
  const actual = describe(found);
  if (expected.join(' ') !== actual.join(' ')) {
    throw new Error(
      `Table ${logicalId} from an earlier run has the indexes [${actual.join(' ')}], the template declares [${expected.join(' ')}]: ` +
        'the data layout changed; start with a new data directory (or none).',
    );
  }
}

async function provisionTable(clients: ProvisionClients, logicalId: string, props: Props): Promise<{ resource: LocalResource; existed: boolean }> {
  let existed = false;
  try {
    await clients.dynamodb.send(new CreateTableCommand(createTableInput(logicalId, props)));
    const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
    if (ttl?.Enabled && ttl.AttributeName) {
      await clients.dynamodb.send(
        new UpdateTimeToLiveCommand({ TableName: logicalId, TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true } }),
      );
    }
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
    existed = true;
  }
  const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: logicalId }));
  if (existed) assertSameIndexes(logicalId, createTableInput(logicalId, props), Table?.GlobalSecondaryIndexes ?? []);
  const attributes: Record<string, string> = { Arn: Table!.TableArn! };
  if (Table?.LatestStreamArn) attributes.StreamArn = Table.LatestStreamArn;
  return { resource: { ref: logicalId, attributes }, existed };
}

export async function provision(template: CfnTemplate, clients: ProvisionClients): Promise<Provisioned> {
  const resources = new Map<string, LocalResource>();
  const existingTables: string[] = [];

  for (const [logicalId, table] of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
    const { resource, existed } = await provisionTable(clients, logicalId, table.Properties ?? {});
    resources.set(logicalId, resource);
    if (existed) existingTables.push(logicalId);
  }

  // Queues first without redrive (a DLQ must exist before it is named), then their redrive policies.
  const queues = resourcesOfType(template, 'AWS::SQS::Queue');
  for (const [logicalId, queue] of queues) {
    const p = queue.Properties ?? {};
    const attributes: Record<string, string> = {};
    for (const key of ['VisibilityTimeout', 'MessageRetentionPeriod', 'DelaySeconds', 'ReceiveMessageWaitTimeSeconds', 'MaximumMessageSize']) {
      if (p[key] !== undefined) attributes[key] = String(p[key]);
    }
    const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: logicalId, Attributes: attributes }));
    const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    resources.set(logicalId, { ref: QueueUrl!, attributes: { Arn: Attributes!.QueueArn!, QueueUrl: QueueUrl!, QueueName: logicalId } });
  }
  for (const [logicalId, queue] of queues) {
    const redrive = queue.Properties?.RedrivePolicy;
    if (!redrive) continue;
    const policy = resolve(redrive, resources) as { deadLetterTargetArn: string; maxReceiveCount: number };
    await clients.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: resources.get(logicalId)!.ref,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: policy.deadLetterTargetArn, maxReceiveCount: policy.maxReceiveCount }) },
      }),
    );
  }

  for (const [logicalId] of resourcesOfType(template, 'AWS::SNS::Topic')) {
    const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: logicalId }));
    resources.set(logicalId, { ref: TopicArn!, attributes: { TopicArn: TopicArn!, TopicName: logicalId } });
  }
  const emailSubscriptions: Provisioned['emailSubscriptions'] = [];
  for (const [, subscription] of resourcesOfType(template, 'AWS::SNS::Subscription')) {
    const p = subscription.Properties ?? {};
    const topicLogicalId = (p.TopicArn as { Ref?: string }).Ref!;
    if (p.Protocol === 'email') {
      emailSubscriptions.push({ topicLogicalId, endpoint: String(p.Endpoint) });
    } else if (p.Protocol !== 'lambda') {
      // A function's subscription is played by the runtime (./topic-subscribers.ts).
      await clients.sns.send(
        new SubscribeCommand({ TopicArn: resources.get(topicLogicalId)!.ref, Protocol: String(p.Protocol), Endpoint: String(resolve(p.Endpoint, resources)) }),
      );
    }
  }
  return { resources, existingTables, emailSubscriptions };
}
