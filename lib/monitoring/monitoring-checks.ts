import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC } from '../../contract/metric-names';
import type { WebhookMetrics } from '../webhook-metrics';
import type { ResolvedSettings } from '../resolve-props';
import type { AlarmSpec } from './alarm-factory';
import type { WebhookAlarmOptions } from './alarm-options';

/** The longest silence alarm: CloudWatch evaluates at most 7 days (Period x EvaluationPeriods). */
const MAX_SILENCE = Duration.days(7);

/** The resolved threshold settings, in their rows' units. */
export type ThresholdSettings = Pick<
  ResolvedSettings,
  'queueAgeAlarmThreshold' | 'apiServerErrorRateThreshold' | 'apiServerErrorMinimumCount' | 'apiLatencyP99Threshold' | 'signatureFailureAlarmThreshold'
>;

/** The alarm thresholds, defaulted and checked. */
export interface AlarmThresholds {
  readonly queueAge: Duration;
  readonly serverErrorRate: number;
  readonly serverErrorMinimum: number;
  readonly latency: Duration;
  readonly signature: number;
}

/**
 * The thresholds, from the settings the construct resolved: their rows (contract/construct-settings.ts)
 * give the defaults and bounds, and resolveSettings refuses a value outside them, as for every setting.
 */
export function alarmThresholds(settings: ThresholdSettings): AlarmThresholds {
  return {
    queueAge: Duration.seconds(settings.queueAgeAlarmThreshold),
    serverErrorRate: settings.apiServerErrorRateThreshold,
    serverErrorMinimum: settings.apiServerErrorMinimumCount,
    latency: Duration.millis(settings.apiLatencyP99Threshold),
    signature: settings.signatureFailureAlarmThreshold,
  };
}

/**
 * Refuses what CloudWatch would refuse at deploy, or what would make every alarm meaningless: an
 * empty metrics namespace or one in the `AWS/` space CloudWatch keeps for itself
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html), or an
 * empty alarm name prefix (the topic's publish condition is `<prefix>-*`).
 */
export function refuseUnusableNames(props: WebhookAlarmOptions & { readonly metricsNamespace: string }): void {
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
}

/** Alarm name prefixes used in each stack: alarm names are unique per account and region. */
const alarmNamePrefixes = new WeakMap<Stack, Set<string>>();

/** Refuses a second monitoring construct in one stack with the same prefix: their alarms would collide. */
export function claimAlarmNamePrefix(stack: Stack, prefix: string): void {
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
export function silenceWindow(after: Duration): { readonly span: Duration; readonly period: Duration; readonly periods: number } {
  const problem = `silenceAlarmAfter must be a multiple of 5 minutes under 1 hour, or whole hours from 1 hour to ${MAX_SILENCE.toHours()} hours (CloudWatch evaluates at most 7 days)`;
  if (after.isUnresolved()) throw new Error(`${problem}; got an unresolved token`);
  const seconds = after.toSeconds({ integral: false });
  const step = seconds < 3600 ? 300 : 3600;
  const periods = seconds / step;
  if (!(Number.isInteger(periods) && periods >= 1 && seconds <= MAX_SILENCE.toSeconds())) throw new Error(`${problem}, got ${after.toHumanString()}`);
  return { span: after, period: Duration.seconds(step), periods };
}

/** No event accepted for the whole window: missing data is the point here, and counts as silence. */
export function silenceAlarm(metrics: WebhookMetrics, after: Duration): AlarmSpec {
  const silence = silenceWindow(after);
  return {
    key: 'verifierSilence',
    resource: 'Verifier',
    metric: 'NoDeliveries',
    severity: 'Critical',
    source: metrics.metric(METRIC.eventsReceived, { period: silence.period }),
    summary: `No FaceSign event was accepted for ${silence.span.toHumanString()}: a wrong webhook URL (FaceSign never retries the 404), a wrong secret, or no traffic.`,
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    evaluationPeriods: silence.periods,
    datapointsToAlarm: silence.periods,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  };
}
