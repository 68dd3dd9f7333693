import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEPLOYMENT_DIMENSION, METRIC } from '../../contract/metric-names';
import { createThrottledRequestsFilter } from '../front-door/access-log';
import type { FrontDoorMetrics } from '../front-door/front-door';
import { WebhookMetrics } from '../webhook-metrics';
import { AlarmFactory, type AlarmSpec } from './alarm-factory';
import { defaultRunbookBaseUrl, type WebhookAlarmOptions } from './alarm-options';
import { createAlarmTopics } from './alarm-topic';
import { apiAlarms, frontDoorMetrics, wafAlarms } from './api-signals';
import { consumerSignals, secretWatchAlarm } from './consumer-alarms';
import { createDashboard } from './dashboard';
import { alarmThresholds, claimAlarmNamePrefix, refuseUnusableNames, silenceAlarm, type ThresholdSettings } from './monitoring-checks';
import { deliveryAlarms, functionAlarms, tableAlarms, timeoutOf, topicAlarms } from './pipeline-alarms';
import { queueAlarms } from './queue-signals';

/** The keys of the alarms every deployment has. */
export type CoreAlarmKey =
  | 'deadLetterQueueNewMessages'
  | 'deadLetterQueue'
  | 'deadLetterQueueAge'
  | 'deadLetterQueueHeld'
  | 'queueAge'
  | 'queueStuck'
  | 'verifierErrors'
  | 'verifierThrottles'
  | 'verifierDuration'
  | 'processorErrors'
  | 'processorThrottles'
  | 'processorDuration'
  | 'apiServerErrors'
  | 'apiLatency'
  | 'signatureFailures'
  | 'requestsFailedSecretNotConfigured'
  | 'requestsFailedSecretUnavailable'
  | 'requestsFailedQueueUnavailable'
  | 'wrongSecretSuspected'
  | 'holdsDropped'
  | 'requestsRejected'
  | 'eventsQuarantined'
  | 'conflictingDuplicates'
  | 'alarmTopicFailures';

/**
 * The keys of alarms that exist only with a setting (`processorMaxConcurrency`, an access log,
 * `silenceAlarmAfter`, the idempotency table, a Critical topic of its own, the REST door's web ACL,
 * the signing-secret watch) or an `onEvent` call (`consumer<Id>`, `consumer<Id>DeadLetterAge`).
 */
export type OptionalAlarmKey =
  | 'processorConcurrency'
  | 'apiThrottled'
  | 'apiWafBlocked'
  | 'apiWafBlockedPersistent'
  | 'signingSecretWatchFailures'
  | 'verifierSilence'
  | 'idempotencyTableThrottles'
  | 'idempotencyTableErrors'
  | 'criticalAlarmTopicFailures'
  | `consumer${string}`;

/** The stable short name of an alarm: the key of {@link WebhookMonitoring.alarms}. */
export type WebhookAlarmKey = CoreAlarmKey | OptionalAlarmKey;

/** The alarms by key: those every deployment has, and the optional ones when they exist. */
export type WebhookAlarms = Readonly<Record<CoreAlarmKey, cloudwatch.Alarm>> & Readonly<Partial<Record<OptionalAlarmKey, cloudwatch.Alarm>>>;

/** Properties of {@link WebhookMonitoring}: what {@link FaceSignWebhooks} hands it. */
export interface WebhookMonitoringProps extends WebhookAlarmOptions {
  /** The HTTP API FaceSign posts to. */
  readonly api: FrontDoorMetrics;
  readonly verifier: lambda.Function;
  readonly processor: lambda.Function;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** CloudWatch namespace of the handlers' custom metrics: not empty, and not in the `AWS/` space. */
  readonly metricsNamespace: string;
  /** Value of the `deployment` dimension the handlers put on every custom metric. */
  readonly metricsDeployment: string;
  /** @default - no DynamoDB alarms */
  readonly idempotencyTable?: dynamodb.ITable;
  /** The API access log group; a metric filter counts its 429s. @default - 429s are not counted */
  readonly accessLogGroup?: logs.ILogGroup;
  /** The processor's event-source `maxConcurrency`. @default - no concurrency alarm */
  readonly processorMaxConcurrency?: number;
  /** The alarm thresholds, resolved and checked like every setting (resolveSettings). */
  readonly thresholds: ThresholdSettings;
}

