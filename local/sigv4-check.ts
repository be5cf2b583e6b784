/**
 * The local gateway's IAM authorization (routes with AuthorizationType AWS_IAM, the /admin API):
 * a request must carry a SigV4 signature for service execute-api in the local region, by the
 * local credentials, made within 15 minutes, over exactly what arrived; else 403, as API Gateway
 * answers. The signature is recomputed over the headers the request says it signed, with the
 * request's own time, and compared in constant time.
 */
import { timingSafeEqual } from 'node:crypto';
import { signedHeaders } from './sigv4-sign.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './intrinsics.js';

/** SigV4's allowed clock skew. */
const MAX_SKEW_MS = 15 * 60_000;
const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

export interface SignedRequestFacts {
  method: string;
  /** The request target as sent: path and query. */
  target: string;
  /** Lower-case header names; repeated headers joined with commas. */
  headers: Record<string, string>;
  body: Buffer;
}

/** Why a request is refused (API Gateway's own messages), or undefined when its signature holds. */
export async function iamRefusal(request: SignedRequestFacts, now = Date.now()): Promise<string | undefined> {
  const authorization = request.headers.authorization;
  if (!authorization) return 'Forbidden';
  const match = AUTHORIZATION.exec(authorization.trim());
  if (!match) return 'Authorization header requires a Credential, SignedHeaders and Signature';
  const [, accessKey, day, region, service, signedHeaderList, signature] = match as unknown as string[];
  if (accessKey !== LOCAL_CREDENTIALS.accessKeyId) return 'The security token included in the request is invalid.';
  if (region !== LOCAL_REGION || service !== 'execute-api') return `Credential should be scoped to a valid region (${LOCAL_REGION}) and service (execute-api)`;
  const amzDate = request.headers['x-amz-date'] ?? '';
  const signedAt = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!signedAt || amzDate.slice(0, 8) !== day) return 'Signature expired or X-Amz-Date missing';
  const at = Date.UTC(+signedAt[1]!, +signedAt[2]! - 1, +signedAt[3]!, +signedAt[4]!, +signedAt[5]!, +signedAt[6]!);
  if (Math.abs(now - at) > MAX_SKEW_MS) return 'Signature expired: the request is more than 15 minutes from the server time';
  const names = signedHeaderList!.split(';');
  if (!names.includes('host')) return 'SignedHeaders must include host';
  const headers: Record<string, string> = {};
  for (const name of names) {
    // The content hash is recomputed from the body that arrived, never taken from the request.
    if (name === 'host' || name === 'x-amz-content-sha256') continue;
    const value = request.headers[name];
    if (value === undefined) return `A signed header is missing: ${name}`;
    headers[name] = value;
  }
  const url = new URL(request.target, `http://${request.headers.host ?? 'localhost'}`);
  let expected: string;
  try {
    const recomputed = await signedHeaders({
      url,
      method: request.method,
      headers,
      ...(request.body.length > 0 ? { body: new Uint8Array(request.body) } : {}),
      credentials: LOCAL_CREDENTIALS,
      region: LOCAL_REGION,
      signingDate: new Date(at),
      applyChecksum: names.includes('x-amz-content-sha256'),
    });
    expected = /Signature=([0-9a-f]{64})/.exec(recomputed.authorization ?? '')?.[1] ?? '';
  } catch {
    return 'Forbidden';
  }
  const ok = expected.length === signature!.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature!));
  return ok ? undefined : 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.';
}
