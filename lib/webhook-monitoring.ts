import { Annotations, ArnFormat, Aspects, CfnOutput, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createThrottledRequestsFilter } from './front-door/access-log';
import type { FrontDoorMetrics } from './front-door/front-door';
import { DEPLOYMENT_DIMENSION, DIMENSION, METRIC, REQUEST_FAILURE_REASONS, SERVICE, type RequestFailureReason } from '../contract/metric-names';
import { MEDIA_URL_LIFETIME_SECONDS } from '../contract/settings';
import { WebhookMetrics, type WebhookMetricName } from './webhook-metrics';

/** The line after which media is lost: FaceSign's signed media URLs expire this long after they are made. */
export const MEDIA_URL_LIFETIME = Duration.seconds(MEDIA_URL_LIFETIME_SECONDS);

/** What the processor calls on the idempotency table. */
const IDEMPOTENCY_OPERATIONS = [dynamodb.Operation.GET_ITEM, dynamodb.Operation.PUT_ITEM, dynamodb.Operation.UPDATE_ITEM, dynamodb.Operation.DELETE_ITEM];

/** SQS keeps messages 4 days unless told otherwise. */
const SQS_DEFAULT_RETENTION = Duration.days(4);

/** The defaults of {@link WebhookAlarmOptions}' thresholds, in one place (their `@default`s are checked against it). */
export const ALARM_DEFAULTS = {
  queueAgeAlarmThreshold: Duration.minutes(5),
  apiServerErrorRateThreshold: 5,
  apiServerErrorMinimumCount: 5,
  apiLatencyP99Threshold: Duration.seconds(1),
  signatureFailureAlarmThreshold: 10,
} as const;

/**
 * One Critical alarm per reason the verifier answers 503, each with the reason's own runbook line.
 * A `Record` over the contract's reasons: a reason added there cannot ship without its page.
 */
const REQUEST_FAILURE_ALARMS: Record<RequestFailureReason, { readonly metric: string; readonly description: string }> = {
  secret_not_configured: {
    metric: 'SecretNotConfigured',
    description:
      'The verifier answered 503 secret_not_configured: the signing secret has not been put (or is not a usable value). Put the value the FaceSign dashboard shows into the SigningSecretArn secret (README, "Deploy to AWS"). FaceSign retries meanwhile, but its retries run out and media URLs die 15 minutes after they are made (docs/operations.md, Runbook).',
  },
  secret_unavailable: {
    metric: 'SecretUnavailable',
    description:
      "The verifier answered 503 secret_unavailable: it could not read the signing secret. The verifier log line \"the signing secret could not be read\" has errorName: AccessDenied means the secret's or its KMS key's policy or the verifier role; DecryptionFailure means the secret's KMS key (disabled, pending deletion, its policy); a timeout means Secrets Manager itself (AWS Health Dashboard). FaceSign retries meanwhile (docs/operations.md, Runbook).",
  },
  queue_unavailable: {
    metric: 'QueueUnavailable',
    description:
      'The verifier answered 503 queue_unavailable: it verified an event but could not queue it. The verifier log line "could not queue a verified event" has errorName and eventId: Kms... errors (KmsAccessDenied, KmsDisabled, KmsInvalidState) mean the construct\'s key (disabled, pending deletion, its policy); AccessDenied the verifier role or the queue policy; throttling or timeouts SQS itself (AWS Health Dashboard). FaceSign retries meanwhile (docs/operations.md, Runbook).',
  },
};

/** The longest silence alarm: CloudWatch evaluates at most 7 days (Period x EvaluationPeriods). */
const MAX_SILENCE = Duration.days(7);

/** A function's duration alarm fires at this share of its timeout (the dashboard draws the same line). */
const DURATION_ALARM_SHARE = 0.8;

/** The alarm settings, shared by {@link FaceSignWebhooksProps} and {@link WebhookMonitoringProps}. */
export interface WebhookAlarmOptions {
  /**
   * An existing SNS topic every alarm notifies, on alarm and on recovery. Its policy must let
   * `cloudwatch.amazonaws.com` call `sns:Publish` (a topic with no policy of its own has the default
   * policy, which does), and if it is encrypted, its KMS key policy must let
   * `cloudwatch.amazonaws.com` use `kms:Decrypt` and `kms:GenerateDataKey*`; the construct changes
   * neither (docs/operations.md, "Bring your own alarm topic").
   * @default - a topic encrypted with a new customer-managed KMS key, with a policy that lets this stack's alarms publish
   */
  readonly existingAlarmTopicObj?: sns.ITopic;
  /**
   * Settings for the created topic. A `masterKey` given here replaces the created key; when it is a
   * key of this app, the construct adds the statement CloudWatch needs to its policy.
   * @default - a generated name, a new customer-managed KMS key
   */
  readonly alarmTopicProps?: Pick<sns.TopicProps, 'topicName' | 'displayName' | 'masterKey'>;
  /**
   * An email address subscribed to the alarm topic. Without it, an existing topic, or a
   * subscription added in the app, synthesis warns and the stack outputs that no one is told.
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * An existing SNS topic that Critical alarms notify instead of the alarm topic: a pager's topic.
   * Warning alarms still notify the alarm topic. It needs what `existingAlarmTopicObj` needs (a
   * policy and key policy that let CloudWatch publish); the construct changes neither.
   * @default - Critical alarms notify the alarm topic, or a created Critical topic when `criticalAlarmEmail` is given
   */
  readonly existingCriticalAlarmTopicObj?: sns.ITopic;
  /**
   * An email address (a pager's e-mail integration, say) told about Critical alarms only. Without
   * `existingCriticalAlarmTopicObj`, a second topic is created for Critical alarms, encrypted and
   * scoped like the alarm topic, and `alarmEmail` then gets Warnings only.
   * @default - Critical alarms go where Warning alarms go
   */
  readonly criticalAlarmEmail?: string;
  /**
   * Alarm (Critical) when no event at all was accepted (`EventsReceived`) for this long: a wrong URL
   * given to FaceSign never reaches the verifier (API Gateway answers 404 itself, and FaceSign never
   * retries a 4xx), so only silence shows it. Opt-in: set it to a span in which your traffic is never
   * silent. A multiple of 5 minutes under 1 hour (evaluated in 5-minute periods), or whole hours up
   * to 7 days (1-hour periods); missing data counts as silence (docs/operations.md, "Silence").
   * @default - no silence alarm
   */
  readonly silenceAlarmAfter?: Duration;
  /**
   * First part of every alarm name: `<prefix>-<resource>-<metric>-<severity>`. The created topic
   * lets only alarms whose names start with `<prefix>-` publish.
   * Must not be empty, and must differ between two FaceSignWebhooks in one stack (alarm names are unique per account and region).
   * @default - the stack name
   */
  readonly alarmNamePrefix?: string;
  /**
   * Alarm when the oldest queued message is older than this. Media URLs die after 15 minutes.
   * @default Duration.minutes(5)
   */
  readonly queueAgeAlarmThreshold?: Duration;
  /**
   * Alarm when this percentage of API requests or more end in 5xx over 5 minutes (and at least
   * `apiServerErrorMinimumCount` of them did).
   * @default 5
   */
  readonly apiServerErrorRateThreshold?: number;
  /**
   * The 5xx-rate alarm needs at least this many 5xx answers in the 5 minutes, so one retried 503
   * among a handful of requests pages no one (FaceSign retries every 5xx).
   * @default 5
   */
  readonly apiServerErrorMinimumCount?: number;
  /**
   * Alarm when the API's p99 latency exceeds this in 2 of 3 five-minute periods. Periods with too
   * few requests for a meaningful p99 are not evaluated. Must be more than 0.
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
  /** The API FaceSign posts to: its metrics, whichever door it is (lib/front-door/front-door.ts). */
  readonly api: FrontDoorMetrics;
  /** The verifier; its timeout draws the duration alarm's line. */
  readonly verifier: lambda.Function;
  /** The processor; its timeout draws the duration alarm's line. */
  readonly processor: lambda.Function;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** CloudWatch namespace of the handlers' custom metrics: not empty, and not in the `AWS/` space. */
  readonly metricsNamespace: string;
  /** Value of the `deployment` dimension the handlers put on every custom metric. */
  readonly metricsDeployment: string;
  /**
   * The idempotency table: throttles and system errors alarm.
   * @default - no DynamoDB alarms
   */
  readonly idempotencyTable?: dynamodb.ITable;
  /**
   * The API access log group; a metric filter counts its 429s. Its lines must carry the
   * `deployment` field (`ACCESS_LOG_DEPLOYMENT_FIELD`, lib/front-door/access-log.ts) with `metricsDeployment`.
   * @default - 429s are not counted
   */
  readonly accessLogGroup?: logs.ILogGroup;
  /**
   * The processor's event-source `maxConcurrency`: the concurrency alarm fires when the processor
   * runs at it for 5 minutes.
   * @default - no concurrency alarm
   */
  readonly processorMaxConcurrency?: number;
}

