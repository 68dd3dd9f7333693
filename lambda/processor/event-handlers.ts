/**
 * One handler per FaceSign event type: the place for your own logic. Each runs inside the
 * idempotent unit, after the event's raw payload has been archived, at most once per event id
 * (a handler that throws is retried; make side effects outside AWS idempotent too).
 */
import { usableIdentifier, type FaceSignEvent, type FaceSignEventType, type FaceSignMediaEvent, type UnknownFaceSignEvent } from '../../contract/event';
import type { Logger } from '../shared/observability';
import { PermanentFailure } from './failures';
import { redactUrl, type StoredMedia } from './media-archiver';

/** What a handler gets besides the event. */
export interface EventHandlerContext {
  /** S3 key of the archived raw payload. */
  readonly archiveKey: string;
  /** Downloads the event's media into S3 (media events only). */
  readonly storeMedia: (event: FaceSignMediaEvent) => Promise<StoredMedia>;
  /** A logger that already carries the event's id, session id and type. */
  readonly logger: Logger;
}

/** What a handler reports back; kept in the idempotency record. */
export interface EventHandlerResult {
  readonly media?: StoredMedia;
}

type HandlerFor<T extends FaceSignEventType> = (event: Extract<FaceSignEvent, { type: T }>, context: EventHandlerContext) => Promise<EventHandlerResult>;

/** The handlers, keyed by event type. The compiler insists on one for every documented type. */
export type EventHandlers = { readonly [T in FaceSignEventType]: HandlerFor<T> };

/** Media events: store the file now, because the signed URL dies 15 minutes after it was made. */
async function storeEventMedia(event: FaceSignMediaEvent, context: EventHandlerContext): Promise<EventHandlerResult> {
  const media = await context.storeMedia(event);
  context.logger.info('media stored', {
    key: media.key,
    bytes: media.bytes,
    contentType: media.contentType,
    durationMs: media.durationMs,
    source: redactUrl(event.media.url),
  });
  // Your logic here: e.g. start a document check on `media.key`.
  return { media };
}

/** Nothing to do beyond archiving unless you add it. FaceSign's `GET /sessions/:id` has the details. */
async function archiveOnly(): Promise<EventHandlerResult> {
  return {};
}

export const eventHandlers: EventHandlers = {
  // The session's status changed (created / inProgress / incomplete / complete).
  // Your logic here: e.g. fetch GET /sessions/:id and update your user's verification state.
  'session.status': archiveOnly,
  'media.user_photo': storeEventMedia,
  'media.document_photo': storeEventMedia,
  'media.user_video': storeEventMedia,
  // Video analysis finished: the results are in GET /sessions/:id.
  'analysis.video': archiveOnly,
  // Screenshot analysis finished: the results are in GET /sessions/:id.
  'analysis.screenshot': archiveOnly,
  // FaceSign's avatar list changed: refresh any cached copy.
  'settings.avatars': archiveOnly,
  // FaceSign's language list changed: refresh any cached copy.
  'settings.langs': archiveOnly,
};

/**
 * An event type FaceSign has not documented yet (`media.document_video`, say): archived, logged,
 * and, when it carries a `media` object with a `url`, its file is stored through the same path as
 * a documented media event, because that URL dies 15 minutes after it was made. A URL that fails
 * the media URL/host checks is not contacted; the event is then archived only.
 */
export async function handleUnknownEvent(event: UnknownFaceSignEvent, context: EventHandlerContext): Promise<EventHandlerResult> {
  const mediaEvent = unknownEventWithMedia(event);
  if (!mediaEvent) {
    context.logger.warn("event type not in FaceSign's documented table; archived only", { eventType: event.type });
    return {};
  }
  context.logger.warn("event type not in FaceSign's documented table; archived, and its media stored", { eventType: event.type });
  try {
    return await storeEventMedia(mediaEvent, context);
  } catch (error) {
    if (error instanceof PermanentFailure && (error.reason === 'media_url_invalid' || error.reason === 'media_host_not_allowed')) {
      context.logger.warn("the undocumented event's media URL is not one we may fetch; archived only", {
        eventType: event.type,
        reason: error.reason,
        detail: error.message,
      });
      return {};
    }
    throw error;
  }
}

/**
 * The event as a media event when it carries `media.url`. Fields the media object lacks are
 * filled so that the file still gets a stable key: the media id falls back to the event id, the
 * creation time to the event's, the content type to `application/octet-stream`; a missing
 * expiry is unknown (NaN: no expiry guard).
 */
export function unknownEventWithMedia(event: UnknownFaceSignEvent): FaceSignMediaEvent | undefined {
  const media = event.media;
  if (typeof media !== 'object' || media === null || Array.isArray(media)) return undefined;
  const fields = media as Record<string, unknown>;
  if (typeof fields.url !== 'string' || fields.url.length === 0) return undefined;
  const createdAt = fields.createdAt;
  return {
    id: event.id,
    type: event.type as FaceSignMediaEvent['type'],
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
