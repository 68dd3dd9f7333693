/**
 * Every name S3 gets from the processor: object keys and user metadata, within S3's limits. The
 * layout is contract/bucket-layout.ts's; one session's events list together, in time order:
 *   events/<sessionId>/<createdAt>-<eventId>.json
 *   media/<sessionId>/<eventType>/<mediaId>.<ext>
 * Every segment taken from the event is percent-encoded, so an id holding "/" cannot nest prefixes.
 *
 * S3 refuses a key over 1,024 bytes of UTF-8 and user metadata over 2 KB in total
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html). Percent-encoding
 * can make one character twelve bytes, so every segment and metadata value has a byte cap: a
 * longer one keeps its start and ends in `~` and 16 hex digits of the SHA-256 of the whole value,
 * which keeps keys distinct and stable. No event can produce a key or metadata S3 refuses.
 */
import { createHash } from 'node:crypto';
import type { FaceSignMedia } from '../../contract/event';
import { BUCKET_PREFIX, QUARANTINE_MEDIA } from '../../contract/bucket-layout';
import { extensionFor } from './media-types';

/** S3's key limit, in bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;
/** S3's limit on all user metadata keys and values together (as sent, `x-amz-meta-` excluded), in bytes. */
export const MAX_METADATA_BYTES = 2048;
/** Cap of one key segment taken from the event (session id, event id, media id), encoded. */
export const MAX_SEGMENT_BYTES = 300;
/** Cap of the event type segment, encoded. */
export const MAX_TYPE_SEGMENT_BYTES = 100;
/** Cap of one metadata value, encoded. */
export const MAX_METADATA_VALUE_BYTES = 200;

interface EventIds {
  readonly id: string;
  readonly sessionId: string;
  readonly createdAt: number;
}

/**
 * An event with a file to store: a documented media event, or an undocumented type that carries a
 * `media` object (event-unit.ts fills in the fields it lacks). Its type, whatever FaceSign
 * named it, is the media key's folder.
 */
export interface EventWithMedia extends EventIds {
  readonly type: string;
  readonly media: FaceSignMedia;
}

/** Key of an event's archived raw payload. */
export function eventArchiveKey(event: EventIds): string {
  return checked(`${BUCKET_PREFIX.events}${segment(event.sessionId)}/${timestamp(event.createdAt)}-${segment(event.id)}.json`);
}

/**
 * Key of a second, different version of an already processed event id, kept byte for byte:
 *   conflicts/<sessionId>/<createdAt>-<eventId>/<sha256 of the body>.json
 */
export function conflictArchiveKey(event: EventIds, rawBody: string): string {
  const digest = createHash('sha256').update(rawBody).digest('hex');
  return checked(`${BUCKET_PREFIX.conflicts}${segment(event.sessionId)}/${timestamp(event.createdAt)}-${segment(event.id)}/${digest}.json`);
}

/** Key of a media event's stored file. */
export function mediaKey(event: EventWithMedia): string {
  return checked(
    `${BUCKET_PREFIX.media}${segment(event.sessionId)}/${segment(event.type, MAX_TYPE_SEGMENT_BYTES)}/${segment(event.media.id)}.${extensionFor(event.media.contentType)}`,
  );
}

/** `quarantine/<yyyy>/<mm>/<dd>/<sha256>.json`, dated in UTC: a quarantined body. */
export function quarantineKey(sha256: string, receivedAt: number): string {
  return `${BUCKET_PREFIX.quarantine}${utcDay(receivedAt)}/${sha256}.json`;
}

/**
 * A quarantined body's media file, under `media/` (contract/bucket-layout.ts QUARANTINE_MEDIA):
 * in its session's folder when the body carries a usable session id, else dated in UTC.
 */
