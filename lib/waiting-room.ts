/**
 * WaitingRoom: the whole virtual waiting room as one reusable construct (DESIGN §2, §6).
 *
 *   const room = new WaitingRoom(this, 'WaitingRoom', { adminEmail: 'ops@example.com', rooms: [{ roomId: 'shop', capacity: 200 }] });
 *
 * Every resource it creates is exposed as a public readonly property.
 */
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type { Alarm, Dashboard } from 'aws-cdk-lib/aws-cloudwatch';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DEFAULT_TIMINGS, timingProblems, type Timings } from '../lambdas/domain/index.js';
import { timingsToEnv } from '../lambdas/shared/env.js';
import { ROOM_ID_PATTERN } from '../lambdas/shared/http.js';
import { WaitingRoomApi } from './constructs/api.js';
import { CheckLoop } from './constructs/check-loop.js';
import { WaitingRoomFunction } from './constructs/function.js';
import { DEFAULT_ALARMS, Monitoring, alarmProblems, type WaitingRoomAlarms } from './constructs/monitoring.js';
import { PassKeys } from './constructs/pass-keys.js';
import { SeedRooms, type RoomDefinition } from './constructs/seed-rooms.js';
import { grantAdmission, grantTable } from './constructs/table-access.js';
import { WaitingRoomTables } from './constructs/tables.js';

export type { RoomDefinition, WaitingRoomAlarms };

