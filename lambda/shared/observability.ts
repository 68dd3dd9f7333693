/**
 * The one place each function's Logger, Metrics and Tracer are built. Metric names live in
 * metric-names.ts, because the construct's alarms and dashboard read the very same names.
 *
 * Nothing secret is ever logged: not the signing secret, not the signature header, not a media
 * URL's query string (see `redactUrl`).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricUnit as MetricUnitName } from '@aws-lambda-powertools/metrics/types';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { ENV, POWERTOOLS_ENV } from '../../contract/function-environment';
import { DEFAULT_METRICS_NAMESPACE, DEPLOYMENT_DIMENSION } from '../../contract/metric-names';

/** What the handlers count. Totals feed the alarms; per-dimension counts feed the dashboard. */
export interface EventMetrics {
  /** One occurrence, in total only. */
  count(name: string): void;
  /** One occurrence, in total and under `dimension=value`. */
  countBy(name: string, dimension: string, value: string): void;
  /** A measured value (bytes, milliseconds), in total only. */
  record(name: string, unit: MetricUnitName, value: number): void;
}

/** A function's observability toolkit. */
export interface Observability {
  readonly logger: Logger;
  /** The invocation's metrics; the handler publishes them when the invocation ends. */
  readonly metrics: Metrics;
  readonly eventMetrics: EventMetrics;
  readonly tracer: Tracer;
}

/**
 * Builds the toolkit once per cold start. Namespace from `POWERTOOLS_METRICS_NAMESPACE`; when
 * `FACESIGN_METRICS_DEPLOYMENT` is set (the construct always sets it), every metric also carries the
 * `deployment` dimension, so two deployments in one account and region never share a series.
 */
export function createObservability(serviceName: string): Observability {
  const service = process.env[POWERTOOLS_ENV.serviceName] ?? serviceName;
  const namespace = process.env[ENV.metricsNamespace] ?? DEFAULT_METRICS_NAMESPACE;
  const deployment = process.env[ENV.metricsDeployment]?.trim();
  const defaultDimensions = deployment ? { [DEPLOYMENT_DIMENSION]: deployment } : undefined;
  const metrics = new Metrics({ serviceName: service, namespace, defaultDimensions });
  // A second, long-lived instance for per-dimension data points: each is published at once, so its
  // dimension never leaks into the totals. (singleMetric() would build a new instance per call.)
  const dimensional = new Metrics({ serviceName: service, namespace, defaultDimensions });
  return {
    logger: new Logger({ serviceName: service }),
    metrics,
    eventMetrics: createEventMetrics(metrics, dimensional),
    tracer: new Tracer({ serviceName: service }),
  };
}

/** Counts into `metrics` (published by the handler) and, per dimension, into `dimensional` (published at once). */
export function createEventMetrics(metrics: Metrics, dimensional: Metrics): EventMetrics {
  return {
    count: (name) => metrics.addMetric(name, MetricUnit.Count, 1),
    countBy: (name, dimension, value) => {
      metrics.addMetric(name, MetricUnit.Count, 1);
      dimensional.addDimension(dimension, value);
      dimensional.addMetric(name, MetricUnit.Count, 1);
      dimensional.publishStoredMetrics();
    },
    record: (name, unit, value) => metrics.addMetric(name, unit, value),
  };
}

export { Logger, Metrics, MetricUnit, Tracer };
