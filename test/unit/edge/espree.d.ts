/** The part of espree (10.x, which ships no types) that the runtime-subset check uses. */
declare module 'espree' {
  import type { Program } from 'estree';

  export interface ParseOptions {
    ecmaVersion?: number | 'latest';
    sourceType?: 'script' | 'module' | 'commonjs';
    loc?: boolean;
    range?: boolean;
    comment?: boolean;
  }

  export function parse(code: string, options?: ParseOptions): Program;
}
