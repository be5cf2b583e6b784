/**
 * A waiting-room Lambda function: Node.js 22 on arm64, bundled by esbuild (no Docker), ESM output,
 * its own log group. The template resource carries the handler's TypeScript entry as metadata, so
 * the local runtime runs the very same handler.
 *
 * Where the code comes from: in this repository, NodejsFunction bundles the handler's entry at
 * synth from local node_modules, pinned by the repository's lock file. The installed package has
 * neither: its build (scripts/build-package.ts) bundles every handler ahead, with HANDLER_BUNDLING,
 * into `dist/functions/<handler>/`, and a function whose handler has that folder deploys it as it
 * is (one way or the other, Lambda runs `index.handler`).
 *
 * Logs cost $0.50 per GB ingested, so they say only what the code says: JSON format, application
 * level INFO (Lambda sets AWS_LAMBDA_LOG_LEVEL=INFO, which Powertools Logger honours before
 * POWERTOOLS_LOG_LEVEL: with POWERTOOLS_LOG_LEVEL=DEBUG it still logs INFO and up, so change the
 * level here, not in the environment), system level WARN (no START, END and REPORT lines: three
 * a run, 129,600 a month for the idle metrics publisher alone). POWERTOOLS_LOG_LEVEL carries the
 * same level for the local runtime, where Lambda sets nothing. X-Ray tracing is opt-in (`tracing`): a traced function records a trace on every run,
 * $5 per million beyond the free 100,000 a month (the idle metrics publisher alone: 43,200).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { ApplicationLogLevel, Architecture, Code, LoggingFormat, Runtime, SystemLogLevel, Tracing, type CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ENTRY_METADATA, PREBUNDLED_FUNCTIONS_DIR, REPO_ROOT } from '../paths.js';

export interface WaitingRoomFunctionProps {
  /** File name in lambdas/handlers, without extension. */
  readonly handler: string;
  readonly description: string;
  /** Environment variables, beside NODE_OPTIONS (source maps) and the Powertools service name and log level that every function has. @default none */
  readonly environment?: Record<string, string>;
  /** @default 10 seconds */
  readonly timeout?: Duration;
  /** @default 512 MB */
  readonly memorySize?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** What happens to the log group when the stack is deleted. @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /** X-Ray active tracing. @default false */
  readonly tracing?: boolean;
}

/**
 * How esbuild bundles a handler, as NodejsFunction's bundling options; the package build maps them
 * to esbuild's own (scripts/build-package.ts). No `platform`: NodejsFunction always passes esbuild
 * `--platform=node`, and its `platform` option is Docker's.
 */
export const HANDLER_BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  // Bundle the SDK too: the versions that run are the versions that were tested.
  externalModules: [],
  banner: "import { createRequire as __wrCreateRequire } from 'node:module'; const require = __wrCreateRequire(import.meta.url);",
} satisfies BundlingOptions;

/** The handler's code: pre-bundled when the package build made it (the installed package), else bundled from its entry at synth. */
function handlerCode(handler: string, entryPath: string): Pick<NodejsFunctionProps, 'code' | 'handler' | 'entry' | 'projectRoot' | 'depsLockFilePath' | 'bundling'> {
  const prebundled = path.join(REPO_ROOT, PREBUNDLED_FUNCTIONS_DIR, handler);
  if (existsSync(path.join(prebundled, 'index.mjs'))) return { code: Code.fromAsset(prebundled), handler: 'index.handler' };
  return {
    entry: path.join(REPO_ROOT, entryPath),
    handler: 'handler',
    projectRoot: REPO_ROOT,
    depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
    bundling: HANDLER_BUNDLING,
  };
}

/** The functions' application log level, on AWS (Lambda's log controls) and locally (POWERTOOLS_LOG_LEVEL). */
const LOG_LEVEL = ApplicationLogLevel.INFO;

export class WaitingRoomFunction extends NodejsFunction {
  /** The handler's entry relative to the repository root, e.g. lambdas/handlers/join.ts. */
  readonly entryPath: string;

  constructor(scope: Construct, id: string, props: WaitingRoomFunctionProps) {
    const entryPath = `lambdas/handlers/${props.handler}.ts`;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      description: props.description,
      ...handlerCode(props.handler, entryPath),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: props.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: LOG_LEVEL,
      systemLogLevelV2: SystemLogLevel.WARN,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'waiting-room',
        POWERTOOLS_LOG_LEVEL: LOG_LEVEL,
        ...props.environment,
      },
    });
    this.entryPath = entryPath;
    (this.node.defaultChild as CfnFunction).addMetadata(ENTRY_METADATA, entryPath);
    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-L1',
        reason: 'Node.js 22 is the runtime this project targets and tests against; newer runtimes are adopted deliberately.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "The AWS managed basic execution role only grants writing to the function's own CloudWatch log streams.",
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          'Only actions without resource-level permissions are granted on "*": X-Ray PutTraceSegments and PutTelemetryRecords (with tracing on), and for the stream consumers dynamodb:ListStreams.',
      },
    );
  }
}
