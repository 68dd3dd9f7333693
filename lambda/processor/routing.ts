/**
 * One SQS record, from its body to its outcome: parse it, route it (a recognised event to the
 * event unit, an authentic body the envelope schema does not recognise to the quarantine unit,
 * anything else to the dead-letter queue), run the idempotent unit within the invocation's
 * deadline, and hand any failure to the one failure policy (disposition.ts).
 * - a different version of an event id already processed is kept under `conflicts/` and flagged
 *   (conflicts.ts); it is never silently skipped;
 * - the invocation's deadline (deadline.ts) fails every record still running as
 *   `invocation_deadline`, a transient failure like any other.
 * Nothing is dropped: a record either completes, is in the dead-letter queue, or is retried.
 */
import { IdempotencyValidationError } from '@aws-lambda-powertools/idempotency';
import type { SQSRecord } from 'aws-lambda';
import { parseFaceSignEvent, type EnvelopeProblem, type FaceSignEvent, type UnknownFaceSignEvent } from '../../contract/event';
import { UNRECOGNIZED_ENVELOPE_ATTRIBUTE } from '../../contract/quarantine';
import { redactUrl } from '../../contract/redact-url';
import { DIMENSION, METRIC } from '../../contract/metric-names';
import { MetricUnit, type Logger } from '../shared/observability';
import { decodeQueueBody } from '../shared/queue-body';
import { conflictingVersion, type ConflictOutcome } from './conflicts';
import { raceAbort, type Deadline } from './deadline';
import { deadLetter, decide, retryDelaySeconds, retryLater, type DispositionDependencies, type RecordIdentity } from './disposition';
import type { EventInput, ProcessingResult, UnitOptions } from './event-unit';
import { classifyFailure, PermanentFailure } from './failures';
import { expiresLooksLikeSeconds, mediaExpiresAt } from './media-url';
import { bodySha256, NOT_OURS_TO_FETCH, quarantinedMedia, type QuarantineInput, type QuarantineResult } from './quarantine-unit';
import type { ObjectStore } from './storage-writer';

/** What happened to a record that did not need a retry. */
export type RecordOutcome =
  | { readonly status: 'processed'; readonly result: ProcessingResult }
  | ConflictOutcome
  | { readonly status: 'dead_lettered'; readonly reason: string }
  | { readonly status: 'quarantined'; readonly quarantine: QuarantineResult };

/** What {@link processRecord} needs. */
export interface RecordDependencies extends DispositionDependencies {
  /** The idempotent event unit (Powertools `makeIdempotent` around event-unit.ts `processEvent`, keyed by the event id). */
  readonly processEventOnce: (input: EventInput, options: UnitOptions) => Promise<ProcessingResult>;
  /** The idempotent quarantine unit (around quarantine-unit.ts `archiveQuarantinedBody`, keyed by `bodySha256`). */
  readonly quarantineOnce: (input: QuarantineInput, options: UnitOptions) => Promise<QuarantineResult>;
  /** Where a conflicting version is kept (conflicts.ts). */
  readonly store: ObjectStore;
  /** The invocation's deadline; a record still running when it passes is failed and retried. */
  readonly deadline: Deadline;
  readonly maxReceiveCount: number;
  readonly retryBaseDelaySeconds: number;
  readonly logger: Logger;
  /** The backoff's jitter. */
  readonly random: () => number;
}

/** Processes one record; throws only when the record should be retried. */
export async function processRecord(received: SQSRecord, deps: RecordDependencies): Promise<RecordOutcome> {
  // From here on the body is the signed text: a body SQS could not carry came base64-encoded (shared/queue-body.ts).
  const record: SQSRecord = { ...received, body: decodeQueueBody(received.body, received.messageAttributes) };
  const attempt = Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1;
  const parsed = parseFaceSignEvent(record.body);
  if (parsed.ok) return eventPath(record, parsed.event, attempt, deps);
  if (parsed.error === 'invalid_envelope' && parsed.problem !== 'not_an_object') return quarantinePath(record, parsed, attempt, deps);
  const failure = new PermanentFailure('invalid_envelope', `${parsed.error}: ${parsed.message}`);
  return settleWhole(record, failure, { attempt, ids: undefined, logger: deps.logger, mediaExpiresAt: undefined }, deps);
}

/** What the failure policy is told about a record, besides the failure. */
interface FailureContext {
  readonly attempt: number;
  readonly ids: RecordIdentity | undefined;
  readonly logger: Logger;
  readonly mediaExpiresAt: number | undefined;
  readonly mediaOptional: boolean;
}

