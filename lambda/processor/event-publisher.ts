/**
 * Publishes a processed event to EventBridge, as the last step of the idempotent unit: a
 * duplicate delivery returns the stored result and publishes nothing; a failed publish fails the
 * unit, which is retried. (A crash between publishing and recording completion can publish twice:
 * rule targets should treat `detail.event.id` as their idempotency key.)
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EVENT_BRIDGE_SOURCE, type FaceSignEventBridgeDetail } from '../shared/event-bridge';
import type { FaceSignEvent, UnknownFaceSignEvent } from '../shared/event';
import { stripUrlQueries } from '../shared/redact-url';
import { TransientFailure } from './failures';

/** EventBridge's entry limit is 256 KB; leave room for the envelope. */
const MAX_DETAIL_BYTES = 240 * 1024;

/**
 * Builds the detail, leaving out the event body if it would not fit. The event goes out with
 * every URL's query string and fragment removed: a signed media URL is a bearer link to a
 * person's media, and rule targets, archives and their logs must not receive one. Consumers read
 * the stored copy (`detail.media`: bucket, key, contentType, bytes, sha256) instead.
 */
export function eventBridgeDetail(event: FaceSignEvent | UnknownFaceSignEvent, rest: Omit<FaceSignEventBridgeDetail, 'event' | 'eventOmitted'>): string {
  const full = JSON.stringify({ event: stripUrlQueries(event), ...rest });
  if (Buffer.byteLength(full) <= MAX_DETAIL_BYTES) return full;
  return JSON.stringify({ eventOmitted: true, ...rest });
}

/** Sends one entry; throws a transient failure if EventBridge does not accept it. */
export async function publishProcessedEvent(
  client: EventBridgeClient,
  eventBusName: string,
  event: FaceSignEvent | UnknownFaceSignEvent,
  rest: Omit<FaceSignEventBridgeDetail, 'event' | 'eventOmitted'>,
  signal?: AbortSignal,
): Promise<void> {
  const out = await client.send(
    new PutEventsCommand({
      Entries: [{ EventBusName: eventBusName, Source: EVENT_BRIDGE_SOURCE, DetailType: event.type, Detail: eventBridgeDetail(event, rest) }],
    }),
    { abortSignal: signal },
  );
  if ((out.FailedEntryCount ?? 0) > 0) {
    const entry = out.Entries?.[0];
    throw new TransientFailure('publish_failed', `EventBridge did not accept the event (${entry?.ErrorCode ?? 'unknown'}: ${entry?.ErrorMessage ?? ''})`);
  }
}
