/**
 * Failure classification. A permanent failure cannot be healed by trying again (the media URL is
 * dead, the host is not ours, the envelope is bad): the message goes to the dead-letter queue at
 * once, with its reason. A transient one (network, 5xx, throttling, our own dependencies) is
 * retried quickly enough to finish within the media URL's life (MEDIA_URL_LIFETIME_SECONDS,
 * contract/time-budget.ts).
 */
import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import { S3ServiceException } from '@aws-sdk/client-s3';

/** Reasons that send a message straight to the dead-letter queue. */
export type PermanentFailureReason =
  | 'invalid_envelope'
  | 'media_url_invalid'
  | 'media_host_not_allowed'
  | 'media_redirect_refused'
  | 'media_url_expired'
  | 'media_not_available'
  | 'media_rejected'
  | 'media_too_large'
  | 'storage_rejected'
  | 'retries_exhausted';

/** Reasons that are retried. */
export type TransientFailureReason =
  | 'media_server_error'
  | 'media_throttled'
  | 'media_download_failed'
  | 'media_download_timeout'
  | 'concurrent_delivery'
  | 'media_empty'
  | 'publish_failed'
  | 'invocation_deadline'
  | 'dependency_timeout'
  | 'dependency_error';

/** Retrying cannot help; the message goes to the dead-letter queue with this reason. */
export class PermanentFailure extends Error {
  override readonly name = 'PermanentFailure';
  readonly kind = 'permanent';
  constructor(
    readonly reason: PermanentFailureReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Worth retrying. */
export class TransientFailure extends Error {
  override readonly name = 'TransientFailure';
  readonly kind = 'transient';
  constructor(
    readonly reason: TransientFailureReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A failure that knows its kind: what the failure policy (disposition.ts) decides on. */
export type Failure = PermanentFailure | TransientFailure;

/** True for a failure of the media download or upload: the one part a record can be kept without. */
export function isMediaFailure(failure: Failure): boolean {
  return failure.reason.startsWith('media_');
}

/**
 * Any error thrown while processing, as a {@link Failure}. Anything we do not recognise (S3,
 * DynamoDB or SQS errors, bugs) is transient: it is retried and then parked in the dead-letter
 * queue, from which it can be redriven once fixed.
 */
export function classifyFailure(error: unknown): Failure {
  if (error instanceof PermanentFailure || error instanceof TransientFailure) return error;
  if (error instanceof IdempotencyAlreadyInProgressError) {
    return new TransientFailure('concurrent_delivery', 'another delivery of this event is being processed', { cause: error });
  }
  if (error instanceof S3ServiceException && PERMANENT_S3_ERRORS.has(error.name)) {
    return new PermanentFailure(
      'storage_rejected',
      `S3 refused the object with ${error.name} (HTTP ${error.$metadata?.httpStatusCode ?? '?'}); no retry can change that`,
      { cause: error },
    );
  }
  const name = error instanceof Error ? error.name : typeof error;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new TransientFailure('dependency_timeout', `an AWS call did not answer in time (${name})`, { cause: error });
  }
  return new TransientFailure('dependency_error', `processing failed with ${name}`, { cause: error });
}

/**
 * S3 error codes that say the request itself is wrong, so the same event fails the same way
 * every time (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).
 * Deliberately not here: AccessDenied, NoSuchBucket, KMS errors (a deploy or an IAM/KMS policy
 * fixes them, and IAM changes take a while to apply everywhere), SlowDown, InternalError,
 * RequestTimeout (transient by nature), and 409 ConditionalRequestConflict, which S3 answers a
 * conditional write that raced another write of the same key and asks to be retried
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html); the retry then
 * gets 412, "already stored" (storage-writer.ts). Those are retried, then dead-lettered as
 * `retries_exhausted` naming the error, and can be redriven once fixed.
 */
export const PERMANENT_S3_ERRORS: ReadonlySet<string> = new Set([
  'KeyTooLongError',
  'InvalidArgument',
  'EntityTooLarge',
  'MetadataTooLarge',
  'InvalidStorageClass',
  'InvalidTag',
  'UnexpectedContent',
]);

/** Classifies an HTTP status from the media host. Undefined means success. */
export function classifyMediaStatus(status: number): PermanentFailure | TransientFailure | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status === 403 || status === 404 || status === 410) {
    return new PermanentFailure('media_not_available', `the media host answered ${status}; the signed URL is no longer valid`);
  }
  if (status === 429) return new TransientFailure('media_throttled', 'the media host answered 429');
  if (status === 408 || status >= 500) return new TransientFailure('media_server_error', `the media host answered ${status}`);
  return new PermanentFailure('media_rejected', `the media host answered ${status}`);
}
