import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FaceSignWebhooks, FaceSignWebhooksStack, type FaceSignWebhooksProps } from '../../lib';
import { ENV } from '../../contract/function-environment';
import { walkAlarmDelivery } from '../support/alarm-delivery';
import { runbookAnchor } from '../../lib/monitoring/alarm-factory';
import { defaultRunbookBaseUrl } from '../../lib/monitoring/alarm-options';

const context = { 'aws:cdk:bundling-stacks': [] };
function synth(props?: FaceSignWebhooksProps, stackName = 'Ops'): Template {
  const app = new App({ context });
  return Template.fromStack(new FaceSignWebhooksStack(app, stackName, { webhooks: props }));
}

const template = synth();
const topicRef = () => {
  const [id] = Object.keys(template.findResources('AWS::SNS::Topic'));
  return { Ref: id };
};
function alarmIn(t: Template, name: string) {
  const found = Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: name } }));
  expect(found, name).toHaveLength(1);
  return found[0].Properties;
}
const alarm = (name: string) => alarmIn(template, name);
type MetricQuery = {
  Id: string;
  Expression?: string;
  MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: Array<{ Name: string; Value: unknown }> }; Stat: string; Period: number };
};
const queries = (a: { Metrics: MetricQuery[] }) => Object.fromEntries(a.Metrics.map((m) => [m.Id, m]));
const deploymentOf = (t: Template) => {
  const fn = Object.values(t.findResources('AWS::Lambda::Function'))[0];
  return fn.Properties.Environment.Variables[ENV.metricsDeployment] as string;
};

