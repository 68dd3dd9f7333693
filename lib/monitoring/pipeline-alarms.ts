import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { DIMENSION, METRIC, REQUEST_FAILURE_REASONS, SERVICE, type RequestFailureReason } from '../../contract/metric-names';
import type { WebhookMetricName, WebhookMetrics } from '../webhook-metrics';
import type { AlarmSpec } from './alarm-factory';

/** A function's duration alarm fires at this share of its timeout (the dashboard draws the same line). */
export const DURATION_ALARM_SHARE = 0.8;

/** What the processor calls on the idempotency table. */
export const IDEMPOTENCY_OPERATIONS = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM,
];

/** The duration alarm's line for a function with this timeout, in milliseconds. */
export function durationAlarmThreshold(timeout: Duration): number {
  return Math.floor(timeout.toMilliseconds() * DURATION_ALARM_SHARE);
}

/** The function's configured timeout; Lambda's own default (3 s) when none was set. */
export function timeoutOf(fn: lambda.Function): Duration {
  return fn.timeout ?? Duration.seconds(3);
}

/**
 * One Critical alarm per reason the verifier answers 503. A `Record` over the contract's reasons:
 * a reason added there cannot ship without its page.
 */
const REQUEST_FAILURE_ALARMS: Record<RequestFailureReason, { readonly metric: string; readonly summary: string }> = {
  secret_not_configured: {
    metric: 'SecretNotConfigured',
    summary: 'The verifier answered 503 secret_not_configured: the signing secret has not been put. FaceSign retries, but not for ever.',
  },
  secret_unavailable: {
    metric: 'SecretUnavailable',
    summary: 'The verifier answered 503 secret_unavailable: it could not read the signing secret. FaceSign retries meanwhile.',
  },
  queue_unavailable: {
    metric: 'QueueUnavailable',
    summary: 'The verifier answered 503 queue_unavailable: it verified an event but could not queue it. FaceSign retries meanwhile.',
  },
};

/**
 * 1 of 3 one-minute periods: an EMF point exists only once CloudWatch Logs has processed the line,
 * and Lambda's log flush is not ours to control, so AWS suggests M of N for such alarms
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Alarms.html).
 * One minute is the shortest period for standard-resolution data, which EMF metrics are unless
 * StorageResolution is 1 (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 */
const FIRST_OCCURRENCE = { evaluationPeriods: 3, datapointsToAlarm: 1 } as const;

/** The Lambda functions' alarms: errors, throttles, duration near the timeout, concurrency at its cap. */
export function functionAlarms(verifier: lambda.Function, processor: lambda.Function, processorMaxConcurrency?: number): AlarmSpec[] {
  const five = Duration.minutes(5);
  const sum5 = { period: five, statistic: 'Sum' };
  const duration = (fn: lambda.Function) => fn.metricDuration({ statistic: 'Maximum', period: five });
  const specs: AlarmSpec[] = [
    {
      key: 'verifierErrors',
      resource: 'Verifier',
      metric: 'Errors',
      severity: 'Critical',
      source: verifier.metricErrors(sum5),
      summary: 'The verifier crashed or timed out: FaceSign got a 5xx and retries.',
    },
    {
      key: 'verifierThrottles',
      resource: 'Verifier',
      metric: 'Throttles',
      severity: 'Warning',
      source: verifier.metricThrottles(sum5),
      summary: 'The verifier was throttled (no Lambda concurrency left): FaceSign got a 5xx and retries.',
    },
    {
      key: 'verifierDuration',
      resource: 'Verifier',
      metric: 'DurationNearTimeout',
      severity: 'Warning',
      source: duration(verifier),
      summary: `A verifier invocation took ${DURATION_ALARM_SHARE * 100}% of its ${timeoutOf(verifier).toSeconds()} s timeout; at the timeout FaceSign gets a 5xx.`,
      threshold: durationAlarmThreshold(timeoutOf(verifier)),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    },
    // Warning: a crash returns the batch to the queue, and SQS retries it. What is at risk pages on its
    // own: a crash that repeats reaches the dead-letter queue or stalls the queue (both Critical).
    {
      key: 'processorErrors',
      resource: 'Processor',
      metric: 'Errors',
      severity: 'Warning',
      source: processor.metricErrors(sum5),
      summary: 'A processor invocation crashed or timed out; its batch returns to the queue and is retried.',
    },
    {
      key: 'processorThrottles',
      resource: 'Processor',
      metric: 'Throttles',
      severity: 'Warning',
      source: processor.metricThrottles(sum5),
      summary: 'The processor was throttled by the account concurrency limit; events wait in the queue.',
    },
    {
      key: 'processorDuration',
      resource: 'Processor',
      metric: 'DurationNearTimeout',
      severity: 'Warning',
      source: duration(processor),
      summary: `A processor invocation took ${DURATION_ALARM_SHARE * 100}% of its ${timeoutOf(processor).toSeconds()} s timeout; a timeout returns its whole batch to the queue.`,
      threshold: durationAlarmThreshold(timeoutOf(processor)),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    },
  ];
  if (processorMaxConcurrency !== undefined) {
    specs.push({
      key: 'processorConcurrency',
      resource: 'Processor',
      metric: 'ConcurrencyAtMaximum',
      severity: 'Warning',
      source: concurrency(processor),
      summary: `The processor has run at its maximum concurrency (${processorMaxConcurrency}) for 5 minutes: events arrive faster than it finishes them.`,
      threshold: processorMaxConcurrency,
      evaluationPeriods: 5,
    });
  }
  return specs;
}

