/**
 * The time budget: the facts every timeout and bound follows from (the media URLs' life, the retry
 * cap, the failure reserve) and the fixed timeouts. The handlers, the construct and the settings'
 * bounds all import them from here. The reasoning is in docs/operations.md "Timeout budget".
 */

/** Seconds in a day. */
export const SECONDS_PER_DAY = 24 * 3600;

/**
 * FaceSign's signed media URLs expire this long after they are made: the one statement of that
 * fact in code (docs/reference.md "Media URLs live 15 minutes" is the one in the docs).
 */
export const MEDIA_URL_LIFETIME_SECONDS = 15 * 60;

/**
 * Assumed time between FaceSign making a media URL and our queue having the event: the part of
 * the URL's life we never see (docs/operations.md "Timeout budget").
 */
export const ASSUMED_DELIVERY_DELAY_SECONDS = 60;

/** Longest backoff the processor waits between two attempts of a record. */
export const MAX_RETRY_DELAY_SECONDS = 300;

/**
 * What the processor keeps back from its remaining time for the failure path: per failed record
 * one ChangeMessageVisibility or SendMessage (SQS client: 2 s connect + 4 s request per attempt).
 */
export const FAILURE_RESERVE_SECONDS = 15;

/**
 * What processorTimeout must leave beyond mediaDownloadTimeout: the failure reserve, and 5 s more
 * so that a download running its full time still ends before the invocation's deadline.
 */
export const PROCESSOR_TIMEOUT_RESERVE_SECONDS = FAILURE_RESERVE_SECONDS + 5;

/**
 * The queue's visibility timeout is this many times the processor timeout. AWS suggests six
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html: room for Lambda to
 * retry a throttled invocation); we use two, so that a crashed, timed-out or out-of-memory
 * invocation's records come back within 4 minutes with the default 2-minute timeout, while the
 * media URLs still live. docs/operations.md "Timeout budget" has the reasoning.
 */
export const VISIBILITY_TIMEOUT_FACTOR = 2;

/** Longest processorTimeout: its visibility timeout must end before a URL delivered after the assumed delay dies (420 s). */
export const MAX_PROCESSOR_TIMEOUT_SECONDS = Math.floor((MEDIA_URL_LIFETIME_SECONDS - ASSUMED_DELIVERY_DELAY_SECONDS) / VISIBILITY_TIMEOUT_FACTOR);

/** The queue visibility timeout for a processor timeout: the one rule the construct and the local runtime share. */
export function queueVisibilityTimeoutSeconds(processorTimeoutSeconds: number): number {
  return processorTimeoutSeconds * VISIBILITY_TIMEOUT_FACTOR;
}

/** The verifier's timeout (not a setting); the verifier assumes it when the context does not tell its remaining time. */
export const VERIFIER_TIMEOUT_SECONDS = 10;

/** The reverifier's timeout (not a setting); `npm run reverify` invokes it again until every held delivery has been looked at. */
export const REVERIFIER_TIMEOUT_SECONDS = 300;
