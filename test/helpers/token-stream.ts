/**
 * Every change the tokens table's stream holds, read from the start: what happened to each token,
 * however briefly (an admission that was undone by an eviction a second later is still there).
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, type _Record } from '@aws-sdk/client-dynamodb-streams';
import type { LocalRuntime } from '../../local/runtime.js';

export interface TokenChange {
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  tokenId: string;
  /** The token's state after the change (undefined for a removal). */
  state?: string;
}

export async function tokenChanges(runtime: LocalRuntime): Promise<TokenChange[]> {
  const table = runtime.resources.get(runtime.logicalId('WaitingRoomTablesTokens', 'AWS::DynamoDB::Table'))!.ref;
  const { Table } = await runtime.clients.dynamodb.send(new DescribeTableCommand({ TableName: table }));
  const streamArn = Table!.LatestStreamArn!;
  const { StreamDescription } = await runtime.clients.streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const records: _Record[] = [];
  for (const shard of StreamDescription?.Shards ?? []) {
    let { ShardIterator: iterator } = await runtime.clients.streams.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    while (iterator) {
      const page = await runtime.clients.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      records.push(...(page.Records ?? []));
      // An open shard always hands out a next iterator: an empty page is its end for now.
      iterator = (page.Records ?? []).length > 0 ? page.NextShardIterator : undefined;
    }
  }
  return records.map((record) => ({
    eventName: record.eventName as TokenChange['eventName'],
    tokenId: String(record.dynamodb?.Keys?.tokenId?.S),
    ...(record.dynamodb?.NewImage?.state?.S ? { state: record.dynamodb.NewImage.state.S } : {}),
  }));
}
