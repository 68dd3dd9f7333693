/**
 * The verifier's decision, as a plain function of the request and its dependencies: which status
 * FaceSign gets, and when an event is queued. Every failure of ours is a 5xx, and a 4xx goes only
 * to what is not authentic or what we truly cannot keep (docs/reference.md, "A 4xx is never
 * retried"). An authentic JSON object that our envelope schema does not recognise is still queued
 * (marked unrecognized) and answered 200.
 */
import {
  getHeader,
  parseSignatureHeader,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  signedContent,
  verifyParsedSignature,
  type HeaderBag,
  type ParsedSignatureHeader,
  type SignatureFailureReason,
  type SignatureVerification,
} from '../../contract/signature';
import { parseFaceSignEvent, parseJson, usableIdentifier, type EnvelopeProblem, type FaceSignEvent, type UnknownFaceSignEvent } from '../../contract/event';
import { DIMENSION, METRIC } from '../../contract/metric-names';
import { MetricUnit, type EventMetrics, type Logger } from '../shared/observability';
import type { RequestFailureReason } from '../../contract/metric-names';
import { UNRECOGNIZED_EVENT_TYPE } from '../../contract/quarantine';
import { SigningSecretNotConfiguredError } from './signing-secrets';
import { faceSignLookalike } from './wrong-secret';
import type { HoldOutcome, HoldRequest } from './hold-store';

/** The parts of an HTTP request the verifier looks at. */
export interface WebhookRequest {
  readonly headers: HeaderBag;
  readonly body: string | undefined;
  /** True when `body` is base64 of the raw bytes (API Gateway does this for non-text content types). */
  readonly isBase64Encoded: boolean;
}

/** Error names in the response body. Stable: FaceSign's delivery log and our metrics show them. */
export type WebhookErrorName = SignatureFailureReason | 'payload_too_large' | 'invalid_json' | 'not_an_object' | RequestFailureReason;

/** The answer to FaceSign. */
export interface WebhookResponse {
  readonly statusCode: number;
  readonly body: { readonly received: true } | { readonly error: WebhookErrorName; readonly message: string };
}

/** An authentic JSON object that the envelope schema does not recognise: queued for quarantine. */
export interface UnrecognizedEnvelope {
  readonly problem: EnvelopeProblem;
  readonly message: string;
  /** Whichever of the identifiers the body carries in a usable form, for triage. */
  readonly ids: { readonly id?: string; readonly type?: string; readonly sessionId?: string };
}

/** A verified event on its way to the queue: a typed event, or an unrecognized envelope. */
export type VerifiedEvent =
  | {
      /** The exact body text that was signed. */
      readonly rawBody: string;
      readonly event: FaceSignEvent | UnknownFaceSignEvent;
      readonly unrecognized?: undefined;
    }
  | { readonly rawBody: string; readonly event?: undefined; readonly unrecognized: UnrecognizedEnvelope };

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
  /** Oldest accepted signature, in seconds (the idempotency window by default). */
  readonly toleranceSeconds: number;
  readonly maxBodyBytes: number;
  readonly now?: () => number;
  /**
   * Holds a refused delivery in FaceSign's form for re-verification (hold-store.ts); never throws.
   * Unset means nothing is held (the reverifier, which re-runs this decision, holds nothing again).
   */
  readonly hold?: (request: HoldRequest) => Promise<HoldOutcome>;
}

// ignoreBOM: the one leading byte order mark that is not signed is dropped by signedContent before
// decoding; a second one is part of the signed text and stays (JSON.parse then refuses it: 400).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// 401 reasons given only after some v1 matched the HMAC: the delivery is authentic.
const AUTHENTIC_REASONS: ReadonlySet<WebhookErrorName> = new Set<WebhookErrorName>(['invalid_timestamp', 'timestamp_out_of_tolerance']);

/** Refuses a delivery with a 400, 401 or 413 (docs/reference.md, "A 4xx is never retried"). */
type Reject = (statusCode: 400 | 401 | 413, error: WebhookErrorName, message: string) => WebhookResponse;

/**
 * Verifies, validates and queues one delivery. Never throws: every outcome is a response. The
 * steps run in this order: the header is parsed before the secret is read, and the body's size is
 * checked before anything is decoded or hashed (contract/signature.ts).
 */
