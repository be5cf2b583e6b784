/**
 * Admission-pass signing keys (DESIGN §7): an ES256 key set in Secrets Manager, written at deploy
 * time by the rotate function (as a custom resource), read and cached by the functions that sign
 * passes and by the JWKS endpoint, rotated on demand:
 *   aws lambda invoke --function-name <RotatePassKeyFunctionName> --payload '{}' out.json
 * Never in the template, never in logs. Idle cost: the secret, $0.40 a month (reads are $0.05 per
 * 10,000 and each function environment caches the key set for 5 minutes).
 */
import { CustomResource, Duration, Stack, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import type { CfnFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { PASS_KEYS_SECRET_ENV } from '../../lambdas/shared/env-names.js';
import { LOCAL_RUNTIME_METADATA } from '../paths.js';
import { WaitingRoomFunction } from './function.js';

export class PassKeys extends Construct {
  readonly secret: Secret;
  readonly rotateFunction: WaitingRoomFunction;

  constructor(scope: Construct, id: string, props: { readonly removalPolicy: RemovalPolicy; readonly environment: Record<string, string>; readonly tracing?: boolean }) {
    super(scope, id);
    // The generated placeholder is replaced by a real key set when the stack is created.
    this.secret = new Secret(this, 'KeySet', {
      description: 'Waiting room: admission pass signing keys (ES256 JWK set). Rotate with the RotatePassKey function.',
      removalPolicy: props.removalPolicy,
    });
    this.rotateFunction = new WaitingRoomFunction(this, 'RotatePassKey', {
      handler: 'rotate-pass-key',
      description: 'Rotates the admission-pass signing key (invoke with {}); writes the first key at deploy time',
      environment: { ...props.environment, [PASS_KEYS_SECRET_ENV]: this.secret.secretArn },
      timeout: Duration.seconds(30),
      tracing: props.tracing,
    });
    // Locally a fresh key is generated for each run: there is nothing to rotate.
    (this.rotateFunction.node.defaultChild as CfnFunction).addMetadata(LOCAL_RUNTIME_METADATA, 'skip');
    this.secret.grantRead(this.rotateFunction);
    this.secret.grantWrite(this.rotateFunction);

    const provider = new Provider(this, 'FirstKeyProvider', { onEventHandler: this.rotateFunction });
    new CustomResource(this, 'FirstKey', { serviceToken: provider.serviceToken, properties: { secret: this.secret.secretArn } });

    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason: 'Pass keys rotate on demand with the RotatePassKey function; Secrets Manager rotation would retire keys while passes signed with them are still valid.',
    });
    acknowledgeProviderFindings(provider, this.rotateFunction);
  }

  /** Lets a function sign passes or publish the JWKS: the secret's ARN in its environment, and read access. */
  grantSigning(fn: IFunction & { addEnvironment(key: string, value: string): unknown }): void {
    fn.addEnvironment(PASS_KEYS_SECRET_ENV, this.secret.secretArn);
    this.secret.grantRead(fn);
  }
}

/** cdk-nag's findings on a custom-resource Provider that wraps one rotate function, each with its reason. */
export function acknowledgeProviderFindings(provider: Provider, rotateFunction: WaitingRoomFunction): void {
  const rotateLogicalId = Stack.of(provider).getLogicalId(rotateFunction.node.defaultChild as CfnFunction);
  Validations.of(provider).acknowledge(
    {
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The CDK custom-resource framework function uses the AWS managed basic execution role for its own logs.',
    },
    {
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${rotateLogicalId}.Arn>:*]`,
      reason: 'The CDK custom-resource framework may invoke any version of the one rotate function it wraps.',
    },
    { id: 'AwsSolutions::AwsSolutions-L1', reason: 'The runtime of the CDK custom-resource framework function is chosen by aws-cdk-lib.' },
  );
}
