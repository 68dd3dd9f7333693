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
}

/** The front door's metrics as {@link ApiMetrics}. */
export function frontDoorMetrics(api: {
  metricCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricServerError(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricClientError(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}): ApiMetrics {
  const sum5 = { period: Duration.minutes(5), statistic: 'Sum' };
  return {
    requests: api.metricCount(sum5),
    serverErrors: api.metricServerError(sum5),
    clientErrors: api.metricClientError(sum5),
    latency: (statistic) => api.metricLatency({ period: Duration.minutes(5), statistic }),
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
