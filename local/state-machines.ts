/**
 * Step Functions and EventBridge schedules, locally: the state machines of the template run with
 * aws-local-stepfunctions, their Lambda tasks bound (by ARN) to the same local functions, their SNS
 * publish tasks sent to the local SNS; each schedule rule of the template starts its target at its
 * rate; a minimal Step Functions API (StartExecution, DescribeExecution) lets handlers start
 * executions as on AWS (AWS_ENDPOINT_URL_SFN points at it).
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { LOCAL_ACCOUNT, LOCAL_REGION, resolve, type LocalResource } from './intrinsics.js';
import type { LocalFunction } from './lambda-host.js';
import { resourcesOfType, type CfnTemplate } from './template.js';

type Json = Parameters<StateMachine['run']>[0];

export interface Execution {
  executionArn: string;
  stateMachineArn: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  done: Promise<void>;
}

export interface StateMachineHostOptions {
  template: CfnTemplate;
  resources: ReadonlyMap<string, LocalResource>;
  functions: ReadonlyMap<string, LocalFunction>;
  sns: SNSClient;
  /** Milliseconds each Wait state lasts instead of its own seconds (tests). */
  waitOverrideMs?: number;
  /** Milliseconds between retries instead of the definition's backoff (tests). */
  retryOverrideMs?: number;
  log: (line: string) => void;
}

interface Machine {
  logicalId: string;
  arn: string;
  definition: StateMachineDefinition;
  machine: StateMachine;
  handlers: Record<string, (input: Json) => Promise<Json>>;
}

export class StateMachineHost {
  private readonly machines = new Map<string, Machine>();
  readonly executions = new Map<string, Execution>();
  private readonly aborts = new Set<() => void>();

  constructor(private readonly options: StateMachineHostOptions) {
    const byArn = new Map([...options.functions.values()].map((f) => [f.arn, f]));
    for (const [logicalId, resource] of resourcesOfType(options.template, 'AWS::StepFunctions::StateMachine')) {
      const raw = resolve(resource.Properties?.DefinitionString, options.resources);
      const definition = (typeof raw === 'string' ? JSON.parse(raw) : raw) as StateMachineDefinition;
      const handlers: Machine['handlers'] = {};
      for (const [name, state] of Object.entries(definition.States as Record<string, { Type: string; Resource?: string; Parameters?: Record<string, unknown> }>)) {
        if (state.Type !== 'Task') continue;
        const fn = state.Resource ? byArn.get(state.Resource) : undefined;
        if (fn) {
          handlers[name] = async (input) => (await fn.invoke<Json>(input)) ?? null;
        } else if (state.Resource === 'arn:aws:states:::lambda:invoke') {
          const target = byArn.get(String(state.Parameters?.FunctionName));
          if (!target) throw new Error(`State ${name} invokes a function the local runtime does not run`);
          handlers[name] = async (input) => ({ Payload: (await target.invoke<Json>((input as { Payload?: Json } | null)?.Payload ?? input)) ?? null });
        } else if (state.Resource === 'arn:aws:states:::sns:publish') {
          handlers[name] = async (input) => {
            const p = input as { TopicArn: string; Message: unknown; Subject?: string };
            const message = typeof p.Message === 'string' ? p.Message : JSON.stringify(p.Message);
            const { MessageId } = await options.sns.send(new PublishCommand({ TopicArn: p.TopicArn, Message: message, Subject: p.Subject }));
            return { MessageId: MessageId ?? null };
          };
        } else {
          throw new Error(`State ${name} of ${logicalId} uses ${state.Resource}, which the local runtime cannot run`);
        }
      }
      const arn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${logicalId}`;
      this.machines.set(arn, { logicalId, arn, definition, handlers, machine: new StateMachine(definition, { validationOptions: { checkArn: false } }) });
    }
  }

  /** ARNs by logical id, for the intrinsic resolver (Ref of a state machine is its ARN). */
  get resources(): [string, LocalResource][] {
    return [...this.machines.values()].map((m) => [m.logicalId, { ref: m.arn, attributes: { Arn: m.arn, Name: m.logicalId } }]);
  }

  start(stateMachineArn: string, input: Json = {}, name: string = randomUUID()): Execution {
    const entry = this.machines.get(stateMachineArn);
    if (!entry) throw Object.assign(new Error(`State machine does not exist: ${stateMachineArn}`), { code: 'StateMachineDoesNotExist' });
    const waits = Object.entries(entry.definition.States as Record<string, { Type: string }>).filter(([, s]) => s.Type === 'Wait').map(([n]) => n);
    const retried = Object.keys(entry.handlers);
    const run = entry.machine.run(input, {
      overrides: {
        taskResourceLocalHandlers: entry.handlers,
        ...(this.options.waitOverrideMs !== undefined ? { waitTimeOverrides: Object.fromEntries(waits.map((w) => [w, this.options.waitOverrideMs!])) } : {}),
        ...(this.options.retryOverrideMs !== undefined ? { retryIntervalOverrides: Object.fromEntries(retried.map((r) => [r, this.options.retryOverrideMs!])) } : {}),
      },
      noThrowOnAbort: true,
    });
    this.aborts.add(run.abort);
    const execution: Execution = {
      executionArn: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${entry.logicalId}:${name}`,
      stateMachineArn,
      status: 'RUNNING',
      startDate: new Date(),
      done: Promise.resolve(),
    };
    execution.done = run.result.then(
      (output) => {
        execution.status = output === null ? 'ABORTED' : 'SUCCEEDED';
        execution.output = JSON.stringify(output);
      },
      (error: unknown) => {
        execution.status = 'FAILED';
        execution.error = error instanceof Error ? error.message : String(error);
        this.options.log(`state machine ${entry.logicalId} failed: ${execution.error}`);
      },
    ).finally(() => {
      execution.stopDate = new Date();
      this.aborts.delete(run.abort);
      // Keep the last hundred executions.
      if (this.executions.size > 100) this.executions.delete(this.executions.keys().next().value!);
    });
    this.executions.set(execution.executionArn, execution);
    return execution;
  }

