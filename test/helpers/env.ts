/** The environment the construct gives the functions, for handler tests. */
export const HANDLER_ENV = {
  ROOMS_TABLE: 'rooms-table',
  TOKENS_TABLE: 'tokens-table',
  STATS_TABLE: 'stats-table',
  CHECK_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/checks',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
};

export function useHandlerEnv(): void {
  Object.assign(process.env, HANDLER_ENV);
}
