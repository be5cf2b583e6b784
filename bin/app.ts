#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth -c adminEmail=ops@example.com` / `npx cdk deploy -c adminEmail=...`.
 * Context: adminEmail (required), rooms (JSON, e.g. '[{"roomId":"shop","capacity":200}]'),
 * removalPolicy ('destroy' to delete tables with the stack), stackName.
 */
import { App, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { WaitingRoomStack } from '../lib/waiting-room-stack.js';
import type { RoomDefinition } from '../lib/waiting-room.js';

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined ? undefined : String(value);
};

function parseRooms(raw: string | undefined): RoomDefinition[] | undefined {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as RoomDefinition[];
  } catch {
    throw new Error(`Context "rooms" must be JSON like '[{"roomId":"shop","capacity":200}]' (got ${raw})`);
  }
}

new WaitingRoomStack(app, context('stackName') ?? 'WaitingRoom', {
  description: 'Serverless virtual waiting room',
  waitingRoom: {
    adminEmail: context('adminEmail') ?? process.env.WR_ADMIN_EMAIL ?? '',
    rooms: parseRooms(context('rooms')),
    removalPolicy: context('removalPolicy') === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