export async function handleWebhook(request: WebhookRequest, deps: VerifierDependencies): Promise<WebhookResponse> {
  const reject: Reject = (statusCode, error, message) => refuse(deps, statusCode, error, message);
  // A request without a usable signature header is refused before the secret is even read.
  const signatureHeader = getHeader(request.headers, SIGNATURE_HEADER);
  const header = parseSignatureHeader(signatureHeader);
  if (!header.ok) return reject(401, header.reason, header.message);

  let secrets: string[];
  try {
    secrets = await deps.secrets.get();
  } catch (error) {
    return secretFailure(deps, error);
  }

  // The size is known before anything is decoded or hashed: a forged body of the largest size
  // Lambda takes (about 4.4 MB of bytes as base64) costs no more than an authentic one.
  const size = bodySize(request);
  if (size > deps.maxBodyBytes) return refuseOversize(request, header.header, secrets[0], size, deps, reject);

  const bytes = bodyBytes(request);
  const timestampHeader = getHeader(request.headers, TIMESTAMP_HEADER);
  const verification = await verifyAgainstSecrets(bytes, header.header, timestampHeader, secrets, deps);
  if ('statusCode' in verification) return verification;
  if (!verification.ok) {
    if (verification.reason === 'signature_mismatch') await noticeLookalike(request, signatureHeader, bytes, deps);
    return reject(401, verification.reason, verification.message);
  }
  recordSignature(verification, timestampHeader, deps);

  const read = readVerifiedEvent(bytes);
  if (!read.ok) return reject(400, read.error, read.message);
  return queueVerified(read.verified, read.eventKeys, bytes.length, deps);
}

/**
 * Counts and logs a refusal. Only a 401 where no v1 matched may be a forgery. Every other refusal
 * comes after an HMAC verified (a 400, a 413, or a 401 for a signed t that is unreadable or outside
 * the window): an authentic delivery lost, so it is RequestsRejected, which pages at 1.
 */
function refuse({ logger, metrics }: VerifierDependencies, statusCode: 400 | 401 | 413, error: WebhookErrorName, message: string): WebhookResponse {
  const forgery = statusCode === 401 && !AUTHENTIC_REASONS.has(error);
  if (forgery) logger.warn('webhook rejected', { statusCode, error, reason: message });
  else logger.error('authentic delivery refused; FaceSign will not retry it', { statusCode, error, reason: message });
  metrics.countBy(forgery ? METRIC.signatureFailures : METRIC.requestsRejected, DIMENSION.reason, error);
  return failure(statusCode, error, message);
}

/**
 * One HMAC per active secret; on a mismatch, the secrets are read again (the secret may have been
 * rotated since we cached it, and the re-read is rate-bounded) and, when that gives any, verified
 * once more. A secret that cannot be read is a 503.
 */
async function verifyAgainstSecrets(
  bytes: Buffer,
  header: ParsedSignatureHeader,
  timestampHeader: string | undefined,
  secrets: string[],
  deps: VerifierDependencies,
): Promise<SignatureVerification | WebhookResponse> {
  const verify = (active: string[]) =>
    verifyParsedSignature(bytes, header, timestampHeader, active, { toleranceSeconds: deps.toleranceSeconds, nowMs: deps.now?.() });
  const verification = verify(secrets);
  if (verification.ok || verification.reason !== 'signature_mismatch') return verification;
  try {
    const fresh = await deps.secrets.refreshAfterMismatch();
    return fresh ? verify(fresh) : verification;
  } catch (error) {
    return secretFailure(deps, error);
  }
}

/**
 * A delivery that verified under no active secret but is in FaceSign's form points at a wrong or
 * stale signing secret: it is logged, counted, and held for re-verification when a hold is set.
 */
async function noticeLookalike(request: WebhookRequest, signatureHeader: string | undefined, bytes: Buffer, deps: VerifierDependencies): Promise<void> {
  const lookalike = faceSignLookalike(signatureHeader, bytes, {
    nowMs: deps.now?.() ?? Date.now(),
    toleranceSeconds: deps.toleranceSeconds,
    maxBodyBytes: deps.maxBodyBytes,
  });
  if (!lookalike) return;
  deps.logger.error("a delivery in FaceSign's form verified under no active secret: the signing secret is probably wrong or stale", {
    eventId: lookalike.id,
    sessionId: lookalike.sessionId,
    eventType: lookalike.type,
    signedAt: lookalike.signedAt,
  });
  deps.metrics.countBy(METRIC.wrongSecretSuspected, DIMENSION.eventType, lookalike.type);
  if (deps.hold) await holdRefused(deps, { bytes, headers: request.headers, receivedAtMs: deps.now?.() ?? Date.now(), lookalike });
}

