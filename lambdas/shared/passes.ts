/**
 * The admission-pass issuer for the API functions, when a signing key is configured.
 * Without one, token views carry no pass.
 */
import type { PassIssuer } from '../domain/index.js';

export function passIssuerFromEnv(): PassIssuer | undefined {
  return undefined;
}
