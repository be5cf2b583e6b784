/**
 * The synthesized stack as the local runtime reads it. `npm start` builds the same WaitingRoomStack
 * that `cdk deploy` deploys (bundling skipped), and everything local is derived from its template:
 * tables, queues, topics, functions with their environment, API routes, event source mappings and
 * the state machine. Nothing here restates a setting of the stack.
 */
import type { WaitingRoomProps } from '../lib/waiting-room.js';
import { ENTRY_METADATA, LOCAL_RUNTIME_METADATA } from '../lib/paths.js';
import { cachedTemplate } from './template-cache.js';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DependsOn?: string | string[];
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, unknown>;
}

/**
 * The stack's template for these props, synthesized with aws-cdk-lib (loading the constructs and
 * synthesizing take 5-15 s on two cores) or read from the synth cache when the props and the sources
 * are the same as at an earlier start (local/template-cache.ts).
 */
export async function synthesizeTemplate(props: WaitingRoomProps): Promise<CfnTemplate> {
  return cachedTemplate(props, async (outdir) => {
    const [{ App }, { WaitingRoomStack }] = await Promise.all([import('aws-cdk-lib'), import('../lib/waiting-room-stack.js')]);
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new WaitingRoomStack(app, 'WaitingRoomLocal', { waitingRoom: props });
    return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  });
}

export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** The logical ids that a value refers to with Ref or Fn::GetAtt, depth first. */
export function referencedIds(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedIds);
  if (value === null || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  if (typeof record.Ref === 'string') return [record.Ref];
  if (Array.isArray(record['Fn::GetAtt'])) return [String((record['Fn::GetAtt'] as unknown[])[0])];
  return Object.values(record).flatMap(referencedIds);
}

export interface FunctionDefinition {
  logicalId: string;
  /** TypeScript entry relative to the repository, e.g. lambdas/handlers/join.ts. */
  entry: string;
  handler: string;
  environment: Record<string, unknown>;
  timeoutSeconds: number;
}

export function functionsOf(template: CfnTemplate): FunctionDefinition[] {
  return resourcesOfType(template, 'AWS::Lambda::Function')
    .filter(([, r]) => typeof r.Metadata?.[ENTRY_METADATA] === 'string' && r.Metadata?.[LOCAL_RUNTIME_METADATA] !== 'skip')
    .map(([logicalId, r]) => ({
      logicalId,
      entry: String(r.Metadata![ENTRY_METADATA]),
      handler: String(r.Properties?.Handler ?? 'index.handler').split('.').pop()!,
      environment: ((r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}),
      timeoutSeconds: Number(r.Properties?.Timeout ?? 3),
    }));
}

export interface RouteDefinition {
  /** The HTTP API's route key, e.g. `GET /rooms/{roomId}/tokens` (`ANY /path` matches every method). */
  routeKey: string;
  method: string;
  /** Route path with {placeholders}, e.g. /rooms/{roomId}/tokens; `{name+}` is greedy. */
  path: string;
  functionLogicalId: string;
  /** NONE, or AWS_IAM (SigV4 on AWS; not checked locally). */
  authorization: string;
}

/** The HTTP API's routes (AWS::ApiGatewayV2::Route), each with the function its Lambda integration targets. */
export function routesOf(template: CfnTemplate): RouteDefinition[] {
  const integrations = Object.fromEntries(resourcesOfType(template, 'AWS::ApiGatewayV2::Integration'));
  const functions = new Set(functionsOf(template).map((f) => f.logicalId));
  return resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(([id, r]) => {
    const routeKey = String(r.Properties?.RouteKey);
    const [method, path] = routeKey.split(' ');
    if (!method || !path) throw new Error(`API route ${id} has the route key ${routeKey}, which the local runtime cannot serve`);
    const integrationId = referencedIds(r.Properties?.Target).find((ref) => ref in integrations);
    const integration = integrationId ? integrations[integrationId]! : undefined;
    const target = referencedIds(integration?.Properties?.IntegrationUri).find((ref) => functions.has(ref));
    if (!target) throw new Error(`API route ${id} (${routeKey}) does not integrate a waiting-room function`);
    // The local gateway builds payload 2.0 events only.
    if (String(integration?.Properties?.PayloadFormatVersion) !== '2.0') {
      throw new Error(`API route ${id} (${routeKey}) uses payload format ${String(integration?.Properties?.PayloadFormatVersion)}, not 2.0`);
    }
    return { routeKey, method, path, functionLogicalId: target, authorization: String(r.Properties?.AuthorizationType ?? 'NONE') };
  });
}

