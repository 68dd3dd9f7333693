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
import { isKnownEventType, isMediaEvent, usableIdentifier, type FaceSignEvent, type UnknownFaceSignEvent } from '../../contract/event';
import type { FaceSignEventBridgeDetail } from '../../contract/event-bridge';
import { redactUrl } from '../../contract/redact-url';
import type { Logger } from '../shared/observability';
import { keepLateVersion } from './conflicts';
import type { Deadline } from './deadline';
import { PermanentFailure } from './failures';
import { storedObject, type StoredMedia } from './media-transfer';
import { eventArchiveKey, eventMetadata, type EventWithMedia } from './storage-names';
import { writeObject, type ObjectStore } from './storage-writer';

/** One event to process, with the exact bytes FaceSign signed. */
export interface EventInput {
  readonly event: FaceSignEvent | UnknownFaceSignEvent;
  readonly rawBody: string;
}

/** What a unit gets besides its input (not part of the idempotency key). */
export interface UnitOptions {
  /** The invocation's deadline: every wait of the unit ends by it. */
  readonly deadline: Deadline;
  /** The message's receive count: 1 on a first attempt. */
  readonly attempt: number;
}

/** The outcome of a completed run, stored in the idempotency record and returned for duplicates. */
export interface ProcessingResult {
  readonly eventId: string;
  readonly eventType: string;
  readonly sessionId: string;
  readonly archive: { readonly bucket: string; readonly key: string };
  /**
   * Set when the archive key already held an object (a delivery after the idempotency window):
   * this delivery's bytes, kept under `conflicts/` (conflicts.ts).
   */
  readonly lateVersionKey?: string;
  readonly media?: StoredMedia;
  readonly processedAt: string;
  /** Set on the copy returned for a delivery that was already processed. */
  readonly duplicate?: boolean;
}

/** The rest of the EventBridge detail, besides the event. */
export type PublishedDetail = Omit<FaceSignEventBridgeDetail, 'event' | 'eventOmitted'>;

/** What {@link processEvent} needs. */
export interface EventUnitDependencies extends ObjectStore {
  /** Stores an event's media file (media-transfer.ts `storeMedia`, given the unit's deadline and attempt). */
  readonly storeMedia: (event: EventWithMedia, options: UnitOptions) => Promise<StoredMedia>;
  /** Publishes the processed event (EventBridge); last step of the unit. Undefined: no event bus configured. */
  readonly publish: ((event: FaceSignEvent | UnknownFaceSignEvent, detail: PublishedDetail, deadline: Deadline) => Promise<void>) | undefined;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * Archives the payload, stores the event's media if it carries any, and publishes the event. The
 * archive write is conditional (storage-writer.ts): when the key already holds an object, this
 * event id was processed before the idempotency window began, and the stored copy is never
 * replaced. The processor may not read `events/` (least privilege), so it cannot tell whether the
 * bytes differ: this delivery's bytes are kept under `conflicts/`, named by their SHA-256 (a
 * repeat of the same bytes is one object), and the unit goes on (its media, if stored, is found;
 * the event is published again: delivery is at least once).
 */
export async function processEvent({ event, rawBody }: EventInput, deps: EventUnitDependencies, options: UnitOptions): Promise<ProcessingResult> {
  const { deadline } = options;
  const key = eventArchiveKey(event);
  const logger = deps.logger.createChild({ persistentKeys: { eventId: event.id, sessionId: event.sessionId, eventType: event.type } });
  const archived = await writeObject(deps, { key, body: rawBody, contentType: 'application/json', metadata: eventMetadata(event) }, deadline.signal);
  const lateVersionKey = archived === 'already_stored' ? await keepLateVersion(deps, event, rawBody, key, logger, deadline) : undefined;

  const media = await storeCarriedMedia(event, deps, logger, options);
  const processed: ProcessingResult = {
    eventId: event.id,
    eventType: event.type,
    sessionId: event.sessionId,
    archive: { bucket: deps.bucket, key },
    ...(lateVersionKey ? { lateVersionKey } : {}),
    ...(media ? { media } : {}),
    processedAt: new Date(deps.now()).toISOString(),
  };
  if (deps.publish) {
    const detail = { archive: processed.archive, processedAt: processed.processedAt };
    // Rule targets get where and what was stored, not how the download went.
    await deps.publish(event, media ? { ...detail, media: storedObject(media) } : detail, deadline);
  }
  return processed;
}

/**
 * Stores the file an event carries, because its signed URL dies soon (MEDIA_URL_LIFETIME_SECONDS,
 * contract/time-budget.ts): always for a documented media event; for an undocumented type (`media.document_video`, say)
 * when it has a `media` object with a `url`, through the same path. Such a URL that fails the
 * media URL/host checks is not contacted; that event is then archived only. Returns undefined when
 * nothing was stored.
 */
async function storeCarriedMedia(
  event: FaceSignEvent | UnknownFaceSignEvent,
  deps: EventUnitDependencies,
  logger: Logger,
  options: UnitOptions,
): Promise<StoredMedia | undefined> {
  const storeMedia = (mediaEvent: EventWithMedia) => deps.storeMedia(mediaEvent, options);
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

async function storeAndLog(event: EventWithMedia, storeMedia: (event: EventWithMedia) => Promise<StoredMedia>, logger: Logger): Promise<StoredMedia> {
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