describe('alarms', () => {
  it('has exactly the documented alarms, each named <prefix>-<resource>-<metric>-<severity>', () => {
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties.AlarmName)
      .sort();
    expect(names).toEqual([
      'Ops-AlarmTopic-NotificationsFailed-Critical',
      'Ops-Api-LatencyP99-Warning',
      'Ops-Api-ServerErrorRate-Critical',
      'Ops-Api-Throttled-Warning',
      'Ops-Api-WafBlocked-Warning',
      'Ops-Api-WafBlockedPersistent-Critical',
      'Ops-DeadLetterQueue-HeldLong-Critical',
      'Ops-DeadLetterQueue-NewMessages-Critical',
      'Ops-DeadLetterQueue-OldestMessageAge-Critical',
      'Ops-DeadLetterQueue-VisibleMessages-Warning',
      'Ops-IdempotencyTable-SystemErrors-Warning',
      'Ops-IdempotencyTable-Throttles-Warning',
      'Ops-Processor-ConcurrencyAtMaximum-Warning',
      'Ops-Processor-ConflictingDuplicates-Warning',
      'Ops-Processor-DurationNearTimeout-Warning',
      'Ops-Processor-Errors-Warning',
      'Ops-Processor-EventsQuarantined-Critical',
      'Ops-Processor-Throttles-Warning',
      'Ops-Queue-NothingDeleted-Critical',
      'Ops-Queue-OldestMessageAge-Critical',
      'Ops-SigningSecretWatch-FailedInvocations-Critical',
      'Ops-Verifier-DurationNearTimeout-Warning',
      'Ops-Verifier-Errors-Critical',
      'Ops-Verifier-HoldsDropped-Warning',
      'Ops-Verifier-QueueUnavailable-Critical',
      'Ops-Verifier-RequestsRejected-Critical',
      'Ops-Verifier-SecretNotConfigured-Critical',
      'Ops-Verifier-SecretUnavailable-Critical',
      'Ops-Verifier-SignatureFailures-Warning',
      'Ops-Verifier-Throttles-Warning',
      'Ops-Verifier-WrongSecretSuspected-Critical',
    ]);
  });

  it('notifies the topic on alarm and on recovery, treats no data as healthy, and says what to do', () => {
    for (const a of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(a.Properties.AlarmActions).toEqual([topicRef()]);
      expect(a.Properties.OKActions).toEqual([topicRef()]);
      expect(a.Properties.TreatMissingData).toBe('notBreaching');
      expect(a.Properties.AlarmDescription.length).toBeGreaterThan(60);
    }
  });

  it('reads as many metrics as bench/RESULTS.md and the cost model bill for (metric-math alarms are billed per metric)', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties);
    const metrics = alarms.reduce((n, a) => n + (a.MetricName ? 1 : a.Metrics.filter((m: MetricQuery) => m.MetricStat).length), 0);
    const results = readFileSync(path.join(__dirname, '..', '..', 'bench', 'RESULTS.md'), 'utf8');
    const cost = readFileSync(path.join(__dirname, '..', '..', 'bench', 'cost.ts'), 'utf8');
    const keys = Object.keys(template.findResources('AWS::KMS::Key')).length;
    expect(keys).toBe(2); // the alarm topic's and the data key, $1.00 a month each
    expect(results).toContain(
      `two KMS keys $${keys}.00: the alarm topic's\nand the data key, ${alarms.length} alarms\nwatching ${metrics} metrics at $0.10 each $${(metrics / 10).toFixed(2)}`,
    );
    // The cost model's row, with white space folded so the formatter may break it where it likes.
    expect(cost.replace(/\s+/g, ' ')).toContain(
      `${keys} KMS keys (alarm topic, data), ${alarms.length} alarms (${metrics} alarm metrics), dashboard', value: '$0.40 + $${keys}.00 + $${(metrics / 10).toFixed(2)} + $3.00'`,
    );
  });

  it('links every alarm to its own heading in docs/operations.md, and the docs have no heading without an alarm', () => {
    const operations = readFileSync(path.join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
    const section = operations.slice(operations.indexOf('### Alarms'), operations.indexOf('### Consumer dead letters'));
    const headings = section.split('\n').flatMap((l) => /^#### (\S+)$/.exec(l)?.[1] ?? []);
    // The opt-in alarms and a consumer's too.
    const optIn = new FaceSignWebhooksStack(new App({ context }), 'Ops', {
      webhooks: { silenceAlarmAfter: Duration.hours(6), criticalAlarmEmail: 'pager@example.com', processorMaxConcurrency: 5 },
    });
    optIn.webhooks.onEvent('Audit', { eventTypes: ['session.status'], target: new targets.SqsQueue(new sqs.Queue(optIn, 'AuditQueue')) });
    const links = [template, Template.fromStack(optIn)].flatMap((t) =>
      Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a) => {
        const description = a.Properties.AlarmDescription as string;
        const link = /Runbook: (\S+)#([a-z0-9-]+)$/.exec(description);
        expect(link, description).not.toBeNull();
        expect(description.length, description).toBeLessThanOrEqual(1024);
        expect(link![1]).toBe(defaultRunbookBaseUrl());
        return link![2];
      }),
    );
    expect(new Set(links)).toEqual(new Set(headings.map(runbookAnchor)));
  });

  it('links the runbook of the installed version, or the page given', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'runbook-'));
    writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'facesign-webhooks', version: '1.2.3' }));
    expect(defaultRunbookBaseUrl(root)).toBe('https://unpkg.com/facesign-webhooks@1.2.3/docs/operations.md');
    writeFileSync(
      path.join(root, 'package.json'),
      JSON.stringify({ name: 'facesign-webhooks', version: '1.2.3', repository: { url: 'git+https://github.com/acme/facesign-webhooks.git' } }),
    );
    expect(defaultRunbookBaseUrl(root)).toBe('https://github.com/acme/facesign-webhooks/blob/v1.2.3/docs/operations.md');
    const own = synth({ runbookBaseUrl: 'https://wiki.example.com/webhooks' });
    expect(alarmIn(own, 'Ops-Verifier-Errors-Critical').AlarmDescription).toMatch(/ Runbook: https:\/\/wiki\.example\.com\/webhooks#verifier-errors$/);
  });

  it.each([
    ['Ops-DeadLetterQueue-VisibleMessages-Warning', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum', 60, 1, 'GreaterThanOrEqualToThreshold'],
    ['Ops-DeadLetterQueue-OldestMessageAge-Critical', 'AWS/SQS', 'ApproximateAgeOfOldestMessage', 'Maximum', 300, 9 * 86400, 'GreaterThanOrEqualToThreshold'],
    ['Ops-Queue-OldestMessageAge-Critical', 'AWS/SQS', 'ApproximateAgeOfOldestMessage', 'Maximum', 60, 120, 'GreaterThanThreshold'],
    ['Ops-Verifier-Errors-Critical', 'AWS/Lambda', 'Errors', 'Sum', 300, 1, 'GreaterThanOrEqualToThreshold'],
    ['Ops-Verifier-Throttles-Warning', 'AWS/Lambda', 'Throttles', 'Sum', 300, 1, 'GreaterThanOrEqualToThreshold'],
    ['Ops-Verifier-DurationNearTimeout-Warning', 'AWS/Lambda', 'Duration', 'Maximum', 300, 8000, 'GreaterThanThreshold'],
    ['Ops-Processor-Errors-Warning', 'AWS/Lambda', 'Errors', 'Sum', 300, 1, 'GreaterThanOrEqualToThreshold'],
    ['Ops-Processor-Throttles-Warning', 'AWS/Lambda', 'Throttles', 'Sum', 300, 1, 'GreaterThanOrEqualToThreshold'],
    ['Ops-Processor-DurationNearTimeout-Warning', 'AWS/Lambda', 'Duration', 'Maximum', 300, 96_000, 'GreaterThanThreshold'],
    ['Ops-AlarmTopic-NotificationsFailed-Critical', 'AWS/SNS', 'NumberOfNotificationsFailed', 'Sum', 300, 1, 'GreaterThanOrEqualToThreshold'],
    ['Ops-Verifier-SignatureFailures-Warning', 'FaceSignWebhooks', 'SignatureFailures', 'Sum', 300, 10, 'GreaterThanThreshold'],
    ['Ops-Verifier-RequestsRejected-Critical', 'FaceSignWebhooks', 'RequestsRejected', 'Sum', 300, 1, 'GreaterThanOrEqualToThreshold'],
    ['Ops-Api-Throttled-Warning', 'FaceSignWebhooks', 'RequestsThrottled', 'Sum', 300, 1, 'GreaterThanOrEqualToThreshold'],
  ])('%s watches %s %s (%s, %is) against %d', (name, namespace, metric, statistic, period, threshold, comparison) => {
    expect(alarm(name)).toMatchObject({
      Namespace: namespace,
      MetricName: metric,
      Statistic: statistic,
      Period: period,
      Threshold: threshold,
      ComparisonOperator: comparison,
      EvaluationPeriods: 1,
    });
  });

  it('points each queue alarm at the right queue and each custom metric at its service and deployment', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    const dlqId = Object.keys(queues).find((id) => !queues[id].Properties.RedrivePolicy);
    const mainId = Object.keys(queues).find((id) => queues[id].Properties.RedrivePolicy);
    expect(alarm('Ops-DeadLetterQueue-VisibleMessages-Warning').Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }]);
    expect(alarm('Ops-Queue-OldestMessageAge-Critical').Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [mainId, 'QueueName'] } }]);
    const deployment = deploymentOf(template);
    expect(deployment).toBe('Ops/FaceSignWebhooks');
    expect(alarm('Ops-Verifier-SignatureFailures-Warning').Dimensions).toEqual(
      expect.arrayContaining([
        { Name: 'service', Value: 'facesign-verifier' },
        { Name: 'deployment', Value: deployment },
      ]),
    );
    expect(alarm('Ops-Verifier-RequestsRejected-Critical').Dimensions).toHaveLength(2);
    expect(alarm('Ops-Api-Throttled-Warning').Dimensions).toEqual([{ Name: 'deployment', Value: deployment }]);
  });

  it('pages on every new dead-letter message, also those SQS moves itself, not only on depth', () => {
    const a = alarm('Ops-DeadLetterQueue-NewMessages-Critical');
    expect(a).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 1 });
    const q = queries(a);
    // An idle DLQ's first depth point has no predecessor: the outer FILL gives it one (0).
    expect(q.change.Expression).toBe('DIFF(FILL(FILL(depth, REPEAT), 0))');
    // Each period's largest signal: a message the processor sends shows in all three, and counts once.
    expect(Object.values(q).find((m) => m.Expression && m.Id !== 'change')?.Expression).toBe(
      'MAX([FILL(sent, 0), FILL(failed, 0), FILL(IF(change > 0, change, 0), 0)])',
    );
    expect(q.sent.MetricStat).toMatchObject({ Metric: { Namespace: 'AWS/SQS', MetricName: 'NumberOfMessagesSent' }, Stat: 'Sum', Period: 60 });
    expect(q.depth.MetricStat).toMatchObject({
      Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible' },
      Stat: 'Maximum',
      Period: 60,
    });
    expect(q.failed.MetricStat).toMatchObject({ Metric: { Namespace: 'FaceSignWebhooks', MetricName: 'PermanentFailures' }, Stat: 'Sum', Period: 60 });
    expect(q.failed.MetricStat?.Metric.Dimensions).toEqual(expect.arrayContaining([{ Name: 'service', Value: 'facesign-processor' }]));
  });

  it.each(['Ops-Processor-EventsQuarantined-Critical', 'Ops-Processor-ConflictingDuplicates-Warning'])(
    '%s pages at 1, whichever function counts it',
    (name) => {
      const a = alarm(name);
      expect(a).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      const metricName = name.split('-')[2];
      const services = a.Metrics.filter((m: MetricQuery) => m.MetricStat).map((m: MetricQuery) => {
        expect(m.MetricStat?.Metric.MetricName).toBe(metricName);
        return m.MetricStat?.Metric.Dimensions?.find((d) => d.Name === 'service')?.Value;
      });
      expect(services.sort()).toEqual(['facesign-processor', 'facesign-verifier']);
    },
  );

  it('alarms on the API 5xx rate only with at least a minimum count, so one retried 503 pages no one', () => {
    const a = alarm('Ops-Api-ServerErrorRate-Critical');
    expect(a).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1 });
    const q = queries(a);
    expect(Object.values(q).find((m) => m.Expression)?.Expression).toBe('IF(requests > 0 AND errors >= 5, 100 * errors / requests, 0)');
    expect(q.requests.MetricStat).toMatchObject({ Metric: { Namespace: 'AWS/ApiGateway', MetricName: 'Count' }, Stat: 'Sum', Period: 300 });
    // The REST API door's metric (the HTTP API's is 5xx: test/lib/front-door.test.ts).
    expect(q.errors.MetricStat).toMatchObject({ Metric: { Namespace: 'AWS/ApiGateway', MetricName: '5XXError' }, Stat: 'Sum', Period: 300 });
    expect(Object.values(q).find((m) => m.Expression)?.Expression).toContain('errors >= 12'.replace('12', '5'));
    const custom = synth({ apiServerErrorMinimumCount: 12 });
    expect(Object.values(queries(alarmIn(custom, 'Ops-Api-ServerErrorRate-Critical'))).find((m) => m.Expression)?.Expression).toContain('errors >= 12');
  });

  it('alarms on API p99 latency in 2 of 3 periods, evaluating periods with few samples too', () => {
    expect(alarm('Ops-Api-LatencyP99-Warning')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Period: 300,
      Threshold: 1000,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluateLowSampleCountPercentile: 'evaluate',
    });
  });

  it('reads the duration and concurrency lines from the functions and the event source, not from copies', () => {
    const t = synth({ processorTimeout: Duration.minutes(5), processorMaxConcurrency: 25 });
    expect(alarmIn(t, 'Ops-Processor-DurationNearTimeout-Warning').Threshold).toBe(240_000);
    expect(alarmIn(t, 'Ops-Processor-ConcurrencyAtMaximum-Warning')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'ConcurrentExecutions',
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 25,
      EvaluationPeriods: 5,
    });
    const fns = Object.values(t.findResources('AWS::Lambda::Function')).map((f) => f.Properties.Timeout);
    expect(fns).toContain(300);
  });

  it('watches the idempotency table for throttles and system errors on every operation the processor calls', () => {
    const [tableId] = Object.keys(template.findResources('AWS::DynamoDB::Table'));
    for (const [name, metric] of [
      ['Ops-IdempotencyTable-Throttles-Warning', 'ThrottledRequests'],
      ['Ops-IdempotencyTable-SystemErrors-Warning', 'SystemErrors'],
    ]) {
      const stats = alarm(name)
        .Metrics.filter((m: MetricQuery) => m.MetricStat)
        .map((m: MetricQuery) => m.MetricStat!.Metric);
      expect(
        stats.map((m: { Dimensions?: Array<{ Name: string; Value: unknown }> }) => m.Dimensions?.find((d) => d.Name === 'Operation')?.Value).sort(),
      ).toEqual(['DeleteItem', 'GetItem', 'PutItem', 'UpdateItem']);
      for (const m of stats) {
        expect(m).toMatchObject({ Namespace: 'AWS/DynamoDB', MetricName: metric });
        expect(m.Dimensions).toContainEqual({ Name: 'TableName', Value: { Ref: tableId } });
      }
    }
  });

  it('counts throttles (429, or a THROTTLED or QUOTA_EXCEEDED gateway response) from the access log, whose lines name the deployment', () => {
    const [logGroupId] = Object.keys(template.findResources('AWS::Logs::LogGroup')).filter((id) => id.includes('AccessLog'));
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: logGroupId },
      FilterPattern: '{ ($.status = "429") || ($.responseType = "THROTTLED") || ($.responseType = "QUOTA_EXCEEDED") }',
      MetricTransformations: [
        {
          MetricNamespace: 'FaceSignWebhooks',
          MetricName: 'RequestsThrottled',
          MetricValue: '1',
          Dimensions: [{ Key: 'deployment', Value: '$.deployment' }],
          Unit: 'Count',
        },
      ],
    });
    const [stage] = Object.values(template.findResources('AWS::ApiGateway::Stage'));
    expect(JSON.parse(stage.Properties.AccessLogSetting.Format)).toMatchObject({ status: '$context.status', deployment: deploymentOf(template) });
  });

  it('takes thresholds, prefix, namespace, email and an existing topic from props, and changes nothing on that topic', () => {
    const app = new App({ context });
    const stack = new Stack(app, 'Custom');
    const topic = new sns.Topic(stack, 'Pager');
    new FaceSignWebhooks(stack, 'FaceSign', {
      existingAlarmTopicObj: topic,
      alarmEmail: 'oncall@example.com',
      alarmNamePrefix: 'kyc',
      metricsNamespace: 'Kyc/Webhooks',
      queueAgeAlarmThreshold: Duration.minutes(3),
      apiServerErrorRateThreshold: 2,
      apiLatencyP99Threshold: Duration.millis(750),
      signatureFailureAlarmThreshold: 50,
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.resourceCountIs('AWS::SNS::TopicPolicy', 0);
    // Only the construct's data key: no key for a topic that was passed in.
    t.resourceCountIs('AWS::KMS::Key', 1);
    t.hasResourceProperties('AWS::KMS::Key', { Description: Match.stringLikeRegexp('identity media') });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    const [pagerId] = Object.keys(t.findResources('AWS::SNS::Topic'));
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    expect(alarms.every((a) => a.AlarmName.startsWith('kyc-') && a.AlarmActions[0].Ref === pagerId)).toBe(true);
    const byName = (n: string) => alarms.find((a) => a.AlarmName === n);
    expect(byName('kyc-Queue-OldestMessageAge-Critical').Threshold).toBe(180);
    expect(byName('kyc-Api-ServerErrorRate-Critical').Threshold).toBe(2);
    expect(byName('kyc-Api-LatencyP99-Warning').Threshold).toBe(750);
    expect(byName('kyc-Verifier-SignatureFailures-Warning')).toMatchObject({ Threshold: 50, Namespace: 'Kyc/Webhooks' });
    const fns = Object.values(t.findResources('AWS::Lambda::Function')).map((f) => f.Properties.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE);
    // The verifier, the processor and the reverifier.
    expect(fns).toEqual(['Kyc/Webhooks', 'Kyc/Webhooks', 'Kyc/Webhooks']);
    // A topic with no policy of its own keeps SNS's default, which lets this account's alarms publish.
    const report = walkAlarmDelivery(t.toJSON() as never);
    expect(report.alarms).toBeGreaterThan(0);
    expect(report.problems).toEqual([]);
  });

  it.each<[string, FaceSignWebhooksProps, RegExp]>([
    // Each against its row of the settings table (contract/construct-settings.ts) by resolveSettings; the unit is named where a number alone is ambiguous.
    [
      'a queue-age threshold past the media URL life',
      { queueAgeAlarmThreshold: Duration.minutes(15) },
      /^queueAgeAlarmThreshold \(seconds\) must be an integer from 1 to 899, got 900$/,
    ],
    ['a fractional 5xx rate', { apiServerErrorRateThreshold: 2.5 }, /^apiServerErrorRateThreshold \(percent\) must be an integer from 1 to 100, got 2.5$/],
    ['a 5xx rate over 100%', { apiServerErrorRateThreshold: 150 }, /got 150/],
    ['a 5xx minimum count of 0', { apiServerErrorMinimumCount: 0 }, /^apiServerErrorMinimumCount must be an integer of at least 1, got 0$/],
    ['a fractional signature threshold', { signatureFailureAlarmThreshold: 2.5 }, /got 2.5/],
    ['an empty metrics namespace', { metricsNamespace: '' }, /^metricsNamespace must be non-empty and must not start with "AWS\/" .*, got ""$/],
    ['a blank metrics namespace', { metricsNamespace: '  ' }, /metricsNamespace must be non-empty.*, got "  "$/],
    ["a metrics namespace in CloudWatch's AWS/ space", { metricsNamespace: 'AWS/Lambda' }, /must not start with "AWS\/" .*, got "AWS\/Lambda"$/],
    ['an empty alarm name prefix', { alarmNamePrefix: '' }, /^alarmNamePrefix must not be empty: .*, got ""$/],
    [
      'a latency threshold of 0',
      { apiLatencyP99Threshold: Duration.seconds(0) },
      /^apiLatencyP99Threshold \(milliseconds\) must be an integer from 1 to 30000, got 0$/,
    ],
  ])('refuses %s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

describe('alarm topic: CloudWatch can deliver every alarm', () => {
  it('walks every alarm → action → topic → topic policy → key policy, and no link refuses CloudWatch', () => {
    const report = walkAlarmDelivery(structuredClone(template.toJSON()) as never);
    expect(report.alarms).toBeGreaterThanOrEqual(21);
    expect(report.actions).toBe(report.alarms * 2);
    expect(report.problems).toEqual([]);
  });

  it('also with consumer alarms, a named topic and a key of the app', () => {
    const app = new App({ context });
    const stack = new FaceSignWebhooksStack(app, 'Keyed', {
      webhooks: { alarmTopicProps: { topicName: 'pager', masterKey: new kms.Key(new Stack(app, 'Keys'), 'Mine') } },
    });
    stack.webhooks.onEvent('OnSessionStatus', { eventTypes: ['session.status'], target: new targets.SqsQueue(new sqs.Queue(stack, 'Consumer')) });
    // The key lives in another stack of the app: its policy gets the statement, the walk reads it there.
    const keys = Template.fromStack(app.node.findChild('Keys') as Stack).toJSON();
    const t = Template.fromStack(stack).toJSON();
    const [keyId] = Object.keys(keys.Resources);
    const merged = { Resources: { ...t.Resources, ...keys.Resources } };
    // Cross-stack import of the key ARN, rendered as the key itself for the walk.
    const topic = Object.values(merged.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>).find(
      (r) => r.Type === 'AWS::SNS::Topic',
    );
    topic!.Properties.KmsMasterKeyId = { 'Fn::GetAtt': [keyId, 'Arn'] };
    const report = walkAlarmDelivery(merged as never);
    expect(report.alarms).toBe(33);
    expect(report.problems).toEqual([]);
  });

  it('would catch the original fault: an SSL-only topic policy with no Allow for CloudWatch', () => {
    const t = structuredClone(template.toJSON());
    for (const r of Object.values(t.Resources as Record<string, { Type: string; Properties: { PolicyDocument: { Statement: Array<{ Effect: string }> } } }>)) {
      if (r.Type === 'AWS::SNS::TopicPolicy') r.Properties.PolicyDocument.Statement = r.Properties.PolicyDocument.Statement.filter((s) => s.Effect === 'Deny');
    }
    const report = walkAlarmDelivery(t as never);
    expect(report.problems.length).toBe(report.actions);
    expect(report.problems[0]).toMatch(/topic policy of .*: sns:Publish not allowed/);
  });

  it('would catch a key CloudWatch may not use, another account in a condition, and a foreign alarm name', () => {
    const keyless = structuredClone(template.toJSON());
    for (const r of Object.values(
      keyless.Resources as Record<string, { Type: string; Properties: { KeyPolicy: { Statement: Array<{ Principal: unknown }> } } }>,
    )) {
      if (r.Type === 'AWS::KMS::Key')
        r.Properties.KeyPolicy.Statement = r.Properties.KeyPolicy.Statement.filter((s) => JSON.stringify(s.Principal).includes(':root'));
    }
    expect(walkAlarmDelivery(keyless as never).problems[0]).toMatch(/key policy of .*: kms:GenerateDataKey not allowed/);

    const managed = structuredClone(template.toJSON());
    for (const r of Object.values(managed.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>)) {
      if (r.Type === 'AWS::SNS::Topic') r.Properties.KmsMasterKeyId = 'alias/aws/sns';
    }
    expect(walkAlarmDelivery(managed as never).problems[0]).toMatch(/alias\/aws\/sns/);

    const renamed = structuredClone(template.toJSON());
    const [someAlarm] = Object.values(renamed.Resources as Record<string, { Type: string; Properties: { AlarmName: string } }>).filter(
      (r) => r.Type === 'AWS::CloudWatch::Alarm',
    );
    someAlarm.Properties.AlarmName = 'Other-Thing-Critical';
    expect(walkAlarmDelivery(renamed as never).problems).toEqual([
      expect.stringMatching(/^Other-Thing-Critical: topic policy .* not allowed/),
      expect.stringMatching(/^Other-Thing-Critical: topic policy .* not allowed/),
    ]);
  });

  it("checks the conditions: a stack deployed to another account than the alarms' refuses them", () => {
    const app = new App({ context });
    const elsewhere = Template.fromStack(new FaceSignWebhooksStack(app, 'Ops', { env: { account: '999999999999', region: 'eu-west-1' } }));
    const report = walkAlarmDelivery(structuredClone(elsewhere.toJSON()) as never);
    expect(report.problems.length).toBe(report.actions * 3);
    expect(report.problems).toContainEqual(expect.stringMatching(/topic policy .*sns:Publish not allowed/));
    expect(report.problems).toContainEqual(expect.stringMatching(/key policy .*kms:Decrypt not allowed/));
  });

  it("lets CloudWatch publish only for this account's alarms with the prefix, beside the SSL Deny", () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:Ops-*']],
                },
              },
            },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });

  it('warns when the given masterKey cannot be changed from here', () => {
    const app = new App({ context });
    const stack = new Stack(app, 'Imported');
    new FaceSignWebhooks(stack, 'FaceSign', { alarmTopicProps: { masterKey: kms.Key.fromKeyArn(stack, 'K', 'arn:aws:kms:eu-west-1:111122223333:key/abc') } });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('must allow cloudwatch.amazonaws.com kms:Decrypt'));
  });
});

