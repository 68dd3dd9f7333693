import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { FaceSignWebhooks, FaceSignWebhooksStack, type FaceSignWebhooksProps } from '../../lib';

function synth(props?: FaceSignWebhooksProps, stackName = 'Ops'): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new FaceSignWebhooksStack(app, stackName, { webhooks: props }));
}

const template = synth();
const topicRef = () => {
  const [id] = Object.keys(template.findResources('AWS::SNS::Topic'));
  return { Ref: id };
};
function alarm(name: string) {
  const found = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: name } }));
  expect(found, name).toHaveLength(1);
  return found[0].Properties;
}

describe('alarms', () => {
  it('has exactly the ten documented alarms, each named <prefix>-<resource>-<metric>-<severity>', () => {
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName).sort();
    expect(names).toEqual([
      'Ops-Api-LatencyP99-Warning',
      'Ops-Api-ServerErrorRate-Critical',
      'Ops-DeadLetterQueue-VisibleMessages-Critical',
      'Ops-Processor-Errors-Critical',
      'Ops-Processor-PermanentFailures-Warning',
      'Ops-Processor-Throttles-Warning',
      'Ops-Queue-OldestMessageAge-Critical',
      'Ops-Verifier-Errors-Critical',
      'Ops-Verifier-SignatureFailures-Warning',
      'Ops-Verifier-Throttles-Warning',
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

  it.each([
    ['Ops-DeadLetterQueue-VisibleMessages-Critical', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum', 60, 1, 'GreaterThanOrEqualToThreshold'],
    ['Ops-Queue-OldestMessageAge-Critical', 'AWS/SQS', 'ApproximateAgeOfOldestMessage', 'Maximum', 60, 300, 'GreaterThanThreshold'],
    ['Ops-Verifier-Errors-Critical', 'AWS/Lambda', 'Errors', 'Sum', 300, 1, 'GreaterThanOrEqualToThreshold'],
    ['Ops-Verifier-Throttles-Warning', 'AWS/Lambda', 'Throttles', 'Sum', 300, 1, 'GreaterThanOrEqualToThreshold'],
    ['Ops-Processor-Errors-Critical', 'AWS/Lambda', 'Errors', 'Sum', 300, 1, 'GreaterThanOrEqualToThreshold'],
    ['Ops-Processor-Throttles-Warning', 'AWS/Lambda', 'Throttles', 'Sum', 300, 1, 'GreaterThanOrEqualToThreshold'],
    ['Ops-Verifier-SignatureFailures-Warning', 'FaceSignWebhooks', 'SignatureFailures', 'Sum', 300, 10, 'GreaterThanThreshold'],
    ['Ops-Processor-PermanentFailures-Warning', 'FaceSignWebhooks', 'PermanentFailures', 'Sum', 300, 1, 'GreaterThanOrEqualToThreshold'],
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

  it('points each queue alarm at the right queue and each custom metric at the right service', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    const dlqId = Object.keys(queues).find((id) => !queues[id].Properties.RedrivePolicy);
    const mainId = Object.keys(queues).find((id) => queues[id].Properties.RedrivePolicy);
    expect(alarm('Ops-DeadLetterQueue-VisibleMessages-Critical').Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }]);
    expect(alarm('Ops-Queue-OldestMessageAge-Critical').Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [mainId, 'QueueName'] } }]);
    expect(alarm('Ops-Verifier-SignatureFailures-Warning').Dimensions).toEqual([{ Name: 'service', Value: 'facesign-verifier' }]);
    expect(alarm('Ops-Processor-PermanentFailures-Warning').Dimensions).toEqual([{ Name: 'service', Value: 'facesign-processor' }]);
  });

  it('alarms on the API 5xx rate as a percentage of requests, not a raw count', () => {
    const a = alarm('Ops-Api-ServerErrorRate-Critical');
    expect(a).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1 });
    const expression = a.Metrics.find((m: { Expression?: string }) => m.Expression);
    expect(expression.Expression).toBe('IF(requests > 0, 100 * errors / requests, 0)');
    const byId = Object.fromEntries(a.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).map((m: { Id: string; MetricStat: { Metric: { MetricName: string; Namespace: string }; Stat: string; Period: number } }) => [m.Id, m.MetricStat]));
    expect(byId.requests).toMatchObject({ Metric: { Namespace: 'AWS/ApiGateway', MetricName: 'Count' }, Stat: 'Sum', Period: 300 });
    expect(byId.errors).toMatchObject({ Metric: { Namespace: 'AWS/ApiGateway', MetricName: '5xx' }, Stat: 'Sum', Period: 300 });
  });

  it('alarms on API p99 latency in 2 of 3 periods', () => {
    expect(alarm('Ops-Api-LatencyP99-Warning')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Period: 300,
      Threshold: 1000,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('takes thresholds, prefix, namespace, email and an existing topic from props', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
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
    expect(fns).toEqual(['Kyc/Webhooks', 'Kyc/Webhooks']);
  });

  it.each<[string, FaceSignWebhooksProps, RegExp]>([
    ['a queue-age threshold past the media URL life', { queueAgeAlarmThreshold: Duration.minutes(15) }, /under 15 minutes.*got 900 s/],
    ['a 5xx rate over 100%', { apiServerErrorRateThreshold: 150 }, /got 150/],
    ['a fractional signature threshold', { signatureFailureAlarmThreshold: 2.5 }, /got 2.5/],
  ])('refuses %s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

describe('alarm topic', () => {
  it('is encrypted with a rotating customer-managed key that CloudWatch may use, and SSL-only', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('handlers are observable', () => {
  it.each(['facesign-verifier', 'facesign-processor'])('%s has active X-Ray tracing and the metrics namespace', (service) => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: service, POWERTOOLS_METRICS_NAMESPACE: 'FaceSignWebhooks' }) },
    });
  });
});

