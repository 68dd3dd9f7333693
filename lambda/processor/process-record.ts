/**
 * One SQS record: parse it, run the idempotent unit, and decide what a failure means.
 * - permanent failure: send the message to the dead-letter queue now, with the reason as message
 *   attributes, and report success so SQS deletes it from the main queue;
 * - transient failure: shorten the message's visibility to a backoff (seconds, not the queue's
 *   minutes-long visibility timeout) and report it failed, so the retry comes while the media URL
 *   still works; on the last allowed attempt, or when the URL would be dead by the next one, it
 *   goes to the dead-letter queue with the reason instead.
 * - a different version of an event id already processed (its parsed content differs; a retry
 *   that was only re-serialized does not) is archived byte for byte under `conflicts/`, counted
 *   as `ConflictingDuplicates` and logged as an error; it is never silently skipped.
 * - the invocation's deadline (deadline.ts) fails every record still running as
 *   `invocation_deadline`, a transient failure like any other.
 * Nothing is dropped: a record either completes, is in the dead-letter queue, or is retried.
 */
import { IdempotencyRecordStatus, IdempotencyValidationError } from '@aws-lambda-powertools/idempotency';
import { ChangeMessageVisibilityCommand, SendMessageCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { parseFaceSignEvent, type FaceSignEvent, type UnknownFaceSignEvent } from '../../contract/event';
import { MAX_RETRY_DELAY_SECONDS } from '../../contract/settings';
import { DIMENSION, METRIC, MetricUnit, type EventMetrics, type Logger } from '../shared/observability';
import { BODY_ENCODING_ATTRIBUTE, decodeQueueBody, encodeQueueBody } from '../shared/queue-body';
import { raceAbort, type Deadline } from './deadline';
import { classifyFailure, PermanentFailure, TransientFailure, type Classification } from './failures';
import { expiresLooksLikeSeconds, mediaExpiresAt } from './media-archiver';
import type { EventInput, ProcessingResult } from './process-event';
import { quarantineRecord, type QuarantineInput, type QuarantineResult } from './quarantine';

/** What happened to a record that did not need a retry. */
export type RecordOutcome =
  | { readonly status: 'processed' | 'duplicate'; readonly result: ProcessingResult }
  | { readonly status: 'conflicting_duplicate'; readonly conflictKey: string }
  | { readonly status: 'dead_lettered'; readonly reason: string }
  | { readonly status: 'quarantined'; readonly quarantine: QuarantineResult };

/** What {@link processRecord} needs. */
export interface RecordProcessorDependencies {
  /** The idempotent unit (Powertools `makeIdempotent` around `processEvent`), with the deadline's signal and the receive count. */
  readonly processEventOnce: (input: EventInput, options?: UnitOptions) => Promise<ProcessingResult>;
  /** Keeps a conflicting version of an event byte for byte; returns its S3 key. */
  readonly archiveConflict?: (event: FaceSignEvent | UnknownFaceSignEvent, rawBody: string) => Promise<string>;
  /** The invocation's deadline; a record still running when it passes is failed and retried. */
  readonly deadline?: Deadline;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly maxReceiveCount: number;
  readonly retryBaseDelaySeconds: number;
  readonly logger: Logger;
  readonly metrics: EventMetrics;
  readonly now?: () => number;
  readonly random?: () => number;
  /**
   * Archives an authentic JSON object the envelope schema does not recognise under `quarantine/`
   * (see quarantine.ts). Absent: such a record is dead-lettered as `invalid_envelope`.
   */
  readonly quarantineOnce?: (input: QuarantineInput) => Promise<QuarantineResult>;
}

/** What the idempotent unit gets besides its input (not part of the idempotency key). */
export interface UnitOptions {
  /** Aborted when the invocation's deadline passes. */
  readonly signal?: AbortSignal;
  /** The message's receive count: 1 on a first attempt. */
  readonly attempt: number;
}

/** Processes one record; throws only when the record should be retried. */
export async function processRecord(received: SQSRecord, deps: RecordProcessorDependencies): Promise<RecordOutcome> {
  // From here on the body is the signed text: a body SQS could not carry came base64-encoded (shared/queue-body.ts).
  const record: SQSRecord = { ...received, body: decodeQueueBody(received.body, received.messageAttributes) };
  const now = deps.now ?? Date.now;
  const attempt = Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1;
  const parsed = parseFaceSignEvent(record.body);
  if (!parsed.ok && parsed.error === 'invalid_envelope' && parsed.problem !== 'not_an_object' && deps.quarantineOnce) {
    const quarantine = await quarantineRecord(record, parsed, {
      ...deps,
      quarantineOnce: deps.quarantineOnce,
      signal: deps.deadline?.signal,
      retry: {
        attempt,
        maxReceiveCount: deps.maxReceiveCount,
        delaySeconds: () => retryDelaySeconds(attempt, deps.retryBaseDelaySeconds, deps.random ?? Math.random),
        shortenVisibility: (seconds) => shortenVisibility(record, seconds, deps),
      },
    });
    return { status: 'quarantined', quarantine };
  }
  if (!parsed.ok) {
    const failure: Classification = { kind: 'permanent', reason: 'invalid_envelope', message: `${parsed.error}: ${parsed.message}` };
    return deadLetter(record, undefined, failure, attempt, deps.logger, deps);
  }
  const { event } = parsed;
  const logger = deps.logger.createChild({
    persistentKeys: { eventId: event.id, sessionId: event.sessionId, eventType: event.type, messageId: record.messageId },
  });
  const declaredExpires = mediaField(event, 'expires');
  if (expiresLooksLikeSeconds(declaredExpires)) {
    // Read as seconds (media-archiver.ts); logged, so that a change on FaceSign's side shows.
    logger.warn('media.expires looks like seconds, not milliseconds; read as seconds', { anomaly: 'media_expires_in_seconds', expires: declaredExpires });
  }

  try {
    const work = deps.processEventOnce({ event, rawBody: record.body }, { signal: deps.deadline?.signal, attempt });
    const result = deps.deadline ? await raceAbort(work, deps.deadline.signal) : await work;
    if (result.duplicate) {
      logger.info('duplicate delivery skipped; the event was already processed', { processedAt: result.processedAt });
      deps.metrics.count(METRIC.duplicatesSkipped);
      return { status: 'duplicate', result };
    }
    logger.info('event processed', { archiveKey: result.archive.key, attempt });
    deps.metrics.countBy(METRIC.eventsProcessed, DIMENSION.eventType, event.type);
    if (result.media) {
      deps.metrics.record(METRIC.mediaBytesStored, MetricUnit.Bytes, result.media.bytes);
      deps.metrics.record(METRIC.mediaDownloadTime, MetricUnit.Milliseconds, result.media.durationMs);
    }
    return { status: 'processed', result };
  } catch (thrown) {
    let error = thrown;
    if (error instanceof IdempotencyValidationError) {
      try {
        const outcome = await conflictingVersion(error, event, record, logger, deps);
        if (outcome) return outcome;
      } catch (archiveError) {
        error = archiveError;
      }
    }
    // What a deadline cut short failed because of the deadline, whatever the aborted call threw.
    if (deps.deadline?.signal.aborted && !(error instanceof PermanentFailure)) error = deps.deadline.signal.reason;
    const failure = classifyFailure(error);
    if (failure.kind === 'permanent') return deadLetter(record, event, failure, attempt, logger, deps);

    const delaySeconds = retryDelaySeconds(attempt, deps.retryBaseDelaySeconds, deps.random ?? Math.random);
    if (attempt >= deps.maxReceiveCount) {
      return deadLetter(record, event, exhausted(failure, attempt), attempt, logger, deps);
    }
    // Only a failure of the transfer itself means the next attempt must download again; after
    // any other (publishing, DynamoDB, the deadline) the file may be stored, which counts as done.
    // The expiry is advisory (every download is attempted at least once); it only stops a retry
    // of a failed download that would start after the URL is dead.
    const downloadStillNeeded = failure.reason.startsWith('media_');
    const expiresAt = mediaExpiresAt(declaredExpires);
    if (downloadStillNeeded && expiresAt !== undefined && now() + delaySeconds * 1000 >= expiresAt) {
      return deadLetter(
        record,
        event,
        {
          kind: 'permanent',
          reason: 'media_url_expired',
          message: `the media URL expires before the next attempt could run; last failure: ${failure.reason}: ${failure.message}`,
        },
        attempt,
        logger,
        deps,
      );
    }
    logger.warn('transient failure; will retry', { reason: failure.reason, detail: failure.message, attempt, retryInSeconds: delaySeconds });
    deps.metrics.countBy(METRIC.transientFailures, DIMENSION.reason, failure.reason);
    await shortenVisibility(record, delaySeconds, { ...deps, logger });
    throw error;
  }
}

/** Sets the message's visibility to the backoff, so that its retry comes in seconds. Never throws. */
async function shortenVisibility(record: SQSRecord, seconds: number, deps: Pick<RecordProcessorDependencies, 'sqs' | 'queueUrl' | 'logger'>): Promise<void> {
  await deps.sqs
    .send(new ChangeMessageVisibilityCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: seconds }))
    .catch((visibilityError: Error) =>
      // The retry then comes after the queue's visibility timeout instead; still not lost.
      deps.logger.warn('could not shorten the retry delay', { errorName: visibilityError.name }),
    );
}

