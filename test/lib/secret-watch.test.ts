/**
 * The signing-secret watch: an EventBridge rule on CloudTrail's management events for this secret,
 * matched against sample events the way EventBridge matches (exact values and prefixes), and its
 * target: the topic Critical alarms notify, with no role, through topic and key policies naming the rule.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { FaceSignWebhooks, type FaceSignWebhooksProps } from '../../lib';
import { ACCOUNT, REGION, render } from '../support/template-values';

function build(props: FaceSignWebhooksProps | ((stack: Stack) => FaceSignWebhooksProps) = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Watched');
  const webhooks = new FaceSignWebhooks(stack, 'FaceSign', typeof props === 'function' ? props(stack) : props);
  return { stack, webhooks, template: Template.fromStack(stack) };
}

const WATCH_DESCRIPTION = Match.stringLikeRegexp('changes? to the signing secret');

function watchRule(template: Template) {
  const rules = Object.values(template.findResources('AWS::Events::Rule', { Properties: { Description: WATCH_DESCRIPTION } }));
  expect(rules).toHaveLength(1);
  return rules[0].Properties;
}

/** The name CloudFormation gives a secret without one: `<logical id>-<random>`; its ARN adds `-<6 characters>`. */
const GENERATED_NAME = 'FaceSignSigningSecretB53CF33C-q1w2e3r4t5y6';
const FULL_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${GENERATED_NAME}-AbCdEf`;

type Pattern = { [key: string]: Pattern | (string | { prefix: string })[] };

/** EventBridge's matching for what the rule uses: arrays of exact values and `prefix` matchers, nested objects. */
function matches(pattern: Pattern, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, want]) => {
    const got = event[key];
    if (Array.isArray(want)) return want.some((w) => (typeof w === 'string' ? got === w : typeof got === 'string' && got.startsWith(w.prefix)));
    return got !== null && typeof got === 'object' && matches(want, got as Record<string, unknown>);
  });
}

function cloudTrailEvent(eventName: string, secretId: string): Record<string, unknown> {
  return {
    source: 'aws.secretsmanager',
    'detail-type': 'AWS API Call via CloudTrail',
    detail: {
      eventSource: 'secretsmanager.amazonaws.com',
      eventName,
      userIdentity: { arn: `arn:aws:iam::${ACCOUNT}:user/mallory` },
      requestParameters: { secretId },
    },
  };
}

describe('the signing-secret watch', () => {
  const { template } = build();
  const physical = (id: string) => {
    if (id === 'FaceSignSigningSecretB53CF33C') return FULL_ARN;
    throw new Error(`unexpected Ref ${id}`);
  };
  const pattern = render(watchRule(template).EventPattern, physical) as Pattern;

  it.each(['PutSecretValue', 'UpdateSecret', 'UpdateSecretVersionStage', 'RotateSecret', 'PutResourcePolicy', 'DeleteResourcePolicy', 'DeleteSecret'])(
    'matches %s on this secret, named by full ARN, partial ARN or name',
    (eventName) => {
      for (const secretId of [FULL_ARN, FULL_ARN.slice(0, -'-AbCdEf'.length), GENERATED_NAME]) {
        expect(matches(pattern, cloudTrailEvent(eventName, secretId)), secretId).toBe(true);
      }
    },
  );

  it('does not match reads, another secret, or another service', () => {
    expect(matches(pattern, cloudTrailEvent('GetSecretValue', FULL_ARN))).toBe(false);
    expect(matches(pattern, cloudTrailEvent('DescribeSecret', FULL_ARN))).toBe(false);
    expect(matches(pattern, cloudTrailEvent('PutSecretValue', `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:other-AbCdEf`))).toBe(false);
    expect(matches(pattern, cloudTrailEvent('PutSecretValue', 'other'))).toBe(false);
    expect(matches(pattern, { ...cloudTrailEvent('PutSecretValue', FULL_ARN), source: 'aws.ssm' })).toBe(false);
  });

  it('is on the default bus (where CloudTrail delivers) and publishes a readable line to the alarm topic with no role, through policies naming the rule', () => {
    const rule = watchRule(template);
    expect(rule.EventBusName).toBeUndefined();
    const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));
    expect(rule.Targets).toHaveLength(1);
    const target = rule.Targets[0];
    expect(target.Arn).toEqual({ Ref: topicId });
    // EventBridge: an SNS target takes no RoleArn (eb-use-resource-based.html).
    expect(target.RoleArn).toBeUndefined();
    expect(target.InputTransformer.InputPathsMap).toEqual(
      expect.objectContaining({ 'detail-eventName': '$.detail.eventName', 'detail-userIdentity-arn': '$.detail.userIdentity.arn' }),
    );
    expect(target.InputTransformer.InputTemplate).toContain('The signing secret changed');
    const ruleArn = `arn:aws:events:${REGION}:${ACCOUNT}:rule/${rule.Name}`;
    const asRuleArn = (v: unknown) => render(v, physical);
    const topicPolicies = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    const topicStatements = topicPolicies
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((st) => st.Principal?.Service === 'events.amazonaws.com');
    expect(topicStatements).toHaveLength(1);
    expect(topicStatements[0]).toMatchObject({ Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: topicId } });
    expect(asRuleArn(topicStatements[0].Condition.ArnEquals['aws:SourceArn'])).toBe(ruleArn);
    const [topicKeyId] = Object.keys(template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('alarm topic') } }));
    const keyStatements = template
      .findResources('AWS::KMS::Key')
      [topicKeyId].Properties.KeyPolicy.Statement.filter((st: { Principal?: { Service?: string } }) => st.Principal?.Service === 'events.amazonaws.com');
    expect(keyStatements).toHaveLength(1);
    expect(keyStatements[0]).toMatchObject({ Effect: 'Allow', Action: ['kms:GenerateDataKey*', 'kms:Decrypt'], Resource: '*' });
    expect(asRuleArn(keyStatements[0].Condition.ArnEquals['aws:SourceArn'])).toBe(ruleArn);
    // No role publishes for the watch any more.
    const roles = Object.values(template.findResources('AWS::IAM::Role')).filter(
      (r) => r.Properties.Description === 'Publishes the signing-secret watch to the alarm topic',
    );
    expect(roles).toHaveLength(0);
  });

  it('leaves a topic the user passed unchanged and warns at synth with what to add', () => {
    const { stack } = build((s) => ({
      // A topic of the same app, which the construct could change: it must not.
      existingCriticalAlarmTopicObj: new sns.Topic(s, 'Pager'),
    }));
    const t = Template.fromStack(stack);
    expect(JSON.stringify(t.findResources('AWS::SNS::TopicPolicy'))).not.toContain('events.amazonaws.com');
    expect(watchRule(t).Targets[0].RoleArn).toBeUndefined();
    const warnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp('signing-secret watch publishes to a topic you passed.*aws:SourceArn = the ARN of rule \\w+'),
    );
    expect(warnings).toHaveLength(1);
  });

  it('pages the Critical topic when Critical alarms have one', () => {
    const { template: t } = build((stack) => ({
      existingCriticalAlarmTopicObj: sns.Topic.fromTopicArn(stack, 'Pager', `arn:aws:sns:${REGION}:${ACCOUNT}:pager`),
    }));
    expect(watchRule(t).Targets[0].Arn).toBe(`arn:aws:sns:${REGION}:${ACCOUNT}:pager`);
  });

  it('watches an existing secret by its ARN and name', () => {
    const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:facesign/signing-AbCdEf`;
    const { template: t } = build((stack) => ({ existingSigningSecretObj: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Mine', arn) }));
    const p = render(watchRule(t).EventPattern, () => {
      throw new Error('no Ref expected');
    }) as Pattern;
    expect(matches(p, cloudTrailEvent('PutResourcePolicy', arn))).toBe(true);
    expect(matches(p, cloudTrailEvent('PutResourcePolicy', 'facesign/signing'))).toBe(true);
    expect(matches(p, cloudTrailEvent('PutResourcePolicy', 'facesign/other'))).toBe(false);
  });

  it('is left out with watchSigningSecret: false, and so is its alarm', () => {
    const { webhooks, template: t } = build({ watchSigningSecret: false });
    expect(t.findResources('AWS::Events::Rule', { Properties: { Description: WATCH_DESCRIPTION } })).toEqual({});
    expect(webhooks.signingSecretWatch).toBeUndefined();
    expect(webhooks.monitoring.alarms.signingSecretWatchFailures).toBeUndefined();
    expect(watchAlarms(t)).toEqual([]);
  });
});

