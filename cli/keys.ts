/**
 * `waiting-room keys rotate`: rotates the admission-pass signing key of a deployed stack by
 * invoking its rotate function (the stack's RotatePassKeyFunctionName output; lambdas/handlers/
 * rotate-pass-key.ts). The local runtime makes a new key set each run, so there is nothing to
 * rotate there. Leave at least 16 minutes between rotations (README, "Pass key rotation").
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { EdgeRotationResult } from '../lambdas/domain/passes/edge-pass-keys.js';
import type { Outcome } from './commands.js';
import { CliError, EXIT } from './errors.js';

export interface RotationAnswer {
  kid: string;
  nextKid?: string;
  previousKids?: string[];
  initialized?: boolean;
  prepublished?: boolean;
}

/** What the edge key rotation answers (lambdas/handlers/rotate-edge-pass-key.ts). */
export type EdgeRotationAnswer = EdgeRotationResult;

/** Invokes a rotate function with `{}` and returns its JSON answer; every failure a CliError. */
async function invokeRotation(lambda: Pick<LambdaClient, 'send'>, functionName: string): Promise<unknown> {
  let answer;
  try {
    answer = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: new TextEncoder().encode('{}') }));
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    const message = error instanceof Error ? error.message : String(error);
    if (name === 'AccessDeniedException') throw new CliError(`Not allowed to invoke ${functionName} (lambda:InvokeFunction): ${message}`, EXIT.denied);
    if (name === 'CredentialsProviderError') throw new CliError(`No AWS credentials: ${message}`, EXIT.denied);
    if (name === 'ResourceNotFoundException') throw new CliError(`No function ${functionName}: ${message}`, EXIT.usage);
    throw new CliError(`Cannot invoke ${functionName}: ${message}`, EXIT.unreachable);
  }
  const text = answer.Payload ? new TextDecoder().decode(answer.Payload) : '';
  if (answer.FunctionError) throw new CliError(`The rotation failed: ${text}`, EXIT.failed);
  return JSON.parse(text);
}

export async function keysRotate(
  lambda: Pick<LambdaClient, 'send'>,
  functionName: string | undefined,
): Promise<Outcome> {
  if (!functionName) throw new CliError('keys rotate needs --stack NAME: the rotate function is named by the stack output RotatePassKeyFunctionName', EXIT.usage);
  const result = (await invokeRotation(lambda, functionName)) as RotationAnswer;
  const lines = [
    result.initialized ? `Key set initialized: signing with ${result.kid}` : `Rotated: passes are now signed with ${result.kid} (functions switch within 5 minutes)`,
    ...(result.nextKid ? [`  next key ${result.nextKid} published ahead`] : []),
    ...(result.previousKids?.length ? [`  still published for passes already out: ${result.previousKids.join(', ')}`] : []),
    ...(result.prepublished === false && !result.initialized ? ['  warning: the new key was not published ahead; origins may refuse its passes until they refetch the JWKS'] : []),
    '  leave at least 16 minutes before the next rotation',
  ];
  return { json: result, lines };
}

export function lambdaClient(region: string, credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider): LambdaClient {
  return new LambdaClient({ region, credentials });
}

/** `keys rotate --edge`: the gate's edge pass key (the stack output RotateEdgePassKeyFunctionName; 5 minutes apart at least). */
export async function edgeKeysRotate(lambda: Pick<LambdaClient, 'send'>, functionName: string | undefined): Promise<Outcome> {
  if (!functionName) throw new CliError('keys rotate --edge needs --stack NAME of a stack with a gate: the rotate function is named by the stack output RotateEdgePassKeyFunctionName', EXIT.usage);
  const result = (await invokeRotation(lambda, functionName)) as EdgeRotationAnswer;
  const lines = [
    result.initialized ? `Edge key set initialized: signing with ${result.kid}` : `Rotated: edge passes are now signed with ${result.kid} (functions switch within 5 minutes)`,
    ...(result.nextKid ? [`  next key ${result.nextKid} already in the gate's KeyValueStore`] : []),
    ...(result.previousKids.length ? [`  still accepted for passes already out: ${result.previousKids.join(', ')}`] : []),
    `  KeyValueStore: ${result.stored} written, ${result.removed} removed; leave at least 5 minutes before the next rotation`,
  ];
  return { json: result, lines };
}
