import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEPLOYMENT_DIMENSION, DIMENSION, METRIC, SERVICE } from '../../contract/metric-names';
import { MEDIA_URL_LIFETIME_SECONDS } from '../../contract/time-budget';
import type { WebhookMetrics } from '../webhook-metrics';
import type { ApiMetrics } from './api-signals';
import { concurrency, customAnyService, DURATION_ALARM_SHARE, durationAlarmThreshold, IDEMPOTENCY_OPERATIONS, timeoutOf } from './pipeline-alarms';
import { newDeadLetters } from './queue-signals';

const FIVE = Duration.minutes(5);
const ONE = Duration.minutes(1);
const RED = '#d62728';
const ORANGE = '#ff7f0e';

/** Everything the dashboard draws. */
export interface DashboardProps {
  readonly api: ApiMetrics;
  readonly verifier: lambda.Function;
  readonly processor: lambda.Function;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly metrics: WebhookMetrics;
  readonly alarms: cloudwatch.IAlarm[];
  readonly alarmTopic: sns.ITopic;
  readonly queueAgeThreshold: Duration;
  readonly idempotencyTable?: dynamodb.ITable;
  readonly processorMaxConcurrency?: number;
}

/**
 * The dashboard: alarm status, then one row that answers "are we losing anything right now?"
 * (one number per loss signal), then the rows that say where.
 */
export function createDashboard(scope: Construct, props: DashboardProps): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', { defaultInterval: Duration.hours(3) });
  // The list is read when the dashboard is rendered, so consumer alarms added later appear too.
  dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: props.alarms, width: 24, height: 4 }));
  dashboard.addWidgets(...lossRow(props));
  dashboard.addWidgets(...requestRow(props));
  dashboard.addWidgets(...refusalRow(props));
  dashboard.addWidgets(...queueRow(props));
  dashboard.addWidgets(...functionRow(props));
  dashboard.addWidgets(...processingRow(props));
  dashboard.addWidgets(...storageRow(props));
  return dashboard;
}

/** A dashboard graph: a third of the width unless `extra` says otherwise. */
export function graph(title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, ...extra });
}

/** One number each, with its sparkline: received against archived, dead letters, refusals, media URL headroom. */
function lossRow(p: DashboardProps): cloudwatch.IWidget[] {
  const number = (title: string, metrics: cloudwatch.IMetric[], width = 4) =>
    new cloudwatch.SingleValueWidget({ title, metrics, width, height: 4, sparkline: true });
  return [
    number(
      'Received vs archived (5 min)',
      [p.metrics.metric(METRIC.eventsReceived).with({ label: 'received' }), p.metrics.metric(METRIC.eventsProcessed).with({ label: 'archived' })],
      6,
    ),
    number(
      'Dead letters: new (1 min) and total',
      [
        newDeadLetters(p.deadLetterQueue, p.metrics.metric(METRIC.permanentFailures, { period: ONE })),
        p.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: ONE, label: 'total' }),
      ],
      6,
    ),
    number('Authentic deliveries refused (5 min)', [p.metrics.metric(METRIC.requestsRejected).with({ label: 'refused' })]),
    number('Oldest queued event (s)', [p.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: ONE, label: 'age' })]),
    number('Media URL headroom (min, s)', [p.metrics.metric(METRIC.mediaUrlHeadroom).with({ label: 'headroom' })]),
  ];
}

function requestRow(p: DashboardProps): cloudwatch.IWidget[] {
  return [
    graph(
      'Webhook requests: 2xx / 4xx / 5xx',
      [
        new cloudwatch.MathExpression({
          expression: 'requests - client - server',
          usingMetrics: { requests: p.api.requests, client: p.api.clientErrors, server: p.api.serverErrors },
          label: '2xx',
          period: FIVE,
        }),
        p.api.clientErrors.with({ label: '4xx' }),
        p.api.serverErrors.with({ label: '5xx' }),
      ],
      { stacked: true },
    ),
    graph('Webhook latency', [p.api.latency('p50').with({ label: 'p50' }), p.api.latency('p99').with({ label: 'p99' })], {
      leftYAxis: { label: 'ms', showUnits: false },
    }),
    graph('Events received by type', [byDimension(p.metrics, METRIC.eventsReceived, SERVICE.verifier, DIMENSION.eventType, '')]),
  ];
}