export interface WaitingRoomProps {
  /** Where alarm notifications are e-mailed (an SNS e-mail subscription; confirm the first mail). */
  adminEmail: string;
  /** Rooms created at deploy time. @default [{ roomId: 'demo', capacity: 5 }] */
  rooms?: RoomDefinition[];
  /** Timings (DESIGN §4). @default heartbeat timeout 20 s, check delay 10 s, heartbeat interval 5 s */
  timings?: Partial<Timings>;
  /** What happens to the tables when the stack is deleted. @default RemovalPolicy.RETAIN */
  removalPolicy?: RemovalPolicy;
  /** API stage throttling, requests per second and burst. @default 1000 and 2000 */
  apiRateLimit?: number;
  apiBurstLimit?: number;
  /** Origins allowed to call the API from a browser (CORS). @default all origins */
  allowOrigins?: string[];
  /** Write the API's access log (JSON, no request bodies) to a log group kept a month. @default false */
  apiAccessLogs?: boolean;
  /** Checker function timeout; the check queue's visibility timeout is six times this. @default 20 s */
  checkerTimeout?: Duration;
  /** Deliveries of a check message before it moves to the DLQ. @default 5 */
  checkMaxReceiveCount?: number;
  /** Attempts at a failing token-stream batch before it is set aside in the failure queue (both stream consumers). @default 5 */
  streamRetryAttempts?: number;
  /**
   * Alarm thresholds; every alarm e-mails adminEmail through the alarm topic.
   * @default waitingUsersThreshold 1000 for waitingUsersMinutes 5, fullRoomMinutes 15, metricsMissingMinutes 3,
   * iteratorAgeSeconds 60, apiServerErrorsPerMinute 5
   */
  alarms?: WaitingRoomAlarms;
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
  }
  problems.push(...timingProblems({ ...DEFAULT_TIMINGS, ...props.timings }));
  if ((props.checkMaxReceiveCount ?? 5) < 1) problems.push('checkMaxReceiveCount must be at least 1');
  problems.push(...alarmProblems(props.alarms));
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
  readonly apiFunctions: Readonly<Record<'join' | 'getToken' | 'heartbeat' | 'leave' | 'roomStatus' | 'admin' | 'jwks', WaitingRoomFunction>>;
  readonly passKeys: PassKeys;
  /** Where origins fetch the public keys that verify admission passes. */
  readonly jwksUrl: string;
  /** Stats aggregator, metrics loop, admin topic, alarms and dashboard. */
  readonly monitoring: Monitoring;
  /** The metrics loop: runs the metrics publisher 6 times a minute (also started by POST /admin/metrics/refresh). */
  readonly stateMachine: StateMachine;
  /** Admin notifications (KMS-encrypted, e-mailed to adminEmail): every alarm and metrics-loop failures. */
  readonly alarmTopic: Topic;
  readonly alarms: Alarm[];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: WaitingRoomProps) {
    super(scope, id);
    validateWaitingRoomProps(props);
    this.timings = { ...DEFAULT_TIMINGS, ...props.timings };
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.tables = new WaitingRoomTables(this, 'Tables', { removalPolicy });
    this.roomsTable = this.tables.rooms;
    this.tokensTable = this.tables.tokens;
    this.statsTable = this.tables.stats;

    const timingsEnvironment = timingsToEnv(this.timings);
    const environment = {
      ...timingsEnvironment,
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
    });

    const fn = (handler: string, description: string) =>
      new WaitingRoomFunction(this, `${handler.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase())}Function`, {
        handler,
        description,
        environment,
      });
    const functions = {
      join: fn('join', 'POST /rooms/{roomId}/tokens: join the line'),
      getToken: fn('get-token', 'GET /rooms/{roomId}/tokens/{tokenId}: state and position'),
      heartbeat: fn('heartbeat', 'POST /rooms/{roomId}/tokens/{tokenId}/heartbeat'),
      leave: fn('leave', 'DELETE /rooms/{roomId}/tokens/{tokenId}: leave and free the seat'),
      roomStatus: fn('room-status', 'GET /rooms/{roomId}/status: public room status'),
      admin: fn('admin', '/admin: create and configure rooms'),
      jwks: fn('jwks', 'GET /.well-known/jwks.json: public keys that verify admission passes'),
    };
    this.apiFunctions = functions;
    // Each function gets exactly the actions it performs on the tables it uses.
    const tables = { rooms: this.roomsTable, tokens: this.tokensTable };
    for (const f of [functions.join, functions.heartbeat, functions.leave, functions.admin]) grantAdmission(f, tables);
    grantTable(functions.admin, this.roomsTable, ['Scan']);
    grantTable(functions.admin, this.statsTable, ['GetItem']);
    grantTable(functions.getToken, this.roomsTable, ['GetItem']);
    grantTable(functions.getToken, this.tokensTable, ['GetItem']);
    grantTable(functions.roomStatus, this.roomsTable, ['GetItem']);
    grantTable(functions.roomStatus, this.statsTable, ['GetItem']);

    this.passKeys = new PassKeys(this, 'PassKeys', { removalPolicy, environment });
    for (const f of [functions.join, functions.getToken, functions.heartbeat, functions.jwks]) this.passKeys.grantSigning(f);

    this.api = new WaitingRoomApi(this, 'Api', {
      removalPolicy: RemovalPolicy.DESTROY,
      rateLimit: props.apiRateLimit ?? 1000,
      burstLimit: props.apiBurstLimit ?? 2000,
      allowOrigins: props.allowOrigins ?? ['*'],
      accessLogs: props.apiAccessLogs ?? false,
      routes: [
        { method: 'POST', path: '/rooms/{roomId}/tokens', function: functions.join, authorization: 'none' },
        { method: 'GET', path: '/rooms/{roomId}/tokens/{tokenId}', function: functions.getToken, authorization: 'none' },
        { method: 'DELETE', path: '/rooms/{roomId}/tokens/{tokenId}', function: functions.leave, authorization: 'none' },
        { method: 'POST', path: '/rooms/{roomId}/tokens/{tokenId}/heartbeat', function: functions.heartbeat, authorization: 'none' },
        { method: 'GET', path: '/rooms/{roomId}/status', function: functions.roomStatus, authorization: 'none' },
        { method: 'GET', path: '/.well-known/jwks.json', function: functions.jwks, authorization: 'none' },
        { method: 'GET', path: '/admin/rooms', function: functions.admin, authorization: 'iam' },
        { method: 'GET', path: '/admin/rooms/{roomId}', function: functions.admin, authorization: 'iam' },
        { method: 'PUT', path: '/admin/rooms/{roomId}', function: functions.admin, authorization: 'iam' },
        { method: 'POST', path: '/admin/metrics/refresh', function: functions.admin, authorization: 'iam' },
      ],
    });
    // The API URL ends with "/" (the `$default` stage has no path prefix).
    this.jwksUrl = `${this.api.url}.well-known/jwks.json`;

    const rooms = props.rooms ?? [{ roomId: 'demo', capacity: 5 }];
    new SeedRooms(this, 'SeedRooms', { table: this.roomsTable, rooms });

    this.monitoring = new Monitoring(this, 'Monitoring', {
      adminEmail: props.adminEmail,
      rooms: this.roomsTable,
      tokens: this.tokensTable,
      stats: this.statsTable,
      timingsEnvironment,
      roomIds: rooms.map((r) => r.roomId),
      streamRetryAttempts: props.streamRetryAttempts ?? 5,
      alarms: { ...DEFAULT_ALARMS, ...props.alarms },
      functions: {
        Join: functions.join,
        GetToken: functions.getToken,
        Heartbeat: functions.heartbeat,
        Leave: functions.leave,
        RoomStatus: functions.roomStatus,
        Admin: functions.admin,
        Jwks: functions.jwks,
        Enqueuer: this.checkLoop.enqueuer,
        Checker: this.checkLoop.checker,
        RotatePassKey: this.passKeys.rotateFunction,
      },
      failureQueues: { CheckDlq: this.checkLoop.deadLetterQueue, EnqueuerStreamFailures: this.checkLoop.streamFailureQueue },
      streamConsumers: { Enqueuer: this.checkLoop.enqueuer },
      apiServerErrors: this.api.httpApi.metricServerError({ period: Duration.minutes(1), statistic: 'Sum' }),
    });
    this.stateMachine = this.monitoring.stateMachine;
    this.alarmTopic = this.monitoring.alarmTopic;
    this.alarms = this.monitoring.alarms;
    this.dashboard = this.monitoring.dashboard;
    // POST /admin/metrics/refresh (lambdas/handlers/admin.ts) starts an execution of this state machine, and of no other.
    functions.admin.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(functions.admin);
  }
}