type Severity = 'Critical' | 'Warning';

/**
 * Alarms that page before an event is lost, and one dashboard that says whether the pipeline is
 * healthy and, if not, where. Hand-written CloudWatch constructs rather than
 * cdk-monitoring-constructs: the alarms here lean on our own custom metrics and on metric math
 * (5xx rate, new dead-letter arrivals), the names follow the `<prefix>-<resource>-<metric>-<severity>`
 * scheme exactly, and users of the construct get no extra dependency.
 */
export class WebhookMonitoring extends Construct {
  /** The topic every alarm notifies (Warning alarms only, when Critical alarms have a topic of their own). */
  public readonly alarmTopic: sns.ITopic;
  /** The topic Critical alarms notify: {@link alarmTopic} unless `existingCriticalAlarmTopicObj` or `criticalAlarmEmail` was given. */
  public readonly criticalAlarmTopic: sns.ITopic;
  /** The key encrypting the created alarm topics (undefined when none was created, or a key was passed in). */
  public readonly alarmTopicKey?: kms.Key;
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** The ARN pattern every alarm of this construct matches: `arn:…:cloudwatch:<region>:<account>:alarm:<prefix>-*`. */
  public readonly alarmArnPattern: string;

  private readonly alarmRecord: Record<string, cloudwatch.Alarm> = {};
  private readonly alarmList: cloudwatch.IAlarm[] = [];
  private readonly prefix: string;
  private readonly namespace: string;
  private readonly deployment: string;
  /** The custom metrics of this deployment, as the alarms and dashboard read them. */
  public readonly metrics: WebhookMetrics;
  private consumerWidget?: cloudwatch.GraphWidget;
  private subscribersChecked = false;