/** A field of the event's `media` object, whatever the event's type. */
function mediaField(event: FaceSignEvent | UnknownFaceSignEvent, field: string): unknown {
  const media = (event as { media?: unknown }).media;
  return typeof media === 'object' && media !== null ? (media as Record<string, unknown>)[field] : undefined;
}

/**
 * The idempotency record of this event id holds a different payload hash: parsed content, key
 * order ignored (Powertools `payloadValidationJmesPath: 'event'`), so this is another version of
 * the event, not a re-serialized retry. Kept under `conflicts/` and flagged; the first version
 * stays the processed one. A record written before payload validation was enabled has no hash:
 * that is a plain duplicate (undefined: handled as such by the caller).
 */
async function conflictingVersion(
  error: IdempotencyValidationError,
  event: FaceSignEvent | UnknownFaceSignEvent,
  record: SQSRecord,
  logger: Logger,
  deps: RecordProcessorDependencies,
): Promise<RecordOutcome | undefined> {
  if (error.existingRecord?.getStatus() === IdempotencyRecordStatus.INPROGRESS) {
    // The first version is still running and may yet fail: this one is not a conflict until the
    // first has completed. Retried (transient), never deleted.
    throw new TransientFailure('concurrent_delivery', 'another version of this event is being processed');
  }
  if (error.existingRecord?.payloadHash === undefined) {
    const stored = error.existingRecord?.getResponse() as ProcessingResult | undefined;
    if (stored) {
      logger.info('duplicate delivery skipped; the event was processed before payload validation was enabled');
      deps.metrics.count(METRIC.duplicatesSkipped);
      return { status: 'duplicate', result: { ...stored, duplicate: true } };
    }
    throw new TransientFailure('concurrent_delivery', 'another delivery of this event is being processed');
  }
  if (!deps.archiveConflict) throw error;
  const conflictKey = await deps.archiveConflict(event, record.body);
  const original = error.existingRecord.getResponse() as Partial<ProcessingResult> | undefined;
  logger.error('a different version of an already processed event id; archived, not processed', {
    reason: 'conflicting_duplicate',
    conflictKey,
    originalArchiveKey: original?.archive?.key,
    originalStatus: error.existingRecord.getStatus(),
  });
  deps.metrics.count(METRIC.conflictingDuplicates);
  return { status: 'conflicting_duplicate', conflictKey };
}