function watchAlarms(template: Template) {
  return Object.entries(template.findResources('AWS::CloudWatch::Alarm'))
    .filter(([, a]) => String(a.Properties.AlarmName).includes('-SigningSecretWatch-'))
    .map(([id, a]) => ({ id, ...a.Properties }));
}

describe("the signing-secret watch's own alarm", () => {
  it('pages when the rule could not invoke its target (AWS/Events FailedInvocations of this rule, by its bare name)', () => {
    const { webhooks, template } = build();
    const [alarm] = watchAlarms(template);
    expect(alarm).toMatchObject({
      AlarmName: 'Watched-SigningSecretWatch-FailedInvocations-Critical',
      Namespace: 'AWS/Events',
      MetricName: 'FailedInvocations',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(alarm.AlarmDescription).toMatch(/#signingsecretwatch-failedinvocations$/);
    const ruleId = Object.keys(template.findResources('AWS::Events::Rule', { Properties: { Description: WATCH_DESCRIPTION } }))[0];
    // The rule on the default bus: its Ref is the bare name, which the metric carries.
    const name = render(alarm.Dimensions, (id) => {
      if (id === ruleId) return 'Watched-FaceSignSigningSecretWatchRule-ABC123';
      throw new Error(`unexpected Ref ${id}`);
    });
    expect(name).toEqual([{ Name: 'RuleName', Value: 'Watched-FaceSignSigningSecretWatchRule-ABC123' }]);
    expect(webhooks.monitoring.alarms.signingSecretWatchFailures).toBeDefined();
  });

  it('is told on the Critical topic and on the alarm topic: the Critical topic may be the one refusing', () => {
    const pagerArn = `arn:aws:sns:${REGION}:${ACCOUNT}:pager`;
    const { template: t } = build((stack) => ({ existingCriticalAlarmTopicObj: sns.Topic.fromTopicArn(stack, 'Pager', pagerArn) }));
    const [alarm] = watchAlarms(t);
    const [topicId] = Object.keys(t.findResources('AWS::SNS::Topic'));
    expect(alarm.AlarmActions).toEqual([pagerArn, { Ref: topicId }]);
    expect(alarm.OKActions).toEqual([pagerArn, { Ref: topicId }]);
  });
});
