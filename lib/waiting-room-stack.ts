import { Aws, CfnOutput, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { Construct } from 'constructs';
import { failureQueuesJson } from './constructs/failure-queues.js';
import { WaitingRoomGate } from './gate/gate.js';
import type { WaitingRoomGateProps } from './gate/props.js';
import { EMAIL, WaitingRoom, type WaitingRoomProps } from './waiting-room.js';

/** The edge gate of the stack's waiting room: the gate's props, with the certificate by ARN (in us-east-1). */
export type WaitingRoomStackGateProps = Omit<WaitingRoomGateProps, 'waitingRoom' | 'apiUrl' | 'certificate'> & {
  /** ARN of the ACM certificate (in us-east-1) for `domainNames`. @default none */
  readonly certificateArn?: string;
};

export interface WaitingRoomStackProps extends StackProps {
  /**
   * The waiting room's props. Without an `adminEmail`, the stack asks for it as the CloudFormation
   * parameter `AdminEmail`: synthesis works offline, and a deploy without the address fails with
   * CloudFormation's message naming the parameter.
   */
  readonly waitingRoom: Omit<WaitingRoomProps, 'adminEmail'> & { readonly adminEmail?: string };
  /** Put the waiting room in front of a site with one CloudFront distribution (lib/gate/gate.ts). @default no gate */
  readonly gate?: WaitingRoomStackGateProps;
}

/** A stack holding one WaitingRoom, with the outputs an operator needs. */
export class WaitingRoomStack extends Stack {
  readonly waitingRoom: WaitingRoom;
  /** The edge gate; undefined unless props.gate. */
  readonly gate?: WaitingRoomGate;

  constructor(scope: Construct, id: string, props: WaitingRoomStackProps) {
    super(scope, id, props);
    let adminEmail = props.waitingRoom.adminEmail;
    if (!adminEmail) {
      adminEmail = new CfnParameter(this, 'AdminEmail', {
        type: 'String',
        description: 'E-mail address that receives the alarm notifications (confirm the subscription e-mail)',
        allowedPattern: EMAIL.source,
        constraintDescription: 'must be an e-mail address for alarm notifications, e.g. ops@example.com',
      }).valueAsString;
    }
    this.waitingRoom = new WaitingRoom(this, 'WaitingRoom', { ...props.waitingRoom, adminEmail });
    const room = this.waitingRoom;
    // The URL ends with "/": HTTP API's `$default` stage has no path prefix.
    const apiUrl = room.api.url;
    new CfnOutput(this, 'ApiUrl', { value: apiUrl, description: 'Base URL of the waiting-room API' });
    const firstRoom = props.waitingRoom.rooms?.[0]?.roomId ?? '<roomId>';
    new CfnOutput(this, 'JoinExample', {
      value: `curl -X POST ${apiUrl}rooms/${firstRoom}/tokens`,
      description: `Join the room ${firstRoom}`,
    });
    if (room.statusCache) {
      new CfnOutput(this, 'StatusUrl', {
        value: room.statusCache.url,
        description: 'The API through CloudFront, room status cached at the edge: give it to waiting pages as data-status-base',
      });
    }
    if (props.gate) {
      const { certificateArn, ...gate } = props.gate;
      this.gate = new WaitingRoomGate(this, 'Gate', {
        ...gate,
        waitingRoom: room,
        ...(certificateArn ? { certificate: Certificate.fromCertificateArn(this, 'GateCertificate', certificateArn) } : {}),
      });
      new CfnOutput(this, 'GateUrl', { value: this.gate.url, description: 'The site through the waiting-room gate (point your domain here)' });
      new CfnOutput(this, 'RotateEdgePassKeyFunctionName', {
        value: this.gate.passKeys.rotateFunction.functionName,
        description: "Rotates the gate's edge pass key: aws lambda invoke --function-name <this> --payload '{}' out.json",
      });
      new CfnOutput(this, 'GateKeyValueStoreArn', {
        value: this.gate.keyValueStore.keyValueStoreArn,
        description: 'KeyValueStore of the edge-pass keys (k.<kid>) that the gate function reads',
      });
    }
    new CfnOutput(this, 'JwksUrl', { value: room.jwksUrl, description: 'Public keys that verify admission passes (for origins)' });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: room.alarmTopic.topicArn,
      description: 'Admin alarm topic: confirm the subscription e-mail sent to adminEmail to receive alarms',
    });
    if (room.dashboard) {
      new CfnOutput(this, 'DashboardName', { value: room.dashboard.dashboardName, description: 'CloudWatch dashboard of the waiting room' });
      new CfnOutput(this, 'DashboardUrl', {
        value: `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${room.dashboard.dashboardName}`,
        description: 'CloudWatch dashboard of the waiting room, in the console',
      });
    }
    new CfnOutput(this, 'StateMachineArn', {
      value: room.stateMachine.stateMachineArn,
      description: 'Metrics loop (runs every minute); start a run now with POST /admin/metrics/refresh',
    });
    new CfnOutput(this, 'FailureQueues', {
      value: failureQueuesJson(this, room.failureQueues),
      description: 'Queues of work that failed every retry, as JSON [{name, url, sourceUrl?, lost}]: waiting-room dlq list / dlq redrive',
    });
    new CfnOutput(this, 'RotatePassKeyFunctionName', {
      value: room.passKeys.rotateFunction.functionName,
      description: "Rotates the admission-pass signing key: aws lambda invoke --function-name <this> --payload '{}' out.json",
    });
  }
}
