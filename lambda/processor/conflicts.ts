/**
 * A second version of an event id: another payload for an id already processed. Nothing is
 * overwritten and nothing is lost: the first version stays the archived, processed one, and each
 * other version is kept byte for byte under
 * `conflicts/<sessionId>/<createdAt>-<eventId>/<sha256 of the body>.json`.
 * - Within the idempotency window, Powertools compares the parsed content (key order ignored) and
 *   throws `IdempotencyValidationError` for another version ({@link conflictingVersion}): it is
 *   kept, counted as `ConflictingDuplicates`, logged as an error, and not processed.
 * - After the window, the record is gone and the event is processed again; its archive write is
 *   refused by S3 (conditional write, storage-writer.ts), and the delivery's bytes are kept here
 *   ({@link keepLateVersion}) because the processor may not read `events/` to compare them.
 */
import { IdempotencyRecordStatus, type IdempotencyValidationError } from '@aws-lambda-powertools/idempotency';
import type { FaceSignEvent, UnknownFaceSignEvent } from '../../contract/event';
import { METRIC } from '../../contract/metric-names';
import type { EventMetrics, Logger } from '../shared/observability';
import type { Deadline } from './deadline';
import type { ProcessingResult } from './event-unit';
import { TransientFailure } from './failures';
import { conflictArchiveKey, eventMetadata } from './storage-names';
import { writeObject, type ObjectStore } from './storage-writer';

/** What happened to a second version within the idempotency window. */
export type ConflictOutcome =
  { readonly status: 'duplicate'; readonly result: ProcessingResult } | { readonly status: 'conflicting_duplicate'; readonly conflictKey: string };

/** Keeps a version of an event byte for byte under `conflicts/`; returns its key (stored before or now). */
export async function archiveConflict(store: ObjectStore, event: FaceSignEvent | UnknownFaceSignEvent, rawBody: string, deadline: Deadline): Promise<string> {
  const key = conflictArchiveKey(event, rawBody);
  // already_stored: these very bytes were kept before (the key is their SHA-256).
  await writeObject(store, { key, body: rawBody, contentType: 'application/json', metadata: eventMetadata(event) }, deadline.signal);
  return key;
}

/** The archive key held an object already (a delivery after the idempotency window): keeps this delivery's bytes too. */
export async function keepLateVersion(
  store: ObjectStore,
  event: FaceSignEvent | UnknownFaceSignEvent,
  rawBody: string,
  archiveKey: string,
  logger: Logger,
  deadline: Deadline,
): Promise<string> {
  const key = await archiveConflict(store, event, rawBody, deadline);
  logger.warn('the event was archived before (a delivery after the idempotency window); the archive is kept, and this delivery under conflicts/', {
    archiveKey,
    lateVersionKey: key,
  });
  return key;
}

/** What {@link conflictingVersion} needs. */
export interface ConflictDependencies {
  readonly store: ObjectStore;
  readonly metrics: EventMetrics;
  readonly deadline: Deadline;
}

/**
 * The idempotency record of this event id holds a different payload hash: parsed content, key
 * order ignored (Powertools `payloadValidationJmesPath: 'event'`), so this is another version of
 * the event, not a re-serialized retry. Kept under `conflicts/` and flagged; the first version
 * stays the processed one. A record written before payload validation was enabled has no hash:
 * that is a plain duplicate.
 */
export async function conflictingVersion(
  error: IdempotencyValidationError,
  input: { readonly event: FaceSignEvent | UnknownFaceSignEvent; readonly rawBody: string },
  logger: Logger,
  deps: ConflictDependencies,
): Promise<ConflictOutcome> {
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
  const conflictKey = await archiveConflict(deps.store, input.event, input.rawBody, deps.deadline);
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
