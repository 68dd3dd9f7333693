/**
 * What the processor publishes to EventBridge for every processed event, so that your own logic
 * can subscribe with rules instead of editing the processor. No imports beyond types: the construct
 * and user code load this freely.
 */
import type { FaceSignEvent, FaceSignEventOfType, FaceSignEventType, UnknownFaceSignEvent } from './event';

/** The `source` of every published event. */
export const EVENT_BRIDGE_SOURCE = 'facesign.webhooks';

/** Where an object was stored. */
export interface StoredObject {
  readonly bucket: string;
  readonly key: string;
}

/** The `detail` of a published event. `detail-type` is the FaceSign event type. */
export interface FaceSignEventBridgeDetail<E extends FaceSignEvent | UnknownFaceSignEvent = FaceSignEvent | UnknownFaceSignEvent> {
  /**
   * The FaceSign event as received, except that every URL in it has lost its query string and
   * fragment (`media.url` is no longer signed, so it cannot be downloaded: read `media` instead).
   * Omitted, with `eventOmitted: true`, if too large for EventBridge.
   */
  readonly event?: E;
  readonly eventOmitted?: boolean;
  /** The FaceSign event type, set only when `event` is omitted (`detail-type` is capped at 128 characters). */
  readonly eventType?: string;
  /** The archived raw payload. */
  readonly archive: StoredObject;
  /** The stored media file, for media events: read it with `grantReadMedia` (s3:GetObject and kms:Decrypt). */
  readonly media?: StoredObject & { readonly bytes: number; readonly sha256: string; readonly contentType: string };
  /** When the processor finished, ISO 8601. */
  readonly processedAt: string;
}

/**
 * The EventBridge event your rule targets receive. Give it the type(s) your rule matches and
 * `detail.event` is typed for them: `FaceSignEventBridgeEvent<'media.user_photo'>` has
 * `detail.event?.media`. Without a type argument, `detail.event` is any event.
 */
export interface FaceSignEventBridgeEvent<T extends FaceSignEventType | string = string> {
  readonly source: typeof EVENT_BRIDGE_SOURCE;
  readonly 'detail-type': T;
  readonly detail: FaceSignEventBridgeDetail<FaceSignEventOfType<T>>;
}