  constructor(scope: Construct, id: string, props: WebhookMonitoringProps) {
    super(scope, id);
    refuseUnusableNames(props);
    const stack = Stack.of(this);
    this.prefix = props.alarmNamePrefix ?? stack.stackName;
    claimAlarmNamePrefix(stack, this.prefix);
    this.namespace = props.metricsNamespace;
    this.deployment = props.metricsDeployment;
    this.metrics = new WebhookMetrics(this.namespace, this.deployment);
    const queueAgeThreshold = props.queueAgeAlarmThreshold ?? ALARM_DEFAULTS.queueAgeAlarmThreshold;
    const serverErrorRate = props.apiServerErrorRateThreshold ?? ALARM_DEFAULTS.apiServerErrorRateThreshold;
    const serverErrorMinimum = props.apiServerErrorMinimumCount ?? ALARM_DEFAULTS.apiServerErrorMinimumCount;
    const latencyThreshold = props.apiLatencyP99Threshold ?? ALARM_DEFAULTS.apiLatencyP99Threshold;
    const signatureThreshold = props.signatureFailureAlarmThreshold ?? ALARM_DEFAULTS.signatureFailureAlarmThreshold;
    if (queueAgeThreshold.toSeconds() >= MEDIA_URL_LIFETIME.toSeconds()) {
      throw new Error(
        `queueAgeAlarmThreshold must be under ${MEDIA_URL_LIFETIME.toHumanString()} (a media URL's life), or media is lost before it fires; got ${queueAgeThreshold.toSeconds()} s`,
      );
    }
    if (!(serverErrorRate > 0 && serverErrorRate <= 100)) {
      throw new Error(`apiServerErrorRateThreshold must be a percentage above 0 and at most 100, got ${serverErrorRate}`);
    }
    if (!(Number.isInteger(serverErrorMinimum) && serverErrorMinimum >= 1)) {
      throw new Error(`apiServerErrorMinimumCount must be a positive integer, got ${serverErrorMinimum}`);
    }
    if (!(Number.isInteger(signatureThreshold) && signatureThreshold >= 1)) {
      throw new Error(`signatureFailureAlarmThreshold must be a positive integer, got ${signatureThreshold}`);
    }
    const silence = props.silenceAlarmAfter === undefined ? undefined : silenceWindow(props.silenceAlarmAfter);

    this.alarmArnPattern = stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: `${this.prefix}-*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // CloudWatch publishes as the service principal, on behalf of the alarm: these two keys say
    // which account and which alarms (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger,
    // https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html).
    const onBehalfOfOurAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': this.alarmArnPattern },
    };
    // One key for the created topics, made (or given its statement) only when a topic is created.
    let topicKey: kms.IKey | undefined;
    let createdKey: kms.Key | undefined;
    const keyForTopics = (): kms.IKey => {
      if (topicKey) return topicKey;
      const key =
        props.alarmTopicProps?.masterKey ??
        new kms.Key(this, 'AlarmTopicKey', {
          description: 'Encrypts the FaceSign webhooks alarm topic',
          enableKeyRotation: true,
        });
      if (key instanceof kms.Key && !props.alarmTopicProps?.masterKey) createdKey = key;
      // An encrypted topic: the publisher needs the key too, or the publish fails
      // (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
      // Only on behalf of this account: the topic policy already narrows it to our alarms, and a
      // condition the KMS request might not carry would silently drop every page.
      const added = key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsOfThisAccount',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
        true,
      );
      if (!added.statementAdded) {
        Annotations.of(this).addWarningV2(
          'facesign-webhooks:alarmTopicKeyPolicy',
          'alarmTopicProps.masterKey is not a key of this app, so its policy cannot be changed here: it must allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*, or no alarm can notify (docs/operations.md, "Bring your own alarm topic").',
        );
      }
      topicKey = key;
      return key;
    };
    const createTopic = (id: string, topicProps: sns.TopicProps): sns.Topic => {
      const topic = new sns.Topic(this, id, { ...topicProps, masterKey: keyForTopics(), enforceSSL: true });
      // Any topic policy replaces the default one, and the default is what lets same-account alarms
      // publish; enforceSSL alone leaves only a Deny, so CloudWatch needs its own Allow.
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsToPublish',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: onBehalfOfOurAlarms,
        }),
      );
      return topic;
    };
    this.alarmTopic = props.existingAlarmTopicObj ?? createTopic('AlarmTopic', props.alarmTopicProps ?? {});
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    // A pager for Critical alarms: a topic of the user's, or one of ours for an e-mail of its own.
    this.criticalAlarmTopic = props.existingCriticalAlarmTopicObj ?? (props.criticalAlarmEmail ? createTopic('CriticalAlarmTopic', {}) : this.alarmTopic);
    if (props.criticalAlarmEmail) this.criticalAlarmTopic.addSubscription(new EmailSubscription(props.criticalAlarmEmail));
    this.alarmTopicKey = createdKey;
    this.warnWhenNobodyIsTold(props);

    const five = Duration.minutes(5);
    const one = Duration.minutes(1);
    const sum5 = { period: five, statistic: 'Sum' };
    const requests = props.api.metricCount(sum5);
    const serverErrors = props.api.metricServerError(sum5);
    const clientErrors = props.api.metricClientError(sum5);

    // New arrivals in the dead-letter queue, not just its depth: depth stays up while messages are kept
    // for triage, so a second failure days later would page no one. Three signals, because each misses
    // something: the processor's own PermanentFailures (at once), the DLQ's NumberOfMessagesSent
    // (every SendMessage, also when the metric publish was lost), and growth in depth, which is the only
    // trace of a message SQS moved itself after maxReceiveCount: such moves are not counted in
    // NumberOfMessagesSent (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
    // FILL(REPEAT) keeps a late or missing depth point from reading as growth; only growth counts, so
    // a redrive draining the queue in the same minute cannot cancel an arrival; the outer FILLs keep
    // one silent signal (an idle DLQ reports nothing) from blanking the others. A sum, not a count:
    // one arrival may show in all three, and the alarm fires at 1.
    const dlqVisible = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: one });
    const depthChange = new cloudwatch.MathExpression({
      expression: 'DIFF(FILL(depth, REPEAT))',
      usingMetrics: { depth: dlqVisible },
      period: one,
    });
    const newDeadLetters = new cloudwatch.MathExpression({
      expression: 'FILL(sent, 0) + FILL(failed, 0) + FILL(IF(change > 0, change, 0), 0)',
      usingMetrics: {
        sent: props.deadLetterQueue.metricNumberOfMessagesSent({ statistic: 'Sum', period: one }),
        failed: this.metrics.metric(METRIC.permanentFailures, { period: one }),
        change: depthChange,
      },
      label: 'new dead-letter messages',
      period: one,
    });

    const processorTimeout = timeoutOf(props.processor);
    const verifierTimeout = timeoutOf(props.verifier);
    const dlqRetention = retentionOf(props.deadLetterQueue);
    const mainRetention = retentionOf(props.queue);
    // DLQ age counts from the move for messages SQS moved, but their retention counts from the first
    // enqueue (AWS docs above): leave room for the longest they can have spent in the main queue.
    const dlqAgeThreshold = Duration.seconds(Math.max(3600, dlqRetention.toSeconds() - mainRetention.toSeconds() - Duration.days(1).toSeconds()));

    this.alarm(
      'deadLetterQueueNewMessages',
      'DeadLetterQueue',
      'NewMessages',
      'Critical',
      newDeadLetters,
      'A new event reached the dead-letter queue. Read its failureReason attribute (no failureReason and a DeadLetterQueueSourceArn attribute: SQS moved it after a crash or timeout; read the processor log for that time). Fix the cause, then redrive (docs/operations.md, Runbook). Media whose URL expired needs FaceSign to resend.',
      { evaluationPeriods: 3, datapointsToAlarm: 1 },
    );
    this.alarm(
      'deadLetterQueue',
      'DeadLetterQueue',
      'VisibleMessages',
      'Warning',
      dlqVisible,
      'Events are waiting in the dead-letter queue for triage. Each arrival also paged through DeadLetterQueue-NewMessages; redrive or delete them once handled (docs/operations.md, Runbook).',
    );
    this.alarm(
      'deadLetterQueueAge',
      'DeadLetterQueue',
      'OldestMessageAge',
      'Critical',
      props.deadLetterQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: five }),
      `A dead-letter message is ${dlqAgeThreshold.toDays({ integral: false }).toFixed(1)} days old; SQS deletes it ${dlqRetention.toDays()} days after it was first queued, and then this alarm goes OK while the event is gone. Redrive it, or copy it out, now (docs/operations.md, Runbook).`,
      { threshold: dlqAgeThreshold.toSeconds() },
    );
    this.alarm(
      'queueAge',
      'Queue',
      'OldestMessageAge',
      'Critical',
      props.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: one }),
      `Events are waiting longer than ${queueAgeThreshold.toSeconds()} s. Media URLs expire ${MEDIA_URL_LIFETIME.toMinutes()} minutes after they are made, so a backlog loses media. Check the processor's errors, throttles and concurrency (maxConcurrency), and DynamoDB and S3 health.`,
      { threshold: queueAgeThreshold.toSeconds(), comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD },
    );

