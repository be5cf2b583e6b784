/**
 * The props of the edge gate (lib/gate/gate.ts), its fixed paths, and the one function that checks
 * the props and says, in one message, everything that is wrong with them.
 */
import { Token, type Duration } from 'aws-cdk-lib';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { ICachePolicy, IOrigin, IOriginRequestPolicy, PriceClass } from 'aws-cdk-lib/aws-cloudfront';
import { ROOM_ID_PATTERN } from '../../lambdas/domain/id-patterns.js';
import type { WaitingRoom } from '../waiting-room.js';

/** The longest edge-pass lifetime a gate may accept (edge/gate-code.ts checkGateConfig's bound). */
export const MAX_PASS_LIFETIME_SECONDS = 3600;

/** Everything of the waiting room lives under this prefix of the site's domain (page, assets, API). */
export const WAITING_PATH = '/waiting-room';
/** The waiting page: the gate sends browsers here with `?room=<roomId>&return=<the URL they asked for>`. */
export const WAITING_PAGE_PATH = `${WAITING_PATH}/`;
/** The waiting-room API under the site's domain; the route function strips this prefix (edge/route-function.js). */
export const GATE_API_PATH = `${WAITING_PATH}/api`;

/** The distribution's behaviors, most specific first (CloudFront takes the first that matches). */
export const GATE_PATH_PATTERNS = {
  /** `GET /rooms/{roomId}/status`, cached for a second. */
  status: `${GATE_API_PATH}/rooms/*/status`,
  /** Every other API route, uncached. */
  api: `${GATE_API_PATH}/*`,
  /** The page itself, without the trailing slash (which `/waiting-room/*` would not match). */
  page: WAITING_PATH,
  /** The page and its assets, from the private bucket. */
  pageAssets: `${WAITING_PATH}/*`,
} as const;

/** WAF's smallest rate limit; the default of the join limit. */
export const WAF_MIN_RATE_LIMIT = 10;
export const DEFAULT_JOINS_PER_5_MINUTES_PER_IP = 20;
/**
 * Rules of the AWS managed common rule set that only count by default instead of blocking:
 * SizeRestrictions_BODY blocks any body over 8 KB, which would break uploads and large forms of the
 * site behind the gate (the waiting-room API's own bodies are a few hundred bytes at most).
 */
export const DEFAULT_COUNT_ONLY_RULES: readonly string[] = ['SizeRestrictions_BODY'];

/** Paths the gate never holds back unless told otherwise: crawlers' instructions and the tab icon. */
export const DEFAULT_UNPROTECTED_PATHS: readonly string[] = ['/robots.txt', '/favicon.ico'];

