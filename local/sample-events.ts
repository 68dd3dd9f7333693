/**
 * Realistic FaceSign events of every documented type, shaped like the examples in FaceSign's
 * webhook document. Used by `npm run send-event` and by the tests.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { isMediaEventType, type FaceSignEventType } from '../contract/event';
import { MEDIA_URL_LIFETIME_SECONDS } from '../contract/time-budget';

/** What can be chosen about a sample event. */
export interface SampleEventOptions {
  readonly id?: string;
  readonly sessionId?: string;
  /** Milliseconds since the epoch. @default now */
  readonly createdAt?: number;
  /** The media URL of a media event. @default a signed-looking https://media.facesign.ai URL */
  readonly mediaUrl?: string;
  readonly mediaId?: string;
  /** @default createdAt + MEDIA_URL_LIFETIME_SECONDS */
  readonly expires?: number;
  readonly contentType?: string;
}

/** Builds an event of the given type (an undocumented type works too, without media). */
export function buildSampleEvent(type: FaceSignEventType | string, options: SampleEventOptions = {}): Record<string, unknown> {
  const createdAt = options.createdAt ?? Date.now();
  const event: Record<string, unknown> = {
    id: options.id ?? `evt_${randomBytes(8).toString('hex')}`,
    type,
    createdAt,
    sessionId: options.sessionId ?? randomUUID(),
  };
  if (isMediaEventType(type)) {
    const contentType = options.contentType ?? (type === 'media.user_video' ? 'video/mp4' : 'image/jpeg');
    const mediaId = options.mediaId ?? `m_${randomBytes(6).toString('hex')}`;
    const extension = contentType === 'video/mp4' ? 'mp4' : 'jpg';
    event.media = {
      id: mediaId,
      createdAt,
      url: options.mediaUrl ?? `https://media.facesign.ai/${mediaId}.${extension}?X-Signature=${randomBytes(16).toString('hex')}`,
      expires: options.expires ?? createdAt + MEDIA_URL_LIFETIME_SECONDS * 1000,
      contentType,
    };
  }
  return event;
}

/** The sample media host's file for a media event type: a video for `media.user_video`, else a photo (see sample-media.ts). */
export function sampleMediaUrl(origin: string, type: string): string {
  return `${origin}/sample.${type === 'media.user_video' ? 'mp4' : 'jpg'}?X-Signature=local`;
}
