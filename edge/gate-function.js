/*
 * Edge gate (issue 9): a CloudFront Function, viewer request, JavaScript runtime 2.0, run verbatim
 * (edge/gate-code.ts fills in CONFIG; edge/run-gate.ts runs it in Node). Chosen over Lambda@Edge:
 * $0.10 instead of $0.60 per 1M requests, sub-millisecond at every edge location, no cold start,
 * no us-east-1 deployment (edge/README.md). Functions have HMAC but no signatures, so it checks an
 * edge pass: a JWT signed HS256 with the KeyValueStore's key "k.<kid>", which key rotation updates
 * without a redeploy. Same rules, same order as verifyEdgePass (edge/edge-pass.ts). Patterns:
 * "/a*" matches every path starting with "/a"; any other pattern matches one path exactly.
 * waitingPath and apiPath ("/x/" or "/x") cover "/x", "/x/" and everything under "/x/".
 * Runtime 2.0 subset only: test/unit/edge/gate-subset.test.ts checks it. CloudFront calls `handler`.
 */
/* eslint @typescript-eslint/no-unused-vars: ["error", { "caughtErrors": "none", "varsIgnorePattern": "^handler$" }] */
import cf from 'cloudfront';
import crypto from 'crypto';

// <config>
const CONFIG = { issuer: 'waiting-room', waitingPath: '/waiting-room/', apiPath: '/waiting-room/api/', rooms: [], unprotected: [], maxLifetimeSeconds: 900 };
// </config>

const RULES = {
  maxBytes: 1024,
  clockSkewSeconds: 5,
  kid: /^[A-Za-z0-9_-]{1,64}$/,
  secret: /^[A-Za-z0-9_-]{43}$/,
  tokenId: /^[A-Za-z0-9_-]{22}$/,
  cookiePrefix: 'wr_pass_',
  kvsPrefix: 'k.',
};
const B64URL = /^[A-Za-z0-9_-]+$/;
// Dot segments, encoded . / \, \ or //: the origin might read another path (answered 400).
const AMBIGUOUS_PATH = /(^|\/)\.\.?(\/|$)|%2e|%2f|%5c|\\|\/\//i;
const kvsHandle = cf.kvs();

function matchesAny(patterns, uri) {
  return patterns.some((p) => (p.charAt(p.length - 1) === '*' ? uri.startsWith(p.slice(0, -1)) : uri === p));
}

// "/a" and "/a/" both give "/a/".
function slashed(prefix) {
  return prefix.charAt(prefix.length - 1) === '/' ? prefix : prefix + '/';
}

// `uri` is the prefix itself (without its final "/") or under it.
function under(prefix, uri) {
  return uri.startsWith(slashed(prefix)) || uri + '/' === slashed(prefix);
}

// The room whose pass `uri` needs, or null when it needs none.
function roomFor(uri) {
  if (under(CONFIG.waitingPath, uri) || under(CONFIG.apiPath, uri) || matchesAny(CONFIG.unprotected, uri)) return null;
  for (let i = 0; i < CONFIG.rooms.length; i++) {
    if (matchesAny(CONFIG.rooms[i].paths, uri)) return CONFIG.rooms[i];
  }
  return null;
}

function decodeObject(part) {
  if (!B64URL.test(part) || part.length % 4 === 1) return null;
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null;
  } catch (e) {
    return null;
  }
}

function isTime(t) {
  return Number.isSafeInteger(t) && t >= 0;
}

// Exactly the six claims (nothing else), typed, and iat <= nbf < exp.
function claimsOk(p) {
  const typed = typeof p.iss === 'string' && typeof p.room === 'string' && typeof p.sub === 'string';
  const times = isTime(p.iat) && isTime(p.nbf) && isTime(p.exp) && p.iat <= p.nbf && p.nbf < p.exp;
  return Object.keys(p).length === 6 && typed && RULES.tokenId.test(p.sub) && times;
}

// Equal strings, in time that depends only on their lengths.
function sameText(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.codePointAt(i) ^ b.codePointAt(i);
  return diff === 0;
}

async function secretOf(kid) {
  try {
    const secret = await kvsHandle.get(RULES.kvsPrefix + kid);
    return typeof secret === 'string' && RULES.secret.test(secret) ? secret : null;
  } catch (e) {
    return null;
  }
}

