import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DIMENSION, METRIC, SERVICE } from '../lambda/shared/metric-names';

/** The line after which media is lost: FaceSign's signed media URLs expire 15 minutes after they are made. */
export const MEDIA_URL_LIFETIME = Duration.minutes(15);

/** The alarm settings, shared by {@link FaceSignWebhooksProps} and {@link WebhookMonitoringProps}. */
export interface WebhookAlarmOptions {
  /**
   * An existing SNS topic every alarm notifies, on alarm and on recovery.
   * @default - a topic encrypted with a new customer-managed KMS key (CloudWatch cannot publish to one encrypted with the AWS-managed key)
   */
  readonly existingAlarmTopicObj?: sns.ITopic;
  /**
   * Settings for the created topic. A `masterKey` given here replaces the created key.
   * @default - a generated name, a new customer-managed KMS key
   */
  readonly alarmTopicProps?: Pick<sns.TopicProps, 'topicName' | 'displayName' | 'masterKey'>;
  /**
   * An email address subscribed to the alarm topic.
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * First part of every alarm name: `<prefix>-<resource>-<metric>-<severity>`.
   * @default - the stack name
   */
  readonly alarmNamePrefix?: string;
  /**
   * Alarm when the oldest queued message is older than this. Media URLs die after 15 minutes.
   * @default Duration.minutes(5)
   */
  readonly queueAgeAlarmThreshold?: Duration;
  /**
   * Alarm when this percentage of API requests or more end in 5xx over 5 minutes.
   * @default 5
   */
  readonly apiServerErrorRateThreshold?: number;
  /**
   * Alarm when the API's p99 latency exceeds this in 2 of 3 five-minute periods.
   * @default Duration.seconds(1)
   */
  readonly apiLatencyP99Threshold?: Duration;
  /**
   * Alarm when more than this many requests fail signature checks in 5 minutes.
   * @default 10
   */
  readonly signatureFailureAlarmThreshold?: number;
}

/** Properties of {@link WebhookMonitoring}. */
export interface WebhookMonitoringProps extends WebhookAlarmOptions {
  /** The HTTP API FaceSign posts to. */
  readonly api: HttpApi;
  readonly verifier: lambda.IFunction;
  readonly processor: lambda.IFunction;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** CloudWatch namespace of the handlers' custom metrics. */
  readonly metricsNamespace: string;
}

/**
 * Alarms that page before media is lost, and one dashboard that says whether the pipeline is
 * healthy and, if not, where. Hand-written CloudWatch constructs rather than
 * cdk-monitoring-constructs: the alarms here lean on our own custom metrics and on metric math
 * (5xx rate, 2xx count), the names follow the `<prefix>-<resource>-<metric>-<severity>` scheme
 * exactly, and users of the construct get no extra dependency.
 */
