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
  /** When `url` stops working, in milliseconds since the epoch (15 minutes after generation). */
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

/** The outcome of {@link parseFaceSignEvent}. */
export type EventParseResult =
  | { readonly ok: true; readonly event: FaceSignEvent | UnknownFaceSignEvent }
  | { readonly ok: false; readonly error: 'invalid_json' | 'invalid_envelope'; readonly message: string };

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
    value = JSON.parse(rawBody);
  } catch {
    return { ok: false, error: 'invalid_json', message: 'the body is not valid JSON' };
  }
  const problem = envelopeProblem(value);
  if (problem !== undefined) return { ok: false, error: 'invalid_envelope', message: problem };
  return { ok: true, event: value as FaceSignEvent | UnknownFaceSignEvent };
}

function envelopeProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'the body must be a JSON object';
  for (const field of ['id', 'type', 'sessionId'] as const) {
    const problem = identifierProblem(value[field], field);
    if (problem) return problem;
  }
  if (!isTimestamp(value.createdAt)) return 'createdAt must be a non-negative number of milliseconds';
  if (!isMediaEventType(value.type as string)) return undefined;

  const media = value.media;
  if (!isObject(media)) return `media is required on ${String(value.type)} events and must be an object`;
  const mediaIdProblem = identifierProblem(media.id, 'media.id');
  if (mediaIdProblem) return mediaIdProblem;
  if (!isTimestamp(media.createdAt)) return 'media.createdAt must be a non-negative number of milliseconds';
  if (typeof media.url !== 'string' || media.url.length === 0) return 'media.url must be a non-empty string';
  if (!isTimestamp(media.expires)) return 'media.expires must be a non-negative number of milliseconds';
  if (typeof media.contentType !== 'string' || media.contentType.length === 0) {
    return 'media.contentType must be a non-empty string';
  }
  return undefined;
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
