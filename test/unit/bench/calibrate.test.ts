/**
 * The calibration's judgement (bench/scale/calibrate.ts): every compared count within 10 % of the
 * local run's, rare counts shown only, and the model's second run paced so that its admitter holds
 * the lease as long as the local one did.
 */
import { describe, expect, it } from 'vitest';
import { compare, leaseMatchedPace, meanLeaseHeldMs, TOLERANCE } from '../../../bench/scale/calibrate.js';
import { ADMITTER_HELD_MS, ADMITTER_LEASES } from '../../../bench/scale/store-in-time.js';

const counts = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('the calibration', () => {
  it('holds every compared count to 10 %, the line reads and the status polls included', () => {
    const local = counts({ 'ddb.on.tokens.Query': 1_000, 'cf.requests': 500, 'ddb.on.rooms.UpdateItem': 100, 'sqs.messagesSent': 200 });
    const model = counts({ 'ddb.on.tokens.Query': 1_099, 'cf.requests': 551, 'ddb.on.rooms.UpdateItem': 111, 'sqs.messagesSent': 200 });
    const result = compare(model, local, 100);
    expect(result.rows.every((r) => r.difference === undefined || r.tolerance === TOLERANCE)).toBe(true);
    expect(result.failures.map((f) => f.key).sort()).toEqual(['cf.requests', 'ddb.on.rooms.UpdateItem']);
    expect(compare(model, local, 100, 2).failures).toEqual([]);
  });

  it('shows counts too rare to judge, and what is not compared, without judging them', () => {
    const result = compare(counts({ 'ddb.on.tokens.DeleteItem': 19, 'sqs.ReceiveMessage': 10 }), counts({ 'ddb.on.tokens.DeleteItem': 5, 'sqs.ReceiveMessage': 400 }), 100);
    expect(result.rows.map((r) => [r.key, r.difference])).toEqual([
      ['ddb.on.tokens.DeleteItem', undefined],
      ['sqs.ReceiveMessage', undefined],
    ]);
    expect(result.failures).toEqual([]);
  });

  it('scales the model’s DynamoDB latencies so that its lease is held as long as the local one', () => {
    const pace = { responseLatencyMs: 20, dynamoLatencyScale: 0.7 };
    const local = counts({ [ADMITTER_LEASES]: 50, [ADMITTER_HELD_MS]: 6_000 }); // 120 ms a lease
    const model = counts({ [ADMITTER_LEASES]: 40, [ADMITTER_HELD_MS]: 4_000 }); // 100 ms
    expect(meanLeaseHeldMs(local)).toBe(120);
    expect(leaseMatchedPace(pace, local, model)).toEqual({ responseLatencyMs: 20, dynamoLatencyScale: 0.7 * 1.2 });
    // No lease given back on one side: nothing to match, the pace stays.
    expect(leaseMatchedPace(pace, local, counts({}))).toEqual(pace);
    expect(meanLeaseHeldMs(counts({}))).toBeUndefined();
  });
});