describe('deployments kept apart', () => {
  /** Every custom-metric identity a stack publishes or watches: namespace, name, dimensions. */
  function identities(t: Template) {
    const published = new Set<string>();
    const watched = new Set<string>();
    const id = (ns: string, name: string, dims: Record<string, string>) => `${ns}|${name}|${JSON.stringify(Object.entries(dims).sort())}`;
    for (const a of Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties)) {
      const stats = a.MetricName
        ? [{ Namespace: a.Namespace, MetricName: a.MetricName, Dimensions: a.Dimensions }]
        : a.Metrics.filter((m: MetricQuery) => m.MetricStat).map((m: MetricQuery) => m.MetricStat!.Metric);
      for (const m of stats) {
        if (m.Namespace.startsWith('AWS/')) continue;
        watched.add(id(m.Namespace, m.MetricName, Object.fromEntries((m.Dimensions ?? []).map((d: { Name: string; Value: string }) => [d.Name, d.Value]))));
      }
    }
    for (const fn of Object.values(t.findResources('AWS::Lambda::Function')).map((f) => f.Properties.Environment.Variables)) {
      published.add(`${fn.POWERTOOLS_METRICS_NAMESPACE}|*|service=${fn.POWERTOOLS_SERVICE_NAME},deployment=${fn[ENV.metricsDeployment]}`);
    }
    const [stage] = Object.values(t.findResources('AWS::ApiGateway::Stage'));
    const accessLog = JSON.parse(stage.Properties.AccessLogSetting.Format);
    for (const f of Object.values(t.findResources('AWS::Logs::MetricFilter')).map((r) => r.Properties.MetricTransformations[0])) {
      const dims = Object.fromEntries(f.Dimensions.map((d: { Key: string; Value: string }) => [d.Key, accessLog[d.Value.replace('$.', '')]]));
      published.add(id(f.MetricNamespace, f.MetricName, dims));
    }
    const [dashboard] = Object.values(t.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    const searches = body.match(/SEARCH\([^)]*\)/g) ?? [];
    return { published, watched, searches };
  }

  it('gives two stacks of one app no custom metric identity in common, and each watches what it publishes', () => {
    const app = new App({ context });
    const stagingStack = new FaceSignWebhooksStack(app, 'Staging');
    const productionStack = new FaceSignWebhooksStack(app, 'Production');
    const staging = Template.fromStack(stagingStack);
    const production = Template.fromStack(productionStack);
    const a = identities(staging);
    const b = identities(production);
    expect(a.watched.size).toBeGreaterThan(5);
    // The three functions' series and the access log's 429 count.
    expect(a.published.size).toBe(4);
    for (const x of [...a.watched, ...a.published]) expect(b.watched.has(x) || b.published.has(x), x).toBe(false);
    expect(a.searches.length).toBeGreaterThan(3);
    for (const s of a.searches) expect(s).toContain('deployment=\\\\\\"Staging/FaceSignWebhooks\\\\\\"');
    for (const s of b.searches) expect(s).toContain('deployment=\\\\\\"Production/FaceSignWebhooks\\\\\\"');
    // Alarms watch the series the handlers write: same namespace, same service and deployment.
    for (const w of a.watched) {
      const dims = Object.fromEntries(JSON.parse(w.split('|')[2])) as Record<string, string>;
      expect(dims.deployment).toBe('Staging/FaceSignWebhooks');
      if (dims.service) expect([...a.published].some((p) => p.includes(`service=${dims.service},deployment=${dims.deployment}`))).toBe(true);
    }
    expect(new Set(Object.values(staging.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties.AlarmName.split('-')[0]))).toEqual(
      new Set(['Staging']),
    );
  });

  it('keeps two constructs in one stack apart too', () => {
    const app = new App({ context });
    const stack = new Stack(app, 'Shared');
    new FaceSignWebhooks(stack, 'Kyc', { alarmNamePrefix: 'kyc' });
    new FaceSignWebhooks(stack, 'Aml', { alarmNamePrefix: 'aml' });
    const deployments = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).map(
      (f) => f.Properties.Environment.Variables[ENV.metricsDeployment],
    );
    expect(new Set(deployments)).toEqual(new Set(['Shared/Kyc', 'Shared/Aml']));
  });

  it('refuses two constructs in one stack whose alarms would share names', () => {
    const app = new App({ context });
    const stack = new Stack(app, 'Twice');
    new FaceSignWebhooks(stack, 'Kyc');
    expect(() => new FaceSignWebhooks(stack, 'Aml')).toThrow(
      'two FaceSignWebhooks in stack Twice would name their alarms alike; give each its own alarmNamePrefix, got "Twice" twice',
    );
  });
});

