/**
 * WaitingRoom: the whole virtual waiting room as one reusable construct (DESIGN §2, §6).
 *
 *   const room = new WaitingRoom(this, 'WaitingRoom', { adminEmail: 'ops@example.com', rooms: [{ roomId: 'shop', capacity: 200 }] });
 *
 * Every resource it creates is exposed as a public readonly property (the dashboard only when
 * asked for). Each construct brings the alarms on what it owns, all notifying `alarmTopic`.
 *
 * Idle, with one room and the default props, it costs about $1.90 a month at list price
 * (us-east-1), each item explained in the construct that owns it:
 *   alarms, 10 alarm metrics (constructs/alarms.ts)                               $1.00
 *   pass-key secret (constructs/pass-keys.ts)                                      $0.40
 *   check queue long polling, ~648,000 requests (constructs/check-loop.ts)         $0.26
 *   metrics loop, Express: 43,200 requests $0.04 + ~810 GB-s $0.01, its logs $0.08 $0.13
 *   metrics publisher, 43,200 invocations and their duration, DynamoDB reads       $0.05
 *   custom metrics (none published while idle), Lambda logs (no START/END/REPORT)  ~$0.01
 *   dashboard (opt-in, $3), KMS key (none), X-Ray (opt-in), API Gateway (no calls)  $0
 */
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type { Alarm, Dashboard } from 'aws-cdk-lib/aws-cloudwatch';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DEFAULT_LINE_SHARDS, MAX_LINE_SHARDS, QUEUE_MODES, ROOM_ID_PATTERN, rateLimitProblem, timingProblems, timingsWithDefaults, type Timings } from '../lambdas/domain/index.js';
import { timingsToEnv } from '../lambdas/shared/env-names.js';
import { AlarmNotifications, webhookProblems, type AlarmNotificationSettings } from './constructs/alarm-notifications.js';
import { AlarmTopic } from './constructs/alarm-topic.js';
import { DEFAULT_ALARMS, alarmProblems, apiServerErrorsAlarm, type WaitingRoomAlarms } from './constructs/alarms.js';
import { WaitingRoomApi } from './constructs/api.js';
import type { FailureQueue } from './constructs/failure-queues.js';
import { StatusCache } from './constructs/status-cache.js';
import { CheckLoop } from './constructs/check-loop.js';
import { WaitingRoomDashboard } from './constructs/dashboard.js';
import { WaitingRoomFunction } from './constructs/function.js';
import { MetricsLoop } from './constructs/metrics-loop.js';
import { PassKeys } from './constructs/pass-keys.js';
import { SeedRooms, type RoomDefinition } from './constructs/seed-rooms.js';
import { StatsAggregator } from './constructs/stats-aggregator.js';
import { grantAdmission, grantTable } from './constructs/table-access.js';
import { WaitingRoomTables } from './constructs/tables.js';

export type { RoomDefinition, WaitingRoomAlarms };

