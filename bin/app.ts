#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy -c adminEmail=ops@example.com`. Without adminEmail
 * the template asks for it as the parameter AdminEmail (`cdk deploy --parameters AdminEmail=...`).
 * Context: adminEmail (required), rooms (JSON, e.g. '[{"roomId":"shop","capacity":200}]': created
 * when missing, never reset by a redeploy; none by default), resetRooms ('true': set the listed
 * rooms' capacity and state from `rooms` on this deploy, undoing changes made since),
 * alarms (JSON thresholds, e.g. '{"waitingUsersThreshold":500,"fullRoomMinutes":10}'; see WaitingRoomAlarms),
 * removalPolicy ('destroy' to delete tables with the stack), dashboard ('true': a CloudWatch dashboard, $3 a month),
 * tracing ('true': X-Ray tracing of the functions and the metrics loop), stackName.
 * The edge gate (lib/gate/context.ts): originDomain (turns it on: the site's origin), gateRooms (JSON
 * '[{"roomId":"shop","paths":["/*"]}]'; default: the one room of `rooms` protecting every path),
 * gateUnprotected, gateWaf ('true': AWS WAF; the stack must then be in us-east-1), gateWebAclArn,
 * gateDomain and gateCertificateArn (the site's domain, a us-east-1 certificate), gateAccessLogs.
 */
import { App, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { gateFromContext } from '../lib/gate/context.js';
import { WaitingRoomStack } from '../lib/waiting-room-stack.js';
import type { RoomDefinition, WaitingRoomAlarms } from '../lib/waiting-room.js';

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined ? undefined : String(value);
};

/** A JSON context value (a string on the command line, already parsed in cdk.json); the construct validates its content. */
function parseJson<T>(key: string, example: string): T | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return value as T;
  const raw = value;
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new Error(`Context "${key}" must be JSON like '${example}' (got ${raw})`);
  }
}

const rooms = parseJson<RoomDefinition[]>('rooms', '[{"roomId":"shop","capacity":200}]') ?? [];
const gate = gateFromContext((key) => app.node.tryGetContext(key), rooms);

new WaitingRoomStack(app, context('stackName') ?? 'WaitingRoom', {
  description: 'Serverless virtual waiting room',
  // A web ACL for CloudFront is created in us-east-1: the gate checks the region, so it must be known.
  ...(gate?.waf ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } } : {}),
  ...(gate ? { gate } : {}),
  waitingRoom: {
    adminEmail: context('adminEmail') ?? process.env.WR_ADMIN_EMAIL ?? '',
    rooms,
    resetRooms: context('resetRooms') === 'true',
    alarms: parseJson<WaitingRoomAlarms>('alarms', '{"waitingUsersThreshold":500}'),
    removalPolicy: context('removalPolicy') === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    dashboard: context('dashboard') === 'true',
    tracing: context('tracing') === 'true',
  },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