    this.alarm(
      'verifierErrors',
      'Verifier',
      'Errors',
      'Critical',
      props.verifier.metricErrors(sum5),
      'The verifier crashed or timed out (FaceSign got a 5xx and will retry). Read the verifier log group for the error; a cold-start error names the bad environment variable.',
    );
    this.alarm(
      'verifierThrottles',
      'Verifier',
      'Throttles',
      'Warning',
      props.verifier.metricThrottles(sum5),
      'The verifier was throttled: the account has no Lambda concurrency left. FaceSign retries, but raise the account concurrency limit or reserve concurrency for the verifier.',
    );
    this.alarm(
      'verifierDuration',
      'Verifier',
      'DurationNearTimeout',
      'Warning',
      props.verifier.metricDuration({ statistic: 'Maximum', period: five }),
      `A verifier invocation took ${DURATION_ALARM_SHARE * 100}% of its ${verifierTimeout.toSeconds()} s timeout; at the timeout FaceSign gets a 5xx. Look at Secrets Manager and SQS latency in X-Ray.`,
      { threshold: durationAlarmThreshold(verifierTimeout), comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD },
    );
    this.alarm(
      'processorErrors',
      'Processor',
      'Errors',
      'Critical',
      props.processor.metricErrors(sum5),
      'A processor invocation crashed or timed out, so its whole batch returns to the queue. Read the processor log group; a timeout means processorTimeout is too short for the media sizes.',
    );
    this.alarm(
      'processorThrottles',
      'Processor',
      'Throttles',
      'Warning',
      props.processor.metricThrottles(sum5),
      'The processor was throttled by the account concurrency limit; events wait in the queue. Raise the limit or lower processorMaxConcurrency elsewhere.',
    );
    this.alarm(
      'processorDuration',
      'Processor',
      'DurationNearTimeout',
      'Warning',
      props.processor.metricDuration({ statistic: 'Maximum', period: five }),
      `A processor invocation took ${DURATION_ALARM_SHARE * 100}% of its ${processorTimeout.toSeconds()} s timeout. A timeout returns the whole batch to the queue and can cost media its URL. Look at media sizes and download times (dashboard), and at S3 and DynamoDB latency in X-Ray.`,
      { threshold: durationAlarmThreshold(processorTimeout), comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD },
    );
    if (props.processorMaxConcurrency !== undefined) {
      this.alarm(
        'processorConcurrency',
        'Processor',
        'ConcurrencyAtMaximum',
        'Warning',
        this.concurrency(props.processor),
        `The processor has run at its maximum concurrency (${props.processorMaxConcurrency}) for 5 minutes: events arrive faster than it finishes them, and a backlog outlives media URLs. Raise processorMaxConcurrency (and the account limit), or find what makes each event slow.`,
        { threshold: props.processorMaxConcurrency, evaluationPeriods: 5 },
      );
    }

