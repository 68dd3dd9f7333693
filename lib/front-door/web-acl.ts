/**
 * The WAF web ACL of the REST API door: a rate-based rule per source IP and, when given, a
 * source-IP allowlist; every block is answered 503 with Retry-After, which FaceSign retries.
 */
import { Names, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';

/** The status and Retry-After (seconds) of every answer the door gives instead of the verifier's: retryable. */
export const RETRYABLE_BLOCK = { statusCode: 503, retryAfterSeconds: 60 } as const;

/**
 * AWS WAF's bounds on a rate-based rule: a limit of at least 10 requests in an evaluation window of
 * 60, 120, 300 or 600 seconds
 * (https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based-high-level-settings.html).
 * The most is 2,000,000,000 (https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html).
 */
export const WAF_RATE_LIMIT = { min: 10, max: 2_000_000_000, windowsSeconds: [60, 120, 300, 600] } as const;

/** What the web ACL enforces. */
export interface WebAclOptions {
  /** Requests one source IP may make in `windowSeconds` before its further requests are blocked. */
  readonly rateLimit: number;
  readonly windowSeconds: number;
  /** CIDRs (IPv4 or IPv6) that alone may reach the API; undefined lets every source through (rate limit aside). */
  readonly allowedSourceIps?: readonly string[];
}

/** The created web ACL and the metric of what it blocked. */
export interface WebhookWebAcl {
  readonly webAcl: wafv2.CfnWebACL;
  /** `AWS/WAFV2` `BlockedRequests` of the whole web ACL (`Rule` `ALL`). */
  metricBlockedRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

const BODY_KEY = 'retryable';

/**
 * The web ACL (construct ids `WebAcl`, `AllowedSourceIpsV4`/`V6`). A block's custom response takes
 * precedence over the API's gateway responses (https://docs.aws.amazon.com/waf/latest/developerguide/customizing-the-response-for-blocked-requests.html);
 * WAF accepts codes 200 to 599 there (https://docs.aws.amazon.com/waf/latest/APIReference/API_CustomResponse.html).
 */
export function createWebAcl(scope: Construct, options: WebAclOptions): WebhookWebAcl {
  // One name for the web ACL and its metric: AWS/WAFV2 metrics carry the web ACL's metric name as the WebACL dimension.
  const name = Names.uniqueResourceName(scope, { maxLength: 120, separator: '-' }) + '-waf';
  const block: wafv2.CfnWebACL.RuleActionProperty = {
    block: {
      customResponse: {
        responseCode: RETRYABLE_BLOCK.statusCode,
        customResponseBodyKey: BODY_KEY,
        responseHeaders: [{ name: 'Retry-After', value: String(RETRYABLE_BLOCK.retryAfterSeconds) }],
      },
    },
  };
  const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
    cloudWatchMetricsEnabled: true,
    metricName,
    sampledRequestsEnabled: true,
  });
  const rules: wafv2.CfnWebACL.RuleProperty[] = [
    {
      name: 'RateLimitPerSourceIp',
      priority: 0,
      statement: { rateBasedStatement: { limit: options.rateLimit, evaluationWindowSec: options.windowSeconds, aggregateKeyType: 'IP' } },
      action: block,
      visibilityConfig: visibility(`${name}-rate`),
    },
  ];
  if (options.allowedSourceIps) {
    const sets = (['IPV4', 'IPV6'] as const)
      .map((version) => ({ version, addresses: options.allowedSourceIps!.filter((cidr) => cidr.includes(':') === (version === 'IPV6')) }))
      .filter((set) => set.addresses.length > 0)
      .map(
        ({ version, addresses }) =>
          new wafv2.CfnIPSet(scope, `AllowedSourceIps${version === 'IPV4' ? 'V4' : 'V6'}`, {
            scope: 'REGIONAL',
            ipAddressVersion: version,
            addresses: [...addresses],
            description: 'FaceSign webhooks: the only sources that may reach the webhook URL',
          }),
      );
    const references = sets.map((set) => ({ ipSetReferenceStatement: { arn: set.attrArn } }));
    rules.push({
      name: 'AllowListedSources',
      priority: 1,
      statement: references.length === 1 ? references[0] : { orStatement: { statements: references } },
      action: { allow: {} },
      visibilityConfig: visibility(`${name}-allowlist`),
    });
  }
  const webAcl = new wafv2.CfnWebACL(scope, 'WebAcl', {
    name,
    scope: 'REGIONAL',
    description: 'FaceSign webhooks: rate limit per source IP, and the source allowlist when given. Blocks are answered 503, which FaceSign retries.',
    // With an allowlist, what no rule allowed is blocked; without one, what the rate rule did not block is allowed.
    defaultAction: options.allowedSourceIps ? block : { allow: {} },
    customResponseBodies: {
      [BODY_KEY]: { contentType: 'APPLICATION_JSON', content: JSON.stringify({ message: 'Service Unavailable: blocked by the web ACL; retry later' }) },
    },
    visibilityConfig: visibility(name),
    rules,
  });
  return {
    webAcl,
    // https://docs.aws.amazon.com/waf/latest/developerguide/waf-metrics.html: dimensions Region, WebACL, Rule (ALL for the whole web ACL).
    metricBlockedRequests: (props) =>
      new cloudwatch.Metric({
        namespace: 'AWS/WAFV2',
        metricName: 'BlockedRequests',
        dimensionsMap: { Region: Stack.of(scope).region, WebACL: name, Rule: 'ALL' },
        statistic: 'Sum',
        ...props,
      }),
  };
}
