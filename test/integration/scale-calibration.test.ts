/**
 * The scale model against the local runtime (issue 8, "calibration"): 240 visitors with short
 * timings, once in the model and once for real over HTTP on DynamoDB Local and fauxqs. Per
 * visitor, API requests by route, DynamoDB operations by table and command, and check messages
 * sent agree within 10 % (bench/scale/calibrate.ts; this short run, on a machine the other tests
 * may load, at SHORT_RUN_SLACK times that), so the model cannot drift from the code unnoticed.
 */
import { describe, expect, it } from 'vitest';
import { calibrationTable, runCalibration } from '../../bench/scale/calibrate.js';

describe('scale model calibration', () => {
  it('counts, per visitor, what the local runtime does, within its tolerances', async () => {
    const result = await runCalibration(true);
    const table = calibrationTable(result);
    expect(result.rows.filter((r) => r.difference !== undefined).length, table).toBeGreaterThan(5);
    expect(
      result.failures.map((f) => `${f.key}: model ${f.modelPerVisitor.toFixed(3)}, local ${f.localPerVisitor.toFixed(3)}`),
      `differences above their tolerance:\n${table}`,
    ).toEqual([]);
  }, 150_000);
});
