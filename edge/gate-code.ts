/**
 * The edge gate's code as CloudFront receives it: edge/gate-function.js with its CONFIG filled in.
 * The CDK construct calls `renderGateCode` at synth time (FunctionCode.fromInline) and the local
 * edge runs the same text through run-gate.ts, so both run one program with one configuration.
 *
 * The configuration is checked here, by hand rather than with zod: the construct ships in the
 * package, whose runtime dependencies do not include zod.
 */
import { readFileSync } from 'node:fs';
import { ROOM_ID_PATTERN } from '../lambdas/domain/id-patterns.js';
import { EDGE_PASS_MAX_LIFETIME_SECONDS } from './edge-pass.js';

/** CloudFront Functions' limit on a function's code, in bytes. */
export const CLOUDFRONT_FUNCTION_MAX_BYTES = 10_240;
/** Where the gate's source lives, beside this module. */
export const GATE_FUNCTION_URL = new URL('./gate-function.js', import.meta.url);

/** The markers around the CONFIG declaration; `renderGateCode` replaces them and what lies between. */
const CONFIG_START = '// <config>';
const CONFIG_END = '// </config>';

/** One room and the paths it protects. */
export interface GateRoom {
  readonly roomId: string;
  /** Path patterns: "/checkout" matches that path only; "/shop/*" every path starting with "/shop/" (not "/shop"). */
  readonly paths: readonly string[];
}

export interface GateConfig {
  /** The `iss` every pass must carry. */
  readonly issuer: string;
  /** The waiting page's prefix, e.g. "/waiting-room/": never gated. */
  readonly waitingPath: string;
  /** The waiting-room API's prefix, e.g. "/waiting-room/api/": never gated. */
  readonly apiPath: string;
  /** The rooms in order: a path belongs to the first room with a matching pattern. */
  readonly rooms: readonly GateRoom[];
  /** Patterns never gated, checked before the rooms (static assets, health checks). */
  readonly unprotected: readonly string[];
  /** The longest exp - iat accepted, in seconds. */
  readonly maxLifetimeSeconds: number;
}

export class GateConfigError extends Error {
  override name = 'GateConfigError';
}

/** A path pattern: starts with "/", printable ASCII without spaces, at most one "*", and only at the end. */
const PATTERN = /^\/[!-)+-~]*\*?$/;
/** A prefix: like a pattern without "*", and more than "/"; "/x" and "/x/" mean the same. */
const PREFIX = /^\/[!-)+-~]+$/;

/** The configuration, checked: throws a GateConfigError naming the first bad setting. */
export function checkGateConfig(config: GateConfig): GateConfig {
  const fail = (where: string, what: string): never => {
    throw new GateConfigError(`Edge gate configuration: ${where} ${what}`);
  };
  if (typeof config.issuer !== 'string' || config.issuer === '') fail('issuer', 'must be a non-empty string');
  for (const name of ['waitingPath', 'apiPath'] as const) {
    if (typeof config[name] !== 'string' || !PREFIX.test(config[name])) {
      fail(name, `must be a path prefix such as "/waiting-room/" (got ${JSON.stringify(config[name])})`);
    }
  }
  const checkPatterns = (where: string, patterns: readonly string[]) => {
    if (!Array.isArray(patterns)) fail(where, 'must be a list of path patterns');
    patterns.forEach((p, i) => {
      if (typeof p !== 'string' || !PATTERN.test(p)) {
        fail(`${where}[${i}]`, `must start with "/" and may end with one "*" (got ${JSON.stringify(p)})`);
      }
    });
  };
  checkPatterns('unprotected', config.unprotected);
  if (!Array.isArray(config.rooms)) fail('rooms', 'must be a list');
  const seen = new Set<string>();
  config.rooms.forEach((room, i) => {
    if (typeof room.roomId !== 'string' || !ROOM_ID_PATTERN.test(room.roomId)) fail(`rooms[${i}].roomId`, `is not a room id (${ROOM_ID_PATTERN})`);
    if (seen.has(room.roomId)) fail(`rooms[${i}].roomId`, `repeats ${room.roomId}`);
    seen.add(room.roomId);
    checkPatterns(`rooms[${i}].paths`, room.paths);
    if (room.paths.length === 0) fail(`rooms[${i}].paths`, 'must not be empty');
  });
  const lifetime = config.maxLifetimeSeconds;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 3600) fail('maxLifetimeSeconds', `must be a whole number from 1 to 3600 (got ${lifetime})`);
  return config;
}

/** The gate's source as written, read from disk once. */
let source: string | undefined;
export function gateSource(): string {
  source ??= readFileSync(GATE_FUNCTION_URL, 'utf8');
  return source;
}

/** A configuration with the usual paths and lifetime, for the tests and the local runtime. */
export function defaultGateConfig(rooms: readonly GateRoom[] = [], unprotected: readonly string[] = []): GateConfig {
  return {
    issuer: 'waiting-room',
    waitingPath: '/waiting-room/',
    apiPath: '/waiting-room/api/',
    rooms,
    unprotected,
    maxLifetimeSeconds: EDGE_PASS_MAX_LIFETIME_SECONDS,
  };
}

/**
 * The code to deploy: the source with the block from `// <config>` to `// </config>` (markers
 * included) replaced by `const CONFIG = <config as JSON>;`. Throws if the configuration is
 * invalid, the block is missing or repeated, or the result is over CloudFront's 10 KB limit.
 */
export function renderGateCode(config: GateConfig, code: string = gateSource()): string {
  checkGateConfig(config);
  const start = code.indexOf(CONFIG_START);
  const end = code.indexOf(CONFIG_END);
  if (code.split(CONFIG_START).length !== 2 || code.split(CONFIG_END).length !== 2 || end < start) {
    throw new GateConfigError(`The gate source must hold one "${CONFIG_START}" ... "${CONFIG_END}" block`);
  }
  const plain = {
    issuer: config.issuer,
    waitingPath: config.waitingPath,
    apiPath: config.apiPath,
    rooms: config.rooms.map((r) => ({ roomId: r.roomId, paths: [...r.paths] })),
    unprotected: [...config.unprotected],
    maxLifetimeSeconds: config.maxLifetimeSeconds,
  };
  // JSON is a JavaScript expression; U+2028/U+2029 are escaped for older parsers' sake.
  const json = JSON.stringify(plain).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  const rendered = `${code.slice(0, start)}const CONFIG = ${json};${code.slice(end + CONFIG_END.length)}`;
  const bytes = Buffer.byteLength(rendered);
  if (bytes > CLOUDFRONT_FUNCTION_MAX_BYTES) {
    throw new GateConfigError(`The gate code would be ${bytes} bytes, over CloudFront Functions' ${CLOUDFRONT_FUNCTION_MAX_BYTES}: fewer rooms or patterns`);
  }
  return rendered;
}
