/**
 * Where things land in the bucket. One session's events list together, in time order:
 *   events/<sessionId>/<createdAt>-<eventId>.json
 *   media/<sessionId>/<eventType>/<mediaId>.<ext>
 * Every segment taken from the event is percent-encoded, so an id holding "/" cannot nest prefixes.
 */
import type { FaceSignMediaEvent } from '../shared/event';

interface EventIds {
  readonly id: string;
  readonly sessionId: string;
  readonly createdAt: number;
}

/** Key of an event's archived raw payload. */
export function eventArchiveKey(event: EventIds): string {
  return `events/${segment(event.sessionId)}/${Math.trunc(event.createdAt)}-${segment(event.id)}.json`;
}

/** Key of a media event's stored file. */
export function mediaKey(event: FaceSignMediaEvent): string {
  return `media/${segment(event.sessionId)}/${segment(event.type)}/${segment(event.media.id)}.${extensionFor(event.media.contentType)}`;
}

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/heic': 'heic',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'application/pdf': 'pdf',
};

/** A file extension for a content type; `bin` when nothing sensible can be derived. */
export function extensionFor(contentType: string): string {
  const type = contentType.split(';')[0].trim().toLowerCase();
  const known = EXTENSIONS[type];
  if (known) return known;
  const subtype = type.split('/')[1] ?? '';
  return /^[a-z0-9]{1,10}$/.test(subtype) ? subtype : 'bin';
}

function segment(value: string): string {
  return encodeURIComponent(value).replace(/\./g, (dot: string, _offset: number, whole: string) =>
    // "." and ".." as whole segments confuse tools that map keys to paths.
    whole === '.' || whole === '..' ? '%2E' : dot,
  );
}
