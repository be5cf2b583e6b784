/**
 * Runs the functions of the template in this process: the handler module named by each
 * function's entry metadata, with the function's environment from the template, invoked with a
 * Lambda-shaped context and the function's timeout.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { REPO_ROOT } from '../lib/paths.js';
import { LOCAL_ACCOUNT, LOCAL_REGION, resolve, type LocalResource } from './intrinsics.js';
import { referencedIds, type FunctionDefinition } from './template.js';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const running = new AsyncLocalStorage<string>();
/**
 * The handler whose invocation is running here (its entry's file name, e.g. `join`), if any: what
 * the scale model's calibration attributes an SDK call to (bench/scale/sdk-counter.ts).
 */
export const runningHandler = (): string | undefined => running.getStore();

export class FunctionTimeoutError extends Error {
  override name = 'FunctionTimeoutError';
}

export class LocalFunction {
  private handler?: Handler;

  constructor(readonly definition: FunctionDefinition) {}

  get name(): string {
    return this.definition.logicalId;
  }

  get arn(): string {
    return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${this.name}`;
  }

  async load(): Promise<void> {
    const module = (await import(pathToFileURL(path.join(REPO_ROOT, this.definition.entry)).href)) as Record<string, unknown>;
    const handler = module[this.definition.handler];
    if (typeof handler !== 'function') throw new Error(`${this.definition.entry} exports no function "${this.definition.handler}"`);
    this.handler = handler as Handler;
  }

  /** Invokes the handler; rejects when it throws or runs past the function's timeout. */
  async invoke<T>(event: unknown): Promise<T> {
    if (!this.handler) await this.load();
    const timeoutMs = this.definition.timeoutSeconds * 1000;
    const deadline = Date.now() + timeoutMs;
    const context = {
      functionName: this.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.arn,
      memoryLimitInMB: '512',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${this.name}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: false,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    } as Context;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new FunctionTimeoutError(`${this.name} timed out after ${this.definition.timeoutSeconds} s`)), timeoutMs);
    });
    try {
      return (await Promise.race([running.run(path.basename(this.definition.entry, '.ts'), () => this.handler!(event, context)), timeout])) as T;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The functions' environment, resolved against the local resources. All functions share this
 * process, so they share one environment: the same variable with two values is an error.
 */
export function functionEnvironment(
  definitions: FunctionDefinition[],
  resources: ReadonlyMap<string, LocalResource>,
  /** Logical ids of resources not emulated locally (secrets): variables naming them are left out. */
  notEmulated: ReadonlySet<string> = new Set(),
): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const definition of definitions) {
    for (const [name, raw] of Object.entries(definition.environment)) {
      if (referencedIds(raw).some((id) => notEmulated.has(id))) continue;
      const value = String(resolve(raw, resources));
      if (name in merged && merged[name] !== value) {
        throw new Error(`Functions disagree on ${name} (${merged[name]} and ${value}): the local runtime runs them in one process`);
      }
      merged[name] = value;
    }
  }
  return merged;
}
