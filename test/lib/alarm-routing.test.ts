import { App, Annotations as CdkAnnotations, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FaceSignWebhooks, FaceSignWebhooksStack, type FaceSignWebhooksProps } from '../../lib';
import { REQUEST_FAILURE_REASONS } from '../../contract/metric-names';
import { walkAlarmDelivery } from '../support/alarm-delivery';

const context = { 'aws:cdk:bundling-stacks': [] };
function stackWith(props?: FaceSignWebhooksProps): FaceSignWebhooksStack {
  return new FaceSignWebhooksStack(new App({ context }), 'Ops', { webhooks: props });
}
const alarms = (t: Template) => Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
const alarmIn = (t: Template, name: string) => {
  const found = alarms(t).filter((a) => a.AlarmName === name);
  expect(found, name).toHaveLength(1);
  return found[0];
};
const topicIds = (t: Template) => Object.keys(t.findResources('AWS::SNS::Topic'));
const NOBODY = /^No one is subscribed to the alarm topic/;
const nobodyWarnings = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('No one is subscribed to the alarm topic'));
const nobodyOutputs = (t: Template) => Object.values(t.findOutputs('*')).filter((o) => NOBODY.test(String(o.Value)));

describe('Critical at the first verifier 503, one alarm per reason', () => {
  const t = Template.fromStack(stackWith());

  it.each(REQUEST_FAILURE_REASONS.map((reason) => [reason]))(
    '%s has its own Critical alarm on RequestsFailed with that Reason, at 1 in any of 3 one-minute periods',
    (reason) => {
      const found = alarms(t).filter(
        (a) => a.MetricName === 'RequestsFailed' && a.Dimensions.some((d: { Name: string; Value: string }) => d.Name === 'Reason' && d.Value === reason),
      );
      expect(found).toHaveLength(1);
      const [a] = found;
      expect(a.AlarmName).toMatch(/^Ops-Verifier-[A-Za-z]+-Critical$/);
      expect(a).toMatchObject({
        Namespace: 'FaceSignWebhooks',
        Statistic: 'Sum',
        Period: 60,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        // 1 of 3 one-minute periods: at the first one, even when its EMF line is processed late.
        EvaluationPeriods: 3,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
      });
      expect(a.Dimensions).toEqual(
        expect.arrayContaining([
          { Name: 'service', Value: 'facesign-verifier' },
          { Name: 'deployment', Value: 'Ops/FaceSignWebhooks' },
        ]),
      );
      // The text names the reason, and says where the runbook is.
      expect(a.AlarmDescription).toContain(`503 ${reason}`);
      expect(a.AlarmDescription).toContain('docs/operations.md');
    },
  );

  it('pages at the first WrongSecretSuspected, and keeps garbage 401s (SignatureFailures) a Warning', () => {
    expect(alarmIn(t, 'Ops-Verifier-WrongSecretSuspected-Critical')).toMatchObject({
      MetricName: 'WrongSecretSuspected',
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(
      alarms(t)
        .filter((a) => a.MetricName === 'SignatureFailures')
        .map((a) => a.AlarmName),
    ).toEqual(['Ops-Verifier-SignatureFailures-Warning']);
  });
});

describe('limits CloudWatch enforces at deploy', () => {
  it('every alarm, opt-in ones included, has a name of at most 255 characters and a description of at most 1,024', () => {
    // PutMetricAlarm: AlarmName 1-255, AlarmDescription 0-1024 characters
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
    const t = Template.fromStack(stackWith({ silenceAlarmAfter: Duration.days(7), criticalAlarmEmail: 'pager@example.com' }));
    expect(alarms(t).length).toBeGreaterThan(25);
    for (const a of alarms(t)) {
      expect(a.AlarmName.length, a.AlarmName).toBeLessThanOrEqual(255);
      expect(a.AlarmDescription.length, a.AlarmName).toBeLessThanOrEqual(1024);
    }
  });
});

describe('cdk-nag', () => {
  it('stays clean with a Critical topic of its own and the silence alarm', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'facesign-nag-pager-'));
    const app = new App({ outdir, context });
    new FaceSignWebhooksStack(app, 'Nag', { webhooks: { criticalAlarmEmail: 'pager@example.com', silenceAlarmAfter: Duration.hours(1) } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    app.synth();
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; violations: unknown[] }>;
    };
    expect(report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')?.violations).toEqual([]);
  });
});

