/**
 * The deploy-time room seeding (lib/constructs/seed-rooms.ts), run for real: the UpdateItem each
 * template's custom resource would make, taken from the synthesized template and sent to DynamoDB
 * Local against the rooms table of a running local runtime. A first deploy creates the room; an
 * operator changes it through the admin API; a redeploy with other settings keeps the operator's
 * change; a redeploy with resetRooms sets the listed settings again; counters are never touched.
 */
import { UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomDefinition } from '../../lib/waiting-room.js';
import '../../local/preamble.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.js';
import { synthWaitingRoom } from '../helpers/synth.js';
import { Visitor, admin } from '../helpers/visitor.js';

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startLocalRuntime({ port: 0, rooms: [], schedules: false, pages: false, log: () => undefined });
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
});

/** The seeding calls of a template synthesized with these rooms, with the table's name filled in. */
function seedCalls(rooms: RoomDefinition[], resetRooms = false): UpdateItemCommandInput[] {
  const table = runtime.resources.get(runtime.logicalId('WaitingRoomTablesRooms', 'AWS::DynamoDB::Table'))!.ref;
  const { template } = synthWaitingRoom({ rooms, resetRooms }, { bundle: false });
  return Object.values(template.findResources('Custom::AWS')).map((resource) => {
    const create = (resource as { Properties: { Create: { 'Fn::Join': [string, unknown[]] } } }).Properties.Create['Fn::Join'][1];
    const json = create.map((part) => (typeof part === 'string' ? part : table)).join('');
    return (JSON.parse(json) as { parameters: UpdateItemCommandInput }).parameters;
  });
}

const deploy = async (rooms: RoomDefinition[], resetRooms = false) => {
  for (const call of seedCalls(rooms, resetRooms)) await runtime.clients.dynamodb.send(new UpdateItemCommand(call));
};

describe('rooms listed at deploy time', () => {
  it('are created when missing, keep what the operator changed across redeploys, and are reset only when asked', async () => {
    const roomId = `seeded-${Date.now()}`;
    await deploy([{ roomId, capacity: 5 }]);
    await expect(admin(runtime.url, 'GET', `/rooms/${roomId}`)).resolves.toMatchObject({ capacity: 5, state: 'open', activeCount: 0 });

    // Live: a visitor takes a seat, and the operator changes the room.
    const visitor = await Visitor.join(runtime.url, roomId);
    expect(visitor.view.state).toBe('admitted');
    await admin(runtime.url, 'PUT', `/rooms/${roomId}`, { capacity: 9, state: 'paused' });

    await deploy([{ roomId, capacity: 5 }]); // redeploy unchanged
    await deploy([{ roomId, capacity: 7, state: 'open' }]); // redeploy with other settings
    await expect(admin(runtime.url, 'GET', `/rooms/${roomId}`)).resolves.toMatchObject({ capacity: 9, state: 'paused', activeCount: 1, admittedTotal: 1 });

    await deploy([{ roomId, capacity: 7, state: 'open' }], true); // resetRooms=true
    await expect(admin(runtime.url, 'GET', `/rooms/${roomId}`)).resolves.toMatchObject({ capacity: 7, state: 'open', activeCount: 1, admittedTotal: 1 });
  }, 120_000);

  it('take their queueing mode and rate limit from the props when created, keep the operator\'s afterwards, and reset them only when asked', async () => {
    const roomId = `seeded-modes-${Date.now()}`;
    await deploy([{ roomId, capacity: 5, mode: 'reject', newVisitorsPerMinute: 60 }]);
    await expect(admin(runtime.url, 'GET', `/rooms/${roomId}`)).resolves.toMatchObject({ mode: 'reject', newVisitorsPerMinute: 60 });
    await admin(runtime.url, 'PUT', `/rooms/${roomId}`, { mode: 'fifo', newVisitorsPerMinute: 600 });
    await deploy([{ roomId, capacity: 5, mode: 'passthrough', newVisitorsPerMinute: 30 }]);
    await expect(admin(runtime.url, 'GET', `/rooms/${roomId}`)).resolves.toMatchObject({ mode: 'fifo', newVisitorsPerMinute: 600 });
    await deploy([{ roomId, capacity: 5, mode: 'passthrough' }], true);
    const reset = await admin(runtime.url, 'GET', `/rooms/${roomId}`);
    expect(reset).toMatchObject({ mode: 'passthrough' });
    expect(reset).not.toHaveProperty('newVisitorsPerMinute');
  }, 60_000);
});