export interface WaitingRoomProps {
  /** Where alarm notifications are e-mailed (an SNS e-mail subscription; confirm the first mail). */
  readonly adminEmail: string;
  /**
   * Rooms created at deploy time when missing. A room that exists keeps the capacity and state it
   * was given since (through the admin API or the CLI): a redeploy never undoes an operator's
   * change, unless `resetRooms`. @default [] (no rooms: create them with the CLI or the admin API)
   */
  readonly rooms?: RoomDefinition[];
  /** Set each listed room's capacity and state from `rooms` on every deploy, undoing runtime changes. @default false */
  readonly resetRooms?: boolean;
  /**
   * Timings (DESIGN §4, README "Zones, and why these timings").
   * @default heartbeat timeout 20 s, first check 10 s, heartbeat every 5 s, keep-place every 300 s,
   * keep-place timeout 1200 s, front zone 60 s
   */
  readonly timings?: Partial<Timings>;
  /**
   * Shards of the line index of each room created by this deployment (fixed for a room's life):
   * 32 take 25,000 joins a second at 1,000 index writes a second per shard.
   * @default 32
   */
  readonly lineShards?: number;
  /** What happens to the tables when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * API stage throttling, requests per second and burst (429 beyond). The defaults are API
   * Gateway's own account-level defaults in most regions, so the stage never throttles below what
   * the account allows; before a drop above them, raise the account quota and these with it.
   * @default 10000 and 5000
   */
  readonly apiRateLimit?: number;
  readonly apiBurstLimit?: number;
  /** Origins allowed to call the API from a browser (CORS). @default all origins */
  readonly allowOrigins?: string[];
  /**
   * A CloudFront distribution in front of the API that caches the room status at the edge for a
   * second, so that waiting pages polling it do not reach the API (DESIGN §3). Costs nothing idle.
   * @default true
   */
  readonly statusCache?: boolean;
  /** Origin Shield for the status cache: one origin fetch a second per room worldwide. @default none */
  readonly statusCacheOriginShieldRegion?: string;
  /** Write the API's access log (JSON, no request bodies) to a log group kept a month. @default false */
  readonly apiAccessLogs?: boolean;
  /** Checker function timeout; the check queue's visibility timeout is six times this. @default 20 s */
  readonly checkerTimeout?: Duration;
  /** Deliveries of a check message before it moves to the DLQ. @default 5 */
  readonly checkMaxReceiveCount?: number;
  /** Attempts at a failing token-stream batch before it is set aside in the failure queue (both stream consumers). @default 5 */
  readonly streamRetryAttempts?: number;
  /**
   * Alarm thresholds; every alarm e-mails adminEmail through the alarm topic.
   * @default waitingUsersThreshold 1000 for waitingUsersMinutes 5, fullRoomMinutes 15, iteratorAgeSeconds 60,
   * apiServerErrorsPerMinute 5, perRoom false (the service-wide full alarm only)
   */
  readonly alarms?: WaitingRoomAlarms;
  /** A CloudWatch dashboard of the rooms and the pipeline ($3 a month beyond the account's first three). @default false */
  readonly dashboard?: boolean;
  /** X-Ray tracing of every function and of the metrics state machine. @default false */
  readonly tracing?: boolean;
  /**
   * Alarm notices beyond e-mail: webhooks (a chat channel or any HTTPS endpoint, each through a
   * forwarder function) and a Slack channel through AWS Chatbot. @default e-mail only
   */
  readonly notifications?: AlarmNotificationSettings;
}

/** What an admin e-mail address must look like (also the CloudFormation parameter's pattern). */
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Checks the props and says, in one message, everything that is wrong with them. */
export function validateWaitingRoomProps(props: WaitingRoomProps): void {
  const problems: string[] = [];
  // A token (a CloudFormation parameter) is checked by CloudFormation at deploy time instead.
  if (typeof props.adminEmail !== 'string' || (!Token.isUnresolved(props.adminEmail) && !EMAIL.test(props.adminEmail))) {
    problems.push(`adminEmail must be an e-mail address for alarm notifications (got ${JSON.stringify(props.adminEmail)}); pass it with -c adminEmail=you@example.com`);
  }
  const ids = new Set<string>();
  for (const room of props.rooms ?? []) {
    if (!ROOM_ID_PATTERN.test(room.roomId)) problems.push(`room id ${JSON.stringify(room.roomId)} must be 1-64 letters, digits, "-" or "_"`);
    if (ids.has(room.roomId)) problems.push(`room ${room.roomId} is listed twice`);
    ids.add(room.roomId);
    if (!Number.isInteger(room.capacity) || room.capacity < 0) problems.push(`room ${room.roomId}: capacity must be a whole number >= 0`);
    if (room.mode !== undefined && !QUEUE_MODES.includes(room.mode)) problems.push(`room ${room.roomId}: mode must be one of ${QUEUE_MODES.join(', ')}`);
    const rateProblem = room.newVisitorsPerMinute !== undefined ? rateLimitProblem(room.newVisitorsPerMinute) : undefined;
    if (rateProblem) problems.push(`room ${room.roomId}: ${rateProblem.replace(' (or null for no limit)', '')}`);
  }
  problems.push(...timingProblems(timingsWithDefaults(props.timings)));
  if (props.lineShards !== undefined && (!Number.isInteger(props.lineShards) || props.lineShards < 1 || props.lineShards > MAX_LINE_SHARDS)) {
    problems.push(`lineShards must be a whole number from 1 to ${MAX_LINE_SHARDS} (got ${props.lineShards})`);
  }
  if ((props.checkMaxReceiveCount ?? 5) < 1) problems.push('checkMaxReceiveCount must be at least 1');
  problems.push(...alarmProblems(props.alarms));
  problems.push(...webhookProblems(props.notifications?.webhooks));
  if (problems.length > 0) throw new Error(`Invalid WaitingRoom props:\n- ${problems.join('\n- ')}`);
}