    this.alarm(
      'apiServerErrors',
      'Api',
      'ServerErrorRate',
      'Critical',
      new cloudwatch.MathExpression({
        expression: `IF(requests > 0 AND errors >= ${serverErrorMinimum}, 100 * errors / requests, 0)`,
        usingMetrics: { requests, errors: serverErrors },
        label: 'API 5xx rate (%)',
        period: five,
      }),
      `At least ${serverErrorRate}% of webhook requests (and at least ${serverErrorMinimum}) got a 5xx: FaceSign will retry them, but something of ours is down. The dashboard's "Refused and failed requests by reason" names it: secret_not_configured (put the secret), secret_unavailable (Secrets Manager, IAM), queue_unavailable (SQS).`,
      { threshold: serverErrorRate },
    );
    const latency = this.alarm(
      'apiLatency',
      'Api',
      'LatencyP99',
      'Warning',
      props.api.metricLatency({ period: five, statistic: 'p99' }),
      `The webhook p99 latency is above ${latencyThreshold.toMilliseconds()} ms. Look at the verifier duration (cold starts, Secrets Manager or SQS latency) on the dashboard.`,
      {
        threshold: latencyThreshold.toMilliseconds(),
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      },
    );
    // At a handful of requests p99 is simply the slowest one; such periods are not evaluated.
    (latency.node.defaultChild as cloudwatch.CfnAlarm).evaluateLowSampleCountPercentile = 'ignore';
    if (props.accessLogGroup) {
      createThrottledRequestsFilter(this, props.accessLogGroup, this.namespace, DEPLOYMENT_DIMENSION);
      this.alarm(
        'apiThrottled',
        'Api',
        'Throttled',
        // The REST door answers a throttle 503, which FaceSign retries: delayed, not lost.
        props.api.throttlesAreRetried ? 'Warning' : 'Critical',
        this.metrics.metric(METRIC.requestsThrottled),
        props.api.throttlesAreRetried
          ? "API Gateway throttled requests and answered them 503: FaceSign retries, so deliveries are delayed, not lost. Find the source IPs in the access log (responseType THROTTLED); a flood from one source is the web ACL's to block (wafRateLimit, allowedSourceIps); otherwise raise or remove the stage throttle, or ask AWS for a higher account limit."
          : 'API Gateway answered 429: FaceSign treats it as permanent and never retries, so those deliveries are lost unless FaceSign resends them. Find the source IPs in the access log (status 429); raise or remove the stage throttle, or ask AWS for a higher account limit. Then ask FaceSign to resend the affected events.',
      );
    }
    this.alarm(
      'signatureFailures',
      'Verifier',
      'SignatureFailures',
      'Warning',
      this.metrics.metric(METRIC.signatureFailures),
      'Many requests failed the signature check. signature_mismatch after a rotation: put {"secrets":["new","old"]} in the secret. Otherwise someone may be probing the endpoint: check the access logs for source IPs. The dashboard breaks failures down by reason.',
      { threshold: signatureThreshold, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD },
    );
    // Our own 503s page at the first one, each naming its reason: at a few deliveries an hour the
    // 5xx-rate alarm never fires while FaceSign's retries run out. One-minute periods, the shortest
    // for standard-resolution data, which EMF metrics are unless StorageResolution is 1
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html,
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
    // The per-reason series is published at once with each 503 (lambda/shared/observability.ts).
    // 1 of 3 periods, not 1 of 1: an EMF point exists only once CloudWatch Logs has processed the
    // line, and Lambda's log flush is not ours to control, so AWS suggests M of N for such alarms
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Alarms.html);
    // a point that lands a minute or two late still pages.
    const firstOccurrence = { evaluationPeriods: 3, datapointsToAlarm: 1 };
    for (const reason of REQUEST_FAILURE_REASONS) {
      const { metric, description } = REQUEST_FAILURE_ALARMS[reason];
      this.alarm(
        `requestsFailed${metric}`,
        'Verifier',
        metric,
        'Critical',
        this.metrics.metric(METRIC.requestsFailed, { period: one, dimensionsMap: { [DIMENSION.reason]: reason } }),
        description,
        firstOccurrence,
      );
    }
    // A wrong or stale secret turns every authentic delivery into a 401 that FaceSign never retries:
    // page at the first one that is almost certainly FaceSign's. Garbage 401s stay SignatureFailures (Warning).
    this.alarm(
      'wrongSecretSuspected',
      'Verifier',
      'WrongSecretSuspected',
      'Critical',
      this.metrics.metric(METRIC.wrongSecretSuspected, { period: one }),
      'A delivery in FaceSign\'s exact signature form, freshly signed, over a FaceSign envelope, verified under no active signing secret: the secret is almost certainly wrong or stale, and FaceSign never retries the 401, so every event is lost until it is fixed. Put the current secret from the FaceSign dashboard (during a rotation both: {"secrets":["new","old"]}), then queue the held deliveries: npm run reverify, or, with the construct installed in your own app, invoke its reverifier Lambda until the report says complete: true; ask FaceSign to resend only those counted in HoldsDropped (docs/operations.md, Runbook).',
      firstOccurrence,
    );
    // A refused delivery in FaceSign's form that could not be held cannot be re-verified: FaceSign
    // must resend it. Warning, because WrongSecretSuspected has paged for the same deliveries already;
    // at the first one, so the on-call knows the recovery is incomplete while the page is open.
    this.alarm(
      'holdsDropped',
      'Verifier',
      'HoldsDropped',
      'Warning',
      this.metrics.metric(METRIC.holdsDropped, { period: one }),
      'A refused delivery in FaceSign\'s form was not held (Reason: rate_limit above maxHeldPerHour, counter_unavailable or store_unavailable: DynamoDB or S3 failed or was slow), so npm run reverify cannot recover it. The verifier log line "refused delivery could not be held" names each eventId: ask FaceSign to resend those once the secret is right. Many rate_limit drops without a wrong secret: someone is copying FaceSign\'s form (docs/operations.md, Runbook).',
      firstOccurrence,
    );
    if (silence !== undefined) {
      // Missing data is the point here: no delivery means no data point, and that counts as silence.
      this.alarm(
        'verifierSilence',
        'Verifier',
        'NoDeliveries',
        'Critical',
        this.metrics.metric(METRIC.eventsReceived, { period: silence.period }),
        `No FaceSign event was accepted for ${silence.span.toHumanString()}. If deliveries are expected, FaceSign may have the wrong webhook URL (API Gateway answers 404 itself, FaceSign never retries it): compare its webhook settings with the WebhookUrl output, and check the other Verifier alarms (docs/operations.md, Silence).`,
        {
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: silence.periods,
          datapointsToAlarm: silence.periods,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        },
      );
    }
    this.alarm(
      'requestsRejected',
      'Verifier',
      'RequestsRejected',
      'Critical',
      this.metrics.metric(METRIC.requestsRejected),
      'The verifier refused an authentic delivery (400, 413, or 401 after its signature matched). FaceSign never retries a 4xx, so it is lost: the verifier log line "authentic delivery refused; FaceSign will not retry it" has statusCode, error and reason. Ask FaceSign to resend the event; raise maxBodyBytes for payload_too_large.',
    );
    this.alarm(
      'eventsQuarantined',
      'Processor',
      'EventsQuarantined',
      'Critical',
      this.customAnyService(METRIC.eventsQuarantined),
      'An authentic delivery had an envelope we do not recognise. It was answered 200 and archived as it came under quarantine/, but not published. If it carried a media URL, the file is next to it as .media; if the processor log says "the quarantined body\'s media could not be stored", ask FaceSign to resend. Then update the event schema or tell FaceSign.',
    );
    this.alarm(
      'conflictingDuplicates',
      'Processor',
      'ConflictingDuplicates',
      'Critical',
      this.customAnyService(METRIC.conflictingDuplicates),
      'A delivery reused a known event id with different content. Both versions are archived; compare them and decide which one your systems should act on.',
    );
    if (props.idempotencyTable) {
      const operations = IDEMPOTENCY_OPERATIONS;
      this.alarm(
        'idempotencyTableThrottles',
        'IdempotencyTable',
        'Throttles',
        'Warning',
        props.idempotencyTable.metricThrottledRequestsForOperations({ operations, ...sum5 }),
        "DynamoDB throttled the idempotency table. The processor retries (reason dependency_error) while the media URL lives; a steady throttle fills the queue. Check the table's on-demand limits and the account's DynamoDB quotas.",
      );
      this.alarm(
        'idempotencyTableErrors',
        'IdempotencyTable',
        'SystemErrors',
        'Warning',
        props.idempotencyTable.metricSystemErrorsForOperations({ operations, ...sum5 }),
        'DynamoDB answered the idempotency table with 500s. The processor retries; check the AWS Health Dashboard for DynamoDB in this region.',
      );
    }
    this.alarm(
      'alarmTopicFailures',
      'AlarmTopic',
      'NotificationsFailed',
      'Critical',
      this.alarmTopic.metricNumberOfNotificationsFailed(sum5),
      "SNS could not deliver an alarm notification to a subscriber of the alarm topic, so someone was not paged. Check each subscription (confirmed email, reachable endpoint) and the topic's delivery logs.",
    );
    if (this.criticalAlarmTopic !== this.alarmTopic) {
      // The pager's own delivery failures: told on the pager topic and, since that is what failed,
      // on the alarm topic too.
      const pagerFailures = this.alarm(
        'criticalAlarmTopicFailures',
        'CriticalAlarmTopic',
        'NotificationsFailed',
        'Critical',
        this.criticalAlarmTopic.metricNumberOfNotificationsFailed(sum5),
        "SNS could not deliver a Critical alarm's notification to a subscriber of the Critical alarm topic, so the pager was not paged. Check each subscription of that topic (confirmed email, reachable endpoint) and its delivery logs; until fixed, watch the dashboard's alarm status.",
      );
      pagerFailures.addAlarmAction(new SnsAction(this.alarmTopic));
      pagerFailures.addOkAction(new SnsAction(this.alarmTopic));
    }

    this.dashboard = this.createDashboard(props, {
      requests,
      serverErrors,
      clientErrors,
      queueAgeThreshold,
      processorTimeout,
      verifierTimeout,
      newDeadLetters,
    });
  }

  /**
   * Warns at synth, and says so in the deploy output, when alarms reach no one: no e-mail, no topic
   * of the user's, and no subscription to the created topic anywhere in the app. Checked once the
   * app is built (an aspect), so a subscription added after the construct counts; one made outside
   * the app cannot be seen.
   */
  private warnWhenNobodyIsTold(props: WebhookMonitoringProps): void {
    Aspects.of(this).add({
      visit: (node) => {
        // Once, though an app may be synthesized more than once (tests do).
        if (node !== this || this.subscribersChecked) return;
        this.subscribersChecked = true;
        const told = (topic: sns.ITopic, email?: string, existing?: sns.ITopic) =>
          email !== undefined || existing !== undefined || subscribedInApp(this, topic);
        if (told(this.alarmTopic, props.alarmEmail, props.existingAlarmTopicObj)) return;
        // A Critical topic of its own always has someone: it exists only for a given topic or e-mail.
        const who =
          this.criticalAlarmTopic === this.alarmTopic ? 'no alarm reaches anyone' : 'Warning alarms reach no one (Critical alarms have their own topic)';
        Annotations.of(this).addWarningV2(
          'facesign-webhooks:noAlarmSubscriber',
          `No one is subscribed to the alarm topic, so ${who}. Set alarmEmail (in this repository's app: cdk deploy -c alarmEmail=you@example.com), pass existingAlarmTopicObj, or subscribe to the topic (AlarmTopicArn output); a subscription made outside this app is not seen here (docs/operations.md, "Who is told").`,
        );
        new CfnOutput(this, 'AlarmsReachNoOne', {
          description: 'Set when no subscription to the alarm topic was given (docs/operations.md, "Who is told")',
          value: `No one is subscribed to the alarm topic: ${who}. Subscribe to it, or deploy with alarmEmail.`,
        });
      },
    });
  }

  /** Every alarm, by a stable short name. */
  public get alarms(): Readonly<Record<string, cloudwatch.Alarm>> {
    return this.alarmRecord;
  }

  /**
   * Alarms when an EventBridge rule cannot deliver to its target: failed invocations, events sent
   * to (or lost on the way to) the target's dead-letter queue. {@link FaceSignWebhooks.onEvent} calls it.
   * @param name PascalCase, unique among consumers; part of the alarm name `<prefix>-Consumer<name>-FailedDeliveries-Critical`
   */
  public monitorConsumer(name: string, rule: events.IRule, eventBus: events.IEventBus, deadLetterQueue?: sqs.IQueue): cloudwatch.Alarm {
    const key = `consumer${name}`;
    if (this.alarmRecord[key]) throw new Error(`a consumer named ${name} is already monitored`);
    const ruleName = plainRuleName(rule);
    const failures = new cloudwatch.MathExpression({
      expression: [1, 2, 3].map((n) => `FILL(${ruleMetricId(key, 'bus', n)}, 0) + FILL(${ruleMetricId(key, 'rule', n)}, 0)`).join(' + '),
      usingMetrics: {
        ...this.ruleMetrics(key, 'FailedInvocations', 1, eventBus, ruleName),
        ...this.ruleMetrics(key, 'InvocationsSentToDlq', 2, eventBus, ruleName),
        ...this.ruleMetrics(key, 'InvocationsFailedToBeSentToDlq', 3, eventBus, ruleName),
      },
      label: `${name}: failed deliveries`,
      period: Duration.minutes(5),
    });
    const alarm = this.alarm(
      key,
      `Consumer${name}`,
      'FailedDeliveries',
      'Critical',
      failures,
      `EventBridge could not deliver events to the ${name} target after its retries. They are in the target's dead-letter queue (attributes ERROR_CODE and ERROR_MESSAGE say why) and in the event archive; fix the target, then redrive the queue or replay the archive (docs/operations.md, Runbook).`,
    );
    if (deadLetterQueue) {
      // EventBridge sends with SendMessage, so the age counts from the failure and matches the retention.
      const retention = retentionOf(deadLetterQueue);
      const threshold = Duration.seconds(Math.max(3600, retention.toSeconds() - Duration.days(2).toSeconds()));
      this.alarm(
        `${key}DeadLetterAge`,
        `Consumer${name}`,
        'DeadLetterAge',
        'Critical',
        deadLetterQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: Duration.minutes(5) }),
        `An event ${name} could not take has waited ${threshold.toDays({ integral: false }).toFixed(1)} days in its dead-letter queue; SQS deletes it after ${retention.toDays({ integral: false }).toFixed(0)}. Redrive it to the target or copy it out now (docs/operations.md, Runbook).`,
        { threshold: threshold.toSeconds() },
      );
    }
    if (!this.consumerWidget) {
      this.consumerWidget = new cloudwatch.GraphWidget({ title: 'EventBridge consumers: failed deliveries and dead letters', left: [], width: 12, height: 6 });
      this.dashboard.addWidgets(this.consumerWidget);
    }
    this.consumerWidget.addLeftMetric(failures);
    if (deadLetterQueue) {
      this.consumerWidget.addRightMetric(
        deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1), label: `${name}: dead letters` }),
      );
    }
    return alarm;
  }

  /**
   * One AWS/Events metric of a rule, twice: rules on a custom bus report with EventBusName and
   * RuleName, on the default bus with RuleName alone
   * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html); the alarm sums both.
   */
  private ruleMetrics(key: string, metricName: string, n: number, eventBus: events.IEventBus, ruleName: string): Record<string, cloudwatch.Metric> {
    return {
      [ruleMetricId(key, 'bus', n)]: new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName,
        dimensionsMap: { EventBusName: eventBus.eventBusName, RuleName: ruleName },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      [ruleMetricId(key, 'rule', n)]: new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName,
        dimensionsMap: { RuleName: ruleName },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
    };
  }

  /** An alarm that fires on any occurrence (at least 1 in one period) unless `overrides` say otherwise. */
  private alarm(
    key: string,
    resource: string,
    metric: string,
    severity: Severity,
    source: cloudwatch.IMetric,
    alarmDescription: string,
    overrides: Partial<Pick<cloudwatch.AlarmProps, 'threshold' | 'evaluationPeriods' | 'datapointsToAlarm' | 'comparisonOperator' | 'treatMissingData'>> = {},
  ): cloudwatch.Alarm {
    const created = new cloudwatch.Alarm(this, `${key.charAt(0).toUpperCase()}${key.slice(1)}Alarm`, {
      metric: source,
      alarmDescription,
      alarmName: `${this.prefix}-${resource}-${metric}-${severity}`,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...overrides,
    });
    const topic = severity === 'Critical' ? this.criticalAlarmTopic : this.alarmTopic;
    created.addAlarmAction(new SnsAction(topic));
    created.addOkAction(new SnsAction(topic));
    this.alarmRecord[key] = created;
    this.alarmList.push(created);
    return created;
  }

  /** A custom count whichever function publishes it (both may, as the pipeline evolves). */
  private customAnyService(name: WebhookMetricName): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: `FILL(verifier${name}, 0) + FILL(processor${name}, 0)`,
      usingMetrics: {
        [`verifier${name}`]: this.metrics.metricOf(name, SERVICE.verifier),
        [`processor${name}`]: this.metrics.metricOf(name, SERVICE.processor),
      },
      label: name,
      period: Duration.minutes(5),
    });
  }

  /** A custom metric broken down by a second dimension, one line per value. */
  private byDimension(name: string, service: string, dimension: string, label: string): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${this.namespace},${dimension},${DEPLOYMENT_DIMENSION},service} MetricName="${name}" service="${service}" ${DEPLOYMENT_DIMENSION}="${this.deployment}"', 'Sum', 300)`,
      label,
      period: Duration.minutes(5),
      usingMetrics: {},
    });
  }

  /** Emitted for every function, reserved concurrency or not (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-concurrency.html). */
  private concurrency(fn: lambda.IFunction): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Lambda',
      metricName: 'ConcurrentExecutions',
      dimensionsMap: { FunctionName: fn.functionName },
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
  }

  private createDashboard(
    props: WebhookMonitoringProps,
    m: {
      requests: cloudwatch.Metric;
      serverErrors: cloudwatch.Metric;
      clientErrors: cloudwatch.Metric;
      queueAgeThreshold: Duration;
      processorTimeout: Duration;
      verifierTimeout: Duration;
      newDeadLetters: cloudwatch.MathExpression;
    },
  ): cloudwatch.Dashboard {
    const five = Duration.minutes(5);
    const one = Duration.minutes(1);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    // The list is read when the dashboard is rendered, so consumer alarms added later appear too.
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarmList, width: 24, height: 4 }));
    dashboard.addWidgets(
      this.graph(
        'Webhook requests: 2xx / 4xx / 5xx',
        [
          new cloudwatch.MathExpression({
            expression: 'requests - client - server',
            usingMetrics: { requests: m.requests, client: m.clientErrors, server: m.serverErrors },
            label: '2xx',
            period: five,
          }),
          m.clientErrors.with({ label: '4xx' }),
          m.serverErrors.with({ label: '5xx' }),
        ],
        { stacked: true },
      ),
      this.graph(
        'Webhook latency',
        [props.api.metricLatency({ statistic: 'p50', period: five, label: 'p50' }), props.api.metricLatency({ statistic: 'p99', period: five, label: 'p99' })],
        { leftYAxis: { label: 'ms', showUnits: false } },
      ),
      this.graph('Refused and failed requests by reason', [
        this.byDimension(METRIC.signatureFailures, SERVICE.verifier, DIMENSION.reason, '401'),
        this.byDimension(METRIC.requestsRejected, SERVICE.verifier, DIMENSION.reason, 'authentic refused'),
        this.byDimension(METRIC.requestsFailed, SERVICE.verifier, DIMENSION.reason, '503'),
        this.metrics.metric(METRIC.wrongSecretSuspected).with({ label: '401 wrong secret suspected' }),
      ]),
    );
    dashboard.addWidgets(
      this.graph('Throttled requests (429)', [this.metrics.metric(METRIC.requestsThrottled).with({ label: '429 (throttled)' })], {
        leftAnnotations: [{ value: 1, label: 'alarm', color: '#d62728' }],
      }),
      this.graph(
        'Quarantined, conflicting and refused authentic deliveries',
        [
          this.customAnyService(METRIC.eventsQuarantined).with({ label: 'quarantined' }),
          this.customAnyService(METRIC.conflictingDuplicates).with({ label: 'conflicting duplicates' }),
          this.metrics.metric(METRIC.requestsRejected).with({ label: 'authentic refused (400/413/401)' }),
        ],
        { leftAnnotations: [{ value: 1, label: 'alarm', color: '#d62728' }] },
      ),
      this.graph('Signature timing', [this.metrics.metric(METRIC.timestampHeaderMismatches).with({ label: 'timestamp header ≠ t' })], {
        right: [
          this.metrics.metric(METRIC.signatureAge, { statistic: 'p50' }).with({ label: 'signature age p50 (s)' }),
          this.metrics.metric(METRIC.signatureAge, { statistic: 'Maximum' }).with({ label: 'signature age max (s)' }),
        ],
        rightYAxis: { min: 0, label: 'seconds', showUnits: false },
      }),
    );
    dashboard.addWidgets(
      this.graph('Events received by type', [this.byDimension(METRIC.eventsReceived, SERVICE.verifier, DIMENSION.eventType, '')]),
      this.graph(
        'Queue depth and oldest message age',
        [
          props.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: one, label: 'waiting' }),
          props.queue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', period: one, label: 'in flight or backing off' }),
        ],
        {
          right: [props.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: one, label: 'oldest message age (s)' })],
          rightAnnotations: [
            { value: MEDIA_URL_LIFETIME.toSeconds(), label: `media URLs expire (${MEDIA_URL_LIFETIME.toMinutes()} min)`, color: '#d62728' },
            { value: m.queueAgeThreshold.toSeconds(), label: 'alarm', color: '#ff7f0e' },
          ],
          rightYAxis: { min: 0, label: 'seconds', showUnits: false },
        },
      ),
      this.graph(
        'Dead-letter queue: depth and new arrivals',
        [props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: one, label: 'messages' }), m.newDeadLetters],
        {
          right: [props.deadLetterQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: five, label: 'oldest message age (s)' })],
          leftAnnotations: [{ value: 1, label: 'alarm', color: '#d62728' }],
        },
      ),
    );
    const concurrencyAnnotations =
      props.processorMaxConcurrency === undefined
        ? []
        : [{ value: props.processorMaxConcurrency, label: `maxConcurrency (${props.processorMaxConcurrency})`, color: '#d62728' }];
    dashboard.addWidgets(
      this.durationWidget('Verifier duration', props.verifier, m.verifierTimeout),
      this.durationWidget('Processor duration', props.processor, m.processorTimeout),
      this.graph(
        'Processor errors, throttles and concurrency',
        [
          props.processor.metricErrors({ period: five, statistic: 'Sum', label: 'errors' }),
          props.processor.metricThrottles({ period: five, statistic: 'Sum', label: 'throttles' }),
        ],
        {
          right: [this.concurrency(props.processor).with({ label: 'concurrent executions' })],
          rightAnnotations: concurrencyAnnotations,
          rightYAxis: { min: 0, label: 'concurrent', showUnits: false },
        },
      ),
    );
    dashboard.addWidgets(
      this.graph('Events processed by type', [this.byDimension(METRIC.eventsProcessed, SERVICE.processor, DIMENSION.eventType, '')]),
      this.graph('Duplicates skipped', [this.metrics.metric(METRIC.duplicatesSkipped).with({ label: 'duplicate deliveries' })]),
      this.graph('Failures by reason', [
        this.byDimension(METRIC.permanentFailures, SERVICE.processor, DIMENSION.reason, 'permanent'),
        this.byDimension(METRIC.transientFailures, SERVICE.processor, DIMENSION.reason, 'transient'),
      ]),
    );
    // Two widgets: CDK names both per-operation sums' metrics after the operations, so they cannot share a graph.
    const dynamoWidgets = props.idempotencyTable
      ? [
          this.graph(
            'Idempotency table: throttled requests',
            [
              props.idempotencyTable.metricThrottledRequestsForOperations({
                operations: IDEMPOTENCY_OPERATIONS,
                period: five,
                statistic: 'Sum',
                label: 'throttled requests',
              }),
            ],
            { width: 4 },
          ),
          this.graph(
            'Idempotency table: system errors and latency',
            [
              props.idempotencyTable.metricSystemErrorsForOperations({
                operations: IDEMPOTENCY_OPERATIONS,
                period: five,
                statistic: 'Sum',
                label: 'system errors',
              }),
            ],
            {
              width: 4,
              right: [
                props.idempotencyTable.metricSuccessfulRequestLatency({
                  dimensionsMap: { TableName: props.idempotencyTable.tableName, Operation: 'PutItem' },
                  statistic: 'p99',
                  period: five,
                  label: 'PutItem latency p99 (ms)',
                }),
              ],
            },
          ),
        ]
      : [];
    dashboard.addWidgets(
      this.graph('Media stored', [this.metrics.metric(METRIC.mediaBytesStored).with({ label: 'bytes stored' })], {
        right: [this.metrics.metric(METRIC.mediaDownloadTime, { statistic: 'p99' }).with({ label: 'download time p99 (ms)' })],
      }),
      ...dynamoWidgets,
      this.graph('Alarm notifications', [
        this.alarmTopic.metricNumberOfMessagesPublished({ period: five, statistic: 'Sum', label: 'published' }),
        this.alarmTopic.metricNumberOfNotificationsFailed({ period: five, statistic: 'Sum', label: 'failed' }),
      ]),
    );
    return dashboard;
  }
  /** A dashboard graph: a third of the width unless `extra` says otherwise. */
  private graph(title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}): cloudwatch.GraphWidget {
    return new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, ...extra });
  }

  /** One widget per function: the verifier's milliseconds and the processor's minutes never share an axis. */
  private durationWidget(title: string, fn: lambda.IFunction, timeout: Duration): cloudwatch.GraphWidget {
    const five = Duration.minutes(5);
    return this.graph(
      title,
      [
        fn.metricDuration({ statistic: 'p50', period: five, label: 'p50' }),
        fn.metricDuration({ statistic: 'p99', period: five, label: 'p99' }),
        fn.metricDuration({ statistic: 'Maximum', period: five, label: 'max' }),
      ],
      {
        leftYAxis: { min: 0, label: 'ms', showUnits: false },
        leftAnnotations: [
          { value: timeout.toMilliseconds(), label: `timeout (${timeout.toSeconds()} s)`, color: '#d62728' },
          { value: durationAlarmThreshold(timeout), label: `alarm (${DURATION_ALARM_SHARE * 100}%)`, color: '#ff7f0e' },
        ],
      },
    );
  }
}

