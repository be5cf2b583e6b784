/**
 * The edge pass keys of a gate (issue 9): an HMAC key set in Secrets Manager, written at deploy
 * time by the rotate function (a custom resource) together with the gate's KeyValueStore, which
 * the gate function reads at the edge; rotated on demand without a redeploy:
 *   aws lambda invoke --function-name <RotateEdgePassKeyFunctionName> --payload '{}' out.json
 * The functions that admit visitors (heartbeat, keep-place) sign edge passes with it; leave clears
 * the cookie. Idle cost: the secret, $0.40 a month.
 */
import { CustomResource, Duration, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { WaitingRoomFunction } from '../constructs/function.js';
import { acknowledgeProviderFindings } from '../constructs/pass-keys.js';
import { LOCAL_RUNTIME_METADATA } from '../paths.js';

export interface EdgePassKeysProps {
  /** The gate's store, and how to let a function write it (WaitingRoomGate.grantPassKeyWrites). */
  readonly keyValueStoreArn: string;
  readonly grantStoreWrites: (grantee: IGrantable) => unknown;
  /** The gate's `iss`. */
  readonly issuer: string;
  readonly removalPolicy: RemovalPolicy;
}

export class EdgePassKeys extends Construct {
  readonly secret: Secret;
  readonly rotateFunction: WaitingRoomFunction;
  private readonly issuer: string;

  constructor(scope: Construct, id: string, props: EdgePassKeysProps) {
    super(scope, id);
    this.issuer = props.issuer;
    // The generated placeholder is replaced by a real key set when the stack is created.
    this.secret = new Secret(this, 'KeySet', {
      description: 'Waiting-room gate: edge pass keys (HMAC-SHA256). Rotate with the RotateEdgePassKey function.',
      removalPolicy: props.removalPolicy,
    });
    this.rotateFunction = new WaitingRoomFunction(this, 'RotateEdgePassKey', {
      handler: 'rotate-edge-pass-key',
      description: "Rotates the gate's edge pass key (invoke with {}); writes the first keys at deploy time",
      environment: { EDGE_PASS_KEYS_SECRET_ARN: this.secret.secretArn, EDGE_PASS_KVS_ARN: props.keyValueStoreArn },
      timeout: Duration.seconds(30),
    });
    // Locally the edge keys are made for each run (local/edge): nothing to rotate.
    (this.rotateFunction.node.defaultChild as CfnFunction).addMetadata(LOCAL_RUNTIME_METADATA, 'skip');
    this.secret.grantRead(this.rotateFunction);
    this.secret.grantWrite(this.rotateFunction);
    props.grantStoreWrites(this.rotateFunction);

    const provider = new Provider(this, 'FirstKeysProvider', { onEventHandler: this.rotateFunction });
    // `store` in the properties: a new store (a replaced distribution) gets the keys again.
    new CustomResource(this, 'FirstKeys', { serviceToken: provider.serviceToken, properties: { secret: this.secret.secretArn, store: props.keyValueStoreArn } });

    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason: 'Edge pass keys rotate on demand with the RotateEdgePassKey function, which also updates the gate\'s KeyValueStore; Secrets Manager rotation would not.',
    });
    acknowledgeProviderFindings(provider, this.rotateFunction);
  }

  /** Lets a function sign edge passes (heartbeat, leave): the issuer and the secret's ARN in its environment, and read access. */
  grantSigning(fn: IFunction & { addEnvironment(key: string, value: string): unknown }): void {
    fn.addEnvironment('EDGE_PASS_ISSUER', this.issuer);
    fn.addEnvironment('EDGE_PASS_KEYS_SECRET_ARN', this.secret.secretArn);
    this.secret.grantRead(fn);
  }
}
