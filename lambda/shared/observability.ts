/**
 * The one place each function's Logger, Metrics and Tracer are built. Metric names live in
 * metric-names.ts, because the construct's alarms and dashboard read the very same names.
 *
 * Nothing secret is ever logged: not the signing secret, not the signature header, not a media
 * URL's query string (see `redactUrl`).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DEFAULT_METRICS_NAMESPACE } from './metric-names';

export { DEFAULT_METRICS_NAMESPACE, DIMENSION, METRIC, SERVICE } from './metric-names';

/** A function's observability toolkit. */
export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

/** Builds the toolkit once per cold start. Namespace from `POWERTOOLS_METRICS_NAMESPACE`. */
export function createObservability(serviceName: string): Observability {
  const service = process.env.POWERTOOLS_SERVICE_NAME ?? serviceName;
  return {
    logger: new Logger({ serviceName: service }),
    metrics: new Metrics({ serviceName: service, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE }),
    tracer: new Tracer({ serviceName: service }),
  };
}

/** Counts one occurrence, both in total (for alarms) and under a dimension (for the dashboard). */
export function countWithDimension(metrics: Metrics, name: string, dimension: string, value: string): void {
  metrics.addMetric(name, MetricUnit.Count, 1);
  const single = metrics.singleMetric();
  single.addDimension(dimension, value);
  single.addMetric(name, MetricUnit.Count, 1);
}

export { Logger, Metrics, MetricUnit, Tracer };
