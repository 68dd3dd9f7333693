/**
 * FaceSign's webhook envelope, typed, and its validation. The contract is FaceSign's webhook
 * document: four common fields on every event, plus `media` on the three media events.
 */

/** Event types in FaceSign's table. Others may appear later and are still accepted. */
export const FACESIGN_EVENT_TYPES = [
  'session.status',
  'media.user_photo',
  'media.document_photo',
  'media.user_video',
  'analysis.video',
  'analysis.screenshot',
  'settings.avatars',
  'settings.langs',
] as const;

/** A documented FaceSign event type. */
export type FaceSignEventType = (typeof FACESIGN_EVENT_TYPES)[number];

/** The events that carry a downloadable `media` object. */
export const MEDIA_EVENT_TYPES = ['media.user_photo', 'media.document_photo', 'media.user_video'] as const;

/** A media event type. */
export type FaceSignMediaEventType = (typeof MEDIA_EVENT_TYPES)[number];

/** The `media` object of a media event. The URL is signed and expires (`expires`, ms). */
export interface FaceSignMedia {
  readonly id: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** Signed download URL; treat its query string as a secret. */
  readonly url: string;
  /** When `url` stops working, in milliseconds since the epoch (docs/reference.md "Media URLs live 15 minutes"). */
  readonly expires: number;
  readonly contentType: string;
}

interface FaceSignEventBase<T extends string> {
  /** Unique event id; the idempotency key. */
  readonly id: string;
  readonly type: T;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly sessionId: string;
}

/** A media event: `media.user_photo`, `media.document_photo` or `media.user_video`. */
export interface FaceSignMediaEvent<T extends FaceSignMediaEventType = FaceSignMediaEventType> extends FaceSignEventBase<T> {
  readonly media: FaceSignMedia;
}

/** An event without media: status, analysis and settings events. */
export type FaceSignPlainEvent = FaceSignEventBase<Exclude<FaceSignEventType, FaceSignMediaEventType>>;

/** Any documented FaceSign event, discriminated by `type`. */
export type FaceSignEvent = FaceSignMediaEvent | FaceSignPlainEvent;

/** An event whose type is not in FaceSign's table yet. It is queued and archived, never dropped. */
export interface UnknownFaceSignEvent extends FaceSignEventBase<string> {
  readonly media?: unknown;
}

/**
 * The event of a given type: a media event (with `media`) for a media type, a plain event for
 * another documented type, {@link UnknownFaceSignEvent} for any other string, and any event when
 * the type is just `string`. A union of types gives the union of their events.
 */
export type FaceSignEventOfType<T extends string> = string extends T
  ? FaceSignEvent | UnknownFaceSignEvent
  : T extends FaceSignMediaEventType
    ? FaceSignMediaEvent<T>
    : T extends FaceSignEventType
      ? FaceSignEventBase<T>
      : UnknownFaceSignEvent & { readonly type: T };

/**
 * Which part of the envelope failed, as a stable code (a metric dimension and an SQS message
 * attribute; never taken from the body).
 */
export type EnvelopeProblem =
  | 'not_an_object'
  | 'invalid_id'
  | 'invalid_type'
  | 'invalid_session_id'
  | 'invalid_created_at'
  | 'missing_media'
  | 'invalid_media_id'
  | 'invalid_media_created_at'
  | 'invalid_media_url'
  | 'invalid_media_expires'
  | 'invalid_media_content_type';

/** The outcome of {@link parseFaceSignEvent}. */
export type EventParseResult =
  | { readonly ok: true; readonly event: FaceSignEvent | UnknownFaceSignEvent }
  | { readonly ok: false; readonly error: 'invalid_json'; readonly message: string }
  | { readonly ok: false; readonly error: 'invalid_envelope'; readonly problem: EnvelopeProblem; readonly message: string };

/** Longest id, type or session id accepted; they become S3 key segments and DynamoDB keys. */
export const MAX_IDENTIFIER_LENGTH = 256;

/** True when the type is one of FaceSign's three media events. */
export function isMediaEventType(type: string): type is FaceSignMediaEventType {
  return (MEDIA_EVENT_TYPES as readonly string[]).includes(type);
}