/**
 * Alarms that page before an event is lost, and one dashboard that says whether anything is being
 * lost and, if so, where. The structure of cdk-monitoring-constructs without the dependency: an
 * alarm-topic step, alarms built from named specs (./alarm-factory.ts), the dead-letter and queue
 * signals, the consumer alarms, and dashboard rows built by small functions.
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
  /** The custom metrics of this deployment, as the alarms and dashboard read them. */
  public readonly metrics: WebhookMetrics;

  private readonly factory: AlarmFactory;
  private consumerWidget?: cloudwatch.GraphWidget;

  constructor(scope: Construct, id: string, props: WebhookMonitoringProps) {
    super(scope, id);
    refuseUnusableNames(props);
    const stack = Stack.of(this);
    const prefix = props.alarmNamePrefix ?? stack.stackName;
    claimAlarmNamePrefix(stack, prefix);
    this.metrics = new WebhookMetrics(props.metricsNamespace, props.metricsDeployment);
    const t = alarmThresholds(props.thresholds);
    this.alarmArnPattern = stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${prefix}-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const topics = createAlarmTopics(this, props, this.alarmArnPattern);
    this.alarmTopic = topics.alarmTopic;
    this.criticalAlarmTopic = topics.criticalAlarmTopic;
    this.alarmTopicKey = topics.createdKey;
    this.factory = new AlarmFactory(this, {
      prefix,
      alarmTopic: this.alarmTopic,
      criticalAlarmTopic: this.criticalAlarmTopic,
      runbookBaseUrl: props.runbookBaseUrl ?? defaultRunbookBaseUrl(),
    });
    const api = frontDoorMetrics(props.api);
    const specs = [
      ...queueAlarms({ ...props, metrics: this.metrics, queueAgeThreshold: t.queueAge, processorTimeout: timeoutOf(props.processor) }),
      ...functionAlarms(props.verifier, props.processor, props.processorMaxConcurrency),
      ...apiAlarms(api, { serverErrorRate: t.serverErrorRate, serverErrorMinimum: t.serverErrorMinimum, latencyP99: t.latency }),
      ...wafAlarms(api),
      ...(props.accessLogGroup ? [this.throttledRequests(props.accessLogGroup, props.api.throttlesAreRetried)] : []),
      ...deliveryAlarms(this.metrics, t.signature),
      ...(props.silenceAlarmAfter === undefined ? [] : [silenceAlarm(this.metrics, props.silenceAlarmAfter)]),
      ...(props.idempotencyTable ? tableAlarms(props.idempotencyTable) : []),
      ...topicAlarms(this.alarmTopic, this.criticalAlarmTopic),
    ];
    for (const spec of specs) this.factory.add(spec);
    this.dashboard = createDashboard(this, {
      ...props,
      api,
      metrics: this.metrics,
      alarms: this.factory.list,
      alarmTopic: this.alarmTopic,
      queueAgeThreshold: t.queueAge,
    });
  }

  /** Every alarm, by its stable short name. */
  public get alarms(): WebhookAlarms {
    return this.factory.alarms as WebhookAlarms;
  }

  /**
   * Alarms when an EventBridge rule's target does not take an event (see ./consumer-alarms.ts), and
   * draws it on the consumer widget. {@link FaceSignWebhooks.onEvent} calls it.
   * @param name PascalCase, unique among consumers; part of the alarm name `<prefix>-Consumer<name>-FailedDeliveries-Critical`
   */
  public monitorConsumer(name: string, rule: events.IRule, eventBus: events.IEventBus, deadLetterQueue?: sqs.IQueue): cloudwatch.Alarm {
    if (this.factory.alarms[`consumer${name}`]) throw new Error(`a consumer named ${name} is already monitored`);
    const signals = consumerSignals({ name, rule, eventBus, deadLetterQueue });
    const [alarm] = signals.alarms.map((spec) => this.factory.add(spec));
    if (!this.consumerWidget) {
      this.consumerWidget = new cloudwatch.GraphWidget({ title: 'EventBridge consumers: failed deliveries and dead letters', left: [], width: 12, height: 6 });
      this.dashboard.addWidgets(this.consumerWidget);
    }
    this.consumerWidget.addLeftMetric(signals.failures);
    if (signals.deadLetters) this.consumerWidget.addRightMetric(signals.deadLetters);
    return alarm;
  }

  /**
   * Alarms when the signing-secret watch's rule could not publish its page (see ./consumer-alarms.ts).
   * {@link FaceSignWebhooks} calls it when it creates the watch.
   */
  public monitorSigningSecretWatch(rule: events.IRule): cloudwatch.Alarm {
    return this.factory.add(secretWatchAlarm(rule, this.alarmTopic));
  }

  /**
   * API Gateway's own throttles never reach the verifier; only the access log sees them, and a
   * metric filter (lib/front-door/access-log.ts) counts them per deployment. The REST door answers
   * them 503, which FaceSign retries (delayed: Warning); the HTTP API answers 429, which it never
   * retries (lost: Critical).
   */
  private throttledRequests(logGroup: logs.ILogGroup, retried: boolean): AlarmSpec {
    createThrottledRequestsFilter(this, logGroup, this.metrics.namespace, DEPLOYMENT_DIMENSION);
    return {
      key: 'apiThrottled',
      resource: 'Api',
      metric: 'Throttled',
      severity: retried ? 'Warning' : 'Critical',
      source: this.metrics.metric(METRIC.requestsThrottled),
      summary: retried
        ? 'API Gateway throttled webhook requests and answered 503: FaceSign retries them, so deliveries are delayed, not lost.'
        : 'API Gateway answered 429: FaceSign never retries it, so those deliveries are lost unless FaceSign resends them.',
    };
  }
}