/**
 * Applies the failure policy to a failed attempt: dead-letters the record (its outcome), gives up
 * its media (the policy's answer, for the caller to act on), or shortens its visibility and
 * rethrows, so that the batch reports it failed and SQS hands it out again.
 */
async function settle(
  record: SQSRecord,
  error: unknown,
  context: FailureContext,
  deps: RecordDependencies,
): Promise<
  { readonly status: 'dead_lettered'; readonly reason: string } | { readonly status: 'give_up_media'; readonly reason: string; readonly message: string }
> {
  // What a deadline cut short failed because of the deadline, whatever the aborted call threw.
  const cutShort = deps.deadline.signal.aborted && !(error instanceof PermanentFailure);
  const failure = classifyFailure(cutShort ? deps.deadline.signal.reason : error);
  const delaySeconds = retryDelaySeconds(context.attempt, deps.retryBaseDelaySeconds, deps.random);
  const decision = decide({ ...context, failure, maxReceiveCount: deps.maxReceiveCount, now: deps.now(), delaySeconds });
  if (decision.action === 'dead_letter') return deadLetter(record, context.ids, decision, context.attempt, context.logger, deps);
  if (decision.action === 'give_up_media') return { status: 'give_up_media', reason: decision.reason, message: decision.message };
  await retryLater(record, failure, context.attempt, decision.delaySeconds, context.logger, deps);
  throw error;
}

/** {@link settle} for a record whose media cannot be given up: it is dead-lettered or retried. */
async function settleWhole(
  record: SQSRecord,
  error: unknown,
  context: Omit<FailureContext, 'mediaOptional'>,
  deps: RecordDependencies,
): Promise<{ readonly status: 'dead_lettered'; readonly reason: string }> {
  const settled = await settle(record, error, { ...context, mediaOptional: false }, deps);
  if (settled.status === 'dead_lettered') return settled;
  throw new Error(`internal: the failure policy gave up the media of a record that must be kept whole (${settled.reason})`);
}

async function eventPath(record: SQSRecord, event: FaceSignEvent | UnknownFaceSignEvent, attempt: number, deps: RecordDependencies): Promise<RecordOutcome> {
  const logger = deps.logger.createChild({
    persistentKeys: { eventId: event.id, sessionId: event.sessionId, eventType: event.type, messageId: record.messageId },
  });
  const declaredExpires = mediaField(event, 'expires');
  warnIfExpiresInSeconds(declaredExpires, logger);
  const input: EventInput = { event, rawBody: record.body };
  try {
    const result = await raceAbort(deps.processEventOnce(input, { deadline: deps.deadline, attempt }), deps.deadline.signal);
    return eventDone(result, attempt, logger, deps);
  } catch (thrown) {
    let error = thrown;
    if (error instanceof IdempotencyValidationError) {
      try {
        return await conflictingVersion(error, input, logger, deps);
      } catch (conflictError) {
        error = conflictError;
      }
    }
    // An event is kept whole: the policy never gives up its media, it dead-letters.
    return settleWhole(record, error, { attempt, ids: event, logger, mediaExpiresAt: mediaExpiresAt(declaredExpires) }, deps);
  }
}

function eventDone(result: ProcessingResult, attempt: number, logger: Logger, deps: RecordDependencies): RecordOutcome {
  if (result.duplicate) {
    logger.info('duplicate delivery skipped; the event was already processed', { processedAt: result.processedAt });
    deps.metrics.count(METRIC.duplicatesSkipped);
    return { status: 'duplicate', result };
  }
  logger.info('event processed', { archiveKey: result.archive.key, attempt });
  deps.metrics.countBy(METRIC.eventsProcessed, DIMENSION.eventType, result.eventType);
  if (result.media) {
    deps.metrics.record(METRIC.mediaBytesStored, MetricUnit.Bytes, result.media.bytes);
    deps.metrics.record(METRIC.mediaDownloadTime, MetricUnit.Milliseconds, result.media.durationMs);
    recordHeadroom(result.media.urlHeadroomSeconds, deps);
  }
  return { status: 'processed', result };
}

/** One value per file downloaded now: how close the pipeline came to losing it (contract/metric-names.ts). */
function recordHeadroom(seconds: number | undefined, deps: RecordDependencies): void {
  if (seconds !== undefined) deps.metrics.record(METRIC.mediaUrlHeadroom, MetricUnit.Seconds, seconds);
}