/** Records the verified signature's age, and each timestamp anomaly (not signed, so never a refusal; counted so that a FaceSign-side change is seen). */
function recordSignature(
  verification: Extract<SignatureVerification, { ok: true }>,
  timestampHeader: string | undefined,
  { logger, metrics }: VerifierDependencies,
): void {
  metrics.record(METRIC.signatureAge, MetricUnit.Seconds, Math.round(verification.ageSeconds));
  for (const anomaly of verification.anomalies) {
    logger.warn('signature timestamp not as documented; accepted on its HMAC', {
      anomaly,
      timestampHeader: timestampHeader?.slice(0, 64),
      signedAt: verification.timestamp,
    });
    metrics.countBy(METRIC.timestampHeaderMismatches, DIMENSION.reason, anomaly);
  }
}

type EventKeys = Record<string, string | undefined>;

/**
 * Reads the authentic body: a typed event, or an unrecognized envelope for quarantine. Only a body
 * that is not UTF-8, not JSON or not a JSON object is refused.
 */
function readVerifiedEvent(
  bytes: Buffer,
): { ok: true; verified: VerifiedEvent; eventKeys: EventKeys } | { ok: false; error: 'invalid_json' | 'not_an_object'; message: string } {
  let rawBody: string;
  try {
    // What was signed: without a leading byte order mark (signedContent), so a captured delivery
    // replayed with one prepended queues the very body it was, and is a duplicate, not a new event.
    rawBody = utf8.decode(signedContent(bytes));
  } catch {
    return { ok: false, error: 'invalid_json', message: 'the body is not valid UTF-8' };
  }
  const parsed = parseFaceSignEvent(rawBody);
  if (parsed.ok) {
    const { event } = parsed;
    // Keys inline rather than a child logger: this is the hot path, and a child logger costs ~40 µs.
    return { ok: true, verified: { rawBody, event }, eventKeys: { eventId: event.id, sessionId: event.sessionId, eventType: event.type } };
  }
  if (parsed.error === 'invalid_json') return { ok: false, error: 'invalid_json', message: parsed.message };
  if (parsed.problem === 'not_an_object') return { ok: false, error: 'not_an_object', message: parsed.message };
  const value = parseJson(rawBody) as Record<string, unknown>;
  const ids = { id: usableIdentifier(value.id), type: usableIdentifier(value.type), sessionId: usableIdentifier(value.sessionId) };
  return {
    ok: true,
    verified: { rawBody, unrecognized: { problem: parsed.problem, message: parsed.message, ids } },
    eventKeys: { eventId: ids.id, sessionId: ids.sessionId, eventType: ids.type },
  };
}

/** Queues a verified event: 200 once it is durably queued, 503 (FaceSign retries) when it cannot be. */
async function queueVerified(verified: VerifiedEvent, eventKeys: EventKeys, bytes: number, deps: VerifierDependencies): Promise<WebhookResponse> {
  const { logger, metrics } = deps;
  try {
    await deps.enqueue(verified);
  } catch (error) {
    logger.error('could not queue a verified event', { ...eventKeys, errorName: (error as Error)?.name });
    countRequestFailed(metrics, 'queue_unavailable');
    return failure(503, 'queue_unavailable', 'the event could not be queued; FaceSign will retry');
  }
  if (verified.unrecognized) {
    logger.warn('authentic event with an unrecognized envelope queued for quarantine', {
      ...eventKeys,
      problem: verified.unrecognized.problem,
      reason: verified.unrecognized.message,
      bytes,
    });
    metrics.countBy(METRIC.eventsReceived, DIMENSION.eventType, UNRECOGNIZED_EVENT_TYPE);
  } else {
    logger.info('event verified and queued', { ...eventKeys, bytes });
    metrics.countBy(METRIC.eventsReceived, DIMENSION.eventType, verified.event.type);
  }
  return { statusCode: 200, body: { received: true } };
}

