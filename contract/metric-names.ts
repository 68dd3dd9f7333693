/**
 * Names shared by the handlers (which publish the metrics) and the construct (whose alarms and
 * dashboard read them). No imports: the construct package loads this without Powertools.
 */

/** Default CloudWatch namespace of the custom metrics; the construct overrides it with `metricsNamespace`. */
export const DEFAULT_METRICS_NAMESPACE = 'FaceSignWebhooks';

/** Service names: the `service` dimension of every custom metric and the `service` key of every log line. */
export const SERVICE = { verifier: 'facesign-verifier', processor: 'facesign-processor', reverifier: 'facesign-reverifier' } as const;

/** Custom metric names. Each with a reason or type is also published per reason or type, with that dimension. */
export const METRIC = {
  /** Verifier: events accepted and queued; also per `EventType`. */
  eventsReceived: 'EventsReceived',
  /** Verifier: 401s where no signature matched, so possible forgeries; also per `Reason` (missing_signature, malformed_signature, signature_mismatch). */
  signatureFailures: 'SignatureFailures',
  /**
   * Verifier: authentic deliveries refused, so lost (docs/reference.md "A 4xx is never retried"): 400s, 413s, and the 401s
   * after a signature matched (invalid_timestamp, timestamp_out_of_tolerance); also per `Reason`.
   */
  requestsRejected: 'RequestsRejected',
  /**
   * Verifier: 401s in FaceSign's exact header form, with a fresh `t`, over a FaceSign envelope, that
   * no active secret verifies: almost certainly FaceSign with a wrong or stale signing secret, so
   * every authentic event is being lost. Also counted in `SignatureFailures`; also per `EventType`.
   */
  wrongSecretSuspected: 'WrongSecretSuspected',
  /**
   * Verifier: refused deliveries counted in `WrongSecretSuspected` whose exact bytes and signature
   * headers were held under `held/` for `npm run reverify`; also per `EventType`.
   */
  deliveriesHeld: 'DeliveriesHeld',
  /**
   * Verifier: deliveries counted in `WrongSecretSuspected` that were not held; also per `Reason`:
   * `rate_limit` (over maxHeldPerHour), `counter_unavailable` (the counter could not be read),
   * `store_unavailable` (S3 refused or did not answer in time). The 401 is the same either way.
   */
  holdsDropped: 'HoldsDropped',
  /** Verifier: 503s, our own failures (FaceSign retries); also per `Reason`. */
  requestsFailed: 'RequestsFailed',
  /** Verifier: age of each accepted signature, in seconds (negative when ahead of our clock): shows whether FaceSign re-signs its retries. */
  signatureAge: 'SignatureAge',
  /** Verifier: accepted deliveries whose timestamps are not as documented (never refused); also per `Reason`. */
  timestampHeaderMismatches: 'TimestampHeaderMismatches',
  /** Processor: authentic events the envelope schema does not recognise, archived under `quarantine/`; also per `Reason`. */
  eventsQuarantined: 'EventsQuarantined',
  /** Processor: events processed for the first time; also per `EventType`. */
  eventsProcessed: 'EventsProcessed',
  /** Processor: repeat deliveries skipped by idempotency. */
  duplicatesSkipped: 'DuplicatesSkipped',
  /** Processor: a second delivery of a processed event id with different content; archived under `conflicts/`. */
  conflictingDuplicates: 'ConflictingDuplicates',
  /** Processor: messages sent to the dead-letter queue; also per `Reason`. */
  permanentFailures: 'PermanentFailures',
  /** Processor: attempts that will be retried; also per `Reason`. */
  transientFailures: 'TransientFailures',
  /** Processor: bytes of media stored in S3. */
  mediaBytesStored: 'MediaBytesStored',
  /** Processor: milliseconds from the first media request to the stored object. */
  mediaDownloadTime: 'MediaDownloadTime',
  /**
   * Processor: seconds a media file's signed URL had left when its download finished (the URL's
   * expiry minus the time the object was stored; negative when it finished after the expiry). Read
   * at its minimum: how close the pipeline came to losing a file whose URL dies.
   */
  mediaUrlHeadroom: 'MediaUrlHeadroom',
  /** API access log: requests API Gateway answered 429 (a metric filter, not a handler, counts them). */
  requestsThrottled: 'RequestsThrottled',
} as const;

/**
 * Why the verifier answered 503 (the `Reason` of `RequestsFailed`). Each pages Critical on its own,
 * at the first one: the construct keeps one alarm per entry, so a reason added here gets its alarm.
 */
export const REQUEST_FAILURE_REASONS = ['secret_not_configured', 'secret_unavailable', 'queue_unavailable'] as const;

/** One reason the verifier answered 503. */
export type RequestFailureReason = (typeof REQUEST_FAILURE_REASONS)[number];

/** Dimension names used beside `service`. */
export const DIMENSION = { eventType: 'EventType', reason: 'Reason' } as const;

/**
 * The dimension that keeps deployments apart: every custom metric carries it, with a value unique to
 * one deployment in an account and region (the construct sets it from the stack name and the
 * construct's path), so staging and production never share a series, an alarm or a dashboard line.
 */
export const DEPLOYMENT_DIMENSION = 'deployment';
