/**
 * The gate's optional AWS WAF web ACL (scope CLOUDFRONT, so created in us-east-1):
 *
 *   1. joins per IP: a rate-based rule on POST /waiting-room/api/rooms/{roomId}/tokens, counted per
 *      client IP over WAF's 5-minute evaluation window (WAF also offers 1, 2 and 10 minutes; 5 is
 *      its default and the unit of the limit here), answered 429 beyond the limit, which the page's
 *      client backs off from. A join is what a script would repeat to take many places in line;
 *      heartbeats and status polls are not counted (a waiting page makes hundreds of them).
 *   2. AWSManagedRulesCommonRuleSet (the OWASP-style baseline), with the rules named in
 *      `countOnlyRules` set to count: by default SizeRestrictions_BODY, which blocks any body over
 *      8 KB and would break the site's uploads and large forms (the API's bodies are tiny).
 *
 * Price (us-east-1 list): $5 a month for the web ACL, $1 for each of the two rules, $0.60 per
 * million requests inspected; the managed common rule set has no charge of its own beyond its rule.
 */
import { Stack } from 'aws-cdk-lib';
import { CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { DEFAULT_COUNT_ONLY_RULES, DEFAULT_JOINS_PER_5_MINUTES_PER_IP, GATE_API_PATH, type GateWafOptions } from './props.js';

/** The joins, by URI path (after URL decoding): a room id then /tokens, with or without a final slash. */
export const JOIN_PATH_REGEX = `^${GATE_API_PATH}/rooms/[^/]+/tokens/?$`;

export class GateWebAcl extends Construct {
  readonly webAcl: CfnWebACL;
  /** The joins allowed per IP in 5 minutes. */
  readonly joinsPer5MinutesPerIp: number;

  constructor(scope: Construct, id: string, options: GateWafOptions) {
    super(scope, id);
    this.joinsPer5MinutesPerIp = options.joinsPer5MinutesPerIp ?? DEFAULT_JOINS_PER_5_MINUTES_PER_IP;
    const countOnly = options.countOnlyRules ?? DEFAULT_COUNT_ONLY_RULES;
    const metricPrefix = `WaitingRoomGate-${Stack.of(this).stackName}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 100);
    const visibility = (name: string): CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName: `${metricPrefix}-${name}`.slice(0, 128),
    });

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'CLOUDFRONT',
      description: 'Waiting-room gate: joins per IP, and the AWS managed common rule set',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('WebAcl'),
      rules: [
        {
          name: 'JoinsPerIp',
          priority: 0,
          action: { block: { customResponse: { responseCode: 429 } } },
          visibilityConfig: visibility('JoinsPerIp'),
          statement: {
            rateBasedStatement: {
              aggregateKeyType: 'IP',
              evaluationWindowSec: 300,
              limit: this.joinsPer5MinutesPerIp,
              scopeDownStatement: {
                andStatement: {
                  statements: [
                    {
                      byteMatchStatement: {
                        fieldToMatch: { method: {} },
                        positionalConstraint: 'EXACTLY',
                        searchString: 'POST',
                        textTransformations: [{ priority: 0, type: 'NONE' }],
                      },
                    },
                    {
                      regexMatchStatement: {
                        fieldToMatch: { uriPath: {} },
                        regexString: JOIN_PATH_REGEX,
                        textTransformations: [{ priority: 0, type: 'URL_DECODE' }],
                      },
                    },
                  ],
                },
              },
            },
          },
        },
        {
          name: 'AWSManagedRulesCommonRuleSet',
          priority: 1,
          overrideAction: { none: {} },
          visibilityConfig: visibility('CommonRuleSet'),
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              ...(countOnly.length > 0 ? { ruleActionOverrides: countOnly.map((name) => ({ name, actionToUse: { count: {} } })) } : {}),
            },
          },
        },
      ],
    });
  }
}