/** The body's bytes, as FaceSign sent them (API Gateway base64-encodes them on the REST door, and for binary content types). */
export function bodyBytes({ body, isBase64Encoded }: WebhookRequest): Buffer {
  return Buffer.from(body ?? '', isBase64Encoded ? 'base64' : 'utf8');
}

/** The body's size in bytes, computed without decoding it (API Gateway's base64 has no line breaks or padding inside, so it is exact). */
function bodySize({ body, isBase64Encoded }: WebhookRequest): number {
  if (body === undefined) return 0;
  return Buffer.byteLength(body, isBase64Encoded ? 'base64' : 'utf8');
}

/**
 * Refuses a body over `maxBodyBytes`. One HMAC, over the header's one `t` under the newest secret,
 * tells an authentic delivery refused (413, RequestsRejected, which pages at the first) from
 * anything else (401 signature_mismatch, a possible forgery, which does not page). Not every
 * secret: during a rotation, an over-size delivery signed with the older one is counted as a
 * forgery, a loss of a page, not of an event (it is refused either way).
 */
function refuseOversize(
  request: WebhookRequest,
  header: ParsedSignatureHeader,
  newestSecret: string,
  size: number,
  deps: VerifierDependencies,
  reject: Reject,
): WebhookResponse {
  const bytes = bodyBytes(request);
  const verification = verifyParsedSignature(bytes, header, undefined, [newestSecret], { toleranceSeconds: deps.toleranceSeconds, nowMs: deps.now?.() });
  if (!verification.ok && verification.reason === 'signature_mismatch') {
    return reject(
      401,
      'signature_mismatch',
      `the body is ${size} bytes, over the ${deps.maxBodyBytes} accepted, and not signed by the newest active signing secret`,
    );
  }
  return reject(413, 'payload_too_large', `the body is ${size} bytes; at most ${deps.maxBodyBytes} are accepted`);
}

/**
 * Holds a refused lookalike and counts the outcome. The answer stays the 401 whatever happens here:
 * FaceSign's document requires it, and a failed hold is counted (HoldsDropped), never an error.
 */
async function holdRefused({ hold, logger, metrics }: VerifierDependencies, request: HoldRequest): Promise<void> {
  let outcome: HoldOutcome;
  try {
    outcome = await hold!(request);
  } catch (error) {
    outcome = { held: false, reason: 'store_unavailable', errorName: (error as Error)?.name };
  }
  const eventKeys = { eventId: request.lookalike.id, sessionId: request.lookalike.sessionId, eventType: request.lookalike.type };
  if (outcome.held) {
    logger.warn('refused delivery held for re-verification: fix the signing secret, then run npm run reverify', { ...eventKeys, heldKey: outcome.key });
    metrics.countBy(METRIC.deliveriesHeld, DIMENSION.eventType, request.lookalike.type);
  } else {
    logger.error('refused delivery could not be held', { ...eventKeys, reason: outcome.reason, errorName: outcome.errorName });
    metrics.countBy(METRIC.holdsDropped, DIMENSION.reason, outcome.reason);
  }
}

function secretFailure({ logger, metrics }: VerifierDependencies, error: unknown): WebhookResponse {
  if (error instanceof SigningSecretNotConfiguredError) {
    logger.error('the signing secret is not configured', { reason: error.message });
    countRequestFailed(metrics, 'secret_not_configured');
    return failure(503, 'secret_not_configured', 'the receiver has no signing secret configured yet; FaceSign will retry');
  }
  logger.error('the signing secret could not be read', { errorName: (error as Error)?.name, reason: (error as Error)?.message });
  countRequestFailed(metrics, 'secret_unavailable');
  return failure(503, 'secret_unavailable', 'the signing secret could not be read; FaceSign will retry');
}

/** Every 503 is counted through here, so its reason is one the construct has an alarm for. */
function countRequestFailed(metrics: EventMetrics, reason: RequestFailureReason): void {
  metrics.countBy(METRIC.requestsFailed, DIMENSION.reason, reason);
}

function failure(statusCode: number, error: WebhookErrorName, message: string): WebhookResponse {
  return { statusCode, body: { error, message } };
}
