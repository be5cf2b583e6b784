/**
 * The gate's private page bucket, locally: the objects that lib/gate/waiting-page.ts stages and the
 * deployment copies under `waiting-room/`, made from the local runtime's own build of web/
 * (local/web-assets.ts) with the same rewrites:
 *
 *   waiting-room/index.html        the built waiting-room.html through `gatePageHtml` (assets under
 *                                  /waiting-room/assets/, data-api-base="/waiting-room/api")
 *   waiting-room/assets/<name>     the built assets without source maps and without the admin
 *                                  page's script (waiting-page.ts leaves both out), scripts without
 *                                  their source-map comment (`withoutSourceMapComment`)
 *
 * A key the bucket does not hold is answered as S3 answers CloudFront's Origin Access Control
 * without s3:ListBucket: 403 AccessDenied. Objects carry the deployment's Cache-Control.
 */
import path from 'node:path';
import { GATE_PAGE, BUILT_PAGE, LEFT_OUT, gatePageHtml, withoutSourceMapComment } from '../../lib/gate/waiting-page.js';
import { WAITING_PATH } from '../../lib/gate/props.js';
import { CONTENT_TYPES, type WebAssets } from '../web-assets.js';

/** The bucket prefix of the page and its assets (lib/gate/gate.ts PAGE_PREFIX). */
const PREFIX = `${WAITING_PATH.slice(1)}/`;
/** An asset's file name as the build writes them. */
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** The deployment's Cache-Control (lib/gate/gate.ts PageDeployment). */
const CACHE_CONTROL = 'public, max-age=60';

export interface BucketObject {
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

export interface PageBucket {
  /** The object at `key` (a path without its leading "/"), or undefined when there is none. */
  get(key: string): Promise<BucketObject | undefined>;
}

/** What S3 answers for a key it does not hold (or may not list). */
export const ACCESS_DENIED: BucketObject = {
  body: Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'),
  headers: { 'content-type': 'application/xml' },
};

export function pageBucket(web: WebAssets): PageBucket {
  const object = (body: string, file: string): BucketObject => ({
    body: Buffer.from(body),
    headers: { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': CACHE_CONTROL },
  });
  let page: Promise<string> | undefined;
  return {
    async get(key) {
      if (!key.startsWith(PREFIX)) return undefined;
      const name = key.slice(PREFIX.length);
      try {
        if (name === GATE_PAGE) {
          page ??= web.page(BUILT_PAGE).then(gatePageHtml);
          return object(await page, GATE_PAGE);
        }
        const asset = name.startsWith('assets/') ? name.slice('assets/'.length) : undefined;
        if (asset === undefined || !ASSET_NAME.test(asset) || LEFT_OUT.test(asset) || !CONTENT_TYPES[path.extname(asset)]) return undefined;
        const text = await web.page(`assets/${asset}`);
        return object(asset.endsWith('.js') ? withoutSourceMapComment(text) : text, asset);
      } catch {
        page = undefined;
        return undefined;
      }
    },
  };
}
