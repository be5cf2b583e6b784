/**
 * Checks real answers against the OpenAPI document (lambdas/api/document.ts): the status must be
 * one the document lists for the route, the body must validate against that answer's schema (ajv,
 * JSON Schema draft 2020-12, the `$ref`s resolved to the document's components), and the headers
 * the document requires must be there, with values their schemas accept. An answer with no body
 * documented must have none.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { OpenApiDocument } from '../../lambdas/api/document.js';

type JsonObject = Record<string, unknown>;

/** What came back: a fetch Response's parts, or a handler's result. */
export interface RealAnswer {
  status: number;
  headers: Headers | Record<string, string>;
  body: string;
}

/** Where the document's schemas live for ajv: `#/components/schemas/X` becomes `<ROOT>#/$defs/X`. */
const ROOT = 'https://waiting-room.test/openapi-components';
const rebased = <T>(value: T, prefix: string): T =>
  JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', `"${prefix}#/$defs/`)) as T;

export class OpenApiConformance {
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: false }); // date-times are also patterns
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly seen = new Set<string>();

  constructor(readonly document: OpenApiDocument) {
    this.ajv.addSchema({ $id: ROOT, $defs: rebased(document.components.schemas, '') });
  }

  /** Every route the document describes, as route keys (`GET /rooms/{roomId}/status`). */
  routeKeys(): string[] {
    return Object.entries(this.document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
  }

  /** The route keys and statuses checked so far (`GET /openapi.json 200`). */
  checked(): string[] {
    return [...this.seen].sort();
  }

  /** Whether the document's request body schema of `routeKey` accepts `body`. */
  acceptsBody(routeKey: string, body: unknown): boolean {
    const requestBody = this.operation(routeKey)?.requestBody as { content: Record<string, { schema: JsonObject }> } | undefined;
    if (!requestBody) throw new Error(`${routeKey} takes no body`);
    return this.validator(`request ${routeKey}`, requestBody.content['application/json']!.schema)(body);
  }

  /** Whether the document's schema of the path parameter `name` of `routeKey` accepts `value`. */
  acceptsParameter(routeKey: string, name: string, value: string): boolean {
    const parameters = (this.operation(routeKey)?.parameters ?? []) as { name: string; in: string; schema: JsonObject }[];
    const parameter = parameters.find((p) => p.in === 'path' && p.name === name);
    if (!parameter) throw new Error(`${routeKey} has no path parameter ${name}`);
    return this.validator(`parameter ${routeKey} ${name}`, parameter.schema)(value);
  }

  /** What is wrong with `answer` as an answer of `routeKey`; empty when it conforms. */
  problems(routeKey: string, answer: RealAnswer): string[] {
    const operation = this.operation(routeKey);
    if (!operation) return [`${routeKey} is not in the document`];
    const documented = operation.responses[String(answer.status)];
    if (!documented) return [`${routeKey} answered ${answer.status}, which the document does not list (${Object.keys(operation.responses).join(', ')})`];
    this.seen.add(`${routeKey} ${answer.status}`);
    const response = this.resolve(documented) as { headers?: Record<string, JsonObject>; content?: Record<string, { schema: JsonObject }> };
    const where = `${routeKey} ${answer.status}`;
    return [...this.headerProblems(where, response.headers ?? {}, answer), ...this.bodyProblems(where, response.content, answer)];
  }

  private operation(routeKey: string): { responses: Record<string, JsonObject>; requestBody?: unknown; parameters?: unknown[] } | undefined {
    const [method, path] = routeKey.split(' ') as [string, string];
    return this.document.paths[path]?.[method.toLowerCase() as 'get'] as ReturnType<OpenApiConformance['operation']>;
  }

  private headerProblems(where: string, documented: Record<string, JsonObject>, answer: RealAnswer): string[] {
    const problems: string[] = [];
    for (const [name, spec] of Object.entries(documented)) {
      const header = this.resolve(spec) as { required?: boolean; schema: JsonObject };
      const value = headerOf(answer.headers, name);
      if (value === undefined) {
        if (header.required) problems.push(`${where}: no ${name} header`);
        continue;
      }
      const typed = header.schema.type === 'integer' || header.schema.type === 'number' ? Number(value) : value;
      const validate = this.validator(`header ${JSON.stringify(header.schema)}`, header.schema);
      if (!validate(typed)) problems.push(`${where}: ${name}: ${JSON.stringify(value)} ${explained(validate.errors)}`);
    }
    return problems;
  }

  private bodyProblems(where: string, content: Record<string, { schema: JsonObject }> | undefined, answer: RealAnswer): string[] {
    if (!content) return answer.body === '' ? [] : [`${where}: a body where the document has none: ${answer.body.slice(0, 200)}`];
    const contentType = headerOf(answer.headers, 'content-type') ?? '';
    const media = content['application/json'];
    if (!media || !/^application\/json\b/.test(contentType)) return [`${where}: content type ${JSON.stringify(contentType)}, the document has ${Object.keys(content).join(', ')}`];
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      return [`${where}: the body is not JSON: ${answer.body.slice(0, 200)}`];
    }
    const validate = this.validator(`body ${where}`, media.schema);
    return validate(body) ? [] : [`${where}: ${explained(validate.errors)} in ${JSON.stringify(body).slice(0, 300)}`];
  }

  private validator(key: string, schema: JsonObject): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(rebased(schema, ROOT));
      this.validators.set(key, validate);
    }
    return validate;
  }

  /** Follows a local `$ref` (`#/components/...`) to what it names. */
  private resolve(value: JsonObject): JsonObject {
    const target = value.$ref;
    if (typeof target !== 'string') return value;
    if (!target.startsWith('#/')) throw new Error(`not a local reference: ${target}`);
    let node: unknown = this.document;
    for (const part of target.slice(2).split('/')) node = (node as JsonObject)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
    if (node === undefined) throw new Error(`${target} names nothing in the document`);
    return this.resolve(node as JsonObject);
  }
}

/** Ajv's errors, each with where and what (the extra property's name, the missing one's). */
function explained(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath || 'the body'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`).join('; ');
}

function headerOf(headers: Headers | Record<string, string>, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name.toLowerCase());
  return found?.[1];
}

/** A fetch answer read whole, as the checker takes it. */
export async function answerOf(response: Response): Promise<RealAnswer> {
  return { status: response.status, headers: response.headers, body: await response.text() };
}