// Why the cookie is refused for `roomId`, or null when it holds a valid pass.
async function refusal(cookie, roomId) {
  if (cookie && cookie.multiValue && cookie.multiValue.length > 1) return 'DUPLICATED';
  const value = cookie ? cookie.value : undefined;
  if (typeof value !== 'string' || value === '') return 'MISSING';
  if (Buffer.byteLength(value, 'utf8') > RULES.maxBytes) return 'TOO_LARGE';
  const parts = value.split('.');
  if (parts.length !== 3) return 'MALFORMED';
  const header = decodeObject(parts[0]);
  const p = decodeObject(parts[1]);
  if (!header || !p || !claimsOk(p) || !B64URL.test(parts[2])) return 'MALFORMED';
  const kid = header.kid;
  if (typeof kid !== 'string' || !RULES.kid.test(kid)) return 'BAD_HEADER';
  const canonical = JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: kid });
  if (Buffer.from(parts[0], 'base64url').toString('utf8') !== canonical) return 'BAD_HEADER';
  const secret = await secretOf(kid);
  if (!secret) return 'UNKNOWN_KEY';
  const expected = crypto
    .createHmac('sha256', Buffer.from(secret, 'base64url'))
    .update(parts[0] + '.' + parts[1])
    .digest('base64url');
  if (!sameText(parts[2], expected)) return 'BAD_SIGNATURE';
  const now = Date.now() / 1000;
  if (p.iss !== CONFIG.issuer) return 'WRONG_ISSUER';
  if (p.room !== roomId) return 'WRONG_ROOM';
  if (p.exp - p.iat > CONFIG.maxLifetimeSeconds) return 'LIFETIME_TOO_LONG';
  if (p.iat > now + RULES.clockSkewSeconds || p.nbf > now + RULES.clockSkewSeconds) return 'NOT_YET_VALID';
  if (now >= p.exp) return 'EXPIRED';
  return null;
}

// "?a=1&b" rebuilt from the parsed query string, or "".
function queryOf(querystring) {
  const pairs = [];
  Object.keys(querystring || {}).forEach((name) => {
    const q = querystring[name];
    const values = q.multiValue ? q.multiValue : [q];
    values.forEach((v) => pairs.push(v.value === '' ? name : name + '=' + v.value));
  });
  return pairs.length > 0 ? '?' + pairs.join('&') : '';
}

function answer(statusCode, statusDescription, headers, json) {
  headers['cache-control'] = { value: 'no-store' };
  const response = { statusCode: statusCode, statusDescription: statusDescription, headers: headers };
  if (json) {
    headers['content-type'] = { value: 'application/json' };
    response.body = { encoding: 'text', data: JSON.stringify(json) };
  }
  return response;
}

// Navigations go to the waiting page; others get a JSON 403 saying where to queue.
function refuse(request, roomId, reason) {
  const waitingRoom = slashed(CONFIG.waitingPath) + '?room=' + encodeURIComponent(roomId);
  const accept = request.headers && request.headers.accept ? String(request.headers.accept.value) : '';
  if ((request.method === 'GET' || request.method === 'HEAD') && accept.indexOf('text/html') !== -1) {
    const target = waitingRoom + '&return=' + encodeURIComponent(request.uri + queryOf(request.querystring));
    return answer(302, 'Found', { location: { value: target } }, null);
  }
  return answer(403, 'Forbidden', {}, {
    error: {
      code: 'PASS_REQUIRED',
      message: 'This path needs a valid pass for the room: join the queue first.',
      reason: reason,
      queue: slashed(CONFIG.apiPath) + 'rooms/' + encodeURIComponent(roomId) + '/tokens',
      waitingRoom: waitingRoom,
    },
  });
}

async function handler(event) {
  const request = event.request;
  let roomId = '';
  try {
    if (typeof request.uri !== 'string' || AMBIGUOUS_PATH.test(request.uri)) {
      return answer(400, 'Bad Request', {}, { error: { code: 'BAD_PATH', message: 'The path is not in normal form.' } });
    }
    const room = roomFor(request.uri);
    if (!room) return request;
    roomId = room.roomId;
    const reason = await refusal((request.cookies || {})[RULES.cookiePrefix + roomId], roomId);
    return reason ? refuse(request, roomId, reason) : request;
  } catch (e) {
    try {
      return refuse(request, roomId, 'ERROR');
    } catch (e2) {
      return answer(403, 'Forbidden', {}, { error: { code: 'PASS_REQUIRED', message: 'Refused.', reason: 'ERROR' } });
    }
  }
}