/**
 * Exponential backoff with jitter: base, 2x base, 4x base ... capped at {@link MAX_RETRY_DELAY_SECONDS}.
 * With the defaults (10 s base, 5 receives) the last attempt starts about 2.5 minutes after the first.
 */
export function retryDelaySeconds(attempt: number, baseSeconds: number, random: () => number): number {
  const exponential = Math.min(MAX_RETRY_DELAY_SECONDS, baseSeconds * 2 ** Math.max(0, attempt - 1));
  const jittered = exponential * (0.8 + 0.4 * random());
  return Math.max(1, Math.min(MAX_RETRY_DELAY_SECONDS, Math.round(jittered)));
}

function exhausted(failure: Classification, attempt: number): Classification {
  return { kind: 'permanent', reason: 'retries_exhausted', message: `failed ${attempt} times; last failure: ${failure.reason}: ${failure.message}` };
}

async function deadLetter(
  record: SQSRecord,
  event: FaceSignEvent | UnknownFaceSignEvent | undefined,
  failure: Classification,
  attempt: number,
  logger: Logger,
  deps: RecordProcessorDependencies,
): Promise<RecordOutcome> {
  const attributes: Record<string, MessageAttributeValue> = {
    failureReason: text(failure.reason),
    failureMessage: text(failure.message.slice(0, 1024)),
    failedAt: text(new Date((deps.now ?? Date.now)()).toISOString()),
    attempts: { DataType: 'Number', StringValue: String(attempt) },
    sourceMessageId: text(record.messageId),
  };
  const ids = event ?? identifiersFromAttributes(record);
  if (ids.type) attributes.eventType = text(ids.type);
  if (ids.id) attributes.eventId = text(ids.id);
  if (ids.sessionId) attributes.sessionId = text(ids.sessionId);
  // If this send fails the error propagates, the record is retried, and nothing is lost.
  const { messageBody, encoding } = encodeQueueBody(record.body);
  if (encoding) attributes[BODY_ENCODING_ATTRIBUTE] = text(encoding);
  await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.deadLetterQueueUrl, MessageBody: messageBody, MessageAttributes: attributes }));
  logger.error('event sent to the dead-letter queue', { reason: failure.reason, detail: failure.message, attempt });
  deps.metrics.countBy(METRIC.permanentFailures, DIMENSION.reason, failure.reason);
  return { status: 'dead_lettered', reason: failure.reason };
}

function identifiersFromAttributes(record: SQSRecord): { type?: string; id?: string; sessionId?: string } {
  const attrs = record.messageAttributes ?? {};
  return { type: attrs.eventType?.stringValue, id: attrs.eventId?.stringValue, sessionId: attrs.sessionId?.stringValue };
}

function text(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value === '' ? '-' : value };
}
