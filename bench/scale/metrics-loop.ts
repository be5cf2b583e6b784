/**
 * The metrics loop (DESIGN §2.5, lib/constructs/metrics-loop.ts) in the model: an EventBridge
 * schedule starts an Express execution every minute; it runs the metrics publisher six times,
 * 10 s apart, while a room is busy, and once when every room is idle (lambdas/domain/reporting/metrics.ts:
 * a quiet room publishes nothing). A publisher run reads the rooms (Scan) and their stats
 * (BatchGetItem, consistent); while busy it also claims the interval on each room's stats item
 * (UpdateItem) and sends one PutMetricData, and each published metric is billed for the time it
 * has data. Express bills a request per execution and its duration in 64 MB.
 */
import { LATENCY_MS, METRICS_LOOP, METRICS_PER_BUSY_ROOM } from './assumptions.js';
import type { Deployment } from './deployment.js';
import { TABLE, readUnits, writeUnits } from './metered-store.js';

export class MetricsLoopModel {
  private lastWriteUnits = 0;

  constructor(private readonly deployment: Deployment) {}

  /** Schedules an execution every minute from now until `until`. */
  start(until: number): void {
    const { sim } = this.deployment;
    for (let at = sim.now; at < until; at += METRICS_LOOP.periodMs) sim.at(at, () => this.execute());
  }

  private busy(): boolean {
    const { meter, stats } = this.deployment;
    const writes = meter.tally.get('ddb.wru');
    const active = writes > this.lastWriteUnits;
    this.lastWriteUnits = writes;
    return active || [...stats.values()].some((s) => s.counts.waiting > 0 || s.counts.active > 0);
  }

  private async execute(): Promise<void> {
    const { sim, meter } = this.deployment;
    const busy = this.busy();
    meter.tally.add('sfn.requests');
    meter.tally.add('sfn.gbSeconds', (busy ? METRICS_LOOP.busyExecutionSeconds : METRICS_LOOP.idleExecutionSeconds) * METRICS_LOOP.expressMemoryGb);
    meter.tally.add('logs.bytes', (busy ? METRICS_LOOP.busyLogEvents : METRICS_LOOP.idleLogEvents) * METRICS_LOOP.logEventBytes);
    const runs = busy ? METRICS_LOOP.busyPublishes : 1;
    for (let i = 0; i < runs; i++) sim.at(sim.now + i * METRICS_LOOP.publishEveryMs, () => this.publish(busy));
  }

  private async publish(busy: boolean): Promise<void> {
    const { sim, meter, functions } = this.deployment;
    meter.cause = 'system';
    meter.backend('system', sim.now);
    await functions['metrics-publisher'].invoke(sim.now, async (env) => {
      const rooms = await env.context.deps.store.listRooms();
      for (const room of rooms) {
        const bytes = this.deployment.statsItemBytes(room.roomId);
        meter.dynamo('BatchGetItem', env.clock.time, [{ table: TABLE.stats, key: room.roomId, read: readUnits(bytes, true), write: 0 }]);
        if (busy) meter.dynamo('UpdateItem', env.clock.time, [{ table: TABLE.stats, key: room.roomId, read: 0, write: writeUnits(bytes) }]);
      }
      env.clock.time += LATENCY_MS.batchGetItem + (busy ? LATENCY_MS.updateItem : 0);
      if (busy) {
        meter.tally.add('cw.putMetricData');
        meter.tally.add('cw.metricSeconds', METRICS_PER_BUSY_ROOM * rooms.length * (METRICS_LOOP.publishEveryMs / 1000));
        env.clock.time += LATENCY_MS.putMetricData;
      }
    });
    // The publisher's own claim is not activity.
    this.lastWriteUnits = meter.tally.get('ddb.wru');
  }
}