export class WaitingRoom extends Construct {
  readonly timings: Timings;
  readonly tables: WaitingRoomTables;
  readonly roomsTable: Table;
  readonly tokensTable: Table;
  readonly statsTable: Table;
  readonly checkLoop: CheckLoop;
  readonly api: WaitingRoomApi;
  /** The API functions, by handler name. */
  readonly apiFunctions: Readonly<Record<'join' | 'getToken' | 'heartbeat' | 'leave' | 'roomStatus' | 'admin' | 'jwks' | 'openApi', WaitingRoomFunction>>;
  readonly passKeys: PassKeys;
  /** CloudFront in front of the API, the room status cached at the edge (undefined with statusCache: false). */
  readonly statusCache?: StatusCache;
  /** Where origins fetch the public keys that verify admission passes. */
  readonly jwksUrl: string;
  /** Admin notifications (e-mailed to adminEmail, no SSE: see constructs/alarm-topic.ts): every alarm and metrics-loop failures. */
  readonly alarmTopic: AlarmTopic;
  /** Token stream → stats table (per-room counts). */
  readonly statsAggregator: StatsAggregator;
  /** Stats → CloudWatch metrics: schedule, state machine, publisher. */
  readonly metricsLoop: MetricsLoop;
  /** The metrics loop's state machine: runs the publisher up to 6 times a minute, once when every room is idle (also started by POST /admin/metrics/refresh). */
  readonly stateMachine: StateMachine;
  /** Every alarm of the waiting room (the alarm topic's list), each notifying alarmTopic on ALARM and on OK. */
  readonly alarms: Alarm[];
  /** The CloudWatch dashboard; undefined unless props.dashboard. */
  readonly dashboard?: Dashboard;
  /** Alarm notices beyond e-mail (webhook forwarders, Chatbot), when props.notifications asks for them. */
  readonly notifications: AlarmNotifications;
  /** Where work that failed every retry waits (constructs/failure-queues.ts): `waiting-room dlq list`. */
  readonly failureQueues: readonly FailureQueue[];

