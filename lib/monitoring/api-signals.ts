import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { AlarmSpec } from './alarm-factory';

/**
 * The front door's metrics, the only ones the monitoring reads from it: whatever serves the
 * webhook URL (lib/front-door/: a REST API or an HTTP API) hands them in here, so a new front door is rewired in one place.
 */
export interface ApiMetrics {
  /** Requests, Sum over 5 minutes. */
  readonly requests: cloudwatch.Metric;
  /** 5xx answers, Sum over 5 minutes. */
  readonly serverErrors: cloudwatch.Metric;
  /** 4xx answers, Sum over 5 minutes. */
  readonly clientErrors: cloudwatch.Metric;
  /** Latency in ms over 5 minutes, at the given statistic (`p50`, `p99`). */
  readonly latency: (statistic: string) => cloudwatch.Metric;
  /** Requests the web ACL blocked, Sum over 5 minutes: the REST door only. */
  readonly blockedRequests?: cloudwatch.Metric;
}

/** The front door's metrics as {@link ApiMetrics}. */
export function frontDoorMetrics(api: {
  metricCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricServerError(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricClientError(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricBlockedRequests?(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}): ApiMetrics {
  const sum5 = { period: Duration.minutes(5), statistic: 'Sum' };
  return {
    requests: api.metricCount(sum5),
    serverErrors: api.metricServerError(sum5),
    clientErrors: api.metricClientError(sum5),
    latency: (statistic) => api.metricLatency({ period: Duration.minutes(5), statistic }),
    ...(api.metricBlockedRequests ? { blockedRequests: api.metricBlockedRequests(sum5) } : {}),
  };
}

/** The thresholds of the API alarms. */
export interface ApiAlarmThresholds {
  readonly serverErrorRate: number;
  readonly serverErrorMinimum: number;
  readonly latencyP99: Duration;
}

/** The 5xx-rate (Critical) and p99-latency (Warning) alarms. */
export function apiAlarms(api: ApiMetrics, t: ApiAlarmThresholds): AlarmSpec[] {
  return [
    {
      key: 'apiServerErrors',
      resource: 'Api',
      metric: 'ServerErrorRate',
      severity: 'Critical',
      source: new cloudwatch.MathExpression({
        expression: `IF(requests > 0 AND errors >= ${t.serverErrorMinimum}, 100 * errors / requests, 0)`,
        usingMetrics: { requests: api.requests, errors: api.serverErrors },
        label: 'API 5xx rate (%)',
        period: Duration.minutes(5),
      }),
      summary: `At least ${t.serverErrorRate}% of webhook requests (and at least ${t.serverErrorMinimum}) got a 5xx: FaceSign retries them, but something of ours is down.`,
      threshold: t.serverErrorRate,
    },
    {
      key: 'apiLatency',
      resource: 'Api',
      metric: 'LatencyP99',
      severity: 'Warning',
      source: api.latency('p99'),
      summary: `The webhook p99 latency is above ${t.latencyP99.toMilliseconds()} ms in 2 of 3 five-minute periods.`,
      threshold: t.latencyP99.toMilliseconds(),
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // Evaluated at any volume: with "ignore" a p99 needs 1,000 requests in the period and never
      // evaluates at a few deliveries an hour
      // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#percentiles-with-low-samples);
      // at a handful p99 is the slowest request, and 2 of 3 periods keep one cold start from paging.
      evaluateLowSampleCountPercentile: 'evaluate',
    },
  ];
}

/** Blocks in this many of the last {@link WAF_PERSISTENT.evaluationPeriods} five-minute periods page as Critical. */
export const WAF_PERSISTENT = { datapointsToAlarm: 3, evaluationPeriods: 12 } as const;

/**
 * The web ACL's blocks (the REST door only; none without a web ACL). A block is answered 503, which
 * FaceSign retries, so one block delays a delivery; but a block of FaceSign itself (an allowlist
 * missing its current address, a rate limit below its burst) blocks every retry too, and the event
 * is lost when FaceSign gives up. The metric cannot tell FaceSign from anyone else, so:
 * Warning at the first block (someone looks at the sampled requests), and Critical when blocks come
 * back in 3 of the last 12 five-minute periods, which a source retrying on a back-off does within
 * the hour and a one-off burst does not. FaceSign's retry schedule is not published (exponential
 * back-off, says FaceSign's webhook documentation, "Retry Logic"), so the hour is an assumption, stated in docs/operations.md.
 * WAF reports its metrics once a minute, and only when there is something to report
 * (https://docs.aws.amazon.com/waf/latest/developerguide/waf-metrics.html): missing data is no block.
 */
export function wafAlarms(api: ApiMetrics): AlarmSpec[] {
  if (!api.blockedRequests) return [];
  return [
    {
      key: 'apiWafBlocked',
      resource: 'Api',
      metric: 'WafBlocked',
      severity: 'Warning',
      source: api.blockedRequests,
      summary: 'The web ACL blocked webhook requests (answered 503, which FaceSign retries); if it blocked FaceSign itself, every retry is blocked too.',
    },
    {
      key: 'apiWafBlockedPersistent',
      resource: 'Api',
      metric: 'WafBlockedPersistent',
      severity: 'Critical',
      source: api.blockedRequests,
      summary: `The web ACL kept blocking requests (in ${WAF_PERSISTENT.datapointsToAlarm} of the last ${WAF_PERSISTENT.evaluationPeriods} five-minute periods): if it is FaceSign, its retries are blocked too and events are lost when it gives up.`,
      runbook: 'Api-WafBlocked',
      ...WAF_PERSISTENT,
    },
  ];
}