/** Emitted for every function, reserved concurrency or not (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-concurrency.html). */
export function concurrency(fn: lambda.IFunction): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Lambda',
    metricName: 'ConcurrentExecutions',
    dimensionsMap: { FunctionName: fn.functionName },
    statistic: 'Maximum',
    period: Duration.minutes(1),
  });
}

/** A custom count whichever function publishes it (both may, as the pipeline evolves). */
export function customAnyService(metrics: WebhookMetrics, name: WebhookMetricName): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `FILL(verifier${name}, 0) + FILL(processor${name}, 0)`,
    usingMetrics: { [`verifier${name}`]: metrics.metricOf(name, SERVICE.verifier), [`processor${name}`]: metrics.metricOf(name, SERVICE.processor) },
    label: name,
    period: Duration.minutes(5),
  });
}

/** The alarms on the handlers' own metrics: refusals, 503s by reason, held deliveries, quarantine, conflicts. */
export function deliveryAlarms(metrics: WebhookMetrics, signatureThreshold: number): AlarmSpec[] {
  const one = Duration.minutes(1);
  const failures: AlarmSpec[] = REQUEST_FAILURE_REASONS.map((reason) => ({
    key: `requestsFailed${REQUEST_FAILURE_ALARMS[reason].metric}`,
    resource: 'Verifier',
    metric: REQUEST_FAILURE_ALARMS[reason].metric,
    severity: 'Critical',
    source: metrics.metric(METRIC.requestsFailed, { period: one, dimensionsMap: { [DIMENSION.reason]: reason } }),
    summary: REQUEST_FAILURE_ALARMS[reason].summary,
    ...FIRST_OCCURRENCE,
  }));
  return [
    {
      key: 'signatureFailures',
      resource: 'Verifier',
      metric: 'SignatureFailures',
      severity: 'Warning',
      source: metrics.metric(METRIC.signatureFailures),
      summary: `More than ${signatureThreshold} requests failed the signature check in 5 minutes: a rotation half done, or someone probing.`,
      threshold: signatureThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    },
    ...failures,
    {
      key: 'wrongSecretSuspected',
      resource: 'Verifier',
      metric: 'WrongSecretSuspected',
      severity: 'Critical',
      source: metrics.metric(METRIC.wrongSecretSuspected, { period: one }),
      summary: "A delivery in FaceSign's exact form verified under no active secret: the secret is almost certainly wrong, and FaceSign never retries the 401.",
      ...FIRST_OCCURRENCE,
    },
    {
      key: 'holdsDropped',
      resource: 'Verifier',
      metric: 'HoldsDropped',
      severity: 'Warning',
      source: metrics.metric(METRIC.holdsDropped, { period: one }),
      summary: "A refused delivery in FaceSign's form was not held, so npm run reverify cannot recover it; FaceSign must resend it.",
      ...FIRST_OCCURRENCE,
    },
    {
      key: 'requestsRejected',
      resource: 'Verifier',
      metric: 'RequestsRejected',
      severity: 'Critical',
      source: metrics.metric(METRIC.requestsRejected),
      summary: 'The verifier refused an authentic delivery (400, 413, or 401 after its signature matched); FaceSign never retries it.',
    },
    {
      key: 'eventsQuarantined',
      resource: 'Processor',
      metric: 'EventsQuarantined',
      severity: 'Critical',
      source: customAnyService(metrics, METRIC.eventsQuarantined),
      summary: 'An authentic delivery had an envelope we do not recognise: archived under quarantine/, not published.',
    },
    // Warning: both versions are archived and nothing is lost; someone must decide, not wake up.
    {
      key: 'conflictingDuplicates',
      resource: 'Processor',
      metric: 'ConflictingDuplicates',
      severity: 'Warning',
      source: customAnyService(metrics, METRIC.conflictingDuplicates),
      summary: 'A delivery reused a known event id with different content; both versions are archived.',
    },
  ];
}

