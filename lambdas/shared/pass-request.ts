/**
 * The admission pass a request carries (issue 12, item 5: the origin frees a seat with it), read as
 * the origin verifier and the pass authorizer read it (verifier/index.ts `passFromHeaders`): the
 * `wr_pass` cookie first (a request the origin forwards as the browser sent it), else
 * `Authorization: Bearer <pass>` (an origin calling from its server). An HTTP API (payload 2.0)
 * delivers cookies in their own array: they are folded back into a Cookie header first.
 *
 * A module of its own, so that only the function that reads passes bundles the verifier's code.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { passFromHeaders } from '../../verifier/index.js';
import { MissingPassError } from '../domain/index.js';

/** The request's pass: 401 (MISSING_PASS) when there is none. */
export function requestPass(event: APIGatewayProxyEventV2): string {
  const headers: Record<string, string | undefined> = { ...(event.headers ?? {}) };
  const cookies = [headers.cookie, ...(event.cookies ?? [])].filter((c): c is string => c !== undefined && c !== '');
  if (cookies.length > 0) headers.cookie = cookies.join('; ');
  const pass = passFromHeaders(headers);
  if (pass === undefined) throw new MissingPassError();
  return pass;
}
