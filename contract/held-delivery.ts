/**
 * A held delivery: what the verifier keeps of a refused delivery in FaceSign's form (its exact
 * bytes, the headers its signature needs, and when it arrived), how it is named in the bucket, and
 * what a re-verification reports. The verifier writes it, the reverifier reads it, `npm run
 * reverify` prints the report. No imports.
 */
import { HELD_PREFIX } from './bucket-layout';

/** The version of the stored form; a reader refuses any other. */
export const HELD_DELIVERY_VERSION = 1;

/** Longest X-FaceSign-Timestamp kept: FaceSign's is 10 to 13 digits; a longer one is noise and never signed. */
export const HELD_TIMESTAMP_HEADER_MAX = 64;
/** Longest Content-Type kept (it is informational only: the HMAC covers the bytes, not the header). */
export const HELD_CONTENT_TYPE_MAX = 256;

/** The stored object: JSON, with the body base64-encoded so that its bytes survive exactly. */
export interface HeldDelivery {
  readonly version: typeof HELD_DELIVERY_VERSION;
  /** When the verifier received it, Unix ms: re-verification judges the signature's age at this time. */
  readonly receivedAt: number;
  /** The signature headers as received (lower-case names). */
  readonly headers: {
    readonly 'x-facesign-signature': string;
    readonly 'x-facesign-timestamp'?: string;
    readonly 'content-type'?: string;
  };
  /** The exact body bytes, base64. */
  readonly body: string;
  /** The identifiers the envelope claims (unverified: for the operator's report only). */
  readonly claimed: { readonly id: string; readonly type: string; readonly sessionId: string };
}

/** `held/<yyyy>/<mm>/<dd>/<receivedAtMs>-<sha256>.json`: listed oldest first, and one object per distinct body and instant. */
export function heldDeliveryKey(receivedAtMs: number, bodySha256Hex: string): string {
  const day = new Date(receivedAtMs).toISOString().slice(0, 10).replace(/-/g, '/');
  return `${HELD_PREFIX}${day}/${receivedAtMs}-${bodySha256Hex}.json`;
}

/** Parses a stored hold; throws an Error saying what is wrong with it. */
export function parseHeldDelivery(text: string): HeldDelivery {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('the held delivery is not JSON');
  }
  const held = value as Partial<HeldDelivery> | null;
  if (typeof held !== 'object' || held === null) throw new Error('the held delivery is not a JSON object');
  if (held.version !== HELD_DELIVERY_VERSION)
    throw new Error(`the held delivery has version ${JSON.stringify(held.version)}, expected ${HELD_DELIVERY_VERSION}`);
  if (typeof held.receivedAt !== 'number' || !Number.isFinite(held.receivedAt)) throw new Error('the held delivery has no receivedAt time');
  if (typeof held.body !== 'string') throw new Error('the held delivery has no body');
  if (typeof held.headers?.['x-facesign-signature'] !== 'string') throw new Error('the held delivery has no X-FaceSign-Signature header');
  return held as HeldDelivery;
}

/**
 * The hold counter's key for the clock hour of `nowMs`: `hold-rate#<Unix hour>`. Stored in the
 * idempotency table, whose Powertools keys start with `facesign-webhooks#`; the verifier's IAM
 * policy lets it update only keys with this prefix (dynamodb:LeadingKeys).
 */
export const HOLD_COUNTER_KEY_PREFIX = 'hold-rate#';
/** The counter's window: one clock hour. */
export const HOLD_WINDOW_SECONDS = 3600;

/** What one re-verification did. */
export interface ReverifyReport {
  /** False when the signing secret is not set: nothing was looked at or changed. */
  readonly secretConfigured: boolean;
  /** Why nothing was done, when secretConfigured is false. */
  readonly message?: string;
  /** Verified under a current secret, queued exactly as the verifier would have, and removed from hold. */
  readonly requeued: ReadonlyArray<{ readonly key: string; readonly eventId?: string; readonly eventType?: string }>;
  /** Still verify under no current secret: left until their retention runs out. */
  readonly stillUnverified: number;
  /** Verified, but the verifier would refuse them anyway (a 400, 413 or a timestamp 401): left, with the reason. */
  readonly refused: ReadonlyArray<{ readonly key: string; readonly reason: string }>;
  /** Older than holdRetention: removed without re-verification. */
  readonly expired: number;
  /** Not a held delivery this version can read: left (the lifecycle rule removes them). */
  readonly unreadable: number;
  /** Could not be re-verified now (queue or S3 failure): left, to try again. */
  readonly failed: ReadonlyArray<{ readonly key: string; readonly reason: string }>;
  /** False when the invocation ran out of time first: invoke again to continue. */
  readonly complete: boolean;
  /** When not complete: the last held key looked at; invoke again with `{"startAfter": resumeAfter}` to continue after it. */
  readonly resumeAfter?: string;
}