/**
 * Authentic deliveries that the envelope schema does not recognise (no `sessionId`, `createdAt` as
 * a string, a media event without `media`, ...). FaceSign was answered 200, so they are ours to
 * keep: each is archived byte for byte (quarantine-unit.ts), counted (`EventsQuarantined`, per
 * `Reason`), and nothing is published, because nothing can be typed. The decision is the
 * processor's own validation, not the verifier's message attribute: a redriven or hand-sent
 * message is judged the same way. The idempotency key is the SHA-256 of the body, in its own key
 * space: an unrecognized body may have no usable `id`, and keying by `id` would let one version of
 * an event hide another. A failure goes to the same policy as an event's, except that the body's
 * media may be given up (the body is archived first), which then pages through
 * `EventsQuarantined` (not `PermanentFailures`: nothing is in the dead-letter queue).
 */
async function quarantinePath(
  record: SQSRecord,
  failure: { readonly problem: EnvelopeProblem; readonly message: string },
  attempt: number,
  deps: RecordDependencies,
): Promise<RecordOutcome> {
  const sha256 = bodySha256(record.body);
  const logger = deps.logger.createChild({ persistentKeys: { messageId: record.messageId, bodySha256: sha256, problem: failure.problem } });
  const marked = record.messageAttributes?.[UNRECOGNIZED_ENVELOPE_ATTRIBUTE]?.stringValue;
  if (marked !== undefined && marked !== failure.problem) {
    logger.warn("the verifier marked this envelope for another problem; using the processor's own validation", { marked });
  }
  const media = quarantinedMedia(record.body);
  warnIfExpiresInSeconds(media?.expires, logger);
  const sentAt = Number(record.attributes?.SentTimestamp);
  const input: QuarantineInput = {
    rawBody: record.body,
    bodySha256: sha256,
    problem: failure.problem,
    message: failure.message,
    receivedAt: Number.isFinite(sentAt) && sentAt > 0 ? sentAt : deps.now(),
  };
  const options: UnitOptions = { deadline: deps.deadline, attempt };
  const context = { attempt, ids: undefined, logger, mediaExpiresAt: mediaExpiresAt(media?.expires), mediaOptional: true };
  let result: QuarantineResult;
  try {
    result = await raceAbort(deps.quarantineOnce(input, options), deps.deadline.signal);
  } catch (error) {
    const settled = await settle(record, error, context, deps);
    if (settled.status === 'dead_lettered') return settled;
    const mediaGivenUp = { reason: settled.reason, message: settled.message };
    try {
      result = await raceAbort(deps.quarantineOnce({ ...input, mediaGivenUp }, options), deps.deadline.signal);
    } catch (bodyError) {
      return settleWhole(record, bodyError, context, deps);
    }
  }
  return quarantined(result, failure.message, media?.url, logger, deps);
}

function quarantined(result: QuarantineResult, problem: string, mediaUrl: string | undefined, logger: Logger, deps: RecordDependencies): RecordOutcome {
  if (result.duplicate) {
    logger.info('unrecognized envelope already quarantined; duplicate skipped', { key: result.key });
    deps.metrics.count(METRIC.duplicatesSkipped);
    return { status: 'quarantined', quarantine: result };
  }
  // Nothing is published: the event cannot be typed. The alarm on EventsQuarantined pages.
  logger.error('authentic event with an unrecognized envelope quarantined', { key: result.key, reason: problem, mediaKey: result.media?.key });
  deps.metrics.countBy(METRIC.eventsQuarantined, DIMENSION.reason, result.problem);
  recordHeadroom(result.urlHeadroomSeconds, deps);
  const mediaFailure = result.mediaFailure;
  if (mediaFailure && NOT_OURS_TO_FETCH.has(mediaFailure.reason)) {
    logger.warn("the quarantined body's media URL is not one we may fetch; not contacted", {
      key: result.key,
      reason: mediaFailure.reason,
      detail: mediaFailure.message,
    });
  } else if (mediaFailure) {
    logger.error("the quarantined body's media could not be stored; the body is archived without it", {
      key: result.key,
      reason: mediaFailure.reason,
      detail: mediaFailure.message,
      source: mediaUrl ? redactUrl(mediaUrl) : undefined,
    });
  }
  return { status: 'quarantined', quarantine: result };
}

function warnIfExpiresInSeconds(expires: unknown, logger: Logger): void {
  // Read as seconds (media-url.ts); logged, so that a change on FaceSign's side shows.
  if (expiresLooksLikeSeconds(expires)) {
    logger.warn('media.expires looks like seconds, not milliseconds; read as seconds', { anomaly: 'media_expires_in_seconds', expires });
  }
}

/** A field of the event's `media` object, whatever the event's type. */
function mediaField(event: FaceSignEvent | UnknownFaceSignEvent, field: string): unknown {
  const media = (event as { media?: unknown }).media;
  return typeof media === 'object' && media !== null ? (media as Record<string, unknown>)[field] : undefined;
}
