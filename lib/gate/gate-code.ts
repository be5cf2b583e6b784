/**
 * The code of the gate's two CloudFront Functions, as synthesized: edge/gate-function.js with its
 * configuration injected by edge/gate-code.ts (`renderGateCode`, the same text the local edge
 * runs), and edge/route-function.js as it is.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLOUDFRONT_FUNCTION_MAX_BYTES, GATE_FUNCTION_URL, renderGateCode, type GateConfig } from '../../edge/gate-code.js';
import { REPO_ROOT } from '../paths.js';

export type { GateConfig };

/** The gate function's source (the package build copies edge/*.js beside the compiled edge/gate-code.js). */
export const GATE_FUNCTION_FILE = fileURLToPath(GATE_FUNCTION_URL);
export const ROUTE_FUNCTION_FILE = path.join(REPO_ROOT, 'edge', 'route-function.js');

function read(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`The ${what}'s code was not found at ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

/** The gate function's code with `config` injected; throws past CloudFront Functions' 10 KB. */
export function gateFunctionCode(config: GateConfig, file: string = GATE_FUNCTION_FILE): string {
  return renderGateCode(config, read(file, 'gate function'));
}

/** The route function's code (it needs no configuration). */
export function routeFunctionCode(file: string = ROUTE_FUNCTION_FILE): string {
  const code = read(file, 'route function');
  const bytes = Buffer.byteLength(code, 'utf8');
  if (bytes > CLOUDFRONT_FUNCTION_MAX_BYTES) throw new Error(`${file} is ${bytes} bytes, over CloudFront Functions' ${CLOUDFRONT_FUNCTION_MAX_BYTES}`);
  return code;
}
