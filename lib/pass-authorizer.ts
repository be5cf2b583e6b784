/**
 * PassAuthorizer: protects your own API Gateway REST API with the waiting room's admission passes
 * (DESIGN §7). A request passes only with a valid pass for `roomId` (cookie `wr_pass`, or
 * `Authorization: Bearer <pass>`), verified offline against the waiting room's JWKS.
 *
 *   const auth = new PassAuthorizer(this, 'ShopGate', { jwksUrl: room.jwksUrl, roomId: 'shop' });
 *   api.root.addResource('checkout').addMethod('POST', integration, { authorizer: auth.authorizer });
 *
 * No pass, or an expired, forged or unknown-key pass: 401. A pass for another room: 403.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { RequestAuthorizer } from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';
import { WaitingRoomFunction } from './constructs/function.js';

export interface PassAuthorizerProps {
  /** The waiting room's JWKS URL, e.g. `waitingRoom.jwksUrl`. */
  readonly jwksUrl: string;
  /** The room whose passes are accepted. */
  readonly roomId: string;
  /** Seconds of clock skew tolerated on expiry. @default 5 */
  readonly clockToleranceSeconds?: number;
}

export class PassAuthorizer extends Construct {
  readonly function: WaitingRoomFunction;
  readonly authorizer: RequestAuthorizer;

  constructor(scope: Construct, id: string, props: PassAuthorizerProps) {
    super(scope, id);
    this.function = new WaitingRoomFunction(this, 'Function', {
      handler: 'pass-authorizer',
      description: `Admits requests carrying a valid waiting-room pass for room ${props.roomId}`,
      environment: {
        PASS_JWKS_URL: props.jwksUrl,
        PASS_ROOM_ID: props.roomId,
        PASS_CLOCK_TOLERANCE_SECONDS: String(props.clockToleranceSeconds ?? 5),
      },
      timeout: Duration.seconds(5),
    });
    this.authorizer = new RequestAuthorizer(this, 'Authorizer', {
      handler: this.function,
      // A cached Allow would outlive the pass; without caching the identity sources are optional.
      resultsCacheTtl: Duration.seconds(0),
      identitySources: [],
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4',
      reason: 'The authorizer function uses the AWS managed basic execution role for its own logs only.',
    });
  }
}