  stop(): void {
    for (const abort of this.aborts) abort();
  }
}

/** The template's schedule rules (rate expressions) that target state machines. */
export function schedulesOf(template: CfnTemplate, resources: ReadonlyMap<string, LocalResource>): { ruleId: string; everyMs: number; targetArn: string; input?: string }[] {
  return resourcesOfType(template, 'AWS::Events::Rule').flatMap(([ruleId, rule]) => {
    const expression = String(rule.Properties?.ScheduleExpression ?? '');
    const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
    if (!rate) return [];
    const unit = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 }[rate[2] as 'minute'];
    const targets = (rule.Properties?.Targets as { Arn: unknown; Input?: string }[] | undefined) ?? [];
    return targets.map((t) => ({ ruleId, everyMs: Number(rate[1]) * unit, targetArn: String(resolve(t.Arn, resources)), ...(t.Input ? { input: t.Input } : {}) }));
  });
}

/** A minimal Step Functions API for handlers: StartExecution and DescribeExecution (JSON 1.0). */
export async function startStepFunctionsApi(host: StateMachineHost): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify(body));
      };
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, string>;
        if (target.endsWith('.StartExecution')) {
          const execution = host.start(body.stateMachineArn!, body.input ? (JSON.parse(body.input) as Json) : {}, body.name);
          reply(200, { executionArn: execution.executionArn, startDate: execution.startDate.getTime() / 1000 });
        } else if (target.endsWith('.DescribeExecution')) {
          const e = host.executions.get(body.executionArn!);
          if (!e) return reply(400, { __type: 'ExecutionDoesNotExist', message: 'Execution does not exist' });
          reply(200, {
            executionArn: e.executionArn,
            stateMachineArn: e.stateMachineArn,
            status: e.status,
            startDate: e.startDate.getTime() / 1000,
            ...(e.stopDate ? { stopDate: e.stopDate.getTime() / 1000 } : {}),
            ...(e.output ? { output: e.output } : {}),
            ...(e.error ? { error: e.error } : {}),
          });
        } else {
          reply(400, { __type: 'UnknownOperationException', message: `${target} is not available locally` });
        }
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'InvalidParameterValue';
        reply(400, { __type: code, message: (error as Error).message });
      }
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
