/**
 * Every AWS price the scale model uses, in one place: us-east-1 list prices, without free tiers.
 *
 * Checked: 2026-05 (the date these were handed to the model; this machine cannot browse, so they
 * are "current as far as we know", not re-read from the pages). Source of each: the AWS pricing
 * page named next to it. Change a price here and every figure of `npm run bench:scale` follows.
 */

/** A price, the unit it is per, and where it comes from. */
export interface Price {
  readonly usd: number;
  readonly per: string;
  readonly source: string;
}

const price = (usd: number, per: string, source: string): Price => ({ usd, per, source });

export const PRICES_CHECKED = '2026-05';

export const PRICES = {
  // https://aws.amazon.com/api-gateway/pricing/ (HTTP APIs, first 300 million a month)
  httpApiRequest: price(1.0 / 1e6, 'request', 'https://aws.amazon.com/api-gateway/pricing/'),
  // https://aws.amazon.com/api-gateway/pricing/ (data transfer out is billed at EC2 data transfer rates)
  apiDataOutGb: price(0.09, 'GB out to the internet', 'https://aws.amazon.com/api-gateway/pricing/'),
  // https://aws.amazon.com/lambda/pricing/ (Arm, first 7.5 billion GB-s a month)
  lambdaRequest: price(0.2 / 1e6, 'request', 'https://aws.amazon.com/lambda/pricing/'),
  lambdaArmGbSecond: price(0.0000133334, 'GB-second (arm64)', 'https://aws.amazon.com/lambda/pricing/'),
  // https://aws.amazon.com/dynamodb/pricing/on-demand/
  dynamoWriteUnit: price(0.625 / 1e6, 'write request unit', 'https://aws.amazon.com/dynamodb/pricing/on-demand/'),
  dynamoReadUnit: price(0.125 / 1e6, 'read request unit', 'https://aws.amazon.com/dynamodb/pricing/on-demand/'),
  // https://aws.amazon.com/sqs/pricing/ (standard queue; each 64 KB chunk of a request counts as one)
  sqsRequest: price(0.4 / 1e6, 'request (64 KB chunk)', 'https://aws.amazon.com/sqs/pricing/'),
  // https://aws.amazon.com/cloudfront/pricing/ (pay as you go, United States / Europe)
  cloudFrontHttpsRequest: price(0.01 / 10_000, 'HTTPS request', 'https://aws.amazon.com/cloudfront/pricing/'),
  cloudFrontDataOutGb: price(0.085, 'GB out (first 10 TB, US/EU)', 'https://aws.amazon.com/cloudfront/pricing/'),
  // https://aws.amazon.com/cloudwatch/pricing/
  customMetricMonth: price(0.3, 'metric-month (prorated by the hour)', 'https://aws.amazon.com/cloudwatch/pricing/'),
  putMetricDataRequest: price(0.01 / 1_000, 'PutMetricData request', 'https://aws.amazon.com/cloudwatch/pricing/'),
  alarmMetricMonth: price(0.1, 'standard-resolution alarm metric-month', 'https://aws.amazon.com/cloudwatch/pricing/'),
  logsIngestedGb: price(0.5, 'GB of logs ingested', 'https://aws.amazon.com/cloudwatch/pricing/'),
  // https://aws.amazon.com/step-functions/pricing/ (Express workflows; duration in 64 MB minimum)
  expressRequest: price(1.0 / 1e6, 'Express execution', 'https://aws.amazon.com/step-functions/pricing/'),
  expressGbSecond: price(0.00001667, 'GB-second (64 MB minimum)', 'https://aws.amazon.com/step-functions/pricing/'),
  // https://aws.amazon.com/secrets-manager/pricing/
  secretMonth: price(0.4, 'secret-month', 'https://aws.amazon.com/secrets-manager/pricing/'),
  secretsApiCall: price(0.05 / 10_000, 'API call', 'https://aws.amazon.com/secrets-manager/pricing/'),
} as const satisfies Record<string, Price>;

export type PriceName = keyof typeof PRICES;

/** Bytes in the GB that AWS bills data transfer and log ingestion by. */
export const BYTES_PER_GB = 2 ** 30;
/** The month the monthly prices are per: CloudWatch and Secrets Manager prorate by the hour over 730. */
export const HOURS_PER_MONTH = 730;
/** A 30-day month, for "per month" figures built from per-second rates (the metrics-loop header uses the same). */
export const SECONDS_PER_30_DAY_MONTH = 30 * 24 * 3600;
