/**
 * The synthesized stack as the local runtime reads it. `npm start` builds the same WaitingRoomStack
 * that `cdk deploy` deploys (bundling skipped), and everything local is derived from its template:
 * tables, queues, topics, functions with their environment, API routes, event source mappings and
 * the state machine. Nothing here restates a setting of the stack.
 */
import { App } from 'aws-cdk-lib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WaitingRoomStack } from '../lib/waiting-room-stack.js';
import type { WaitingRoomProps } from '../lib/waiting-room.js';
import { ENTRY_METADATA, LOCAL_RUNTIME_METADATA } from '../lib/paths.js';

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

export function synthesizeTemplate(props: WaitingRoomProps): CfnTemplate {
  const outdir = mkdtempSync(path.join(tmpdir(), 'wr-local-synth-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new WaitingRoomStack(app, 'WaitingRoomLocal', { waitingRoom: props });
    return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
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
  method: string;
  /** Resource path with {placeholders}, e.g. /rooms/{roomId}/tokens. */
  resource: string;
  functionLogicalId: string;
  authorization: string;
}

export function routesOf(template: CfnTemplate): RouteDefinition[] {
  const resources = Object.fromEntries(resourcesOfType(template, 'AWS::ApiGateway::Resource'));
  const pathOf = (id: string | undefined): string => {
    const resource = id ? resources[id] : undefined;
    if (!resource) return '';
    const parent = resource.Properties?.ParentId as { Ref?: string } | undefined;
    return `${pathOf(parent?.Ref)}/${String(resource.Properties?.PathPart)}`;
  };
  const functions = new Set(functionsOf(template).map((f) => f.logicalId));
  return resourcesOfType(template, 'AWS::ApiGateway::Method')
    .filter(([, m]) => m.Properties?.HttpMethod !== 'OPTIONS')
    .map(([id, m]) => {
      const target = referencedIds((m.Properties?.Integration as { Uri?: unknown } | undefined)?.Uri).find((ref) => functions.has(ref));
      if (!target) throw new Error(`API method ${id} does not integrate a waiting-room function`);
      const resourceRef = (m.Properties?.ResourceId as { Ref?: string } | undefined)?.Ref;
      return {
        method: String(m.Properties?.HttpMethod),
        resource: pathOf(resourceRef) || '/',
        functionLogicalId: target,
        authorization: String(m.Properties?.AuthorizationType ?? 'NONE'),
      };
    });
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
    };
  });
}
