/**
 * The local gateway's IAM check (local/sigv4-check.ts): a request signed as the CLI signs it
 * passes; unsigned, signed by other keys, for another region or service, stale, or changed after
 * signing (path, query, body, a signed header) it is refused with API Gateway's messages.
 */
import { describe, expect, it } from 'vitest';
import { signedHeaders } from '../../../local/sigv4-sign.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/intrinsics.js';
import { iamRefusal, type SignedRequestFacts } from '../../../local/sigv4-check.js';

const URL_ = 'http://127.0.0.1:3000/admin/rooms/shop?x=1';
const BODY = '{"capacity":5}';

async function signed(overrides: { credentials?: typeof LOCAL_CREDENTIALS; region?: string; at?: Date; applyChecksum?: boolean } = {}): Promise<SignedRequestFacts> {
  const headers = await signedHeaders({
    url: new URL(URL_),
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: BODY,
    credentials: overrides.credentials ?? LOCAL_CREDENTIALS,
    region: overrides.region ?? LOCAL_REGION,
    ...(overrides.at ? { signingDate: overrides.at } : {}),
    ...(overrides.applyChecksum !== undefined ? { applyChecksum: overrides.applyChecksum } : {}),
  });
  return { method: 'PUT', target: '/admin/rooms/shop?x=1', headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])), body: Buffer.from(BODY) };
}

describe('IAM authorization of the local gateway', () => {
  it('accepts a request signed with the local credentials, with or without a signed content hash', async () => {
    await expect(iamRefusal(await signed())).resolves.toBeUndefined();
    await expect(iamRefusal(await signed({ applyChecksum: false }))).resolves.toBeUndefined();
  });

  it('refuses an unsigned request, other keys, another region and a malformed header', async () => {
    const request = await signed();
    const { authorization: _, ...unsigned } = request.headers;
    await expect(iamRefusal({ ...request, headers: unsigned })).resolves.toBe('Forbidden');
    await expect(iamRefusal(await signed({ credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'local' } }))).resolves.toMatch(/security token/);
    await expect(iamRefusal(await signed({ credentials: { accessKeyId: 'local', secretAccessKey: 'guess' } }))).resolves.toMatch(/signature we calculated does not match/);
    await expect(iamRefusal(await signed({ region: 'eu-west-1' }))).resolves.toMatch(/region/);
    await expect(iamRefusal({ ...request, headers: { ...request.headers, authorization: 'AWS4-HMAC-SHA256 garbage' } })).resolves.toMatch(/Credential/);
  });

  it('refuses a request changed after it was signed, or signed too long ago', async () => {
    const request = await signed();
    const mismatch = /signature we calculated does not match/;
    await expect(iamRefusal({ ...request, body: Buffer.from('{"capacity":500}') })).resolves.toMatch(mismatch);
    await expect(iamRefusal({ ...request, target: '/admin/rooms/other?x=1' })).resolves.toMatch(mismatch);
    await expect(iamRefusal({ ...request, target: '/admin/rooms/shop?x=2' })).resolves.toMatch(mismatch);
    await expect(iamRefusal({ ...request, method: 'POST' })).resolves.toMatch(mismatch);
    await expect(iamRefusal({ ...request, headers: { ...request.headers, 'content-type': 'text/plain' } })).resolves.toMatch(mismatch);
    const stale = await signed({ at: new Date(Date.now() - 16 * 60_000) });
    await expect(iamRefusal(stale)).resolves.toMatch(/expired/);
  });
});
