/** The platform API's optional web application firewall. */
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';

/**
 * A regional WAF web ACL on the API stage: AWS managed common and known-bad-input rules, and a
 * per-IP rate limit. Created in `scope` with stable ids (they name the resources).
 */
export function createApiWebAcl(scope: Construct, platformName: string, stageArn: string, rateLimitPer5Minutes: number): wafv2.CfnWebACL {
  const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });
  const managed = (name: string, priority: number, overrides: string[] = []) => ({
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name,
        ruleActionOverrides: overrides.map((rule) => ({ name: rule, actionToUse: { count: {} } })),
      },
    },
    visibilityConfig: visibility(name),
  });
  const webAcl = new wafv2.CfnWebACL(scope, 'WebAcl', {
    name: `${platformName}-api`,
    scope: 'REGIONAL',
    defaultAction: { allow: {} },
    visibilityConfig: visibility(`${platformName}-api`),
    rules: [
      // Predict bodies of many rows exceed the rule set's 8 KB body limit; the API's own limits apply instead.
      managed('AWSManagedRulesCommonRuleSet', 0, ['SizeRestrictions_BODY']),
      managed('AWSManagedRulesKnownBadInputsRuleSet', 1),
      {
        name: 'RateLimitPerIp',
        priority: 2,
        action: { block: {} },
        statement: { rateBasedStatement: { limit: rateLimitPer5Minutes, aggregateKeyType: 'IP' } },
        visibilityConfig: visibility('RateLimitPerIp'),
      },
    ],
  });
  new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', {
    resourceArn: stageArn,
    webAclArn: webAcl.attrArn,
  });
  return webAcl;
}
