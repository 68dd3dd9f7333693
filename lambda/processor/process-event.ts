/**
 * The idempotent unit of work for one FaceSign event: archive its raw payload, then run its
 * type's handler (which stores media for media events). It either completes or throws; only a
 * completed run leaves a completed idempotency record.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isKnownEventType, type FaceSignEvent, type FaceSignMediaEvent, type UnknownFaceSignEvent } from '../../contract/event';
import type { FaceSignEventBridgeDetail } from '../../contract/event-bridge';
import type { Logger } from '../shared/observability';
import { eventHandlers, handleUnknownEvent, type EventHandlerContext, type EventHandlers } from './event-handlers';
import type { StoredMedia } from './media-archiver';
import { objectEncryption } from './object-encryption';
import { eventArchiveKey, objectMetadata } from './s3-keys';

/** One event to process, with the exact bytes FaceSign signed. */
export interface EventInput {
  readonly event: FaceSignEvent | UnknownFaceSignEvent;
  readonly rawBody: string;
}

/** The outcome of a completed run, stored in the idempotency record and returned for duplicates. */
export interface ProcessingResult {
  readonly eventId: string;
  readonly eventType: string;
  readonly sessionId: string;
  readonly archive: { readonly bucket: string; readonly key: string };
  readonly media?: StoredMedia;
  readonly processedAt: string;
  /** Set on the copy returned for a delivery that was already processed. */
  readonly duplicate?: boolean;
}

/** What {@link processEvent} needs. */
export interface ProcessEventDependencies {
  readonly s3: S3Client;
  readonly bucket: string;
  /** KMS key the archived payload is written under (SSE-KMS); unset: the bucket's default. */
  readonly encryptionKeyArn?: string;
  readonly storeMedia: (event: FaceSignMediaEvent) => Promise<StoredMedia>;
  readonly logger: Logger;
  readonly handlers?: EventHandlers;
  readonly now?: () => number;
  /** Publishes the processed event (EventBridge); last step of the unit. Absent: not published. */
  readonly publish?: (event: FaceSignEvent | UnknownFaceSignEvent, result: Omit<FaceSignEventBridgeDetail, 'event' | 'eventOmitted'>) => Promise<void>;
  /** Aborts the archive write when the invocation runs out of time (see deadline.ts). */
  readonly signal?: AbortSignal;
}

/**
 * Writes an event's payload byte for byte under `key`, SSE-KMS, with the event's identity as
 * metadata: the archive copy, and the copy of a conflicting second version.
 */
export async function writeEventPayload(
  deps: Pick<ProcessEventDependencies, 's3' | 'bucket' | 'encryptionKeyArn' | 'signal'>,
  key: string,
  { event, rawBody }: EventInput,
): Promise<void> {
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.bucket,
      Key: key,
      Body: rawBody,
      ContentType: 'application/json',
      ...objectEncryption(deps.encryptionKeyArn),
      Metadata: objectMetadata({ 'facesign-event-id': event.id, 'facesign-event-type': event.type, 'facesign-session-id': event.sessionId }),
    }),
    { abortSignal: deps.signal },
  );
}

/** Archives the payload and runs the event's handler. */
export async function processEvent({ event, rawBody }: EventInput, deps: ProcessEventDependencies): Promise<ProcessingResult> {
  const key = eventArchiveKey(event);
  await writeEventPayload(deps, key, { event, rawBody });

  const logger = deps.logger.createChild({ persistentKeys: { eventId: event.id, sessionId: event.sessionId, eventType: event.type } });
  const context: EventHandlerContext = { archiveKey: key, storeMedia: deps.storeMedia, logger };
  const handlers = deps.handlers ?? eventHandlers;
  const result = isKnownEventType(event.type)
    ? await (handlers[event.type] as (e: typeof event, c: EventHandlerContext) => ReturnType<EventHandlers['session.status']>)(event, context)
    : await handleUnknownEvent(event, context);

  const processed: ProcessingResult = {
    eventId: event.id,
    eventType: event.type,
    sessionId: event.sessionId,
    archive: { bucket: deps.bucket, key },
    ...(result.media ? { media: result.media } : {}),
    processedAt: new Date((deps.now ?? Date.now)()).toISOString(),
  };
  if (deps.publish) {
    const detail = { archive: processed.archive, processedAt: processed.processedAt };
    if (result.media) {
      // Rule targets get where and what was stored, not how long the download took.
      const { durationMs, ...media } = result.media;
      await deps.publish(event, { ...detail, media });
    } else {
      await deps.publish(event, detail);
    }
  }
  return processed;
}
