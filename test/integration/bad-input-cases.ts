/**
 * The bad-input classes of the local API, for bad-input.test.ts: [what, method, path, headers,
 * body, expected status, expected error code (when the answer is the API's JSON error)].
 */
export type Case = [string, string, string, Record<string, string>, string | undefined, number, string | undefined];
/** A header that tells the table's runner to send an admin case unsigned (it is not sent). */
export const UNSIGNED = 'x-test-unsigned';
const long = 'a'.repeat(65);
const okToken = 'A'.repeat(22);
export function cases(room: string, closed: string, token: string, secret: string, other: { token: string; secret: string }): Case[] {
  const bearer = { Authorization: `Bearer ${secret}` };
  const json = { 'Content-Type': 'application/json' };
  const t = `/rooms/${room}/tokens/${token}`;
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const amzDay = amzDate.slice(0, 8);
  return [
    ['join: room id too long', 'POST', `/rooms/${long}/tokens`, {}, undefined, 400, 'BAD_REQUEST'],
    ['join: room id with @', 'POST', '/rooms/sh@p/tokens', {}, undefined, 400, 'BAD_REQUEST'],
    ['join: room id with an encoded slash', 'POST', '/rooms/a%2Fb/tokens', {}, undefined, 400, 'BAD_REQUEST'],
    ['join: room id with an encoded space', 'POST', '/rooms/a%20b/tokens', {}, undefined, 400, 'BAD_REQUEST'],
    ['join: room id not ASCII', 'POST', '/rooms/caf%C3%A9/tokens', {}, undefined, 400, 'BAD_REQUEST'],
    ['join: truncated percent-encoding', 'POST', '/rooms/%E0%A4%A/tokens', {}, undefined, 400, 'BAD_REQUEST'],
    ['join: a lone percent sign', 'POST', '/rooms/%/tokens', {}, undefined, 400, 'BAD_REQUEST'],
    ['join: overlong UTF-8', 'POST', '/rooms/%C0%AF/tokens', {}, undefined, 400, 'BAD_REQUEST'],
    ['join: unknown room', 'POST', '/rooms/nowhere-at-all/tokens', {}, undefined, 404, 'ROOM_NOT_FOUND'],
    ['join: closed room', 'POST', `/rooms/${closed}/tokens`, {}, undefined, 409, 'ROOM_CLOSED'],
    ['join: body over 10 MiB', 'POST', `/rooms/${room}/tokens`, json, 'x'.repeat(10 * 1024 * 1024 + 1), 413, undefined],
    ['join: header named __proto__', 'POST', `/rooms/${room}/tokens`, { __proto__: 'x' }, undefined, 201, undefined],
    ['join: header named constructor', 'POST', `/rooms/${room}/tokens`, { constructor: 'x' }, undefined, 201, undefined],
    ['join: query key toString', 'POST', `/rooms/${room}/tokens?toString=1&valueOf=2`, {}, undefined, 201, undefined],
    ['read: no Authorization', 'GET', t, {}, undefined, 401, 'MISSING_CREDENTIAL'],
    ['read: empty Authorization', 'GET', t, { Authorization: '' }, undefined, 401, 'MISSING_CREDENTIAL'],
    ['read: Basic scheme', 'GET', t, { Authorization: 'Basic dXNlcjpwYXNz' }, undefined, 401, 'INVALID_CREDENTIAL'],
    ['read: Bearer without a secret', 'GET', t, { Authorization: 'Bearer' }, undefined, 401, 'INVALID_CREDENTIAL'],
    ['read: secret with bad characters', 'GET', t, { Authorization: 'Bearer abc$%^' }, undefined, 401, 'INVALID_CREDENTIAL'],
    ['read: secret far too long', 'GET', t, { Authorization: `Bearer ${'a'.repeat(5000)}` }, undefined, 401, 'INVALID_CREDENTIAL'],
    ['read: two Authorization headers', 'GET', t, { Authorization: `Bearer ${secret}, Bearer ${secret}` }, undefined, 401, 'INVALID_CREDENTIAL'],
    ['read: wrong secret', 'GET', t, { Authorization: `Bearer ${'B'.repeat(43)}` }, undefined, 401, undefined],
    ['read: token id too short', 'GET', `/rooms/${room}/tokens/abc`, bearer, undefined, 400, 'BAD_REQUEST'],
    ['read: token id with bad characters', 'GET', `/rooms/${room}/tokens/${'A'.repeat(21)}!`, bearer, undefined, 400, 'BAD_REQUEST'],
    ['read: token id malformed encoding', 'GET', `/rooms/${room}/tokens/%E0%A4%A`, bearer, undefined, 400, 'BAD_REQUEST'],
    ['read: unknown token', 'GET', `/rooms/${room}/tokens/${okToken}`, bearer, undefined, 404, 'TOKEN_NOT_FOUND'],
    ['read: token of another room, with its own secret', 'GET', `/rooms/${room}/tokens/${other.token}`, { Authorization: `Bearer ${other.secret}` }, undefined, 404, 'TOKEN_NOT_FOUND'],
    ['heartbeat: no Authorization', 'POST', `${t}/heartbeat`, {}, undefined, 401, 'MISSING_CREDENTIAL'],
    ['heartbeat: wrong secret', 'POST', `${t}/heartbeat`, { Authorization: `Bearer ${'B'.repeat(43)}` }, undefined, 401, undefined],
    ['heartbeat: unknown token', 'POST', `/rooms/${room}/tokens/${okToken}/heartbeat`, bearer, undefined, 404, 'TOKEN_NOT_FOUND'],
    ['heartbeat: body over 10 MiB', 'POST', `${t}/heartbeat`, { ...bearer, ...json }, 'x'.repeat(10 * 1024 * 1024 + 1), 413, undefined],
    ['keep-place: no Authorization', 'POST', `${t}/keep-place`, {}, undefined, 401, 'MISSING_CREDENTIAL'],
    ['keep-place: unknown room', 'POST', `/rooms/nowhere-at-all/tokens/${token}/keep-place`, bearer, undefined, 404, undefined],
    ['leave: no Authorization', 'DELETE', t, {}, undefined, 401, 'MISSING_CREDENTIAL'],
    ['leave: unknown token', 'DELETE', `/rooms/${room}/tokens/${okToken}`, bearer, undefined, 404, 'TOKEN_NOT_FOUND'],
    ['status: unknown room', 'GET', '/rooms/nowhere-at-all/status', {}, undefined, 404, 'ROOM_NOT_FOUND'],
    ['status: bad room id', 'GET', '/rooms/sh@p/status', {}, undefined, 400, 'BAD_REQUEST'],
    ['status: malformed encoding', 'GET', '/rooms/%/status', {}, undefined, 400, 'BAD_REQUEST'],
    ['status: garbage If-None-Match', 'GET', `/rooms/${room}/status`, { 'If-None-Match': '"garbage, W/ x' }, undefined, 200, undefined],
    ['status: query __proto__', 'GET', `/rooms/${room}/status?__proto__=1&constructor=2`, {}, undefined, 200, undefined],
    ['admin: capacity negative', 'PUT', '/admin/rooms/bad-input-new', json, '{"capacity":-1}', 400, 'BAD_REQUEST'],
    ['admin: capacity fractional', 'PUT', '/admin/rooms/bad-input-new', json, '{"capacity":1.5}', 400, 'BAD_REQUEST'],
    ['admin: capacity a string', 'PUT', '/admin/rooms/bad-input-new', json, '{"capacity":"5"}', 400, 'BAD_REQUEST'],
    ['admin: capacity null', 'PUT', '/admin/rooms/bad-input-new', json, '{"capacity":null}', 400, 'BAD_REQUEST'],
    ['admin: capacity huge', 'PUT', '/admin/rooms/bad-input-new', json, '{"capacity":1e12}', 400, 'BAD_REQUEST'],
    ['admin: unknown state', 'PUT', '/admin/rooms/bad-input-new', json, '{"capacity":1,"state":"opened"}', 400, 'BAD_REQUEST'],
    ['admin: truncated JSON', 'PUT', '/admin/rooms/bad-input-new', json, '{"capacity":', 400, 'BAD_REQUEST'],
    ['admin: JSON array', 'PUT', '/admin/rooms/bad-input-new', json, '[1]', 400, 'BAD_REQUEST'],
    ['admin: JSON null', 'PUT', '/admin/rooms/bad-input-new', json, 'null', 400, 'BAD_REQUEST'],
    ['admin: empty body', 'PUT', '/admin/rooms/bad-input-new', json, '', 400, 'BAD_REQUEST'],
    ['admin: __proto__ key', 'PUT', '/admin/rooms/bad-input-new', json, '{"__proto__":{"capacity":1}}', 400, 'BAD_REQUEST'],
    ['admin: unknown field', 'PUT', '/admin/rooms/bad-input-new', json, '{"capacity":1,"color":"red"}', 400, 'BAD_REQUEST'],
    ['admin: state only, unknown room (a capacity creates one)', 'PUT', '/admin/rooms/bad-input-none', json, '{"state":"paused"}', 400, 'BAD_REQUEST'],
    ['admin: get unknown room', 'GET', '/admin/rooms/bad-input-none', {}, undefined, 404, 'ROOM_NOT_FOUND'],
    ['admin: unsigned', 'GET', '/admin/rooms', { [UNSIGNED]: 'yes' }, undefined, 403, undefined],
    ['admin: unsigned change', 'PUT', `/admin/rooms/${room}`, { ...json, [UNSIGNED]: 'yes' }, '{"capacity":100}', 403, undefined],
    ['admin: forged signature', 'GET', '/admin/rooms', { Authorization: `AWS4-HMAC-SHA256 Credential=local/${amzDay}/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`, 'X-Amz-Date': amzDate }, undefined, 403, undefined],
    ['admin: another access key', 'GET', '/admin/rooms', { Authorization: `AWS4-HMAC-SHA256 Credential=AKIDOTHER/${amzDay}/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`, 'X-Amz-Date': amzDate }, undefined, 403, undefined],
    ['admin: malformed authorization', 'GET', '/admin/rooms', { Authorization: 'AWS4-HMAC-SHA256 nonsense' }, undefined, 403, undefined],
    ['admin: bad room id', 'PUT', '/admin/rooms/sh@p', json, '{"capacity":1}', 400, 'BAD_REQUEST'],
    ['admin: malformed encoding', 'GET', '/admin/rooms/%E0', {}, undefined, 400, 'BAD_REQUEST'],
    ['admin: metrics refresh with GET', 'GET', '/admin/metrics/refresh', {}, undefined, 404, undefined],
    ['route: PATCH a token', 'PATCH', t, bearer, undefined, 404, 'NOT_FOUND'],
    ['route: GET the joins collection', 'GET', `/rooms/${room}/tokens`, {}, undefined, 404, 'NOT_FOUND'],
    ['route: empty room id', 'POST', '/rooms//tokens', {}, undefined, 404, 'NOT_FOUND'],
    ['route: unknown path', 'GET', '/nothing/here', {}, undefined, 404, 'NOT_FOUND'],
    ['route: POST the JWKS', 'POST', '/.well-known/jwks.json', {}, undefined, 404, 'NOT_FOUND'],
    ['origin: malformed encoding', 'GET', '/origin/%E0%A4%A/', {}, undefined, 400, undefined],
    ['origin: forged cookie', 'GET', `/origin/${room}/`, { Cookie: 'wr_pass=eyJhbGciOiJub25lIn0.e30.' }, undefined, 403, undefined],
  ];
}