/** The HTTP API's built-in CORS (CorsConfiguration of AWS::ApiGatewayV2::Api). */
export interface CorsDefinition {
  allowOrigins: string[];
  allowHeaders: string[];
  allowMethods: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
  allowCredentials: boolean;
}

/** The CORS configuration of the template's HTTP API; undefined when it has none (then no CORS headers at all). */
export function corsOf(template: CfnTemplate): CorsDefinition | undefined {
  const apis = resourcesOfType(template, 'AWS::ApiGatewayV2::Api');
  if (apis.length > 1) throw new Error(`The template holds ${apis.length} HTTP APIs; the local runtime serves one`);
  const config = apis[0]?.[1].Properties?.CorsConfiguration as Record<string, unknown> | undefined;
  if (!config) return undefined;
  const list = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
  return {
    allowOrigins: list(config.AllowOrigins),
    allowHeaders: list(config.AllowHeaders),
    allowMethods: list(config.AllowMethods),
    exposeHeaders: list(config.ExposeHeaders),
    ...(config.MaxAge !== undefined ? { maxAgeSeconds: Number(config.MaxAge) } : {}),
    allowCredentials: config.AllowCredentials === true,
  };
}

/** The `$default` stage's throttling (DefaultRouteSettings of AWS::ApiGatewayV2::Stage); undefined when it sets none. */
export function stageThrottleOf(template: CfnTemplate): { rateLimit: number; burstLimit: number } | undefined {
  const stages = resourcesOfType(template, 'AWS::ApiGatewayV2::Stage');
  const settings = stages[0]?.[1].Properties?.DefaultRouteSettings as { ThrottlingRateLimit?: unknown; ThrottlingBurstLimit?: unknown } | undefined;
  if (settings?.ThrottlingRateLimit === undefined || settings.ThrottlingBurstLimit === undefined) return undefined;
  return { rateLimit: Number(settings.ThrottlingRateLimit), burstLimit: Number(settings.ThrottlingBurstLimit) };
}

export interface EventSourceMappingDefinition {
  logicalId: string;
  functionLogicalId: string;
  /** The table (for a stream) or queue the mapping reads. */
  sourceLogicalId: string;
  kind: 'dynamodb-stream' | 'sqs';
  batchSize: number;
  filters: { Pattern: string }[];
  reportBatchItemFailures: boolean;
  bisectBatchOnFunctionError: boolean;
  maximumRetryAttempts: number;
  onFailureLogicalId?: string;
  startingPosition?: string;
  /** With a tumbling window, Lambda names the shard and carries a state between invocations. */
  tumblingWindowSeconds?: number;
  /** How long Lambda gathers records for a batch before it invokes (MaximumBatchingWindowInSeconds). */
  batchingWindowSeconds?: number;
}

export function eventSourceMappingsOf(template: CfnTemplate): EventSourceMappingDefinition[] {
  return resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(([logicalId, r]) => {
    const p = r.Properties ?? {};
    const source = p.EventSourceArn as { 'Fn::GetAtt'?: [string, string] } | undefined;
    const [sourceLogicalId, attribute] = source?.['Fn::GetAtt'] ?? [];
    if (!sourceLogicalId) throw new Error(`Event source mapping ${logicalId} has an event source the local runtime cannot read`);
    const onFailure = referencedIds((p.DestinationConfig as { OnFailure?: unknown } | undefined)?.OnFailure)[0];
    return {
      logicalId,
      functionLogicalId: referencedIds(p.FunctionName)[0]!,
      sourceLogicalId,
      kind: attribute === 'StreamArn' ? 'dynamodb-stream' : 'sqs',
      batchSize: Number(p.BatchSize ?? (attribute === 'StreamArn' ? 100 : 10)),
      filters: ((p.FilterCriteria as { Filters?: { Pattern: string }[] } | undefined)?.Filters ?? []),
      reportBatchItemFailures: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures'),
      bisectBatchOnFunctionError: p.BisectBatchOnFunctionError === true,
      // -1 (or absent) means retry until the record expires.
      maximumRetryAttempts: p.MaximumRetryAttempts === undefined ? -1 : Number(p.MaximumRetryAttempts),
      ...(onFailure ? { onFailureLogicalId: onFailure } : {}),
      ...(typeof p.StartingPosition === 'string' ? { startingPosition: p.StartingPosition } : {}),
      ...(p.TumblingWindowInSeconds !== undefined ? { tumblingWindowSeconds: Number(p.TumblingWindowInSeconds) } : {}),
      ...(p.MaximumBatchingWindowInSeconds !== undefined ? { batchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds) } : {}),
    };
  });
}
