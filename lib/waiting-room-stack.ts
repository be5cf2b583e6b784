import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { WaitingRoom, type WaitingRoomProps } from './waiting-room.js';

export interface WaitingRoomStackProps extends StackProps {
  waitingRoom: WaitingRoomProps;
}

/** A stack holding one WaitingRoom, with the outputs an operator needs. */
export class WaitingRoomStack extends Stack {
  readonly waitingRoom: WaitingRoom;

  constructor(scope: Construct, id: string, props: WaitingRoomStackProps) {
    super(scope, id, props);
    this.waitingRoom = new WaitingRoom(this, 'WaitingRoom', props.waitingRoom);
    const api = this.waitingRoom.api.restApi;
    new CfnOutput(this, 'ApiUrl', { value: api.url, description: 'Base URL of the waiting-room API' });
    new CfnOutput(this, 'JoinExample', {
      value: `curl -X POST ${api.url}rooms/demo/tokens`,
      description: 'Join the demo room',
    });
  }
}