describe('dashboard', () => {
  const body = () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    // The body is a Fn::Join of strings and tokens; rendering tokens as placeholders leaves valid JSON.
    const parts = dashboard.Properties.DashboardBody['Fn::Join'][1] as unknown[];
    return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('')) as {
      widgets: Array<{ type: string; properties: { title: string; metrics?: unknown[][]; alarms?: unknown[]; annotations?: { horizontal?: Array<{ value: number; label: string }> } } }>;
    };
  };

  it('answers "is it healthy, and if not, where" with these widgets, alarm status first', () => {
    const widgets = body().widgets;
    expect(widgets.map((w) => w.properties.title)).toEqual([
      'Alarms',
      'Webhook requests: 2xx / 4xx / 5xx',
      'Webhook latency',
      'Refused and failed requests by reason',
      'Events received by type',
      'Queue depth and oldest message age',
      'Dead-letter queue depth',
      'Processor duration',
      'Processor errors, throttles and concurrency',
      'Events processed by type',
      'Duplicates skipped',
      'Failures by reason',
      'Media stored',
    ]);
    expect(widgets[0].type).toBe('alarm');
    expect(widgets[0].properties.alarms).toHaveLength(10);
  });

  it('draws the queue age against the 15-minute media URL life and the alarm line', () => {
    const queue = body().widgets.find((w) => w.properties.title === 'Queue depth and oldest message age');
    expect(queue?.properties.annotations?.horizontal).toEqual([
      expect.objectContaining({ value: 900, label: 'media URLs expire (15 min)', yAxis: 'right' }),
      expect.objectContaining({ value: 300, label: 'alarm', yAxis: 'right' }),
    ]);
  });

  it('breaks signature failures, events and failures down by dimension with SEARCH', () => {
    const text = JSON.stringify(body());
    expect(text).toContain(`SEARCH('{FaceSignWebhooks,Reason,service} MetricName=\\"SignatureFailures\\" service=\\"facesign-verifier\\"', 'Sum', 300)`);
    expect(text).toContain(`SEARCH('{FaceSignWebhooks,EventType,service} MetricName=\\"EventsReceived\\" service=\\"facesign-verifier\\"', 'Sum', 300)`);
    expect(text).toContain(`SEARCH('{FaceSignWebhooks,Reason,service} MetricName=\\"RequestsFailed\\" service=\\"facesign-verifier\\"', 'Sum', 300)`);
    expect(text).toContain(`SEARCH('{FaceSignWebhooks,Reason,service} MetricName=\\"RequestsRejected\\" service=\\"facesign-verifier\\"', 'Sum', 300)`);
    expect(text).toContain(`SEARCH('{FaceSignWebhooks,Reason,service} MetricName=\\"PermanentFailures\\" service=\\"facesign-processor\\"', 'Sum', 300)`);
    expect(text).toContain('"MediaBytesStored"');
    expect(text).toContain('"DuplicatesSkipped"');
    expect(text).toContain('"ConcurrentExecutions"');
  });

  it('is linked from the stack outputs with the alarm topic', () => {
    const outputs = template.findOutputs('*');
    expect(JSON.stringify(outputs.DashboardUrl.Value)).toContain('#dashboards/dashboard/');
    expect(outputs.AlarmTopicArn).toBeDefined();
  });
});
