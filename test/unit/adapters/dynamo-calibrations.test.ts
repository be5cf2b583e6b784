import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoCalibrations } from '../../../lambdas/adapters/dynamo-calibrations.js';
import { roomOf } from '../../../lambdas/adapters/dynamo-store-items.js';

const ddb = mockClient(DynamoDBDocumentClient);
const calibrations = () => new DynamoCalibrations(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), 'rooms');
afterEach(() => ddb.reset());

describe('DynamoCalibrations', () => {
  it("sets the room item's calibration alone, on condition the room exists, and leaves updatedAt as it is", async () => {
    ddb.on(UpdateCommand).resolves({});
    await calibrations().saveCalibration('shop', { lowFactor: 0.6, highFactor: 0.9, samples: 40, at: 5 });
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toEqual({
      TableName: 'rooms',
      Key: { roomId: 'shop' },
      UpdateExpression: 'SET calibration = :calibration',
      ConditionExpression: 'attribute_exists(roomId)',
      ExpressionAttributeValues: { ':calibration': { lowFactor: 0.6, highFactor: 0.9, samples: 40, at: 5 } },
    });
  });

  it('does nothing for a room deleted meanwhile', async () => {
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await expect(calibrations().saveCalibration('gone', { lowFactor: 1, highFactor: 1, samples: 0, at: 1 })).resolves.toBeUndefined();
  });

  it('reads a stored calibration with the room, and ignores a malformed one', () => {
    const item = { roomId: 'shop', capacity: 1, state: 'open', createdAt: 1, updatedAt: 2 };
    expect(roomOf({ ...item, calibration: { lowFactor: 0.6, highFactor: 0.9, samples: 40, at: 5 } }, undefined).calibration).toEqual({ lowFactor: 0.6, highFactor: 0.9, samples: 40, at: 5 });
    expect(roomOf({ ...item, calibration: { lowFactor: '0.6' } }, undefined).calibration).toBeUndefined();
  });
});
