/**
 * Which API the CLI talks to: `--api URL` (signed), `--stack NAME` (its ApiUrl output, read with
 * CloudFormation, signed), or `--local` (npm start on 127.0.0.1, PORT or --port, signed with the
 * local runtime's own credentials). The
 * region comes from --region, else the API's own host name, else the SDK's usual settings.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/intrinsics.js';
import type { AdminTarget } from './admin-api.js';
import { flag, integerOption, option, type ParsedArgs } from './args.js';
import { CliError, EXIT } from './errors.js';

const API_HOST = /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/;

/** The region of an API Gateway URL, when its host says. */
export function regionOfApiUrl(url: string): string | undefined {
  try {
    return API_HOST.exec(new URL(url).hostname)?.[1];
  } catch {
    return undefined;
  }
}

export interface TargetDeps {
  env: NodeJS.ProcessEnv;
  /** The stack's outputs (a seam for tests). */
  stackOutputs?: (stackName: string, region: string | undefined, profile: string | undefined) => Promise<Record<string, string>>;
}

async function describeStackOutputs(stackName: string, region: string | undefined, profile: string | undefined): Promise<Record<string, string>> {
  const client = new CloudFormationClient({ ...(region ? { region } : {}), credentials: fromNodeProviderChain(profile ? { profile } : {}) });
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    return Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    const message = error instanceof Error ? error.message : String(error);
    if (name === 'ValidationError') throw new CliError(`No stack ${stackName}${region ? ` in ${region}` : ''}: ${message}`, EXIT.usage);
    if (name === 'CredentialsProviderError') throw new CliError(`No AWS credentials to read the stack with: ${message}`, EXIT.denied);
    if (name === 'AccessDenied' || name === 'AccessDeniedException') throw new CliError(`Not allowed to read the stack ${stackName} (cloudformation:DescribeStacks): ${message}`, EXIT.denied);
    throw new CliError(`Cannot read the stack ${stackName}: ${message}`, EXIT.unreachable);
  } finally {
    client.destroy();
  }
}

/** Where the API is, without what signs for it: enough for its public routes (`lottery verify --room`). */
export type ApiLocation = Omit<AdminTarget, 'signing'>;

export async function locateApi(args: ParsedArgs, deps: TargetDeps): Promise<ApiLocation> {
  const api = option(args, 'api');
  const stack = option(args, 'stack');
  const local = flag(args, 'local');
  if ([api !== undefined, stack !== undefined, local].filter(Boolean).length !== 1) {
    throw new CliError('Say which API: --stack NAME (a deployed stack), --api URL, or --local (npm start)', EXIT.usage);
  }
  if (local) {
    const port = integerOption(args, 'port', 1, 65_535) ?? (deps.env.PORT ? Number(deps.env.PORT) : 3000);
    return { baseUrl: `http://127.0.0.1:${port}`, describe: `--local, port ${port}`, local: true };
  }
  let baseUrl = api;
  let outputs: Record<string, string> | undefined;
  if (stack !== undefined) {
    outputs = await (deps.stackOutputs ?? describeStackOutputs)(stack, option(args, 'region') ?? deps.env.AWS_REGION, option(args, 'profile') ?? deps.env.AWS_PROFILE);
    baseUrl = outputs.ApiUrl;
    if (!baseUrl) throw new CliError(`The stack ${stack} has no ApiUrl output: is it a waiting-room stack?`, EXIT.usage);
  }
  try {
    new URL(baseUrl!);
  } catch {
    throw new CliError(`--api must be a URL (got ${baseUrl})`, EXIT.usage);
  }
  return {
    baseUrl: baseUrl!.replace(/\/+$/, ''),
    describe: stack !== undefined ? `--stack ${stack}` : `--api ${baseUrl}`,
    ...(outputs ? { outputs } : {}),
  };
}

export async function resolveTarget(args: ParsedArgs, deps: TargetDeps): Promise<AdminTarget> {
  const location = await locateApi(args, deps);
  if (location.local) return { ...location, signing: { credentials: LOCAL_CREDENTIALS, region: LOCAL_REGION } };
  const profile = option(args, 'profile') ?? deps.env.AWS_PROFILE;
  const region = option(args, 'region') ?? regionOfApiUrl(location.baseUrl) ?? deps.env.AWS_REGION ?? deps.env.AWS_DEFAULT_REGION;
  if (!region) throw new CliError('Which region? Give --region (the API URL does not say)', EXIT.usage);
  return { ...location, signing: { credentials: fromNodeProviderChain(profile ? { profile } : {}), region } };
}