export class WebhookMonitoring extends Construct {
  /** The topic every alarm notifies. */
  public readonly alarmTopic: sns.ITopic;
  /** The key encrypting the created alarm topic (undefined when a topic was passed in). */
  public readonly alarmTopicKey?: kms.Key;
  /** Every alarm, by a stable short name. */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: WebhookMonitoringProps) {
    super(scope, id);
    const prefix = props.alarmNamePrefix ?? Stack.of(this).stackName;
    const queueAgeThreshold = props.queueAgeAlarmThreshold ?? Duration.minutes(5);
    const serverErrorRate = props.apiServerErrorRateThreshold ?? 5;
    const latencyThreshold = props.apiLatencyP99Threshold ?? Duration.seconds(1);
    const signatureThreshold = props.signatureFailureAlarmThreshold ?? 10;
    if (queueAgeThreshold.toSeconds() >= MEDIA_URL_LIFETIME.toSeconds()) {
      throw new Error(`queueAgeAlarmThreshold must be under 15 minutes, or media is lost before it fires; got ${queueAgeThreshold.toSeconds()} s`);
    }
    if (!(serverErrorRate > 0 && serverErrorRate <= 100)) {
      throw new Error(`apiServerErrorRateThreshold must be a percentage above 0 and at most 100, got ${serverErrorRate}`);
    }
    if (!(Number.isInteger(signatureThreshold) && signatureThreshold >= 1)) {
      throw new Error(`signatureFailureAlarmThreshold must be a positive integer, got ${signatureThreshold}`);
    }

    if (props.existingAlarmTopicObj) {
      this.alarmTopic = props.existingAlarmTopicObj;
    } else if (props.alarmTopicProps?.masterKey) {
      // The caller's key: its policy must let cloudwatch.amazonaws.com use it.
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { ...props.alarmTopicProps, enforceSSL: true });
    } else {
      this.alarmTopicKey = new kms.Key(this, 'AlarmTopicKey', {
        description: 'Encrypts the FaceSign webhooks alarm topic',
        enableKeyRotation: true,
      });
      this.alarmTopicKey.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { ...props.alarmTopicProps, masterKey: this.alarmTopicKey, enforceSSL: true });
    }
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));

    const five = Duration.minutes(5);
    const one = Duration.minutes(1);
    const custom = (name: string, service: string, statistic = 'Sum', period = five) =>
      new cloudwatch.Metric({ namespace: props.metricsNamespace, metricName: name, dimensionsMap: { service }, statistic, period });
    const byDimension = (name: string, service: string, dimension: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${props.metricsNamespace},${dimension},service} MetricName="${name}" service="${service}"', 'Sum', 300)`,
        label,
        period: five,
        usingMetrics: {},
      });

    const requests = props.api.metricCount({ period: five, statistic: 'Sum' });
    const serverErrors = props.api.metricServerError({ period: five, statistic: 'Sum' });
    const clientErrors = props.api.metricClientError({ period: five, statistic: 'Sum' });

    /** An alarm that fires on any occurrence (at least 1 in one period) unless `overrides` say otherwise. */
    const alarm = (
      key: string,
      name: { resource: string; metric: string; severity: 'Critical' | 'Warning' },
      metric: cloudwatch.IMetric,
      alarmDescription: string,
      overrides: Partial<Pick<cloudwatch.AlarmProps, 'threshold' | 'evaluationPeriods' | 'datapointsToAlarm' | 'comparisonOperator'>> = {},
    ) => {
      const created = new cloudwatch.Alarm(this, key, {
        metric,
        alarmDescription,
        alarmName: `${prefix}-${name.resource}-${name.metric}-${name.severity}`,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...overrides,
      });
      created.addAlarmAction(new SnsAction(this.alarmTopic));
      created.addOkAction(new SnsAction(this.alarmTopic));
      return created;
    };
    const sum5 = { period: five, statistic: 'Sum' };

    this.alarms = {
      deadLetterQueue: alarm(
        'DeadLetterQueueAlarm',
        { resource: 'DeadLetterQueue', metric: 'VisibleMessages', severity: 'Critical' },
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: one }),
        'An event could not be processed and is in the dead-letter queue. Read its failureReason and failureMessage attributes, fix the cause, then redrive the DLQ (README, Runbook). Media events whose URL expired need FaceSign to resend.',
      ),
      queueAge: alarm(
        'QueueAgeAlarm',
        { resource: 'Queue', metric: 'OldestMessageAge', severity: 'Critical' },
        props.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: one }),
        `Events are waiting longer than ${queueAgeThreshold.toSeconds()} s. Media URLs expire 15 minutes after they are made, so a backlog loses media. Check the processor's errors, throttles and concurrency (maxConcurrency), and DynamoDB and S3 health.`,
        { threshold: queueAgeThreshold.toSeconds(), comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD },
      ),
      verifierErrors: alarm(
        'VerifierErrorsAlarm',
        { resource: 'Verifier', metric: 'Errors', severity: 'Critical' },
        props.verifier.metricErrors(sum5),
        'The verifier crashed or timed out (FaceSign got a 5xx and will retry). Read the verifier log group for the error; a cold-start error names the bad environment variable.',
      ),
      verifierThrottles: alarm(
        'VerifierThrottlesAlarm',
        { resource: 'Verifier', metric: 'Throttles', severity: 'Warning' },
        props.verifier.metricThrottles(sum5),
        'The verifier was throttled: the account has no Lambda concurrency left. FaceSign retries, but raise the account concurrency limit or reserve concurrency for the verifier.',
      ),
      processorErrors: alarm(
        'ProcessorErrorsAlarm',
        { resource: 'Processor', metric: 'Errors', severity: 'Critical' },
        props.processor.metricErrors(sum5),
        'A processor invocation crashed or timed out, so its whole batch returns to the queue. Read the processor log group; a timeout means processorTimeout is too short for the media sizes.',
      ),
      processorThrottles: alarm(
        'ProcessorThrottlesAlarm',
        { resource: 'Processor', metric: 'Throttles', severity: 'Warning' },
        props.processor.metricThrottles(sum5),
        'The processor was throttled by the account concurrency limit; events wait in the queue. Raise the limit or lower processorMaxConcurrency elsewhere.',
      ),
      apiServerErrors: alarm(
        'ApiServerErrorRateAlarm',
        { resource: 'Api', metric: 'ServerErrorRate', severity: 'Critical' },
        new cloudwatch.MathExpression({
          expression: 'IF(requests > 0, 100 * errors / requests, 0)',
          usingMetrics: { requests, errors: serverErrors },
          label: 'API 5xx rate (%)',
          period: five,
        }),
        `At least ${serverErrorRate}% of webhook requests got a 5xx: FaceSign will retry them, but something of ours is down. The verifier logs name it: secret_not_configured (set the secret), secret_unavailable (Secrets Manager, IAM), queue_unavailable (SQS).`,
        { threshold: serverErrorRate },
      ),
      apiLatency: alarm(
        'ApiLatencyAlarm',
        { resource: 'Api', metric: 'LatencyP99', severity: 'Warning' },
        props.api.metricLatency({ period: five, statistic: 'p99' }),
        `The webhook p99 latency is above ${latencyThreshold.toMilliseconds()} ms. Look at the verifier duration (cold starts, Secrets Manager or SQS latency) on the dashboard.`,
        {
          threshold: latencyThreshold.toMilliseconds(),
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        },
      ),
      signatureFailures: alarm(
        'SignatureFailuresAlarm',
        { resource: 'Verifier', metric: 'SignatureFailures', severity: 'Warning' },
        custom(METRIC.signatureFailures, SERVICE.verifier),
        'Many requests failed the signature check. signature_mismatch after a rotation: put {"secrets":["new","old"]} in the secret. Otherwise someone may be probing the endpoint: check the access logs for source IPs. The dashboard breaks failures down by reason.',
        { threshold: signatureThreshold, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD },
      ),
      permanentFailures: alarm(
        'PermanentFailuresAlarm',
        { resource: 'Processor', metric: 'PermanentFailures', severity: 'Warning' },
        custom(METRIC.permanentFailures, SERVICE.processor),
        'The processor sent an event to the dead-letter queue on purpose (expired URL, 404 from the media host, host not allowed, file too large, bad envelope). The dashboard breaks them down by reason; the DLQ message attributes carry it.',
      ),
    };

    this.dashboard = this.createDashboard(props, { requests, serverErrors, clientErrors, custom, byDimension, queueAgeThreshold });
  }

  private createDashboard(
    props: WebhookMonitoringProps,
    m: {
      requests: cloudwatch.Metric;
      serverErrors: cloudwatch.Metric;
      clientErrors: cloudwatch.Metric;
      custom: (name: string, service: string, statistic?: string, period?: Duration) => cloudwatch.Metric;
      byDimension: (name: string, service: string, dimension: string, label: string) => cloudwatch.MathExpression;
      queueAgeThreshold: Duration;
    },
  ): cloudwatch.Dashboard {
    const five = Duration.minutes(5);
    const one = Duration.minutes(1);
    const graph = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, ...extra });
    const lambdaDuration = (fn: lambda.IFunction, name: string) => [
      fn.metricDuration({ statistic: 'p50', period: five, label: `${name} p50` }),
      fn.metricDuration({ statistic: 'p99', period: five, label: `${name} p99` }),
    ];

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24, height: 3 }),
    );
    dashboard.addWidgets(
      graph('Webhook requests: 2xx / 4xx / 5xx', [
        new cloudwatch.MathExpression({
          expression: 'requests - client - server',
          usingMetrics: { requests: m.requests, client: m.clientErrors, server: m.serverErrors },
          label: '2xx',
          period: five,
        }),
        m.clientErrors.with({ label: '4xx' }),
        m.serverErrors.with({ label: '5xx' }),
      ], { stacked: true }),
      graph('Webhook latency', [
        props.api.metricLatency({ statistic: 'p50', period: five, label: 'p50' }),
        props.api.metricLatency({ statistic: 'p99', period: five, label: 'p99' }),
      ], { leftYAxis: { label: 'ms', showUnits: false } }),
      graph('Refused and failed requests by reason', [
        m.byDimension(METRIC.signatureFailures, SERVICE.verifier, DIMENSION.reason, '401'),
        m.byDimension(METRIC.requestsRejected, SERVICE.verifier, DIMENSION.reason, '400/413'),
        m.byDimension(METRIC.requestsFailed, SERVICE.verifier, DIMENSION.reason, '503'),
      ]),
    );
    dashboard.addWidgets(
      graph('Events received by type', [m.byDimension(METRIC.eventsReceived, SERVICE.verifier, DIMENSION.eventType, '')]),
      graph('Queue depth and oldest message age', [
        props.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: one, label: 'waiting' }),
        props.queue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', period: one, label: 'in flight or backing off' }),
      ], {
        right: [props.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: one, label: 'oldest message age (s)' })],
        rightAnnotations: [
          { value: MEDIA_URL_LIFETIME.toSeconds(), label: 'media URLs expire (15 min)', color: '#d62728' },
          { value: m.queueAgeThreshold.toSeconds(), label: 'alarm', color: '#ff7f0e' },
        ],
        rightYAxis: { min: 0, label: 'seconds', showUnits: false },
      }),
      graph('Dead-letter queue depth', [
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: one, label: 'messages' }),
      ], { leftAnnotations: [{ value: 1, label: 'alarm', color: '#d62728' }] }),
    );
    dashboard.addWidgets(
      graph('Processor duration', [...lambdaDuration(props.processor, 'processor'), ...lambdaDuration(props.verifier, 'verifier')], {
        leftYAxis: { label: 'ms', showUnits: false },
      }),
      graph('Processor errors, throttles and concurrency', [
        props.processor.metricErrors({ period: five, statistic: 'Sum', label: 'errors' }),
        props.processor.metricThrottles({ period: five, statistic: 'Sum', label: 'throttles' }),
      ], {
        right: [
          new cloudwatch.Metric({
            namespace: 'AWS/Lambda',
            metricName: 'ConcurrentExecutions',
            dimensionsMap: { FunctionName: props.processor.functionName },
            statistic: 'Maximum',
            period: one,
            label: 'concurrent executions',
          }),
        ],
      }),
      graph('Events processed by type', [m.byDimension(METRIC.eventsProcessed, SERVICE.processor, DIMENSION.eventType, '')]),
    );
    dashboard.addWidgets(
      graph('Duplicates skipped', [m.custom(METRIC.duplicatesSkipped, SERVICE.processor).with({ label: 'duplicate deliveries' })]),
      graph('Failures by reason', [
        m.byDimension(METRIC.permanentFailures, SERVICE.processor, DIMENSION.reason, 'permanent'),
        m.byDimension(METRIC.transientFailures, SERVICE.processor, DIMENSION.reason, 'transient'),
      ]),
      graph('Media stored', [m.custom(METRIC.mediaBytesStored, SERVICE.processor).with({ label: 'bytes stored' })], {
        right: [m.custom(METRIC.mediaDownloadTime, SERVICE.processor, 'p99').with({ label: 'download time p99 (ms)' })],
      }),
    );
    return dashboard;
  }
}