/**
 * The idempotency table's throttles and system errors. CloudWatch ignores TreatMissingData for
 * AWS/DynamoDB metrics and keeps the alarm's state when data is missing
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html), so an
 * alarm on the bare metric would stay in ALARM and never send OK: FILL(…, 0) gives it a zero.
 */
export function tableAlarms(table: dynamodb.ITable): AlarmSpec[] {
  const sum5 = { period: Duration.minutes(5), statistic: 'Sum' };
  const filled = (m: cloudwatch.IMetric, label: string) =>
    new cloudwatch.MathExpression({ expression: 'FILL(m, 0)', usingMetrics: { m }, label, period: Duration.minutes(5) });
  return [
    {
      key: 'idempotencyTableThrottles',
      resource: 'IdempotencyTable',
      metric: 'Throttles',
      severity: 'Warning',
      source: filled(table.metricThrottledRequestsForOperations({ operations: IDEMPOTENCY_OPERATIONS, ...sum5 }), 'throttled requests'),
      summary: 'DynamoDB throttled the idempotency table; the processor retries while the media URL lives.',
    },
    {
      key: 'idempotencyTableErrors',
      resource: 'IdempotencyTable',
      metric: 'SystemErrors',
      severity: 'Warning',
      source: filled(table.metricSystemErrorsForOperations({ operations: IDEMPOTENCY_OPERATIONS, ...sum5 }), 'system errors'),
      summary: 'DynamoDB answered the idempotency table with 500s; the processor retries.',
    },
  ];
}

/**
 * Failed deliveries of alarm notifications. With two topics each topic's failures are told on the
 * other (the alarm topic's go to the Critical topic, as Critical; the Critical topic's to both); with
 * one topic there is no other channel, which the runbook says (a topic whose deliveries fail may not
 * deliver its own alarm).
 */
export function topicAlarms(alarmTopic: sns.ITopic, criticalAlarmTopic: sns.ITopic): AlarmSpec[] {
  const sum5 = { period: Duration.minutes(5), statistic: 'Sum' };
  const two = criticalAlarmTopic !== alarmTopic;
  const specs: AlarmSpec[] = [
    {
      key: 'alarmTopicFailures',
      resource: 'AlarmTopic',
      metric: 'NotificationsFailed',
      severity: 'Critical',
      source: alarmTopic.metricNumberOfNotificationsFailed(sum5),
      summary: 'SNS could not deliver an alarm notification to a subscriber of the alarm topic: someone was not told.',
    },
  ];
  if (two) {
    specs.push({
      key: 'criticalAlarmTopicFailures',
      resource: 'CriticalAlarmTopic',
      metric: 'NotificationsFailed',
      severity: 'Critical',
      source: criticalAlarmTopic.metricNumberOfNotificationsFailed(sum5),
      summary: "SNS could not deliver a Critical alarm's notification to a subscriber of the Critical topic: the pager was not paged.",
      alsoNotify: alarmTopic,
    });
  }
  return specs;
}