function refusalRow(p: DashboardProps): cloudwatch.IWidget[] {
  return [
    graph('Refused and failed requests by reason', [
      byDimension(p.metrics, METRIC.signatureFailures, SERVICE.verifier, DIMENSION.reason, '401'),
      byDimension(p.metrics, METRIC.requestsRejected, SERVICE.verifier, DIMENSION.reason, 'authentic refused'),
      byDimension(p.metrics, METRIC.requestsFailed, SERVICE.verifier, DIMENSION.reason, '503'),
      p.metrics.metric(METRIC.wrongSecretSuspected).with({ label: '401 wrong secret suspected' }),
      p.metrics.metric(METRIC.requestsThrottled).with({ label: '429 (throttled)' }),
    ]),
    graph(
      'Quarantined and conflicting deliveries',
      [
        customAnyService(p.metrics, METRIC.eventsQuarantined).with({ label: 'quarantined' }),
        customAnyService(p.metrics, METRIC.conflictingDuplicates).with({ label: 'conflicting duplicates' }),
      ],
      { leftAnnotations: [{ value: 1, label: 'alarm', color: RED }] },
    ),
    graph('Signature timing', [p.metrics.metric(METRIC.timestampHeaderMismatches).with({ label: 'timestamp header ≠ t' })], {
      right: [
        p.metrics.metric(METRIC.signatureAge, { statistic: 'p50' }).with({ label: 'signature age p50 (s)' }),
        p.metrics.metric(METRIC.signatureAge, { statistic: 'Maximum' }).with({ label: 'signature age max (s)' }),
      ],
      rightYAxis: { min: 0, label: 'seconds', showUnits: false },
    }),
  ];
}

function queueRow(p: DashboardProps): cloudwatch.IWidget[] {
  return [
    graph(
      'Queue depth and oldest message age',
      [
        p.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: ONE, label: 'waiting' }),
        p.queue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', period: ONE, label: 'in flight or backing off' }),
      ],
      {
        right: [p.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: ONE, label: 'oldest message age (s)' })],
        rightAnnotations: [
          { value: MEDIA_URL_LIFETIME_SECONDS, label: `media URLs expire (${MEDIA_URL_LIFETIME_SECONDS / 60} min)`, color: RED },
          { value: p.queueAgeThreshold.toSeconds(), label: 'alarm', color: ORANGE },
        ],
        rightYAxis: { min: 0, label: 'seconds', showUnits: false },
      },
    ),
    graph(
      'Dead-letter queue: depth and oldest message age',
      [p.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: ONE, label: 'messages' })],
      { right: [p.deadLetterQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: FIVE, label: 'oldest message age (s)' })] },
    ),
    graph('Media stored', [p.metrics.metric(METRIC.mediaBytesStored).with({ label: 'bytes stored' })], {
      right: [
        p.metrics.metric(METRIC.mediaDownloadTime, { statistic: 'p99' }).with({ label: 'download time p99 (ms)' }),
        p.metrics.metric(METRIC.mediaUrlHeadroom).with({ label: 'media URL headroom min (s)' }),
      ],
    }),
  ];
}

