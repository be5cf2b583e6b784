/**
 * The gate's settings from CDK context (bin/app.ts): `-c originDomain=shop-origin.example.com` turns
 * the gate on. The construct checks what the settings mean; this only reads them.
 *
 *   originDomain       the site's origin (domain name, HTTPS)
 *   gateRooms          JSON [{"roomId":"shop","paths":["/*"]}]; default: the one room of `rooms`
 *                      protecting every path (with several rooms, say which paths each protects)
 *   gateUnprotected    JSON ["/health","/static/*"]; default ["/robots.txt","/favicon.ico"]
 *   gateWaf            "true", or JSON {"joinsPer5MinutesPerIp":50}: AWS WAF (stack in us-east-1)
 *   gateWebAclArn      an existing web ACL (CLOUDFRONT scope) instead
 *   gateDomain         the site's domain name(s), comma-separated, with gateCertificateArn (us-east-1)
 *   gateAccessLogs     "true": CloudFront access logs in a bucket
 */
import type { WaitingRoomStackGateProps } from '../waiting-room-stack.js';
import type { GateRoom, GateWafOptions } from './props.js';

/** The context keys of the gate, for messages and docs. */
export const GATE_CONTEXT_KEYS = ['originDomain', 'gateRooms', 'gateUnprotected', 'gateWaf', 'gateWebAclArn', 'gateDomain', 'gateCertificateArn', 'gateAccessLogs'] as const;

/**
 * The stack's gate props from context, or undefined without `originDomain`. `get` reads a context
 * value (a string from the command line, or JSON already parsed from cdk.json); `rooms` are the
 * waiting room's rooms, the default of `gateRooms` when there is exactly one.
 */
export function gateFromContext(get: (key: string) => unknown, rooms: readonly { readonly roomId: string }[]): WaitingRoomStackGateProps | undefined {
  const problems: string[] = [];
  const text = (key: string): string | undefined => {
    const value = get(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const json = <T>(key: string, example: string): T | undefined => {
    const value = get(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') return value as T;
    try {
      return JSON.parse(value) as T;
    } catch {
      problems.push(`-c ${key} must be JSON like '${example}' (got ${value})`);
      return undefined;
    }
  };

  const originDomain = text('originDomain');
  if (!originDomain) {
    const stray = GATE_CONTEXT_KEYS.filter((key) => key !== 'originDomain' && text(key) !== undefined && text(key) !== 'false');
    if (stray.length > 0) throw new Error(`Context ${stray.join(', ')} set the edge gate up, which needs -c originDomain=<your site's origin>`);
    return undefined;
  }

  let gateRooms = json<GateRoom[]>('gateRooms', '[{"roomId":"shop","paths":["/*"]}]');
  if (gateRooms === undefined && !problems.some((p) => p.includes('gateRooms'))) {
    const only = rooms.length === 1 ? rooms[0] : undefined;
    if (only) gateRooms = [{ roomId: only.roomId, paths: ['/*'] }];
    else {
      problems.push(
        rooms.length === 0
          ? `-c originDomain needs a room to wait in: -c rooms='[{"roomId":"shop","capacity":200}]' (then every path waits in it), or -c gateRooms='[{"roomId":"shop","paths":["/*"]}]'`
          : `-c rooms lists ${rooms.length} rooms: say which paths each protects with -c gateRooms='[{"roomId":"${rooms[0]?.roomId ?? 'shop'}","paths":["/shop/*"]}, ...]'`,
      );
    }
  }
  const unprotected = json<string[]>('gateUnprotected', '["/health","/static/*"]');
  const wafText = text('gateWaf');
  let waf: boolean | GateWafOptions | undefined;
  if (wafText === 'true') waf = true;
  else if (wafText !== undefined && wafText !== 'false') waf = json<GateWafOptions>('gateWaf', '{"joinsPer5MinutesPerIp":50}');
  const webAclArn = text('gateWebAclArn');
  const domainNames = text('gateDomain')?.split(',').map((d) => d.trim()).filter((d) => d !== '');
  const certificateArn = text('gateCertificateArn');
  const accessLogs = text('gateAccessLogs') === 'true';

  if (problems.length > 0) throw new Error(`Invalid edge gate context:\n- ${problems.join('\n- ')}`);
  return {
    origin: { domainName: originDomain },
    rooms: gateRooms ?? [],
    ...(unprotected !== undefined ? { unprotected } : {}),
    ...(waf ? { waf } : {}),
    ...(webAclArn ? { webAclArn } : {}),
    ...(domainNames && domainNames.length > 0 ? { domainNames } : {}),
    ...(certificateArn ? { certificateArn } : {}),
    ...(accessLogs ? { accessLogs } : {}),
  };
}
