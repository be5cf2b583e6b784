/**
 * SigV4 for API Gateway (service execute-api), as the AWS SDK signs: one place for the CLI, the
 * signing proxy of the admin page, the local gateway's check (./sigv4-check.ts) and the tests.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export interface SignRequest {
  url: URL;
  method: string;
  /** Headers to sign besides `host` (lower-case names). */
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  region: string;
  /** The time of the signature (the verifier passes the request's own). */
  signingDate?: Date;
  /** Sign an x-amz-content-sha256 header (the SDK's default; some clients leave it out). @default true */
  applyChecksum?: boolean;
}

/** The request's headers with `host`, `x-amz-date`, the content hash and `authorization` added. */
export async function signedHeaders(request: SignRequest): Promise<Record<string, string>> {
  const { url } = request;
  const signer = new SignatureV4({ credentials: request.credentials, region: request.region, service: 'execute-api', sha256: Sha256, applyChecksum: request.applyChecksum ?? true });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: url.host, ...request.headers },
      ...(request.body !== undefined ? { body: request.body } : {}),
    },
    request.signingDate ? { signingDate: request.signingDate } : {},
  );
  return signed.headers as Record<string, string>;
}