export function quarantineMediaKey(sha256: string, receivedAt: number, sessionId: string | undefined, contentType: string): string {
  const folder = sessionId
    ? `${segment(sessionId)}/${QUARANTINE_MEDIA.folder}`
    : `${QUARANTINE_MEDIA.unknownSession}/${QUARANTINE_MEDIA.folder}/${utcDay(receivedAt)}`;
  return checked(`${BUCKET_PREFIX.media}${folder}/${sha256}.${extensionFor(contentType)}`);
}

function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10).replace(/-/g, '/');
}

/** The metadata of an event's payload (its archive copy and any conflicting version). */
export function eventMetadata(event: EventIds & { readonly type: string }): Record<string, string> {
  return { 'facesign-event-id': event.id, 'facesign-event-type': event.type, 'facesign-session-id': event.sessionId };
}

/**
 * S3 user metadata from plain values: each value percent-encoded (metadata travels as HTTP
 * headers, so ASCII only) and capped at {@link MAX_METADATA_VALUE_BYTES}; entries that would
 * take the total over {@link MAX_METADATA_BYTES} are left out, last first.
 */
export function objectMetadata(values: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  let total = 0;
  for (const [name, value] of Object.entries(values)) {
    const encoded = capped(encodeURIComponent(value), MAX_METADATA_VALUE_BYTES, value);
    const size = Buffer.byteLength(name) + Buffer.byteLength(encoded);
    if (total + size > MAX_METADATA_BYTES) continue;
    out[name] = encoded;
    total += size;
  }
  return out;
}

function segment(value: string, maxBytes = MAX_SEGMENT_BYTES): string {
  const encoded = encodeURIComponent(value).replace(/\./g, (dot: string, _offset: number, whole: string) =>
    // "." and ".." as whole segments confuse tools that map keys to paths.
    whole === '.' || whole === '..' ? '%2E' : dot,
  );
  return capped(encoded, maxBytes, value);
}

/** An encoded (ASCII) string cut to `maxBytes`: its start, `~`, and 16 hex digits of the original's SHA-256. */
function capped(encoded: string, maxBytes: number, original: string): string {
  if (encoded.length <= maxBytes) return encoded;
  let head = encoded.slice(0, maxBytes - 17);
  // Never cut a %XX escape in half.
  const percent = head.lastIndexOf('%');
  if (percent >= 0 && percent > head.length - 3) head = head.slice(0, percent);
  // Nor a character: a multi-byte character is several escapes (é is %C3%A9); drop the escapes
  // of one cut short, so that the head still decodes.
  head = head.slice(0, completeUtf8Length(head));
  return `${head}~${createHash('sha256').update(original).digest('hex').slice(0, 16)}`;
}

/**
 * Length of `encoded` (whole %XX escapes, as cut above) without a trailing UTF-8 sequence that
 * lacks bytes: the escapes of a character cut short.
 */
function completeUtf8Length(encoded: string): number {
  const escapes = /(?:%[0-9A-Fa-f]{2})+$/.exec(encoded);
  if (!escapes) return encoded.length;
  const bytes = escapes[0].match(/%[0-9A-Fa-f]{2}/g)!.map((e) => parseInt(e.slice(1), 16));
  // Walk back over continuation bytes (10xxxxxx) to the sequence's lead byte.
  let lead = bytes.length - 1;
  while (lead >= 0 && (bytes[lead] & 0xc0) === 0x80) lead--;
  if (lead < 0) return encoded.length - escapes[0].length;
  const need = bytes[lead] >= 0xf0 ? 4 : bytes[lead] >= 0xe0 ? 3 : bytes[lead] >= 0xc0 ? 2 : 1;
  const have = bytes.length - lead;
  return have >= need ? encoded.length : encoded.length - 3 * have;
}

function timestamp(createdAt: number): string {
  const value = Math.trunc(createdAt);
  return Number.isSafeInteger(value) ? String(value) : capped(String(value), 24, String(createdAt));
}

function checked(key: string): string {
  // Unreachable with the caps above; a guard so that a future segment cannot break the promise.
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new Error(`internal: an S3 key of ${Buffer.byteLength(key)} bytes`);
  return key;
}
