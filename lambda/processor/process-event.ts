/**
 * The idempotent unit of work for one FaceSign event: archive its raw payload, store its media
 * (media events), publish it. It either completes or throws; only a completed run leaves a
 * completed idempotency record.
 *
 * The processor ships pre-built: your own logic does not go here. Subscribe to the published
 * events with `FaceSignWebhooks.onEvent` (one EventBridge rule per event type); each rule's
 * `detail` carries the event and the S3 locations of its archived payload and stored media.
 * Delivery is at least once: deduplicate on `detail.event.id`.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isKnownEventType, isMediaEvent, usableIdentifier, type FaceSignEvent, type UnknownFaceSignEvent } from '../../contract/event';
import type { FaceSignEventBridgeDetail } from '../../contract/event-bridge';
import { redactUrl } from '../../contract/redact-url';
import type { Logger } from '../shared/observability';
import { PermanentFailure } from './failures';
import type { StoredMedia } from './media-archiver';
import { objectEncryption } from './object-encryption';
import { eventArchiveKey, objectMetadata, type EventWithMedia } from './s3-keys';

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
  readonly storeMedia: (event: EventWithMedia) => Promise<StoredMedia>;
  readonly logger: Logger;
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

/** Archives the payload, stores the event's media if it carries any, and publishes the event. */
export async function processEvent({ event, rawBody }: EventInput, deps: ProcessEventDependencies): Promise<ProcessingResult> {
  const key = eventArchiveKey(event);
  await writeEventPayload(deps, key, { event, rawBody });

  const logger = deps.logger.createChild({ persistentKeys: { eventId: event.id, sessionId: event.sessionId, eventType: event.type } });
  const media = await storeCarriedMedia(event, deps.storeMedia, logger);

  const processed: ProcessingResult = {
    eventId: event.id,
    eventType: event.type,
    sessionId: event.sessionId,
    archive: { bucket: deps.bucket, key },
    ...(media ? { media } : {}),
    processedAt: new Date((deps.now ?? Date.now)()).toISOString(),
  };
  if (deps.publish) {
    const detail = { archive: processed.archive, processedAt: processed.processedAt };
    if (media) {
      // Rule targets get where and what was stored, not how long the download took.
      const { durationMs, ...stored } = media;
      await deps.publish(event, { ...detail, media: stored });
    } else {
      await deps.publish(event, detail);
    }
  }
  return processed;
}

/**
 * Stores the file an event carries, because its signed URL dies 15 minutes after it was made:
 * always for a documented media event; for an undocumented type (`media.document_video`, say)
 * when it has a `media` object with a `url`, through the same path. Such a URL that fails the
 * media URL/host checks is not contacted; that event is then archived only. Returns undefined when
 * nothing was stored.
 */
async function storeCarriedMedia(
  event: FaceSignEvent | UnknownFaceSignEvent,
  storeMedia: ProcessEventDependencies['storeMedia'],
  logger: Logger,
): Promise<StoredMedia | undefined> {
  if (isMediaEvent(event)) return storeAndLog(event, storeMedia, logger);
  if (isKnownEventType(event.type)) return undefined;

  const mediaEvent = undocumentedEventWithMedia(event);
  if (!mediaEvent) {
    logger.warn("event type not in FaceSign's documented table; archived only", { eventType: event.type });
    return undefined;
  }
  logger.warn("event type not in FaceSign's documented table; archived, and its media stored", { eventType: event.type });
  try {
    return await storeAndLog(mediaEvent, storeMedia, logger);
  } catch (error) {
    if (error instanceof PermanentFailure && (error.reason === 'media_url_invalid' || error.reason === 'media_host_not_allowed')) {
      logger.warn("the undocumented event's media URL is not one we may fetch; archived only", {
        eventType: event.type,
        reason: error.reason,
        detail: error.message,
      });
      return undefined;
    }
    throw error;
  }
}

async function storeAndLog(event: EventWithMedia, storeMedia: ProcessEventDependencies['storeMedia'], logger: Logger): Promise<StoredMedia> {
  const media = await storeMedia(event);
  logger.info('media stored', {
    key: media.key,
    bytes: media.bytes,
    contentType: media.contentType,
    durationMs: media.durationMs,
    source: redactUrl(event.media.url),
  });
  return media;
}

/**
 * An undocumented event as a media event, when it carries `media.url`. Fields its media object
 * lacks are filled so that the file still gets a stable key: the media id falls back to the event
 * id, the creation time to the event's, the content type to `application/octet-stream`; a missing
 * expiry is unknown (NaN: no expiry guard).
 */
function undocumentedEventWithMedia(event: UnknownFaceSignEvent): EventWithMedia | undefined {
  const media = event.media;
  if (typeof media !== 'object' || media === null || Array.isArray(media)) return undefined;
  const fields = media as Record<string, unknown>;
  if (typeof fields.url !== 'string' || fields.url.length === 0) return undefined;
  const createdAt = fields.createdAt;
  return {
    id: event.id,
    type: event.type,
    createdAt: event.createdAt,
    sessionId: event.sessionId,
    media: {
      id: usableIdentifier(fields.id) ?? event.id,
      createdAt: typeof createdAt === 'number' && Number.isFinite(createdAt) && createdAt >= 0 ? createdAt : event.createdAt,
      url: fields.url,
      expires: typeof fields.expires === 'number' ? fields.expires : NaN,
      contentType: typeof fields.contentType === 'string' ? fields.contentType : 'application/octet-stream',
    },
  };
}