/**
 * Id of one rule metric in the consumer's math expression: unique per consumer (`key`), so several
 * consumers' lines can share the dashboard widget.
 */
function ruleMetricId(key: string, kind: 'bus' | 'rule', n: number): string {
  return `${key}${kind === 'bus' ? 'Bus' : 'Rule'}${n}`;
}

/** The duration alarm's line for a function with this timeout, in milliseconds. */
function durationAlarmThreshold(timeout: Duration): number {
  return Math.floor(timeout.toMilliseconds() * DURATION_ALARM_SHARE);
}

/** The function's configured timeout; Lambda's own default (3 s) when none was set. */
function timeoutOf(fn: lambda.Function): Duration {
  return fn.timeout ?? Duration.seconds(3);
}

/** A queue's retention as configured on its CloudFormation resource; SQS's default when unset. */
function retentionOf(queue: sqs.IQueue): Duration {
  const cfn = queue.node.defaultChild;
  if (cfn instanceof sqs.CfnQueue && typeof cfn.messageRetentionPeriod === 'number') return Duration.seconds(cfn.messageRetentionPeriod);
  return SQS_DEFAULT_RETENTION;
}

/**
 * The rule's own name, as the AWS/Events metrics carry it. For a rule on a custom bus, the
 * CloudFormation `Ref` that `rule.ruleName` resolves to is `<bus name>|<rule name>`
 * (https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/1131); on the
 * default bus it is the bare name. Joining the Ref to itself with `|` and taking element 1 gives
 * the bare name in both cases: `bus|rule|bus|rule` and `rule|rule`.
 */
