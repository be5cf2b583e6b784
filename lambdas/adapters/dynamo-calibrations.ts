/**
 * Stores a room's estimate calibration on its room item (lambdas/domain/line/estimate-calibration.ts):
 * one UpdateItem that sets `calibration` alone. It leaves `updatedAt` as it is: the metrics
 * publisher reads that as the room's activity, and a calibration is none.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CalibrationStore, EstimateCalibration } from '../domain/index.js';
import { ROOMS_KEY } from '../shared/schema.js';
import { isNamed, retryOnTransactionConflict } from './dynamo-items.js';

export class DynamoCalibrations implements CalibrationStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async saveCalibration(roomId: string, calibration: EstimateCalibration & { at: number }): Promise<void> {
    const { lowFactor, highFactor, samples, at } = calibration;
    try {
      await retryOnTransactionConflict(() =>
        this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { [ROOMS_KEY]: roomId },
            UpdateExpression: 'SET calibration = :calibration',
            // A room deleted meanwhile is not brought back as a calibration alone.
            ConditionExpression: `attribute_exists(${ROOMS_KEY})`,
            ExpressionAttributeValues: { ':calibration': { lowFactor, highFactor, samples, at } },
          }),
        ),
      );
    } catch (error) {
      if (!isNamed(error, 'ConditionalCheckFailedException')) throw error;
    }
  }
}