  constructor(scope: Construct, id: string, props: WaitingRoomProps) {
    super(scope, id);
    validateWaitingRoomProps(props);
    this.timings = timingsWithDefaults(props.timings);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.tables = new WaitingRoomTables(this, 'Tables', { removalPolicy });
    this.roomsTable = this.tables.rooms;
    this.tokensTable = this.tables.tokens;
    this.statsTable = this.tables.stats;

    const tracing = props.tracing ?? false;
    const alarmSettings = { ...DEFAULT_ALARMS, ...props.alarms };
    this.alarmTopic = new AlarmTopic(this, 'AlarmTopic', { adminEmail: props.adminEmail });
    this.alarms = this.alarmTopic.alarms;

    const timingsEnvironment = timingsToEnv(this.timings);
    const environment = {
      ...timingsEnvironment,
      WR_LINE_SHARDS: String(props.lineShards ?? DEFAULT_LINE_SHARDS),
      ROOMS_TABLE: this.roomsTable.tableName,
      TOKENS_TABLE: this.tokensTable.tableName,
      STATS_TABLE: this.statsTable.tableName,
    };

    this.checkLoop = new CheckLoop(this, 'CheckLoop', {
      rooms: this.roomsTable,
      tokens: this.tokensTable,
      environment,
      checkerTimeout: props.checkerTimeout ?? Duration.seconds(20),
      maxReceiveCount: props.checkMaxReceiveCount ?? 5,
      streamRetryAttempts: props.streamRetryAttempts ?? 5,
      alarmTopic: this.alarmTopic,
      iteratorAgeSeconds: alarmSettings.iteratorAgeSeconds,
      tracing,
    });

    const fn = (handler: string, description: string) =>
      new WaitingRoomFunction(this, `${handler.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase())}Function`, {
        handler,
        description,
        environment,
        tracing,
      });
    const functions = {
      join: fn('join', 'POST /rooms/{roomId}/tokens: join the line'),
      getToken: fn('get-token', 'GET /rooms/{roomId}/tokens/{tokenId}: state and position'),
      heartbeat: fn('heartbeat', 'POST /rooms/{roomId}/tokens/{tokenId}/heartbeat and /keep-place: a visitor\'s signals; POST /rooms/{roomId}/passes/revoke: the origin frees a seat'),
      leave: fn('leave', 'DELETE /rooms/{roomId}/tokens/{tokenId}: leave and free the seat'),
      roomStatus: fn('room-status', 'GET /rooms/{roomId}/status: public room status; GET /rooms/{roomId}/lottery: the event lottery'),
      admin: fn('admin', '/admin: create and configure rooms'),
      jwks: fn('jwks', 'GET /.well-known/jwks.json: public keys that verify admission passes'),
      // Built from the code alone: it reads no table, queue or key, so it is granted none.
      openApi: fn('openapi', 'GET /openapi.json: the OpenAPI document of the API'),
    };
    this.apiFunctions = functions;
    // Each function gets exactly the actions it performs on the tables it uses.
    const tables = { rooms: this.roomsTable, tokens: this.tokensTable };
    for (const f of [functions.join, functions.heartbeat, functions.leave, functions.admin]) grantAdmission(f, tables);
    grantTable(functions.admin, this.roomsTable, ['Scan']);
    // The fairness report reads the last hour's sample buckets of the stats table (lambdas/adapters/dynamo-fairness.ts).
    grantTable(functions.admin, this.statsTable, ['BatchGetItem']);
    // A room is read with its ticket counter in one BatchGetItem (DynamoStore.getRoom).
    grantTable(functions.getToken, this.roomsTable, ['BatchGetItem']);
    grantTable(functions.getToken, this.tokensTable, ['GetItem']);
    grantTable(functions.roomStatus, this.roomsTable, ['BatchGetItem']);
    grantTable(functions.roomStatus, this.statsTable, ['GetItem', 'BatchGetItem']);

    // Functions that free seats or admit visitors just back from far away send checks (they re-arm check loops).
    for (const f of [functions.heartbeat, functions.leave, functions.admin]) {
      f.addEnvironment('CHECK_QUEUE_URL', this.checkLoop.queue.queueUrl);
      this.checkLoop.queue.grantSendMessages(f);
    }

    this.passKeys = new PassKeys(this, 'PassKeys', { removalPolicy, environment, tracing });
    for (const f of [functions.join, functions.getToken, functions.heartbeat, functions.jwks]) this.passKeys.grantSigning(f);

    this.api = new WaitingRoomApi(this, 'Api', {
      removalPolicy: RemovalPolicy.DESTROY,
      rateLimit: props.apiRateLimit ?? 10_000,
      burstLimit: props.apiBurstLimit ?? 5_000,
      allowOrigins: props.allowOrigins ?? ['*'],
      accessLogs: props.apiAccessLogs ?? false,
      routes: [
        { method: 'POST', path: '/rooms/{roomId}/tokens', function: functions.join, authorization: 'none' },
        { method: 'GET', path: '/rooms/{roomId}/tokens/{tokenId}', function: functions.getToken, authorization: 'none' },
        { method: 'DELETE', path: '/rooms/{roomId}/tokens/{tokenId}', function: functions.leave, authorization: 'none' },
        { method: 'POST', path: '/rooms/{roomId}/tokens/{tokenId}/heartbeat', function: functions.heartbeat, authorization: 'none' },
        { method: 'POST', path: '/rooms/{roomId}/tokens/{tokenId}/keep-place', function: functions.heartbeat, authorization: 'none' },
        // The origin frees a seat with the visitor's pass: the heartbeat function already reads the key
        // set (to sign passes) and frees and fills seats, so serving it there grants nothing new.
        { method: 'POST', path: '/rooms/{roomId}/passes/revoke', function: functions.heartbeat, authorization: 'none' },
        { method: 'GET', path: '/rooms/{roomId}/status', function: functions.roomStatus, authorization: 'none' },
        // The event lottery's publication: the status function reads the room, and the kept draw in the stats table.
        { method: 'GET', path: '/rooms/{roomId}/lottery', function: functions.roomStatus, authorization: 'none' },
        { method: 'GET', path: '/.well-known/jwks.json', function: functions.jwks, authorization: 'none' },
        { method: 'GET', path: '/openapi.json', function: functions.openApi, authorization: 'none' },
        { method: 'GET', path: '/admin/rooms', function: functions.admin, authorization: 'iam' },
        { method: 'GET', path: '/admin/rooms/{roomId}', function: functions.admin, authorization: 'iam' },
        { method: 'GET', path: '/admin/rooms/{roomId}/report', function: functions.admin, authorization: 'iam' },
        { method: 'PUT', path: '/admin/rooms/{roomId}', function: functions.admin, authorization: 'iam' },
        { method: 'POST', path: '/admin/metrics/refresh', function: functions.admin, authorization: 'iam' },
      ],
    });
    // The API URL ends with "/" (the `$default` stage has no path prefix).
    this.jwksUrl = `${this.api.url}.well-known/jwks.json`;
    if (props.statusCache !== false) {
      this.statusCache = new StatusCache(this, 'StatusCache', {
        apiUrl: this.api.url,
        ...(props.statusCacheOriginShieldRegion ? { originShieldRegion: props.statusCacheOriginShieldRegion } : {}),
      });
    }

    const rooms = props.rooms ?? [];
    new SeedRooms(this, 'SeedRooms', { table: this.roomsTable, rooms, lineShards: props.lineShards ?? DEFAULT_LINE_SHARDS, reset: props.resetRooms ?? false });

    const roomIds = rooms.map((r) => r.roomId);
    this.statsAggregator = new StatsAggregator(this, 'StatsAggregator', {
      tokens: this.tokensTable,
      stats: this.statsTable,
      timingsEnvironment,
      streamRetryAttempts: props.streamRetryAttempts ?? 5,
      alarmTopic: this.alarmTopic,
      iteratorAgeSeconds: alarmSettings.iteratorAgeSeconds,
      tracing,
    });
    this.notifications = new AlarmNotifications(this, 'Notifications', { topic: this.alarmTopic, ...props.notifications, tracing });
    this.failureQueues = [...this.checkLoop.failureQueues, ...this.statsAggregator.failureQueues, ...this.notifications.failureQueues];
    this.metricsLoop = new MetricsLoop(this, 'MetricsLoop', {
      rooms: this.roomsTable,
      stats: this.statsTable,
      tokens: this.tokensTable,
      checkQueue: this.checkLoop.queue,
      timingsEnvironment,
      alarmTopic: this.alarmTopic,
      alarms: alarmSettings,
      roomIds,
      tracing,
    });
    this.stateMachine = this.metricsLoop.stateMachine;
    // The API brings no alarm of its own: its 5XX count, per minute.
    const apiServerErrors = this.api.httpApi.metricServerError({ period: Duration.minutes(1), statistic: 'Sum' });
    this.alarmTopic.alarm(this, 'ApiServerErrors', apiServerErrorsAlarm(apiServerErrors, alarmSettings.apiServerErrorsPerMinute));

    if (props.dashboard) {
      // Last, so that it shows every alarm.
      this.dashboard = new WaitingRoomDashboard(this, 'Dashboard', {
        alarms: this.alarms,
        roomIds,
        failureQueues: Object.fromEntries(this.failureQueues.map((q) => [q.name, q.queue])),
        streamConsumers: { Enqueuer: this.checkLoop.enqueuer, StatsAggregator: this.statsAggregator.function },
        functions: {
          Join: functions.join,
          GetToken: functions.getToken,
          Heartbeat: functions.heartbeat,
          Leave: functions.leave,
          RoomStatus: functions.roomStatus,
          Admin: functions.admin,
          Jwks: functions.jwks,
          OpenApi: functions.openApi,
          Enqueuer: this.checkLoop.enqueuer,
          Checker: this.checkLoop.checker,
          StatsAggregator: this.statsAggregator.function,
          MetricsPublisher: this.metricsLoop.publisher,
          RotatePassKey: this.passKeys.rotateFunction,
        },
        metricsLoop: this.stateMachine,
        apiServerErrors,
      });
    }
    // POST /admin/metrics/refresh (lambdas/handlers/admin.ts) starts an execution of this state machine, and of no other.
    functions.admin.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(functions.admin);
  }
}
