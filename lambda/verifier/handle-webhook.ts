/**
 * The verifier's decision, as a plain function of the request and its dependencies: which status
 * FaceSign gets, and when an event is queued. FaceSign treats 4xx as permanent and 5xx as
 * retryable, so every failure of ours is a 5xx and only a bad request is a 4xx.
 */
import {
  getHeader,
  parseSignatureHeader,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyParsedSignature,
  type HeaderBag,
  type SignatureFailureReason,
} from '../shared/signature';
import { parseFaceSignEvent, type FaceSignEvent, type UnknownFaceSignEvent } from '../shared/event';
import { DIMENSION, METRIC, type EventMetrics, type Logger } from '../shared/observability';
import { SigningSecretNotConfiguredError } from './signing-secrets';

/** The parts of an HTTP request the verifier looks at. */
export interface WebhookRequest {
  readonly headers: HeaderBag;
  readonly body: string | undefined;
  /** True when `body` is base64 of the raw bytes (API Gateway does this for non-text content types). */
  readonly isBase64Encoded: boolean;
}

/** Error names in the response body. Stable: FaceSign's delivery log and our metrics show them. */
export type WebhookErrorName =
  | SignatureFailureReason
  | 'payload_too_large'
  | 'invalid_json'
  | 'invalid_envelope'
  | 'secret_not_configured'
  | 'secret_unavailable'
  | 'queue_unavailable';

/** The answer to FaceSign. */
export interface WebhookResponse {
  readonly statusCode: number;
  readonly body: { readonly received: true } | { readonly error: WebhookErrorName; readonly message: string };
}

/** A verified event on its way to the queue. */
export interface VerifiedEvent {
  /** The exact body text that was signed. */
  readonly rawBody: string;
  readonly event: FaceSignEvent | UnknownFaceSignEvent;
}

/** What the verifier needs from the outside world. */
export interface VerifierDependencies {
  readonly secrets: {
    get(): Promise<string[]>;
    refreshAfterMismatch(): Promise<string[] | undefined>;
  };
  /** Resolves once the event is durably queued; rejects otherwise. */
  readonly enqueue: (event: VerifiedEvent) => Promise<void>;
  readonly logger: Logger;
  readonly metrics: EventMetrics;
  readonly toleranceSeconds: number;
  readonly maxBodyBytes: number;
  readonly now?: () => number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// Characters that SQS message bodies cannot carry (and that no sane JSON event needs).
const NOT_SQS_SAFE = /[\uFFFE\uFFFF]/;

/** Verifies, validates and queues one delivery. Never throws: every outcome is a response. */
export async function handleWebhook(request: WebhookRequest, deps: VerifierDependencies): Promise<WebhookResponse> {
  const { logger } = deps;
  const reject = (statusCode: 400 | 401 | 413, error: WebhookErrorName, message: string): WebhookResponse => {
    logger.warn('webhook rejected', { statusCode, error, reason: message });
    const metric = statusCode === 401 ? METRIC.signatureFailures : METRIC.requestsRejected;
    deps.metrics.countBy(metric, DIMENSION.reason, error);
    return failure(statusCode, error, message);
  };
  const bytes = Buffer.from(request.body ?? '', request.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.length > deps.maxBodyBytes) {
    return reject(413, 'payload_too_large', `the body is ${bytes.length} bytes; at most ${deps.maxBodyBytes} are accepted`);
  }

  // A request without a well-formed signature is refused before the secret is even read.
  const header = parseSignatureHeader(getHeader(request.headers, SIGNATURE_HEADER));
  if (!header.ok) return reject(401, header.reason, header.message);

  let secrets: string[];
  try {
    secrets = await deps.secrets.get();
  } catch (error) {
    return secretFailure(deps, error);
  }

  const timestampHeader = getHeader(request.headers, TIMESTAMP_HEADER);
  const verify = (active: string[]) =>
    verifyParsedSignature(bytes, header.header, timestampHeader, active, { toleranceSeconds: deps.toleranceSeconds, nowMs: deps.now?.() });
  let verification = verify(secrets);
  if (!verification.ok && verification.reason === 'signature_mismatch') {
    // The secret may have been rotated since we cached it; read it again, at a bounded rate.
    try {
      const fresh = await deps.secrets.refreshAfterMismatch();
      if (fresh) verification = verify(fresh);
    } catch (error) {
      return secretFailure(deps, error);
    }
  }
  if (!verification.ok) return reject(401, verification.reason, verification.message);

  let rawBody: string;
  try {
    rawBody = utf8.decode(bytes);
  } catch {
    return reject(400, 'invalid_json', 'the body is not valid UTF-8');
  }
  if (NOT_SQS_SAFE.test(rawBody)) {
    return reject(400, 'invalid_json', 'the body contains the non-characters U+FFFE or U+FFFF');
  }
  const parsed = parseFaceSignEvent(rawBody);
  if (!parsed.ok) return reject(400, parsed.error, parsed.message);

  const { event } = parsed;
  // Keys inline rather than a child logger: this is the hot path, and a child logger costs ~40 µs.
  const eventKeys = { eventId: event.id, sessionId: event.sessionId, eventType: event.type };
  try {
    await deps.enqueue({ rawBody, event });
  } catch (error) {
    logger.error('could not queue a verified event', { ...eventKeys, errorName: (error as Error)?.name });
    deps.metrics.countBy(METRIC.requestsFailed, DIMENSION.reason, 'queue_unavailable');
    return failure(503, 'queue_unavailable', 'the event could not be queued; FaceSign will retry');
  }
  logger.info('event verified and queued', { ...eventKeys, bytes: bytes.length });
  deps.metrics.countBy(METRIC.eventsReceived, DIMENSION.eventType, event.type);
  return { statusCode: 200, body: { received: true } };
}

function secretFailure({ logger, metrics }: VerifierDependencies, error: unknown): WebhookResponse {
  if (error instanceof SigningSecretNotConfiguredError) {
    logger.error('the signing secret is not configured', { reason: error.message });
    metrics.countBy(METRIC.requestsFailed, DIMENSION.reason, 'secret_not_configured');
    return failure(503, 'secret_not_configured', 'the receiver has no signing secret configured yet; FaceSign will retry');
  }
  logger.error('the signing secret could not be read', { errorName: (error as Error)?.name, reason: (error as Error)?.message });
  metrics.countBy(METRIC.requestsFailed, DIMENSION.reason, 'secret_unavailable');
  return failure(503, 'secret_unavailable', 'the signing secret could not be read; FaceSign will retry');
}

function failure(statusCode: number, error: WebhookErrorName, message: string): WebhookResponse {
  return { statusCode, body: { error, message } };
}
