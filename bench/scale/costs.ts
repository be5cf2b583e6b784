/**
 * Counted requests times the price table: what a window of a run costs, line by line.
 */
import { DEFAULT_ALARM_METRICS, FUNCTION_MEMORY_MB, SECRETS } from './assumptions.js';
import type { Tally } from './meter.js';
import { BYTES_PER_GB, HOURS_PER_MONTH, PRICES } from './prices.js';

export interface CostLine {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  usd: number;
}

const sum = (values: Iterable<number>): number => {
  let total = 0;
  for (const v of values) total += v;
  return total;
};

/**
 * The cost of what `tally` counted over `windowSeconds`. Fixed monthly items (alarms, the secret)
 * are included prorated over the window, so that a per-visitor figure carries its share of them.
 */
export function costLines(tally: Tally, windowSeconds: number): CostLine[] {
  const lines: CostLine[] = [];
  const line = (service: string, item: string, quantity: number, unit: string, unitPrice: number) =>
    lines.push({ service, item, quantity, unit, usd: quantity * unitPrice });

  line('API Gateway', 'HTTP API requests', sum(tally.withPrefix('api.req.').values()), 'requests', PRICES.httpApiRequest.usd);
  line('API Gateway', 'data out to the internet', tally.get('api.bytesOut') / BYTES_PER_GB, 'GB', PRICES.apiDataOutGb.usd);
  line('CloudFront', 'status requests', tally.get('cf.requests'), 'requests', PRICES.cloudFrontHttpsRequest.usd);
  line('CloudFront', 'status data out', tally.get('cf.bytesOut') / BYTES_PER_GB, 'GB', PRICES.cloudFrontDataOutGb.usd);

  const invocations = sum([...tally.withPrefix('lambda.')].filter(([k]) => k.endsWith('.invocations')).map(([, v]) => v));
  const billedMs = sum([...tally.withPrefix('lambda.')].filter(([k]) => k.endsWith('.billedMs')).map(([, v]) => v));
  line('Lambda', 'requests', invocations, 'invocations', PRICES.lambdaRequest.usd);
  line('Lambda', `duration (${FUNCTION_MEMORY_MB} MB arm64)`, (billedMs / 1000) * (FUNCTION_MEMORY_MB / 1024), 'GB-s', PRICES.lambdaArmGbSecond.usd);

  line('DynamoDB', 'write request units', tally.get('ddb.wru'), 'WRU', PRICES.dynamoWriteUnit.usd);
  line('DynamoDB', 'read request units', tally.get('ddb.rru'), 'RRU', PRICES.dynamoReadUnit.usd);

  const sqsRequests = sum([...tally.withPrefix('sqs.')].filter(([k]) => k !== 'messagesSent').map(([, v]) => v));
  line('SQS', 'requests (send, receive, delete)', sqsRequests, 'requests', PRICES.sqsRequest.usd);

  line('CloudWatch', 'logs ingested', tally.get('logs.bytes') / BYTES_PER_GB, 'GB', PRICES.logsIngestedGb.usd);
  line('CloudWatch', 'custom metrics', tally.get('cw.metricSeconds') / 3600 / HOURS_PER_MONTH, 'metric-months', PRICES.customMetricMonth.usd);
  line('CloudWatch', 'PutMetricData', tally.get('cw.putMetricData'), 'requests', PRICES.putMetricDataRequest.usd);

  line('Step Functions', 'Express executions', tally.get('sfn.requests'), 'requests', PRICES.expressRequest.usd);
  line('Step Functions', 'Express duration', tally.get('sfn.gbSeconds'), 'GB-s', PRICES.expressGbSecond.usd);

  line('Secrets Manager', 'GetSecretValue', tally.get('secrets.calls'), 'calls', PRICES.secretsApiCall.usd);

  const months = windowSeconds / 3600 / HOURS_PER_MONTH;
  line('CloudWatch', 'alarms (fixed, prorated)', DEFAULT_ALARM_METRICS * months, 'alarm-metric-months', PRICES.alarmMetricMonth.usd);
  line('Secrets Manager', 'secret (fixed, prorated)', SECRETS * months, 'secret-months', PRICES.secretMonth.usd);
  return lines;
}

export function totalUsd(lines: readonly CostLine[]): number {
  return sum(lines.map((l) => l.usd));
}

/** Cost per service, most expensive first. */
export function byService(lines: readonly CostLine[]): { service: string; usd: number }[] {
  const services = new Map<string, number>();
  for (const l of lines) services.set(l.service, (services.get(l.service) ?? 0) + l.usd);
  return [...services].map(([service, usd]) => ({ service, usd })).sort((a, b) => b.usd - a.usd);
}

/** The lines scaled (per visitor, per million visitors). */
export function scaled(lines: readonly CostLine[], factor: number): CostLine[] {
  return lines.map((l) => ({ ...l, quantity: l.quantity * factor, usd: l.usd * factor }));
}
