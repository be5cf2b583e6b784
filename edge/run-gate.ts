/**
 * Runs the edge gate's CloudFront Function in Node, unchanged, for the unit tests and the local
 * edge: the code of gate-code.ts (edge/gate-function.js with its CONFIG) is evaluated with
 * node:vm in a context of its own, as CloudFront would run it.
 *
 * The function's two import lines are the only lines changed: `import cf from 'cloudfront'` and
 * `import crypto from 'crypto'` become parameters of a wrapper function, bound to shims (an ES
 * module would need vm.SourceTextModule, still experimental). The shims offer what the runtime
 * documents and nothing more:
 * - `cf.kvs()` returns a handle over a `Map` that the caller keeps and may change at any time (as
 *   the key-rotation function changes the KeyValueStore): `get(key, { format })` rejects when the
 *   key is missing, as CloudFront's does; `exists(key)` and `meta()` as documented.
 * - `crypto` has `createHash` and `createHmac` for md5, sha1 and sha256, with digests in hex,
 *   base64, base64url or a Buffer.
 * - globals: `Buffer` and `console.log`; no `require`, `process` or timers; `eval` and `Function`
 *   throw (code generation from strings is off), as in CloudFront.
 * A handler that throws becomes a 503, as at CloudFront, and is reported to `onError`.
 */
import { createHash, createHmac, type BinaryLike } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import type { CloudFrontResponse, CloudFrontViewerRequestEvent, ViewerRequestResult } from './cloudfront-event.js';
import { GATE_FUNCTION_URL, gateSource, renderGateCode, type GateConfig } from './gate-code.js';

export { viewerRequestEvent, nodeResponseParts } from './viewer-event.js';

/** The import lines the gate may have, and the wrapper parameter each becomes. */
const IMPORTS: Readonly<Record<string, string>> = {
  "import cf from 'cloudfront';": 'cf',
  "import crypto from 'crypto';": 'crypto',
};

/** The gate's own constants (its RULES object), for tests that pin them to edge-pass.ts. */
export interface GateRules {
  readonly maxBytes: number;
  readonly clockSkewSeconds: number;
  readonly kid: RegExp;
  readonly secret: RegExp;
  readonly tokenId: RegExp;
  readonly cookiePrefix: string;
  readonly kvsPrefix: string;
}

export type GateHandler = (event: CloudFrontViewerRequestEvent) => Promise<ViewerRequestResult>;

export interface LoadGateOptions {
  readonly config: GateConfig;
  /** The KeyValueStore: read on every call, so changes show at once. */
  readonly kvs: ReadonlyMap<string, string>;
  /** Epoch milliseconds, for `Date.now()` inside the function. @default Date.now */
  readonly now?: () => number;
  /** Receives each `console.log` line. @default dropped */
  readonly log?: (line: string) => void;
  /** Receives what the handler threw (answered 503). @default dropped */
  readonly onError?: (error: unknown) => void;
  /** The source to run instead of edge/gate-function.js (tests that break it on purpose). */
  readonly source?: string;
}

export interface LoadedGate {
  readonly handler: GateHandler;
  readonly rules: GateRules;
}

/** The source with its import lines blanked (line numbers kept), and the bindings they named. */
function withoutImports(code: string): { body: string; bindings: string[] } {
  const bindings: string[] = [];
  const lines = code.split('\n').map((line) => {
    if (!/^\s*import\b/.test(line)) return line;
    const binding = IMPORTS[line.trim()];
    if (binding === undefined) throw new Error(`The gate may import only the cloudfront and crypto modules: ${line.trim()}`);
    bindings.push(binding);
    return '';
  });
  return { body: lines.join('\n'), bindings };
}

type DigestEncoding = 'hex' | 'base64' | 'base64url';
const ALGORITHMS = new Set(['md5', 'sha1', 'sha256']);
const ENCODINGS = new Set<string>(['hex', 'base64', 'base64url']);

