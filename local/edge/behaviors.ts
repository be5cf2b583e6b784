/**
 * The distribution's cache behaviors (lib/gate/gate.ts), as CloudFront picks them: the first
 * pattern in the distribution's order that matches the request's path, else the default behavior.
 * CloudFront path patterns are case-sensitive and match the path without its query string; `*`
 * matches any run of characters, slashes included, and `?` exactly one.
 */
import { GATE_PATH_PATTERNS } from '../../lib/gate/props.js';

export type BehaviorName = keyof typeof GATE_PATH_PATTERNS | 'default';

export interface Behavior {
  readonly name: BehaviorName;
  /** The path pattern; undefined for the default behavior. */
  readonly pattern?: string;
  /** The methods CloudFront forwards (AllowedMethods); any other is answered 403 by CloudFront itself. */
  readonly methods: readonly string[];
}

const ALL = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'];

/** In the order gate.ts inserts them (CloudFront's order), with their AllowedMethods. */
export const BEHAVIORS: readonly Behavior[] = [
  { name: 'status', pattern: GATE_PATH_PATTERNS.status, methods: ['GET', 'HEAD', 'OPTIONS'] },
  { name: 'api', pattern: GATE_PATH_PATTERNS.api, methods: ALL },
  { name: 'page', pattern: GATE_PATH_PATTERNS.page, methods: ['GET', 'HEAD'] },
  { name: 'pageAssets', pattern: GATE_PATH_PATTERNS.pageAssets, methods: ['GET', 'HEAD'] },
];
const DEFAULT_BEHAVIOR: Behavior = { name: 'default', methods: ALL };

const patterns = new Map<string, RegExp>();

/** Whether CloudFront's path pattern `pattern` matches `path`. */
export function pathPatternMatches(pattern: string, path: string): boolean {
  let compiled = patterns.get(pattern);
  if (!compiled) {
    const body = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
    compiled = new RegExp(`^${body}$`, 's');
    patterns.set(pattern, compiled);
  }
  return compiled.test(path);
}

/** The behavior that serves `path`. */
export function behaviorFor(path: string): Behavior {
  return BEHAVIORS.find((b) => b.pattern !== undefined && pathPatternMatches(b.pattern, path)) ?? DEFAULT_BEHAVIOR;
}
