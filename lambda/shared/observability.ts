/**
 * The one place each function's Logger, Metrics and Tracer are built. Metric names live here too,
 * because the construct's alarms and dashboard read the very same names.
 *
 * Nothing secret is ever logged: not the signing secret, not the signature header, not a media
 * URL's query string (see `redactUrl`).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** Default CloudWatch namespace of the custom metrics; the construct overrides it with `metricsNamespace`. */
export const DEFAULT_METRICS_NAMESPACE = 'FaceSignWebhooks';

/** Service names: the `service` dimension of every custom metric and the `service` key of every log line. */
export const SERVICE = { verifier: 'facesign-verifier', processor: 'facesign-processor' } as const;

/** Custom metric names. Each with a reason or type is also published per reason or type, with that dimension. */
export const METRIC = {
  /** Verifier: events accepted and queued; also per `EventType`. */
  eventsReceived: 'EventsReceived',
  /** Verifier: 401s; also per `Reason` (missing_signature, signature_mismatch, ...). */
  signatureFailures: 'SignatureFailures',
  /** Verifier: 400s and 413s; also per `Reason`. */
  requestsRejected: 'RequestsRejected',
  /** Processor: events processed for the first time; also per `EventType`. */
  eventsProcessed: 'EventsProcessed',
  /** Processor: repeat deliveries skipped by idempotency. */
  duplicatesSkipped: 'DuplicatesSkipped',
  /** Processor: messages sent to the dead-letter queue; also per `Reason`. */
  permanentFailures: 'PermanentFailures',
  /** Processor: attempts that will be retried; also per `Reason`. */
  transientFailures: 'TransientFailures',
  /** Processor: bytes of media stored in S3. */
  mediaBytesStored: 'MediaBytesStored',
  /** Processor: milliseconds from the first media request to the stored object. */
  mediaDownloadTime: 'MediaDownloadTime',
} as const;

/** Dimension names used beside `service`. */
export const DIMENSION = { eventType: 'EventType', reason: 'Reason' } as const;

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