describe('onEvent consumers', () => {
  function consumerStack() {
    const app = new App({ context });
    const stack = new FaceSignWebhooksStack(app, 'Ops');
    const queue = new sqs.Queue(stack, 'Consumer', { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED });
    const rule = stack.webhooks.onEvent('OnSessionStatus', { eventTypes: ['session.status'], target: new targets.SqsQueue(queue) });
    return { app, stack, rule };
  }

  it('gives a target a dead-letter queue EventBridge may send to, and a retry policy', () => {
    const { stack } = consumerStack();
    const t = Template.fromStack(stack);
    const [ruleId] = Object.keys(t.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['facesign.webhooks'] } } }));
    const dlqs = t.findResources('AWS::SQS::Queue', { Properties: { MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true } });
    const dlqId = Object.keys(dlqs).find((id) => id.includes('OnSessionStatusDeadLetterQueue'));
    expect(dlqId).toBeDefined();
    t.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        }),
      ],
    });
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
          }),
        ]),
      },
    });
  });

  it("leaves a target's own dead-letter queue and retry policy alone, and takes an id", () => {
    const app = new App({ context });
    const stack = new FaceSignWebhooksStack(app, 'Ops');
    const own = new sqs.Queue(stack, 'OwnDlq');
    stack.webhooks.onEvent('Photos', {
      eventTypes: ['media.user_photo'],
      target: new targets.SqsQueue(new sqs.Queue(stack, 'Consumer'), { deadLetterQueue: own, retryAttempts: 3 }),
    });
    const t = Template.fromStack(stack);
    expect(Object.keys(t.findResources('AWS::SQS::Queue')).some((id) => id.includes('DeadLetterQueue') && id.includes('Photos'))).toBe(false);
    t.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({ DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('OwnDlq'), 'Arn'] } }, RetryPolicy: { MaximumRetryAttempts: 3 } }),
      ],
    });
    alarmIn(t, 'Ops-ConsumerPhotos-FailedDeliveries-Critical');
    expect(() => stack.webhooks.onEvent('Photos', { eventTypes: ['session.status'], target: new targets.SqsQueue(new sqs.Queue(stack, 'Q2')) })).toThrow(
      'onEvent id "Photos" is already taken',
    );
    expect(() => stack.webhooks.onEvent('bad id', { eventTypes: ['session.status'], target: new targets.SqsQueue(new sqs.Queue(stack, 'Q3')) })).toThrow(
      'got "bad id"',
    );
  });

  it('pages on the first event a consumer could not take, on both metric forms EventBridge uses', () => {
    const { stack, rule } = consumerStack();
    const t = Template.fromStack(stack);
    const a = alarmIn(t, 'Ops-ConsumerOnSessionStatus-FailedDeliveries-Critical');
    expect(a).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    const all = a.Metrics.filter((m: MetricQuery) => m.MetricStat).map((m: MetricQuery) => m.MetricStat!.Metric);
    // Every message reaching the consumer's dead-letter queue, also a Lambda target's on-failure record.
    expect(all.filter((m: { Namespace: string }) => m.Namespace === 'AWS/SQS').map((m: { MetricName: string }) => m.MetricName)).toEqual([
      'NumberOfMessagesSent',
    ]);
    const stats = all.filter((m: { Namespace: string }) => m.Namespace === 'AWS/Events');
    expect(stats.map((m: { MetricName: string }) => m.MetricName).sort()).toEqual([
      'FailedInvocations',
      'FailedInvocations',
      'InvocationsFailedToBeSentToDlq',
      'InvocationsFailedToBeSentToDlq',
      'InvocationsSentToDlq',
      'InvocationsSentToDlq',
    ]);
    // The bare rule name, also for a rule on a custom bus, whose Ref is `<bus>|<rule>`: the metrics
    // carry the bare name. Element 1 of `Ref|Ref` split on `|` is the rule name either way.
    const ruleRef = stack.resolve(rule.ruleName);
    const bareName = { 'Fn::Select': [1, { 'Fn::Split': ['|', { 'Fn::Join': ['|', [ruleRef, ruleRef]] }] }] };
    for (const m of stats) expect(m.Dimensions).toContainEqual({ Name: 'RuleName', Value: bareName });
    for (const ref of ['facesign-bus|on-status', 'on-status']) expect(`${ref}|${ref}`.split('|')[1]).toBe('on-status');
    expect(stats.filter((m: { Dimensions: Array<{ Name: string }> }) => m.Dimensions.some((d) => d.Name === 'EventBusName'))).toHaveLength(3);
    expect(stack.webhooks.monitoring.alarms.consumerOnSessionStatus).toBeDefined();
    const [dlqId] = Object.keys(t.findResources('AWS::SQS::Queue')).filter((id) => id.includes('OnSessionStatusDeadLetterQueue'));
    expect(alarmIn(t, 'Ops-ConsumerOnSessionStatus-DeadLetterAge-Critical')).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Statistic: 'Maximum',
      Threshold: 12 * 86400,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
    });
    const report = walkAlarmDelivery(t.toJSON() as never);
    expect(report.alarms).toBe(33);
    expect(report.problems).toEqual([]);
  });

  it('keeps every published event in an archive for replay, 14 days unless told otherwise', () => {
    const [busId] = Object.keys(template.findResources('AWS::Events::EventBus'));
    template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: { 'Fn::GetAtt': [busId, 'Arn'] },
      EventPattern: { source: ['facesign.webhooks'] },
      RetentionDays: 14,
    });
    synth({ eventArchiveRetention: Duration.days(30) }).hasResourceProperties('AWS::Events::Archive', { RetentionDays: 30 });
  });

  it('stays clean under cdk-nag with a consumer', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'facesign-nag-consumer-'));
    const app = new App({ outdir, context });
    const stack = new FaceSignWebhooksStack(app, 'Nag');
    stack.webhooks.onEvent('OnSessionStatus', {
      eventTypes: ['session.status'],
      target: new targets.SqsQueue(
        new sqs.Queue(stack, 'Consumer', {
          enforceSSL: true,
          deadLetterQueue: { queue: new sqs.Queue(stack, 'ConsumerDlq', { enforceSSL: true }), maxReceiveCount: 5 },
        }),
      ),
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    app.synth();
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string; violatingConstructs: unknown }> }>;
    };
    const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
    // The consumer's own queues are the test's, not the construct's; everything the construct made is clean.
    const ours = (nag?.violations ?? []).filter((v) => !JSON.stringify(v.violatingConstructs).includes('/Consumer'));
    expect(ours).toEqual([]);
  });
});