describe('who is told', () => {
  it('sends every alarm to the one alarm topic by default', () => {
    const t = Template.fromStack(stackWith({ alarmEmail: 'oncall@example.com' }));
    expect(topicIds(t)).toHaveLength(1);
    for (const a of alarms(t)) expect(a.AlarmActions).toEqual([{ Ref: topicIds(t)[0] }]);
    expect(t.findOutputs('CriticalAlarmTopicArn')).toEqual({});
  });

  it('sends Critical alarms to a topic of their own with criticalAlarmEmail, Warnings to the alarm topic, and CloudWatch can publish to both', () => {
    const stack = stackWith({ alarmEmail: 'team@example.com', criticalAlarmEmail: 'pager@example.com' });
    const t = Template.fromStack(stack);
    const critical = stack.node.tryFindChild('FaceSignWebhooks')!.node.findChild('Monitoring').node.findChild('CriticalAlarmTopic');
    const criticalId = stack.getLogicalId((critical as sns.Topic).node.defaultChild as sns.CfnTopic);
    const warningId = topicIds(t).find((id) => id !== criticalId)!;
    expect(topicIds(t)).toHaveLength(2);
    const toldOnBoth = ['Ops-CriticalAlarmTopic-NotificationsFailed-Critical', 'Ops-SigningSecretWatch-FailedInvocations-Critical'];
    for (const a of alarms(t).filter((x) => !toldOnBoth.includes(x.AlarmName))) {
      const expected = a.AlarmName.endsWith('-Critical') ? criticalId : warningId;
      expect(a.AlarmActions, a.AlarmName).toEqual([{ Ref: expected }]);
      expect(a.OKActions, a.AlarmName).toEqual([{ Ref: expected }]);
    }
    // The pager's own delivery failures are told on both topics: its own is the one failing.
    expect(alarmIn(t, 'Ops-CriticalAlarmTopic-NotificationsFailed-Critical')).toMatchObject({
      Namespace: 'AWS/SNS',
      MetricName: 'NumberOfNotificationsFailed',
      Dimensions: [{ Name: 'TopicName', Value: { 'Fn::GetAtt': [criticalId, 'TopicName'] } }],
      AlarmActions: [{ Ref: criticalId }, { Ref: warningId }],
      OKActions: [{ Ref: criticalId }, { Ref: warningId }],
    });
    // So is a signing-secret watch page the Critical topic refused.
    expect(alarmIn(t, 'Ops-SigningSecretWatch-FailedInvocations-Critical')).toMatchObject({
      AlarmActions: [{ Ref: criticalId }, { Ref: warningId }],
      OKActions: [{ Ref: criticalId }, { Ref: warningId }],
    });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'pager@example.com', TopicArn: { Ref: criticalId } });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'team@example.com', TopicArn: { Ref: warningId } });
    // Both encrypted with the one alarm-topic key, both with the policy CloudWatch needs.
    t.resourceCountIs('AWS::KMS::Key', 2);
    const report = walkAlarmDelivery(structuredClone(t.toJSON()) as never);
    expect(report.alarms).toBe(alarms(t).length);
    expect(report.problems).toEqual([]);
    expect(t.findOutputs('CriticalAlarmTopicArn').CriticalAlarmTopicArn.Value).toEqual({ Ref: criticalId });
  });

  it('sends Critical alarms to an existing pager topic, creating nothing for it and changing nothing on it', () => {
    const app = new App({ context });
    const stack = new Stack(app, 'Custom');
    const pager = new sns.Topic(stack, 'Pager');
    new FaceSignWebhooks(stack, 'FaceSign', { existingCriticalAlarmTopicObj: pager, alarmEmail: 'team@example.com' });
    const t = Template.fromStack(stack);
    const pagerId = stack.getLogicalId(pager.node.defaultChild as sns.CfnTopic);
    expect(topicIds(t)).toHaveLength(2);
    expect(Object.values(t.findResources('AWS::SNS::TopicPolicy')).filter((p) => JSON.stringify(p).includes(pagerId))).toEqual([]);
    const critical = alarms(t).filter((a) => a.AlarmName.endsWith('-Critical'));
    const warning = alarms(t).filter((a) => a.AlarmName.endsWith('-Warning'));
    expect(critical.length).toBeGreaterThan(10);
    expect(warning.length).toBeGreaterThan(5);
    for (const a of critical) expect(a.AlarmActions[0], a.AlarmName).toEqual({ Ref: pagerId });
    expect(critical.filter((a) => a.AlarmActions.length > 1).map((a) => a.AlarmName)).toEqual([
      'Custom-CriticalAlarmTopic-NotificationsFailed-Critical',
      'Custom-SigningSecretWatch-FailedInvocations-Critical',
    ]);
    for (const a of warning) expect(a.AlarmActions).not.toEqual([{ Ref: pagerId }]);
    expect(nobodyWarnings(stack)).toEqual([]);
  });

  it('warns at synth and says so in the deploy output when no one is subscribed', () => {
    const stack = stackWith();
    const warnings = nobodyWarnings(stack);
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0].entry.data)).toMatch(/no alarm reaches anyone\. Set alarmEmail .*existingAlarmTopicObj/);
    const outputs = nobodyOutputs(Template.fromStack(stack));
    expect(outputs).toHaveLength(1);
    expect(outputs[0].Value).toMatch(/no alarm reaches anyone\. Subscribe to it, or deploy with alarmEmail/);
  });

  it('says that only Warnings reach no one when Critical alarms have their own e-mail', () => {
    const stack = stackWith({ criticalAlarmEmail: 'pager@example.com' });
    expect(String(nobodyWarnings(stack)[0]?.entry.data)).toMatch(/Warning alarms reach no one \(Critical alarms have their own topic\)/);
    expect(nobodyOutputs(Template.fromStack(stack))).toHaveLength(1);
  });

  it.each<[string, (stack: Stack) => FaceSignWebhooksProps]>([
    ['alarmEmail', () => ({ alarmEmail: 'oncall@example.com' })],
    ['an existing alarm topic', (s) => ({ existingAlarmTopicObj: new sns.Topic(s, 'Mine') })],
  ])('is quiet with %s', (_name, props) => {
    const app = new App({ context });
    const stack = new Stack(app, 'Told');
    new FaceSignWebhooks(stack, 'FaceSign', props(stack));
    expect(nobodyWarnings(stack)).toEqual([]);
    expect(nobodyOutputs(Template.fromStack(stack))).toEqual([]);
  });

  it('is quiet when the app subscribes to the topic after building the construct (as the integ app does)', () => {
    const stack = stackWith();
    const queue = new sqs.Queue(stack, 'OnCall');
    stack.webhooks.monitoring.alarmTopic.addSubscription(new SqsSubscription(queue));
    expect(nobodyWarnings(stack)).toEqual([]);
    expect(nobodyOutputs(Template.fromStack(stack))).toEqual([]);
  });

  it('can be acknowledged on the construct, as docs/operations.md says, for a subscription made outside the app; the output stays', () => {
    const stack = stackWith();
    CdkAnnotations.of(stack.webhooks).acknowledgeWarning('facesign-webhooks:noAlarmSubscriber', 'the pager is subscribed by hand');
    expect(nobodyWarnings(stack)).toEqual([]);
    expect(nobodyOutputs(Template.fromStack(stack))).toHaveLength(1);
  });

  it('still warns when the app subscribes to some other topic', () => {
    const stack = stackWith();
    new sns.Topic(stack, 'Other').addSubscription(new SqsSubscription(new sqs.Queue(stack, 'Elsewhere')));
    expect(nobodyWarnings(stack)).toHaveLength(1);
  });
});

