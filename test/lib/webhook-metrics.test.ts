import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { DEPLOYMENT_DIMENSION, METRIC, SERVICE } from '../../contract/metric-names';
import { FaceSignWebhooks, FaceSignWebhooksStack, type FaceSignWebhooksProps } from '../../lib';
import { ENV } from '../../contract/function-environment';

const context = { 'aws:cdk:bundling-stacks': [] };

function setup(props?: FaceSignWebhooksProps) {
  const app = new App({ context });
  const stack = new FaceSignWebhooksStack(app, 'Ops', { webhooks: props });
  return { stack, webhooks: stack.webhooks };
}

/** What the handlers are told to put in the `deployment` dimension. */
function deploymentOf(stack: Stack): string {
  const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0];
  return fn.Properties.Environment.Variables[ENV.metricsDeployment] as string;
}

/** The publisher of each metric, written out here rather than read from lib, so a wrong one fails. */
const EXPECTED: Record<string, { service?: string; statistic: string }> = {
  EventsReceived: { service: SERVICE.verifier, statistic: 'Sum' },
  SignatureFailures: { service: SERVICE.verifier, statistic: 'Sum' },
  RequestsRejected: { service: SERVICE.verifier, statistic: 'Sum' },
  RequestsFailed: { service: SERVICE.verifier, statistic: 'Sum' },
  WrongSecretSuspected: { service: SERVICE.verifier, statistic: 'Sum' },
  DeliveriesHeld: { service: SERVICE.verifier, statistic: 'Sum' },
  HoldsDropped: { service: SERVICE.verifier, statistic: 'Sum' },
  SignatureAge: { service: SERVICE.verifier, statistic: 'Maximum' },
  TimestampHeaderMismatches: { service: SERVICE.verifier, statistic: 'Sum' },
  EventsQuarantined: { service: SERVICE.processor, statistic: 'Sum' },
  EventsProcessed: { service: SERVICE.processor, statistic: 'Sum' },
  DuplicatesSkipped: { service: SERVICE.processor, statistic: 'Sum' },
  ConflictingDuplicates: { service: SERVICE.processor, statistic: 'Sum' },
  PermanentFailures: { service: SERVICE.processor, statistic: 'Sum' },
  TransientFailures: { service: SERVICE.processor, statistic: 'Sum' },
  MediaBytesStored: { service: SERVICE.processor, statistic: 'Sum' },
  MediaDownloadTime: { service: SERVICE.processor, statistic: 'p99' },
  MediaUrlHeadroom: { service: SERVICE.processor, statistic: 'Minimum' },
  RequestsThrottled: { statistic: 'Sum' },
};

type MetricMethod = (props?: cloudwatch.MetricOptions) => cloudwatch.Metric;
const method = (webhooks: FaceSignWebhooks, name: string) => (webhooks as unknown as Record<string, MetricMethod | undefined>)[`metric${name}`];

