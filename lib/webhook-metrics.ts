import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DEPLOYMENT_DIMENSION, METRIC, SERVICE } from '../contract/metric-names';

/** The name of one custom metric the pipeline publishes: a value of `METRIC` (contract/metric-names.ts). */
export type WebhookMetricName = (typeof METRIC)[keyof typeof METRIC];

/**
 * Who publishes each custom metric (its `service` dimension; none for the access-log metric filter's
 * 429 count) and the statistic that reads it best by default: counts add up, durations and ages
 * are read at the tail. The dashboard and alarms use the same statistics.
 */
const METRIC_SOURCES: Record<WebhookMetricName, { readonly service?: string; readonly statistic: string }> = {
  [METRIC.eventsReceived]: { service: SERVICE.verifier, statistic: 'Sum' },
  [METRIC.signatureFailures]: { service: SERVICE.verifier, statistic: 'Sum' },
  [METRIC.requestsRejected]: { service: SERVICE.verifier, statistic: 'Sum' },
  [METRIC.wrongSecretSuspected]: { service: SERVICE.verifier, statistic: 'Sum' },
  [METRIC.deliveriesHeld]: { service: SERVICE.verifier, statistic: 'Sum' },
  [METRIC.holdsDropped]: { service: SERVICE.verifier, statistic: 'Sum' },
  [METRIC.requestsFailed]: { service: SERVICE.verifier, statistic: 'Sum' },
  [METRIC.signatureAge]: { service: SERVICE.verifier, statistic: 'Maximum' },
  [METRIC.timestampHeaderMismatches]: { service: SERVICE.verifier, statistic: 'Sum' },
  [METRIC.eventsQuarantined]: { service: SERVICE.processor, statistic: 'Sum' },
  [METRIC.eventsProcessed]: { service: SERVICE.processor, statistic: 'Sum' },
  [METRIC.duplicatesSkipped]: { service: SERVICE.processor, statistic: 'Sum' },
  [METRIC.conflictingDuplicates]: { service: SERVICE.processor, statistic: 'Sum' },
  [METRIC.permanentFailures]: { service: SERVICE.processor, statistic: 'Sum' },
  [METRIC.transientFailures]: { service: SERVICE.processor, statistic: 'Sum' },
  [METRIC.mediaBytesStored]: { service: SERVICE.processor, statistic: 'Sum' },
  [METRIC.mediaDownloadTime]: { service: SERVICE.processor, statistic: 'p99' },
  [METRIC.mediaUrlHeadroom]: { service: SERVICE.processor, statistic: 'Minimum' },
  [METRIC.requestsThrottled]: { statistic: 'Sum' },
};

/** The period of every custom metric unless the caller gives another. */
const DEFAULT_PERIOD = Duration.minutes(5);

/**
 * The custom metrics of one deployment, defined once: {@link FaceSignWebhooks}' `metricXxx()`
 * methods and {@link WebhookMonitoring}'s alarms and dashboard all build them here, so what a user
 * alarms on is exactly what the built-in alarms read.
 */
export class WebhookMetrics {
  /**
   * @param namespace CloudWatch namespace the handlers publish to
   * @param deployment value of the `deployment` dimension the handlers put on every custom metric
   */
  constructor(
    public readonly namespace: string,
    public readonly deployment: string,
  ) {}

  /**
   * One custom metric, with the dimensions its publisher gives it (`service` where a handler
   * publishes it, and `deployment`). `props.dimensionsMap` adds dimensions (for example
   * `EventType` or `Reason`, for the metrics published per type or reason).
   */
  public metric(metricName: WebhookMetricName, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    const source = sourceOf(metricName);
    return this.build(metricName, source.service, source.statistic, props);
  }

  /**
   * One custom metric as published by the given service, whichever the usual publisher: for sums
   * over both functions (a count either may publish as the pipeline evolves).
   */
  public metricOf(metricName: WebhookMetricName, service: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.build(metricName, service, sourceOf(metricName).statistic, props);
  }

  private build(metricName: string, service: string | undefined, statistic: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
    const { dimensionsMap, ...given } = props;
    // An option given as undefined keeps the default rather than erasing it.
    const options = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName,
      dimensionsMap: { ...(service === undefined ? {} : { service }), [DEPLOYMENT_DIMENSION]: this.deployment, ...dimensionsMap },
      statistic,
      period: DEFAULT_PERIOD,
      ...options,
    });
  }
}

/** The publisher and default statistic of a metric; refuses a name that is not one of ours. */
function sourceOf(metricName: string): { readonly service?: string; readonly statistic: string } {
  const source = Object.hasOwn(METRIC_SOURCES, metricName) ? METRIC_SOURCES[metricName as WebhookMetricName] : undefined;
  if (source === undefined) {
    throw new Error(`unknown FaceSign webhooks metric, expected one of ${Object.keys(METRIC_SOURCES).join(', ')}; got ${JSON.stringify(metricName)}`);
  }
  return source;
}
