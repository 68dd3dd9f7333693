/**
 * Publishes a processed event to EventBridge, as the last step of the idempotent unit: a
 * duplicate delivery returns the stored result and publishes nothing; a failed publish fails the
 * unit, which is retried. (A crash between publishing and recording completion can publish twice:
 * rule targets should treat `detail.event.id` as their idempotency key.)
 */
import { createHash } from 'node:crypto';
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EVENT_BRIDGE_SOURCE, type FaceSignEventBridgeDetail } from '../../contract/event-bridge';
import type { FaceSignEvent, UnknownFaceSignEvent } from '../../contract/event';
import { stripUrlQueries } from '../../contract/redact-url';
import type { Deadline } from './deadline';
import { TransientFailure } from './failures';

/** EventBridge's entry limit is 256 KB; leave room for the envelope. */
const MAX_DETAIL_BYTES = 240 * 1024;

/**
 * EventBridge refuses a `DetailType` longer than 128 characters
 * (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html),
 * while an event type may be up to 256 (MAX_IDENTIFIER_LENGTH). Such an event would fail every
 * attempt and be dead-lettered.
 */
export const MAX_DETAIL_TYPE_LENGTH = 128;
/** Characters of a longer type kept before `~` and 16 hex digits of its SHA-256. */
const DETAIL_TYPE_HEAD = 110;

/**
 * The `DetailType` for an event type: the type itself when it fits in 128 characters, else its
 * first 110 characters (never half a surrogate pair), `~`, and 16 hex digits of the SHA-256 of
 * the whole type: stable, distinct, and within the limit. The full type stays in the detail
 * (`detail.event.type`, or `detail.eventType` when the event is omitted).
 */
export function detailType(type: string): string {
  if (type.length <= MAX_DETAIL_TYPE_LENGTH) return type;
  let head = '';
  for (const character of type) {
    if (head.length + character.length > DETAIL_TYPE_HEAD) break;
    head += character;
  }
  return `${head}~${createHash('sha256').update(type, 'utf8').digest('hex').slice(0, 16)}`;
}

/**
 * Builds the detail, leaving out the event body if it would not fit. The event goes out with
 * every URL's query string and fragment removed: a signed media URL is a bearer link to a
 * person's media, and rule targets, archives and their logs must not receive one. Consumers read
 * the stored copy (`detail.media`: bucket, key, contentType, bytes, sha256) instead.
 */
export function eventBridgeDetail(event: FaceSignEvent | UnknownFaceSignEvent, rest: Omit<FaceSignEventBridgeDetail, 'event' | 'eventOmitted'>): string {
  const full = JSON.stringify({ event: stripUrlQueries(event), ...rest });
  if (Buffer.byteLength(full) <= MAX_DETAIL_BYTES) return full;
  // The type, kept whole, so that a rule can still tell omitted events apart.
  return JSON.stringify({ eventOmitted: true, eventType: event.type, ...rest });
}

/** {@link publishProcessedEvent} to one bus, as the event unit calls it (with the unit's deadline). */
export function eventPublisher(client: EventBridgeClient, eventBusName: string) {
  return (event: FaceSignEvent | UnknownFaceSignEvent, rest: Omit<FaceSignEventBridgeDetail, 'event' | 'eventOmitted'>, deadline: Deadline): Promise<void> =>
    publishProcessedEvent(client, eventBusName, event, rest, deadline.signal);
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
      Entries: [{ EventBusName: eventBusName, Source: EVENT_BRIDGE_SOURCE, DetailType: detailType(event.type), Detail: eventBridgeDetail(event, rest) }],
    }),
    { abortSignal: signal },
  );
  if ((out.FailedEntryCount ?? 0) > 0) {
    const entry = out.Entries?.[0];
    throw new TransientFailure('publish_failed', `EventBridge did not accept the event (${entry?.ErrorCode ?? 'unknown'}: ${entry?.ErrorMessage ?? ''})`);
  }
}