function plainRuleName(rule: events.IRule): string {
  if (!Token.isUnresolved(rule.ruleName)) return rule.ruleName;
  return Fn.select(1, Fn.split('|', Fn.join('|', [rule.ruleName, rule.ruleName])));
}

/**
 * Refuses what CloudWatch would refuse at deploy, or what would make every alarm meaningless: an
 * empty metrics namespace or one in the `AWS/` space CloudWatch keeps for itself
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html), an
 * empty alarm name prefix (the topic's publish condition is `<prefix>-*`), a latency threshold of 0.
 */
function refuseUnusableNames(props: WebhookMonitoringProps): void {
  const namespace = props.metricsNamespace;
  if (!Token.isUnresolved(namespace) && (namespace.trim() === '' || namespace.startsWith('AWS/'))) {
    throw new Error(
      `metricsNamespace must be non-empty and must not start with "AWS/" (CloudWatch keeps that for AWS services), got ${JSON.stringify(namespace)}`,
    );
  }
  const prefix = props.alarmNamePrefix;
  if (prefix !== undefined && !Token.isUnresolved(prefix) && prefix.trim() === '') {
    throw new Error(
      `alarmNamePrefix must not be empty: it starts every alarm name and scopes who may publish to the alarm topic, got ${JSON.stringify(prefix)}`,
    );
  }
  const latency = props.apiLatencyP99Threshold;
  if (latency !== undefined && !(latency.toMilliseconds({ integral: false }) > 0)) {
    throw new Error(`apiLatencyP99Threshold must be more than 0 (at 0 the alarm would always fire), got ${latency.toHumanString()}`);
  }
}

