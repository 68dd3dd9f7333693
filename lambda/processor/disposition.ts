/**
 * What a failed record becomes: the one failure policy ({@link decide}, pure, tested as a table),
 * and the two SQS actions it leads to ({@link deadLetter}, {@link retryLater}). Both the event path
 * and the quarantine path (routing.ts) call it, so a failure is handled the same way on each:
 * - permanent: dead-lettered at once, with its reason as message attributes, and reported as a
 *   success so that SQS deletes it from the main queue;
 * - transient: retried after a backoff of seconds (the message's visibility is shortened, not left
 *   at the queue's minutes-long timeout), so the retry comes while the media URL still works;
 * - on the last allowed attempt, or when a failed download could only be retried after the URL is
 *   dead: dead-lettered with the reason, or, where the rest of the record is already kept (a
 *   quarantined body), its media is given up and the rest kept.
 * Nothing is dropped: a record either completes, is in the dead-letter queue, or is retried.
 */
import { ChangeMessageVisibilityCommand, SendMessageCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { DIMENSION, METRIC } from '../../contract/metric-names';
import { MAX_RETRY_DELAY_SECONDS } from '../../contract/time-budget';
import type { EventMetrics, Logger } from '../shared/observability';
import { BODY_ENCODING_ATTRIBUTE, encodeQueueBody } from '../shared/queue-body';
import { isMediaFailure, type Failure, type PermanentFailureReason } from './failures';

/** What {@link decide} weighs. */
export interface FailureCase {
  readonly failure: Failure;
  /** The message's receive count: 1 on a first attempt. */
  readonly attempt: number;
  readonly maxReceiveCount: number;
  /** When the record's media URL dies (epoch ms), when known. */
  readonly mediaExpiresAt: number | undefined;
  /** Epoch ms. */
  readonly now: number;
  /** The backoff the next attempt would wait ({@link retryDelaySeconds}). */
  readonly delaySeconds: number;
  /** The rest of the record is kept without its media (a quarantined body): a media failure can be given up. */
  readonly mediaOptional: boolean;
}

/** The policy's answer. */
export type Disposition =
  | { readonly action: 'retry'; readonly delaySeconds: number }
  | { readonly action: 'dead_letter'; readonly reason: PermanentFailureReason; readonly message: string }
  | { readonly action: 'give_up_media'; readonly reason: string; readonly message: string };

/**
 * The failure policy. The media URL's expiry is advisory (every download is attempted at least
 * once); it only stops a retry of a failed download that would start after the URL is dead. Only
 * a failure of the transfer itself means the next attempt must download again: after any other
 * (publishing, DynamoDB, the deadline) the file may be stored, which counts as done.
 */
export function decide(c: FailureCase): Disposition {
  const { failure } = c;
  const media = isMediaFailure(failure);
  if (failure.kind === 'permanent') {
    if (media && c.mediaOptional) return { action: 'give_up_media', reason: failure.reason, message: failure.message };
    return { action: 'dead_letter', reason: failure.reason, message: failure.message };
  }
  const last = `last failure: ${failure.reason}: ${failure.message}`;
  if (c.attempt >= c.maxReceiveCount) {
    if (media && c.mediaOptional) return { action: 'give_up_media', reason: failure.reason, message: `failed ${c.attempt} times; ${last}` };
    return { action: 'dead_letter', reason: 'retries_exhausted', message: `failed ${c.attempt} times; ${last}` };
  }
  if (media && c.mediaExpiresAt !== undefined && c.now + c.delaySeconds * 1000 >= c.mediaExpiresAt) {
    const message = `the media URL expires before the next attempt could run; ${last}`;
    if (c.mediaOptional) return { action: 'give_up_media', reason: failure.reason, message };
    return { action: 'dead_letter', reason: 'media_url_expired', message };
  }
  return { action: 'retry', delaySeconds: c.delaySeconds };
}

/**
 * Exponential backoff with jitter: base, 2x base, 4x base ... capped at {@link MAX_RETRY_DELAY_SECONDS}.
 * With the defaults (10 s base, 5 receives) the last attempt starts about 2.5 minutes after the first.
 */
export function retryDelaySeconds(attempt: number, baseSeconds: number, random: () => number): number {
  const exponential = Math.min(MAX_RETRY_DELAY_SECONDS, baseSeconds * 2 ** Math.max(0, attempt - 1));
  const jittered = exponential * (0.8 + 0.4 * random());
  return Math.max(1, Math.min(MAX_RETRY_DELAY_SECONDS, Math.round(jittered)));
}

/** The queues and where failures are told. */
export interface DispositionDependencies {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly metrics: EventMetrics;
  readonly now: () => number;
}

/** An event's identity, as far as it is known, for the dead letter's attributes. */
export interface RecordIdentity {
  readonly type?: string;
  readonly id?: string;
  readonly sessionId?: string;
}

/**
 * Sends the record's body to the dead-letter queue with the reason as message attributes. If this
 * send fails the error propagates, the record is retried, and nothing is lost.
 */
export async function deadLetter(
  record: SQSRecord,
  ids: RecordIdentity | undefined,
  failure: { readonly reason: string; readonly message: string },
  attempt: number,
  logger: Logger,
  deps: DispositionDependencies,
): Promise<{ readonly status: 'dead_lettered'; readonly reason: string }> {
  const attributes: Record<string, MessageAttributeValue> = {
    failureReason: text(failure.reason),
    failureMessage: text(failure.message.slice(0, 1024)),
    failedAt: text(new Date(deps.now()).toISOString()),
    attempts: { DataType: 'Number', StringValue: String(attempt) },
    sourceMessageId: text(record.messageId),
  };
  const known = ids ?? identifiersFromAttributes(record);
  if (known.type) attributes.eventType = text(known.type);
  if (known.id) attributes.eventId = text(known.id);
  if (known.sessionId) attributes.sessionId = text(known.sessionId);
  const { messageBody, encoding } = encodeQueueBody(record.body);
  if (encoding) attributes[BODY_ENCODING_ATTRIBUTE] = text(encoding);
  await deps.sqs.send(new SendMessageCommand({ QueueUrl: deps.deadLetterQueueUrl, MessageBody: messageBody, MessageAttributes: attributes }));
  logger.error('event sent to the dead-letter queue', { reason: failure.reason, detail: failure.message, attempt });
  deps.metrics.countBy(METRIC.permanentFailures, DIMENSION.reason, failure.reason);
  return { status: 'dead_lettered', reason: failure.reason };
}

/**
 * Counts and logs a transient failure and sets the message's visibility to the backoff, so that its
 * retry comes in seconds. Never throws: if the visibility cannot be shortened the retry comes after
 * the queue's visibility timeout instead, still not lost.
 */
export async function retryLater(
  record: SQSRecord,
  failure: Failure,
  attempt: number,
  delaySeconds: number,
  logger: Logger,
  deps: DispositionDependencies,
): Promise<void> {
  logger.warn('transient failure; will retry', { reason: failure.reason, detail: failure.message, attempt, retryInSeconds: delaySeconds });
  deps.metrics.countBy(METRIC.transientFailures, DIMENSION.reason, failure.reason);
  await deps.sqs
    .send(new ChangeMessageVisibilityCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: delaySeconds }))
    .catch((visibilityError: Error) => logger.warn('could not shorten the retry delay', { errorName: visibilityError.name }));
}

function identifiersFromAttributes(record: SQSRecord): RecordIdentity {
  const attrs = record.messageAttributes ?? {};
  return { type: attrs.eventType?.stringValue, id: attrs.eventId?.stringValue, sessionId: attrs.sessionId?.stringValue };
}

function text(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value === '' ? '-' : value };
}