describe('handlers are observable', () => {
  it.each(['facesign-verifier', 'facesign-processor'])('%s has active X-Ray tracing, the metrics namespace and the deployment', (service) => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: service,
          POWERTOOLS_METRICS_NAMESPACE: 'FaceSignWebhooks',
          [ENV.metricsDeployment]: 'Ops/FaceSignWebhooks',
        }),
      },
    });
  });
});

describe('dashboard', () => {
  const body = (t: Template = template) => {
    const [dashboard] = Object.values(t.findResources('AWS::CloudWatch::Dashboard'));
    // The body is a Fn::Join of strings and tokens; rendering tokens as placeholders leaves valid JSON.
    const parts = dashboard.Properties.DashboardBody['Fn::Join'][1] as unknown[];
    return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('')) as {
      widgets: Array<{
        type: string;
        properties: {
          title: string;
          metrics?: unknown[][];
          alarms?: unknown[];
          annotations?: { horizontal?: Array<{ value: number; label: string; yAxis?: string }> };
        };
      }>;
    };
  };
  const widget = (title: string, t?: Template) => {
    const found = body(t).widgets.find((w) => w.properties.title === title);
    expect(found, title).toBeDefined();
    return found!;
  };

  it('answers "is it healthy, and if not, where" with these widgets, alarm status first', () => {
    const widgets = body().widgets;
    expect(widgets.map((w) => w.properties.title)).toEqual([
      'Alarms',
      'Received vs archived (5 min)',
      'Dead letters: new (1 min) and total',
      'Authentic deliveries refused (5 min)',
      'Oldest queued event (s)',
      'Media URL headroom (min, s)',
      'Webhook requests: 2xx / 4xx / 5xx',
      'Webhook latency',
      'Events received by type',
      'Refused and failed requests by reason',
      'Quarantined and conflicting deliveries',
      'Signature timing',
      'Queue depth and oldest message age',
      'Dead-letter queue: depth and oldest message age',
      'Media stored',
      'Verifier duration',
      'Processor duration',
      'Processor errors, throttles and concurrency',
      'Events processed by type',
      'Duplicates skipped',
      'Failures by reason',
      'Idempotency table: throttled requests',
      'Idempotency table: system errors and latency',
      'Alarm notifications',
    ]);
    expect(widgets[0].type).toBe('alarm');
    expect(widgets[0].properties.alarms).toHaveLength(31);
  });

  it('gives each function its own duration axis, with its timeout and the alarm line', () => {
    expect(widget('Verifier duration').properties.annotations?.horizontal).toEqual([
      expect.objectContaining({ value: 10_000, label: 'timeout (10 s)' }),
      expect.objectContaining({ value: 8000, label: 'alarm (80%)' }),
    ]);
    expect(widget('Processor duration').properties.annotations?.horizontal).toEqual([
      expect.objectContaining({ value: 120_000, label: 'timeout (120 s)' }),
      expect.objectContaining({ value: 96_000, label: 'alarm (80%)' }),
    ]);
    for (const title of ['Verifier duration', 'Processor duration']) {
      const lines = widget(title).properties.metrics ?? [];
      expect(lines.map((l) => l.slice(0, 2))).toEqual([
        ['AWS/Lambda', 'Duration'],
        ['AWS/Lambda', 'Duration'],
        ['AWS/Lambda', 'Duration'],
      ]);
    }
  });

  it('draws max concurrency on the concurrency axis', () => {
    expect(widget('Processor errors, throttles and concurrency').properties.annotations?.horizontal).toEqual([
      expect.objectContaining({ value: 20, label: 'maxConcurrency (20)', yAxis: 'right' }),
    ]);
  });

  it('answers "are we losing anything?" in its first row: one number per loss signal, new dead letters counted once', () => {
    const row = body().widgets.slice(1, 6);
    expect(row.every((w) => w.type === 'metric' && (w.properties as { view?: string }).view === 'singleValue')).toBe(true);
    const metrics = (title: string) => JSON.stringify(widget(title).properties.metrics);
    expect(metrics('Received vs archived (5 min)')).toMatch(/"EventsReceived".*"EventsProcessed"/);
    // One line per period, the largest of the three signals: a message the processor sends shows in all three.
    expect(metrics('Dead letters: new (1 min) and total')).toContain('MAX([FILL(sent, 0), FILL(failed, 0), FILL(IF(change > 0, change, 0), 0)])');
    expect(metrics('Dead letters: new (1 min) and total')).toContain('ApproximateNumberOfMessagesVisible');
    expect(metrics('Authentic deliveries refused (5 min)')).toContain('"RequestsRejected"');
    // The time a signed URL had left when its download finished: the least over the period is the risk.
    expect(metrics('Media URL headroom (min, s)')).toMatch(/"MediaUrlHeadroom".*"stat":"Minimum"/);
  });

  it('draws the queue age against the 15-minute media URL life and the alarm line', () => {
    expect(widget('Queue depth and oldest message age').properties.annotations?.horizontal).toEqual([
      expect.objectContaining({ value: 900, label: 'media URLs expire (15 min)', yAxis: 'right' }),
      expect.objectContaining({ value: 120, label: 'alarm', yAxis: 'right' }),
    ]);
  });

  it('breaks signature failures, events and failures down by dimension with SEARCH, within this deployment', () => {
    const text = JSON.stringify(body());
    const search = (name: string, dimension: string, service: string) =>
      `SEARCH('{FaceSignWebhooks,${dimension},deployment,service} MetricName=\\"${name}\\" service=\\"${service}\\" deployment=\\"Ops/FaceSignWebhooks\\"', 'Sum', 300)`;
    expect(text).toContain(search('SignatureFailures', 'Reason', 'facesign-verifier'));
    expect(text).toContain(search('EventsReceived', 'EventType', 'facesign-verifier'));
    expect(text).toContain(search('RequestsFailed', 'Reason', 'facesign-verifier'));
    expect(text).toContain(search('RequestsRejected', 'Reason', 'facesign-verifier'));
    expect(text).toContain(search('PermanentFailures', 'Reason', 'facesign-processor'));
    for (const name of [
      'MediaBytesStored',
      'DuplicatesSkipped',
      'ConcurrentExecutions',
      'RequestsThrottled',
      'EventsQuarantined',
      'ConflictingDuplicates',
      'TimestampHeaderMismatches',
      'SignatureAge',
      'ThrottledRequests',
      'SystemErrors',
    ]) {
      expect(text, name).toContain(`"${name}"`);
    }
  });

  it('adds a consumer widget and the consumer alarm when onEvent is called', () => {
    const app = new App({ context });
    const stack = new FaceSignWebhooksStack(app, 'Ops');
    stack.webhooks.onEvent('OnSessionStatus', { eventTypes: ['session.status'], target: new targets.SqsQueue(new sqs.Queue(stack, 'Consumer')) });
    stack.webhooks.onEvent('OnSessionStatus2', { eventTypes: ['session.status'], target: new targets.SqsQueue(new sqs.Queue(stack, 'Second')) });
    const t = Template.fromStack(stack);
    const w = widget('EventBridge consumers: failed deliveries and dead letters', t);
    expect(JSON.stringify(w.properties.metrics)).toContain('InvocationsSentToDlq');
    expect(body(t).widgets[0].properties.alarms).toHaveLength(35);
    alarmIn(t, 'Ops-ConsumerOnSessionStatus2-FailedDeliveries-Critical');
  });

  it('is linked from the stack outputs with the alarm topic', () => {
    const outputs = template.findOutputs('*');
    expect(JSON.stringify(outputs.DashboardUrl.Value)).toContain('#dashboards/dashboard/');
    expect(outputs.AlarmTopicArn).toBeDefined();
  });
});