/** Alarm name prefixes used in each stack: alarm names are unique per account and region. */
const alarmNamePrefixes = new WeakMap<Stack, Set<string>>();

/** Refuses a second monitoring construct in one stack with the same prefix: their alarms would collide. */
function claimAlarmNamePrefix(stack: Stack, prefix: string): void {
  const used = alarmNamePrefixes.get(stack) ?? new Set<string>();
  alarmNamePrefixes.set(stack, used);
  if (!Token.isUnresolved(prefix) && used.has(prefix)) {
    throw new Error(`two FaceSignWebhooks in stack ${stack.stackName} would name their alarms alike; give each its own alarmNamePrefix, got "${prefix}" twice`);
  }
  used.add(prefix);
}

/**
 * The periods of the silence alarm. CloudWatch evaluates at most 1 day for periods under an hour
 * and 7 days otherwise (Period x EvaluationPeriods;
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html), so
 * windows under an hour are counted in 5-minute periods and longer ones in 1-hour periods; every
 * period of the window must be silent.
 */
function silenceWindow(after: Duration): { readonly span: Duration; readonly period: Duration; readonly periods: number } {
  const problem = `silenceAlarmAfter must be a multiple of 5 minutes under 1 hour, or whole hours from 1 hour to ${MAX_SILENCE.toHours()} hours (CloudWatch evaluates at most 7 days)`;
  if (after.isUnresolved()) throw new Error(`${problem}; got an unresolved token`);
  const seconds = after.toSeconds({ integral: false });
  const step = seconds < 3600 ? 300 : 3600;
  const periods = seconds / step;
  if (!(Number.isInteger(periods) && periods >= 1 && seconds <= MAX_SILENCE.toSeconds())) throw new Error(`${problem}, got ${after.toHumanString()}`);
  return { span: after, period: Duration.seconds(step), periods };
}

/** True when some subscription in the app is to this topic (its ARN token is the one the subscription carries). */
function subscribedInApp(scope: Construct, topic: sns.ITopic): boolean {
  return scope.node.root.node.findAll().some((c) => c instanceof sns.CfnSubscription && c.topicArn === topic.topicArn);
}