/** True when the type is in FaceSign's documented table. */
export function isKnownEventType(type: string): type is FaceSignEventType {
  return (FACESIGN_EVENT_TYPES as readonly string[]).includes(type);
}

/** Narrows an event to a media event. */
export function isMediaEvent(event: FaceSignEvent | UnknownFaceSignEvent): event is FaceSignMediaEvent {
  return isMediaEventType(event.type);
}

/**
 * Parses and validates a raw, already-authenticated body. Unknown event types pass (FaceSign
 * asks receivers to handle all event types); media events must carry a complete `media` object.
 * The message names the first field that failed and never echoes the body.
 */
export function parseFaceSignEvent(rawBody: string): EventParseResult {
  let value: unknown;
  try {
    value = parseJson(rawBody);
  } catch {
    return { ok: false, error: 'invalid_json', message: 'the body is not valid JSON' };
  }
  const problem = envelopeProblem(value);
  if (problem !== undefined) return { ok: false, error: 'invalid_envelope', ...problem };
  return { ok: true, event: value as FaceSignEvent | UnknownFaceSignEvent };
}

/**
 * JSON.parse after dropping one leading UTF-8 byte order mark (U+FEFF), which JSON.parse refuses
 * but which a sender may put before its JSON (RFC 8259 section 8.1 lets a parser ignore it). The
 * raw body itself is kept as received.
 */
export function parseJson(rawBody: string): unknown {
  return JSON.parse(rawBody.charCodeAt(0) === 0xfeff ? rawBody.slice(1) : rawBody);
}

type Problem = { readonly problem: EnvelopeProblem; readonly message: string };

function envelopeProblem(value: unknown): Problem | undefined {
  if (!isObject(value)) return { problem: 'not_an_object', message: 'the body must be a JSON object' };
  const fields = [
    ['id', 'invalid_id'],
    ['type', 'invalid_type'],
    ['sessionId', 'invalid_session_id'],
  ] as const;
  for (const [field, problem] of fields) {
    const message = identifierProblem(value[field], field);
    if (message) return { problem, message };
  }
  if (!isTimestamp(value.createdAt)) return { problem: 'invalid_created_at', message: 'createdAt must be a non-negative number of milliseconds' };
  if (!isMediaEventType(value.type as string)) return undefined;

  const media = value.media;
  if (!isObject(media)) return { problem: 'missing_media', message: `media is required on ${String(value.type)} events and must be an object` };
  const mediaIdProblem = identifierProblem(media.id, 'media.id');
  if (mediaIdProblem) return { problem: 'invalid_media_id', message: mediaIdProblem };
  if (!isTimestamp(media.createdAt)) return { problem: 'invalid_media_created_at', message: 'media.createdAt must be a non-negative number of milliseconds' };
  if (typeof media.url !== 'string' || media.url.length === 0) return { problem: 'invalid_media_url', message: 'media.url must be a non-empty string' };
  if (!isTimestamp(media.expires)) return { problem: 'invalid_media_expires', message: 'media.expires must be a non-negative number of milliseconds' };
  if (typeof media.contentType !== 'string' || media.contentType.length === 0) {
    return { problem: 'invalid_media_content_type', message: 'media.contentType must be a non-empty string' };
  }
  return undefined;
}

/**
 * The value if it could be an id, type or session id (a non-empty string without control
 * characters, at most {@link MAX_IDENTIFIER_LENGTH} long), else undefined. For labelling an
 * unrecognized envelope with whatever identifiers it does carry.
 */
export function usableIdentifier(value: unknown): string | undefined {
  return identifierProblem(value, 'value') === undefined ? (value as string) : undefined;
}

// Control characters and unpaired surrogates: SQS message attributes, S3 keys and metadata, and
// log lines cannot carry them, so an id holding one could never be processed.
const CONTROL = /[\u0000-\u001f\u007f]/;
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function identifierProblem(value: unknown, field: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return `${field} must be a non-empty string`;
  if (value.length > MAX_IDENTIFIER_LENGTH) return `${field} must be at most ${MAX_IDENTIFIER_LENGTH} characters`;
  if (CONTROL.test(value) || UNPAIRED_SURROGATE.test(value)) {
    return `${field} must not contain control characters or unpaired surrogates`;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTimestamp(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