function functionRow(p: DashboardProps): cloudwatch.IWidget[] {
  const concurrencyAnnotations =
    p.processorMaxConcurrency === undefined ? [] : [{ value: p.processorMaxConcurrency, label: `maxConcurrency (${p.processorMaxConcurrency})`, color: RED }];
  return [
    durationWidget('Verifier duration', p.verifier),
    durationWidget('Processor duration', p.processor),
    graph(
      'Processor errors, throttles and concurrency',
      [
        p.processor.metricErrors({ period: FIVE, statistic: 'Sum', label: 'errors' }),
        p.processor.metricThrottles({ period: FIVE, statistic: 'Sum', label: 'throttles' }),
      ],
      {
        right: [concurrency(p.processor).with({ label: 'concurrent executions' })],
        rightAnnotations: concurrencyAnnotations,
        rightYAxis: { min: 0, label: 'concurrent', showUnits: false },
      },
    ),
  ];
}

function processingRow(p: DashboardProps): cloudwatch.IWidget[] {
  return [
    graph('Events processed by type', [byDimension(p.metrics, METRIC.eventsProcessed, SERVICE.processor, DIMENSION.eventType, '')]),
    graph('Duplicates skipped', [p.metrics.metric(METRIC.duplicatesSkipped).with({ label: 'duplicate deliveries' })]),
    graph('Failures by reason', [
      byDimension(p.metrics, METRIC.permanentFailures, SERVICE.processor, DIMENSION.reason, 'permanent'),
      byDimension(p.metrics, METRIC.transientFailures, SERVICE.processor, DIMENSION.reason, 'transient'),
    ]),
  ];
}

/** The idempotency table (two widgets: CDK names both per-operation sums after the operations) and the alarm topic. */
function storageRow(p: DashboardProps): cloudwatch.IWidget[] {
  const table = p.idempotencyTable;
  const sum5 = { operations: IDEMPOTENCY_OPERATIONS, period: FIVE, statistic: 'Sum' };
  const tableWidgets = table
    ? [
        graph('Idempotency table: throttled requests', [table.metricThrottledRequestsForOperations({ ...sum5, label: 'throttled requests' })], { width: 4 }),
        graph('Idempotency table: system errors and latency', [table.metricSystemErrorsForOperations({ ...sum5, label: 'system errors' })], {
          width: 4,
          right: [
            table.metricSuccessfulRequestLatency({
              dimensionsMap: { TableName: table.tableName, Operation: 'PutItem' },
              statistic: 'p99',
              period: FIVE,
              label: 'PutItem latency p99 (ms)',
            }),
          ],
        }),
      ]
    : [];
  return [
    ...tableWidgets,
    graph('Alarm notifications', [
      p.alarmTopic.metricNumberOfMessagesPublished({ period: FIVE, statistic: 'Sum', label: 'published' }),
      p.alarmTopic.metricNumberOfNotificationsFailed({ period: FIVE, statistic: 'Sum', label: 'failed' }),
    ]),
  ];
}

/** One widget per function: the verifier's milliseconds and the processor's minutes never share an axis. */
function durationWidget(title: string, fn: lambda.Function): cloudwatch.GraphWidget {
  const timeout = timeoutOf(fn);
  return graph(
    title,
    [
      fn.metricDuration({ statistic: 'p50', period: FIVE, label: 'p50' }),
      fn.metricDuration({ statistic: 'p99', period: FIVE, label: 'p99' }),
      fn.metricDuration({ statistic: 'Maximum', period: FIVE, label: 'max' }),
    ],
    {
      leftYAxis: { min: 0, label: 'ms', showUnits: false },
      leftAnnotations: [
        { value: timeout.toMilliseconds(), label: `timeout (${timeout.toSeconds()} s)`, color: RED },
        { value: durationAlarmThreshold(timeout), label: `alarm (${DURATION_ALARM_SHARE * 100}%)`, color: ORANGE },
      ],
    },
  );
}

/** A custom metric broken down by a second dimension, one line per value. */
function byDimension(metrics: WebhookMetrics, name: string, service: string, dimension: string, label: string): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${metrics.namespace},${dimension},${DEPLOYMENT_DIMENSION},service} MetricName="${name}" service="${service}" ${DEPLOYMENT_DIMENSION}="${metrics.deployment}"', 'Sum', 300)`,
    label,
    period: FIVE,
    usingMetrics: {},
  });
}
