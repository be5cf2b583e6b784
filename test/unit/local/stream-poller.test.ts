/**
 * The local stream mapping's batching window (MaximumBatchingWindowInSeconds): records a shard
 * yields one GetRecords at a time are gathered into one invocation until the window has passed or
 * a batch is full, as Lambda gathers them; without a window each poll that finds a record invokes.
 */
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, type DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalFunction } from '../../../local/lambda-host.js';
import { StreamPoller } from '../../../local/stream-poller.js';
import type { EventSourceMappingDefinition } from '../../../local/template.js';
import { sleep } from '../../helpers/visitor.js';

/** A one-shard stream that hands out one record per GetRecords (as a stream may); `closed` ends the shard once it is read. */
function fakeStream(count: number) {
  const state = { closed: false };
  const streams = {
    send(command: unknown) {
      if (command instanceof DescribeStreamCommand) return Promise.resolve({ StreamDescription: { Shards: [{ ShardId: 'shard-1' }] } });
      if (command instanceof GetShardIteratorCommand) return Promise.resolve({ ShardIterator: 'at-0' });
      if (command instanceof GetRecordsCommand) {
        const at = Number(command.input.ShardIterator!.slice(3));
        if (at >= count) return Promise.resolve({ Records: [], ...(state.closed ? {} : { NextShardIterator: `at-${at}` }) });
        const record = { eventID: `e${at}`, eventName: 'INSERT', dynamodb: { SequenceNumber: String(100 + at), Keys: { tokenId: { S: `t${at}` } } } };
        return Promise.resolve({ Records: [record], NextShardIterator: `at-${at + 1}` });
      }
      throw new Error(`unexpected ${String(command)}`);
    },
  };
  return { streams: streams as unknown as DynamoDBStreamsClient, state };
}

function recordingFunction() {
  const batches: string[][] = [];
  const fn = {
    name: 'Stats',
    invoke: (event: { Records: { eventID: string }[] }) => {
      batches.push(event.Records.map((r) => r.eventID));
      return Promise.resolve({ batchItemFailures: [] });
    },
  };
  return { fn: fn as unknown as LocalFunction, batches };
}

const mapping = (batchSize: number, batchingWindowSeconds?: number): EventSourceMappingDefinition => ({
  logicalId: 'Mapping',
  functionLogicalId: 'Stats',
  sourceLogicalId: 'Tokens',
  kind: 'dynamodb-stream',
  batchSize,
  filters: [],
  reportBatchItemFailures: true,
  bisectBatchOnFunctionError: false,
  maximumRetryAttempts: 2,
  ...(batchingWindowSeconds !== undefined ? { batchingWindowSeconds } : {}),
});

async function until(condition: () => boolean, what: string, withinMs = 10_000): Promise<void> {
  for (const end = Date.now() + withinMs; !condition(); await sleep(10)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

let poller: StreamPoller | undefined;
afterEach(async () => {
  await poller?.stop();
  poller = undefined;
});

function start(count: number, definition: EventSourceMappingDefinition) {
  const stream = fakeStream(count);
  const fn = recordingFunction();
  poller = new StreamPoller({ mapping: definition, fn: fn.fn, streamArn: 'arn:stream', streams: stream.streams, sqs: {} as SQSClient, startingPosition: 'TRIM_HORIZON', pollIntervalMs: 10 });
  poller.start();
  return { ...fn, ...stream };
}

describe('the local stream mapping', () => {
  it('without a batching window, invokes for every poll that finds records', async () => {
    const { batches } = start(10, mapping(100));
    await until(() => batches.flat().length === 10, 'ten records');
    expect(batches).toEqual(Array.from({ length: 10 }, (_unused, i) => [`e${i}`]));
  });

  it('with a batching window, gathers the records read within it into one invocation', async () => {
    const { batches } = start(10, mapping(100, 1));
    await until(() => batches.length > 0, 'the window to end');
    expect(batches).toEqual([Array.from({ length: 10 }, (_unused, i) => `e${i}`)]);
  });

  it('invokes as soon as a batch is full, keeps the rest for the window, and delivers it when the shard closes', async () => {
    const { batches, state } = start(10, mapping(4, 60));
    await until(() => batches.length === 2, 'two full batches');
    await sleep(200);
    expect(batches).toEqual([
      ['e0', 'e1', 'e2', 'e3'],
      ['e4', 'e5', 'e6', 'e7'],
    ]);
    state.closed = true;
    await until(() => batches.length === 3, 'the last records');
    expect(batches[2]).toEqual(['e8', 'e9']);
  });
});