describe('silence alarm (opt-in)', () => {
  it('is off by default', () => {
    expect(alarms(Template.fromStack(stackWith())).filter((a) => a.AlarmName.includes('NoDeliveries'))).toEqual([]);
  });

  it.each([
    [Duration.minutes(15), 300, 3],
    [Duration.minutes(5), 300, 1],
    [Duration.hours(6), 3600, 6],
    [Duration.days(7), 3600, 168],
  ])('after %s: EventsReceived below 1 in all of its periods, missing data counting as silence', (after, period, periods) => {
    const a = alarmIn(Template.fromStack(stackWith({ silenceAlarmAfter: after, alarmEmail: 'a@example.com' })), 'Ops-Verifier-NoDeliveries-Critical');
    expect(a).toMatchObject({
      Namespace: 'FaceSignWebhooks',
      MetricName: 'EventsReceived',
      Statistic: 'Sum',
      Period: period,
      EvaluationPeriods: periods,
      DatapointsToAlarm: periods,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    // CloudWatch's limit on the evaluation range: 1 day under 1-hour periods, 7 days otherwise.
    expect(a.Period * a.EvaluationPeriods).toBeLessThanOrEqual(a.Period < 3600 ? 86_400 : 604_800);
    expect(a.AlarmDescription).toContain(after.toHumanString());
  });

  it.each([
    ['7 minutes (not a multiple of 5)', Duration.minutes(7), /got 7 minutes$/],
    ['90 minutes (not whole hours)', Duration.minutes(90), /got 1 hour 30 minutes$/],
    ['8 days (past CloudWatch’s 7-day range)', Duration.days(8), /got 8 days$/],
    ['0', Duration.seconds(0), /got 0 seconds$/],
    ['2 minutes', Duration.minutes(2), /got 2 minutes$/],
  ])('refuses %s at synth, saying what is allowed', (_name, after, got) => {
    const attempt = () => stackWith({ silenceAlarmAfter: after });
    expect(attempt).toThrow(
      /^silenceAlarmAfter must be a multiple of 5 minutes under 1 hour, or whole hours from 1 hour to 168 hours \(CloudWatch evaluates at most 7 days\)/,
    );
    expect(attempt).toThrow(got);
  });
});
