// The route function of the waiting-room gate (lib/gate/gate.ts): a CloudFront Function (runtime
// cloudfront-js-2.0) on viewer request of the waiting room's own behaviors, never on the site's.
//   /waiting-room/api/<path>          -> /<path> to the waiting-room API (its routes have no prefix)
//   /waiting-room and /waiting-room/  -> /waiting-room/index.html in the page bucket
// Every other URI is left as it is. The query string is CloudFront's `request.querystring`, not
// part of `uri`, so it passes through untouched. Same language subset as gate-function.js: ES5.1
// with const, let, arrow functions and template literals (test/unit/edge/route-function.test.ts).
/* eslint @typescript-eslint/no-unused-vars: ["error", { "varsIgnorePattern": "^handler$" }] */
const WAITING_PATH = '/waiting-room';
const API_PREFIX = WAITING_PATH + '/api/';
const PAGE = WAITING_PATH + '/index.html';

function handler(event) {
  const request = event.request;
  const uri = request.uri;
  if (uri.indexOf(API_PREFIX) === 0) {
    request.uri = uri.slice(API_PREFIX.length - 1);
  } else if (uri === WAITING_PATH || uri === WAITING_PATH + '/') {
    request.uri = PAGE;
  }
  return request;
}