describe('metricXxx methods', () => {
  it('exist for every metric in METRIC, each with its namespace, service, deployment and statistic', () => {
    const { stack, webhooks } = setup({ metricsNamespace: 'Kyc' });
    const deployment = deploymentOf(stack);
    expect(deployment).toBe('Ops/FaceSignWebhooks');
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.values(METRIC).sort());
    for (const name of Object.values(METRIC)) {
      const fn = method(webhooks, name);
      expect(fn, `metric${name}`).toBeTypeOf('function');
      const metric = fn!.call(webhooks);
      const { service, statistic } = EXPECTED[name];
      expect(metric.namespace, name).toBe('Kyc');
      expect(metric.metricName, name).toBe(name);
      expect(metric.dimensions, name).toEqual({ ...(service ? { service } : {}), [DEPLOYMENT_DIMENSION]: deployment });
      expect(metric.statistic, name).toBe(statistic);
      expect(metric.period.toSeconds(), name).toBe(300);
    }
  });

  it('use the default namespace when none is given', () => {
    const { webhooks } = setup();
    expect(webhooks.metricEventsReceived().namespace).toBe('FaceSignWebhooks');
  });

  it('take options, and add dimensions to service and deployment rather than replace them', () => {
    const { stack, webhooks } = setup();
    const metric = webhooks.metricEventsReceived({
      dimensionsMap: { EventType: 'session.status' },
      statistic: 'SampleCount',
      period: Duration.minutes(1),
      label: 'status events',
    });
    expect(metric.dimensions).toEqual({ service: SERVICE.verifier, [DEPLOYMENT_DIMENSION]: deploymentOf(stack), EventType: 'session.status' });
    expect(metric.statistic).toBe('SampleCount');
    expect(metric.period.toSeconds()).toBe(60);
    expect(metric.label).toBe('status events');
    // An option passed as undefined keeps the default.
    expect(webhooks.metricMediaDownloadTime({ statistic: undefined }).statistic).toBe('p99');
  });

  it('metric(name) gives the same metric, and refuses a name that is not one of ours, showing it', () => {
    const { webhooks } = setup();
    expect(webhooks.metric(METRIC.signatureFailures)).toEqual(webhooks.metricSignatureFailures());
    expect(() => webhooks.metric('SignatureFailure' as never)).toThrow(
      /unknown FaceSign webhooks metric, expected one of EventsReceived, .*; got "SignatureFailure"/,
    );
  });

  it('are what the built-in alarms read: an alarm of yours on the same metric renders the same metric', () => {
    const { stack, webhooks } = setup();
    new cloudwatch.Alarm(stack, 'MySignatureAlarm', { metric: webhooks.metricSignatureFailures(), threshold: 10, evaluationPeriods: 1 });
    new cloudwatch.Alarm(stack, 'MyRejectedAlarm', { metric: webhooks.metricRequestsRejected(), threshold: 1, evaluationPeriods: 1 });
    new cloudwatch.Alarm(stack, 'MyThrottledAlarm', { metric: webhooks.metricRequestsThrottled(), threshold: 1, evaluationPeriods: 1 });
    const alarms = Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm');
    const rendered = (props: Record<string, unknown>) => ({
      Namespace: props.Namespace,
      MetricName: props.MetricName,
      Dimensions: props.Dimensions,
      Statistic: props.Statistic,
      Period: props.Period,
    });
    const byName = (name: string) => Object.values(alarms).find((a) => a.Properties.AlarmName === name)!.Properties;
    const mine = (id: string) => Object.entries(alarms).find(([logicalId]) => logicalId.startsWith(id))![1].Properties;
    for (const [own, builtIn] of [
      ['MySignatureAlarm', 'Ops-Verifier-SignatureFailures-Warning'],
      ['MyRejectedAlarm', 'Ops-Verifier-RequestsRejected-Critical'],
      ['MyThrottledAlarm', 'Ops-Api-Throttled-Warning'],
    ]) {
      const expected = rendered(byName(builtIn));
      expect(expected.MetricName, builtIn).toBeDefined();
      expect(expected.Dimensions, builtIn).toContainEqual({ Name: DEPLOYMENT_DIMENSION, Value: 'Ops/FaceSignWebhooks' });
      expect(rendered(mine(own)), own).toEqual(expected);
    }
  });

  it('the permanent-failure line of the dead-letter alarm is metricPermanentFailures at one minute', () => {
    const { stack, webhooks } = setup();
    const alarm = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')).find(
      (a) => a.Properties.AlarmName === 'Ops-DeadLetterQueue-NewMessages-Critical',
    )!.Properties;
    const failed = alarm.Metrics.find((m: { Id: string }) => m.Id === 'failed');
    const metric = webhooks.metricPermanentFailures({ period: Duration.minutes(1) });
    expect(failed.MetricStat).toEqual({
      Metric: {
        Namespace: metric.namespace,
        MetricName: metric.metricName,
        // CloudFormation gets the dimensions sorted by name.
        Dimensions: Object.entries(metric.dimensions!)
          .map(([Name, Value]) => ({ Name, Value }))
          .sort((a, b) => a.Name.localeCompare(b.Name)),
      },
      Stat: metric.statistic,
      Period: 60,
    });
  });
});