/** A hash or HMAC object limited to `update(data)` and `digest([encoding])`. */
function digester(inner: { update(data: BinaryLike): unknown; digest(): Buffer; digest(encoding: DigestEncoding): string }) {
  const object = {
    update(data: BinaryLike) {
      inner.update(data);
      return object;
    },
    digest(encoding?: string) {
      if (encoding === undefined) return inner.digest();
      if (!ENCODINGS.has(encoding)) throw new Error(`Unknown digest encoding: "${encoding}"`);
      return inner.digest(encoding as DigestEncoding);
    },
  };
  return object;
}

function checkAlgorithm(algorithm: string): void {
  if (!ALGORITHMS.has(algorithm)) throw new Error(`not supported algorithm: "${algorithm}"`);
}

/** The `crypto` module of CloudFront Functions. */
const cryptoShim = Object.freeze({
  createHash(algorithm: string) {
    checkAlgorithm(algorithm);
    return digester(createHash(algorithm));
  },
  createHmac(algorithm: string, key: string | Uint8Array) {
    checkAlgorithm(algorithm);
    if (typeof key !== 'string' && !(key instanceof Uint8Array)) throw new Error('key is not a string or Buffer-like object');
    return digester(createHmac(algorithm, key));
  },
});

/** The `cloudfront` module, whose `kvs()` reads `store`. */
function cloudfrontShim(store: ReadonlyMap<string, string>) {
  const created = new Date().toISOString();
  const handle = Object.freeze({
    async get(key: string, options?: { format?: 'string' | 'json' | 'bytes' }): Promise<unknown> {
      const value = store.get(key);
      if (value === undefined) throw new Error(`KeyValueStore: the key ${JSON.stringify(key)} does not exist`);
      const format = options?.format ?? 'string';
      if (format === 'string') return value;
      if (format === 'json') return JSON.parse(value) as unknown;
      if (format === 'bytes') return Buffer.from(value);
      throw new Error(`KeyValueStore: unknown format ${JSON.stringify(format)}`);
    },
    async exists(key: string): Promise<boolean> {
      return store.has(key);
    },
    async meta() {
      return { creationDateTime: created, lastUpdatedDateTime: created, keyCount: store.size };
    },
  });
  return Object.freeze({ kvs: () => handle });
}

/** What CloudFront answers when a function throws. */
function functionError(): CloudFrontResponse {
  return { statusCode: 503, statusDescription: 'Service Unavailable', headers: { 'cache-control': { value: 'no-store' } } };
}

/** Evaluates the gate with `config`, once: the handler keeps its module state between calls, as at CloudFront. */
export function evaluateGate(options: LoadGateOptions): LoadedGate {
  const code = renderGateCode(options.config, options.source ?? gateSource());
  const { body, bindings } = withoutImports(code);
  const log = options.log ?? (() => undefined);
  const context = vm.createContext(
    { Buffer, console: Object.freeze({ log: (message: unknown) => log(String(message)) }) },
    { codeGeneration: { strings: false, wasm: false } },
  );
  const now = options.now;
  if (now) (vm.runInContext('Date', context) as DateConstructor).now = () => now();
  // The wrapper's first line holds no source line, so lineOffset -1 keeps stack traces on the file's lines.
  const wrapped = `(function (${bindings.join(', ')}) { 'use strict';\n${body}\nreturn { handler: handler, rules: RULES };\n})`;
  const script = new vm.Script(wrapped, { filename: fileURLToPath(GATE_FUNCTION_URL), lineOffset: -1 });
  const modules: Record<string, unknown> = { cf: cloudfrontShim(options.kvs), crypto: cryptoShim };
  const factory = script.runInContext(context) as (...args: unknown[]) => { handler: GateHandler; rules: GateRules };
  const loaded = factory(...bindings.map((b) => modules[b]));
  const onError = options.onError ?? (() => undefined);
  return {
    rules: loaded.rules,
    handler: async (event) => {
      try {
        return await loaded.handler(event);
      } catch (error) {
        onError(error);
        return functionError();
      }
    },
  };
}

/** The gate's handler for `config`, reading keys from `kvs`: `(event) => request | response`. */
export function loadGate(options: LoadGateOptions): GateHandler {
  return evaluateGate(options).handler;
}