/** Your site, by domain name: any HTTPS origin (a server, a load balancer's DNS name, another CDN). */
export interface GateOriginByDomain {
  /** The origin's domain name, without scheme or path, e.g. `origin.shop.example.com`. */
  readonly domainName: string;
  /** How CloudFront reaches the origin; `http` sends the visitors' pass cookies in the clear. @default 'https' */
  readonly protocol?: 'https' | 'http';
  /** A path CloudFront puts before every request's path at the origin (`/prod`). @default none */
  readonly originPath?: string;
  /**
   * Headers CloudFront adds to every origin request: for example a secret that the origin checks, so
   * that only the distribution (and so only the gate) reaches it. @default none
   */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A room and the paths of the site that wait in it. */
export interface GateRoom {
  readonly roomId: string;
  /** Exact paths (`/checkout`) or prefixes ending with one `*` (`/sale/*`, `/*`). */
  readonly paths: readonly string[];
}

export interface GateWafOptions {
  /** Joins (POST /waiting-room/api/rooms/{roomId}/tokens) one IP may make in 5 minutes before WAF answers 429. At least 10. @default 20 */
  readonly joinsPer5MinutesPerIp?: number;
  /** Rules of AWSManagedRulesCommonRuleSet that only count instead of blocking. @default ['SizeRestrictions_BODY'] */
  readonly countOnlyRules?: readonly string[];
}

export interface WaitingRoomGateProps {
  /** The waiting room whose API the page calls, under the site's domain. Either this or `apiUrl`. */
  readonly waitingRoom?: WaitingRoom;
  /** The waiting-room API's base URL (`https://<id>.execute-api.<region>.amazonaws.com/`), without a WaitingRoom construct. */
  readonly apiUrl?: string;
  /**
   * The site behind the gate: a domain name, or any CloudFront origin you build, for example
   * `S3BucketOrigin.withOriginAccessControl(siteBucket)` or `new LoadBalancerV2Origin(alb)` (give the
   * load balancer's security group only CloudFront's managed prefix list, so no visitor goes around
   * the gate).
   */
  readonly origin: GateOriginByDomain | IOrigin;
  /** The rooms and the paths each protects. Paths under /waiting-room are the waiting room's own. */
  readonly rooms: readonly GateRoom[];
  /** Paths let through without a pass even inside a room's paths (static assets, health checks). @default ['/robots.txt', '/favicon.ico'] */
  readonly unprotected?: readonly string[];
  /** The longest edge-pass lifetime (exp - iat) the gate accepts. @default 15 minutes (EDGE_PASS_MAX_LIFETIME_SECONDS) */
  readonly maxPassLifetime?: Duration;
  /** Cache policy of the site's behavior. The gate runs before the cache, on every request. @default CachePolicy.USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS */
  readonly cachePolicy?: ICachePolicy;
  /** What CloudFront forwards to the site. Use ALL_VIEWER when the origin must see the viewer's Host. @default OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER */
  readonly originRequestPolicy?: IOriginRequestPolicy;
  /** Origin Shield in front of the API for the room status: one fetch a second per room worldwide. @default none */
  readonly originShieldRegion?: string;
  /** The site's own domain names (aliases); they need `certificate`. @default the distribution's *.cloudfront.net name only */
  readonly domainNames?: readonly string[];
  /** An ACM certificate for `domainNames`. CloudFront only takes certificates in us-east-1 (N. Virginia). @default none */
  readonly certificate?: ICertificate;
  /** Standard access logs in a bucket of their own (kept 90 days), and the page bucket's access logs there too. @default false */
  readonly accessLogs?: boolean;
  /**
   * AWS WAF on the distribution: a rate limit per IP on joins and the AWS managed common rule set.
   * About $7 a month plus $0.60 per million requests. A web ACL for CloudFront must be created in
   * us-east-1, so the stack must be in us-east-1; otherwise create it in a us-east-1 stack and pass
   * `webAclArn`. @default false
   */
  readonly waf?: boolean | GateWafOptions;
  /** An existing web ACL (scope CLOUDFRONT, in us-east-1) to attach instead of creating one. @default none */
  readonly webAclArn?: string;
  /** @default PriceClass.PRICE_CLASS_100 (North America and Europe; the cheapest edge requests) */
  readonly priceClass?: PriceClass;
  /**
   * A directory laid out like web/build.ts's output (`waiting-room.html`, `assets/`), for example a
   * branded build of the page; it is rewritten for /waiting-room/ like the default.
   * @default the package's built pages, or, in the repository, web/build.ts run at synth
   */
  readonly pageDirectory?: string;
  /** The gate function's source, with its `// <config>` block. @default edge/gate-function.js */
  readonly gateFunctionPath?: string;
}

/** What the checks need to know about where the gate is built. */
export interface GateValidationContext {
  /** The stack's region (a token when the stack is environment-agnostic). */
  readonly region: string;
  /** The region of the certificate's ARN, when known. */
  readonly certificateRegion?: string;
}

const HOSTNAME = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** An alias may start with one wildcard label. */
const ALIAS = /^(?:\*\.)?(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d$/;

/** Is the value a CloudFront origin object (built by the user) rather than a domain-name description? */
export function isOrigin(origin: GateOriginByDomain | IOrigin): origin is IOrigin {
  return typeof (origin as Partial<IOrigin>).bind === 'function';
}

/** Problems of one path pattern: exact, or a prefix ending with the only `*`. */
export function pathPatternProblems(pattern: unknown, where: string): string[] {
  if (typeof pattern !== 'string' || pattern === '') return [`${where}: a path must be a non-empty string (got ${JSON.stringify(pattern)})`];
  const problems: string[] = [];
  const star = pattern.indexOf('*');
  if (!pattern.startsWith('/')) problems.push(`${where}: path ${JSON.stringify(pattern)} must start with "/"`);
  if (star !== -1 && star !== pattern.length - 1) problems.push(`${where}: path ${JSON.stringify(pattern)} may hold one "*", only at its end`);
  if (/[^!-~]|[?#]/.test(pattern.replaceAll('*', ''))) problems.push(`${where}: path ${JSON.stringify(pattern)} may not contain spaces, "?", "#" or non-ASCII characters`);
  if (pattern.length > 256) problems.push(`${where}: path ${JSON.stringify(pattern.slice(0, 40))}... is longer than 256 characters`);
  return problems;
}

/** Does the pattern name a path of the waiting room itself (which the gate never sees)? */
export function isUnderWaitingPath(pattern: string): boolean {
  const fixed = pattern.endsWith('*') ? pattern.slice(0, -1) : pattern;
  return fixed === WAITING_PATH || fixed.startsWith(`${WAITING_PATH}/`) || (pattern.endsWith('*') && fixed.startsWith(WAITING_PATH));
}

/** Checks the props and says, in one message, everything that is wrong with them. */
export function validateWaitingRoomGateProps(props: WaitingRoomGateProps, context: GateValidationContext): void {
  const problems: string[] = [];

  if (props.waitingRoom && props.apiUrl !== undefined) problems.push('give either waitingRoom or apiUrl, not both');
  if (!props.waitingRoom && props.apiUrl === undefined) problems.push('give waitingRoom (a WaitingRoom construct) or apiUrl (the waiting-room API\'s base URL)');
  if (props.apiUrl !== undefined && !Token.isUnresolved(props.apiUrl) && !/^https:\/\/[^/\s]+\/$/.test(props.apiUrl)) {
    problems.push(`apiUrl must be the API's base URL, https://<host>/ (got ${JSON.stringify(props.apiUrl)})`);
  }

  if (!props.origin) {
    problems.push('origin is required: { domainName: "origin.shop.example.com" } or a CloudFront origin');
  } else if (!isOrigin(props.origin)) {
    const { domainName, originPath, protocol, headers } = props.origin;
    if (typeof domainName !== 'string' || (!Token.isUnresolved(domainName) && !HOSTNAME.test(domainName))) {
      problems.push(`origin.domainName must be a domain name without scheme or path, e.g. origin.shop.example.com (got ${JSON.stringify(domainName)})`);
    } else if (!Token.isUnresolved(domainName) && (props.domainNames ?? []).some((alias) => alias.toLowerCase() === domainName.toLowerCase())) {
      problems.push(`origin.domainName ${domainName} is also one of domainNames: the distribution would be its own origin; point the origin at the site's servers`);
    }
    if (originPath !== undefined && (!originPath.startsWith('/') || originPath.endsWith('/') || /[?#*\s]/.test(originPath))) {
      problems.push(`origin.originPath must start with "/" and not end with one (got ${JSON.stringify(originPath)})`);
    }
    if (protocol !== undefined && protocol !== 'https' && protocol !== 'http') problems.push(`origin.protocol must be "https" or "http" (got ${JSON.stringify(protocol)})`);
    for (const name of Object.keys(headers ?? {})) {
      if (!/^[A-Za-z0-9-]+$/.test(name)) problems.push(`origin.headers: ${JSON.stringify(name)} is not a header name`);
    }
  }

  const rooms = props.rooms ?? [];
  if (!Array.isArray(rooms) || rooms.length === 0) problems.push('rooms must list at least one room and the paths it protects, e.g. [{ roomId: "shop", paths: ["/*"] }]');
  const ids = new Set<string>();
  const owners = new Map<string, string>();
  for (const room of Array.isArray(rooms) ? rooms : []) {
    const id = room?.roomId;
    if (typeof id !== 'string' || !ROOM_ID_PATTERN.test(id)) {
      problems.push(`room id ${JSON.stringify(id)} must be 1-64 letters, digits, "-" or "_", starting with a letter or digit`);
    } else if (ids.has(id)) {
      problems.push(`room ${id} is listed twice`);
    }
    ids.add(String(id));
    const paths = room?.paths ?? [];
    if (!Array.isArray(paths) || paths.length === 0) problems.push(`room ${String(id)}: paths must list at least one path, e.g. ["/*"]`);
    for (const path of Array.isArray(paths) ? paths : []) {
      const found = pathPatternProblems(path, `room ${String(id)}`);
      problems.push(...found);
      if (found.length > 0) continue;
      if (isUnderWaitingPath(path)) problems.push(`room ${String(id)}: path ${path} is under ${WAITING_PATH}, the waiting room's own paths, which the gate never holds back`);
      const owner = owners.get(path);
      if (owner !== undefined) problems.push(`path ${path} is protected twice (${owner === id ? `in room ${id}` : `by rooms ${owner} and ${String(id)}`})`);
      owners.set(path, String(id));
    }
  }
  for (const path of props.unprotected ?? []) {
    const found = pathPatternProblems(path, 'unprotected');
    problems.push(...found);
    if (found.length === 0 && isUnderWaitingPath(path)) problems.push(`unprotected: path ${path} is under ${WAITING_PATH}, which the gate never sees anyway`);
  }

  if (props.maxPassLifetime !== undefined) {
    const seconds = props.maxPassLifetime.toSeconds({ integral: false });
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PASS_LIFETIME_SECONDS) {
      problems.push(`maxPassLifetime must be whole seconds from 1 s to ${MAX_PASS_LIFETIME_SECONDS / 60} minutes (got ${seconds} s)`);
    }
  }
  if (props.originShieldRegion !== undefined && !REGION.test(props.originShieldRegion)) {
    problems.push(`originShieldRegion must be a region name like eu-west-1 (got ${JSON.stringify(props.originShieldRegion)})`);
  }

  const domainNames = props.domainNames ?? [];
  for (const alias of domainNames) {
    if (!Token.isUnresolved(alias) && !ALIAS.test(alias)) problems.push(`domainNames: ${JSON.stringify(alias)} is not a domain name`);
  }
  if (domainNames.length > 0 && !props.certificate) problems.push('domainNames need a certificate (an ACM certificate in us-east-1 that covers them)');
  if (props.certificate && domainNames.length === 0) problems.push('certificate is given without domainNames: list the domain names it is for');
  if (context.certificateRegion !== undefined && !Token.isUnresolved(context.certificateRegion) && context.certificateRegion !== 'us-east-1') {
    problems.push(`certificate must be in us-east-1, where CloudFront reads certificates (it is in ${context.certificateRegion}): request or import it there`);
  }

  if (props.waf) {
    if (props.webAclArn !== undefined) problems.push('give either waf or webAclArn, not both');
    const options = props.waf === true ? {} : props.waf;
    const limit = options.joinsPer5MinutesPerIp;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < WAF_MIN_RATE_LIMIT || limit > 2_000_000_000)) {
      problems.push(`waf.joinsPer5MinutesPerIp must be a whole number of at least ${WAF_MIN_RATE_LIMIT}, WAF's smallest rate limit (got ${limit})`);
    }
    for (const rule of options.countOnlyRules ?? []) {
      if (!/^[A-Za-z0-9_]+$/.test(rule)) problems.push(`waf.countOnlyRules: ${JSON.stringify(rule)} is not a rule name of AWSManagedRulesCommonRuleSet`);
    }
    if (Token.isUnresolved(context.region)) {
      problems.push(
        'waf needs the stack in us-east-1 (a web ACL for CloudFront is created there), and this stack\'s region is not known at synth: give the stack env: { region: "us-east-1" } (with bin/app.ts, deploy with AWS_REGION=us-east-1), or create the web ACL in a us-east-1 stack and pass webAclArn',
      );
    } else if (context.region !== 'us-east-1') {
      problems.push(
        `waf needs the stack in us-east-1, where web ACLs for CloudFront are created (this stack is in ${context.region}): deploy the stack to us-east-1, or create the web ACL in a us-east-1 stack and pass webAclArn`,
      );
    }
  }

  if (problems.length > 0) throw new Error(`Invalid WaitingRoomGate props:\n- ${problems.join('\n- ')}`);
}
