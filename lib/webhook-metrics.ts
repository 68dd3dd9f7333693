import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DEPLOYMENT_DIMENSION, METRIC, SERVICE } from '../contract/metric-names';

/** A key of {@link METRIC}: one custom metric the pipeline publishes. */
export type WebhookMetricKey = keyof typeof METRIC;

/**
 * Who publishes each custom metric (its `service` dimension; none for the access-log metric filter's
 * 429 count) and the statistic that reads it best by default: counts add up, durations and ages
 * are read at the tail. The dashboard and alarms use the same statistics.
 */
const METRIC_SOURCES: Record<WebhookMetricKey, { readonly service?: string; readonly statistic: string }> = {
  eventsReceived: { service: SERVICE.verifier, statistic: 'Sum' },
  signatureFailures: { service: SERVICE.verifier, statistic: 'Sum' },
  requestsRejected: { service: SERVICE.verifier, statistic: 'Sum' },
  requestsFailed: { service: SERVICE.verifier, statistic: 'Sum' },
  signatureAge: { service: SERVICE.verifier, statistic: 'Maximum' },
  timestampHeaderMismatches: { service: SERVICE.verifier, statistic: 'Sum' },
  eventsQuarantined: { service: SERVICE.processor, statistic: 'Sum' },
  eventsProcessed: { service: SERVICE.processor, statistic: 'Sum' },
  duplicatesSkipped: { service: SERVICE.processor, statistic: 'Sum' },
  conflictingDuplicates: { service: SERVICE.processor, statistic: 'Sum' },
  permanentFailures: { service: SERVICE.processor, statistic: 'Sum' },
  transientFailures: { service: SERVICE.processor, statistic: 'Sum' },
  mediaBytesStored: { service: SERVICE.processor, statistic: 'Sum' },
  mediaDownloadTime: { service: SERVICE.processor, statistic: 'p99' },
  requestsThrottled: { statistic: 'Sum' },
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
  public metric(key: WebhookMetricKey, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    const source = METRIC_SOURCES[key];
    if (source === undefined) throw new Error(`unknown FaceSign webhooks metric, got ${JSON.stringify(key)}`);
    return this.build(METRIC[key], source.service, source.statistic, props);
  }

  /**
   * One custom metric as published by the given service, whichever the usual publisher: for sums
   * over both functions (a count either may publish as the pipeline evolves).
   */
  public metricOf(key: WebhookMetricKey, service: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.build(METRIC[key], service, METRIC_SOURCES[key].statistic, props);
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
