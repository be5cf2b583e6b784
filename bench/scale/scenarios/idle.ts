/**
 * Scenario (c), an idle month with one room: the line items of lib/waiting-room.ts's header,
 * priced from prices.ts.
 *
 * The model runs one idle hour (after the room's creation has settled): the checker's pollers
 * long-poll an empty queue, the metrics loop starts an execution a minute that publishes once and
 * stops. What it counts (requests, executions, invocations, read units) is multiplied by 720 (a
 * 30-day month, as the header counts); what it cannot know is taken from the header: an idle
 * Express run bills about 0.3 s, an idle publisher run about 0.1 s, 11 execution log events.
 */
import { DEFAULT_ALARM_METRICS, FUNCTION_MEMORY_MB, METRICS_LOOP, SECRETS } from '../assumptions.js';
import { BYTES_PER_GB, PRICES, type PriceName } from '../prices.js';
import { ScenarioRun } from '../scenario-run.js';

export interface IdleLine {
  item: string;
  quantity: number;
  unit: string;
  price: PriceName;
  usd: number;
}

export interface IdleResult {
  lines: IdleLine[];
  totalUsd: number;
  /** Per idle hour, as counted. */
  perHour: Record<string, number>;
}

const HOURS_PER_30_DAY_MONTH = 720;
const SETTLE_MS = 5 * 60_000;

export async function runIdleMonth(): Promise<IdleResult> {
  const run = new ScenarioRun({ streamShards: 4 });
  run.metricsUntil(run.at(SETTLE_MS + 3_600_000 + 60_000));
  await run.deployment.configure('demo', { capacity: 5 });
  await run.runFor(SETTLE_MS);
  run.finish();
  const before = run.meter.tally.snapshot();
  await run.runFor(SETTLE_MS + 3_600_000);
  run.finish();
  const hour = run.meter.tally.since(before);
  const month = (key: string) => hour.get(key) * HOURS_PER_30_DAY_MONTH;

  const lines: IdleLine[] = [];
  const line = (item: string, quantity: number, unit: string, price: PriceName) => lines.push({ item, quantity, unit, price, usd: quantity * PRICES[price].usd });
  line(`alarms: ${DEFAULT_ALARM_METRICS} alarm metrics (constructs/alarms.ts)`, DEFAULT_ALARM_METRICS, 'alarm-metric-months', 'alarmMetricMonth');
  line('pass-key secret (constructs/pass-keys.ts)', SECRETS, 'secret-months', 'secretMonth');
  line('check queue long polling (empty ReceiveMessage, modelled pollers)', month('sqs.ReceiveMessage'), 'requests', 'sqsRequest');
  line('metrics loop: Express executions', month('sfn.requests'), 'requests', 'expressRequest');
  line(`metrics loop: Express duration (${METRICS_LOOP.idleExecutionSeconds} s in 64 MB a run)`, month('sfn.gbSeconds'), 'GB-s', 'expressGbSecond');
  line('metrics loop: execution logs and Lambda logs', month('logs.bytes') / BYTES_PER_GB, 'GB', 'logsIngestedGb');
  const publisherRuns = month('lambda.metrics-publisher.invocations');
  line('metrics publisher: invocations', publisherRuns, 'requests', 'lambdaRequest');
  line(
    `metrics publisher: duration (${METRICS_LOOP.idlePublisherSeconds} s a run, ${FUNCTION_MEMORY_MB} MB)`,
    publisherRuns * METRICS_LOOP.idlePublisherSeconds * (FUNCTION_MEMORY_MB / 1024),
    'GB-s',
    'lambdaArmGbSecond',
  );
  line('metrics publisher: DynamoDB reads (rooms scan, stats)', month('ddb.rru'), 'RRU', 'dynamoReadUnit');
  line('DynamoDB writes', month('ddb.wru'), 'WRU', 'dynamoWriteUnit');
  line('custom metrics (published only while a room is busy)', month('cw.metricSeconds') / 3600 / 730, 'metric-months', 'customMetricMonth');
  line('PutMetricData', month('cw.putMetricData'), 'requests', 'putMetricDataRequest');
  line('API Gateway, CloudFront (no calls)', month('cf.requests'), 'requests', 'cloudFrontHttpsRequest');
  return {
    lines,
    totalUsd: lines.reduce((sum, l) => sum + l.usd, 0),
    perHour: Object.fromEntries(
      ['sqs.ReceiveMessage', 'sfn.requests', 'lambda.metrics-publisher.invocations', 'ddb.rru', 'ddb.wru', 'cw.putMetricData'].map((k) => [k, hour.get(k)]),
    ),
  };
}
