/**
 * Authentic deliveries that our envelope schema does not recognise (no `sessionId`, `createdAt`
 * as a string, a media event without `media`, ...). FaceSign was answered 200, so they are ours to
 * keep: each is archived byte for byte under `quarantine/`, counted (`EventsQuarantined`, per
 * `Reason`), and nothing is published, because nothing can be typed. The decision is the
 * processor's own validation, not the verifier's message attribute: a redriven or hand-sent
 * message is judged the same way.
 *
 * The idempotency key is the SHA-256 of the body, in its own key space: an unrecognized body may
 * have no usable `id`, and keying by `id` would let one version of an event hide another.
 *
 * A quarantined body may still be an authentic media event whose signed URL dies 15 minutes after
 * it was made. When it carries a `media.url` that passes the media URL/host checks, its file is
 * downloaded (best effort) and stored next to the body, `quarantine/<yyyy>/<mm>/<dd>/<sha256>.media`.
 * The body is written first, so it stays archived whatever happens to the media. A transient
 * media failure is retried with the same backoff as other media failures while the URL may still
 * live; on the last attempt, or when the URL would be dead by the next one, the body is kept without
 * its media, and that is logged as an error. It pages through `EventsQuarantined`, counted for the
 * same body at the same moment (not `PermanentFailures`: nothing is in the dead-letter queue).
 */
import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSRecord } from 'aws-lambda';
import type { MediaPolicy } from '../shared/config';
import type { EnvelopeProblem } from '../../contract/event';
import { DIMENSION, METRIC, type EventMetrics, type Logger } from '../shared/observability';
import { redactUrl } from '../../contract/redact-url';
import { objectEncryption } from './object-encryption';
import { objectMetadata } from './s3-keys';
import { QUARANTINE_PREFIX, UNRECOGNIZED_ENVELOPE_ATTRIBUTE } from '../../contract/quarantine';
import { classifyFailure, PermanentFailure } from './failures';
import { expiresLooksLikeSeconds, mediaExpiresAt, transferMedia, type StoredMedia } from './media-archiver';

/** One body to quarantine: the unit's input, keyed by `bodySha256`. */
export interface QuarantineInput {
  readonly rawBody: string;
  /** Hex SHA-256 of the body's UTF-8 bytes: the idempotency key and the object name. */
  readonly bodySha256: string;
  readonly problem: EnvelopeProblem;
  readonly message: string;
  /** When SQS first took the message (ms): the key's date, stable across retries. */
  readonly receivedAt: number;
  /** Set when the media download was given up (the last attempt, or the URL dead by the next): archive the body only. */
  readonly mediaGivenUp?: { readonly reason: string; readonly message: string };
}

/** What the unit gets besides its input (not part of the idempotency key). */
export interface QuarantineUnitOptions {
  /** Aborted when the invocation's deadline passes; ends the media transfer. */
  readonly signal?: AbortSignal;
}

/** Where a quarantined body was archived; kept in the idempotency record. */
export interface QuarantineResult {
  readonly bucket: string;
  readonly key: string;
  readonly problem: EnvelopeProblem;
  readonly bodySha256: string;
  readonly quarantinedAt: string;
  /** Set on the copy returned for a body that was already quarantined. */
  readonly duplicate?: boolean;
  /** The body's media file, stored next to it, when it carried a media URL we may fetch. */
  readonly media?: Omit<StoredMedia, 'durationMs'>;
  /** Why the body's media URL was not stored (not fetched, or the download failed for good). */
  readonly mediaFailure?: { readonly reason: string; readonly message: string };
}

/** What {@link archiveQuarantinedBody} needs. */
export interface QuarantineArchiveDependencies {
  readonly s3: S3Client;
  readonly bucket: string;
  /** The customer-managed key every object is written under (object-encryption.ts). */
  readonly encryptionKeyArn?: string;
  readonly now?: () => number;
  /** Media downloads: the policy (allowed hosts, caps) and the invocation's time. Absent: bodies only. */
  readonly media?: {
    readonly policy: MediaPolicy;
    readonly signal?: AbortSignal;
    readonly remainingMs?: () => number;
    readonly fetch?: typeof fetch;
  };
}

/** What {@link quarantineRecord} needs. */
export interface QuarantineRecordDependencies {
  /** The idempotent unit (Powertools `makeIdempotent` around {@link archiveQuarantinedBody}, keyed by `bodySha256`). */
  readonly quarantineOnce: (input: QuarantineInput, options?: QuarantineUnitOptions) => Promise<QuarantineResult>;
  readonly logger: Logger;
  readonly metrics: EventMetrics;
  readonly now?: () => number;
  /** The invocation's deadline signal, handed to the unit. */
  readonly signal?: AbortSignal;
  /** How a failed media download is retried (process-record.ts). Absent: every failure is rethrown. */
  readonly retry?: {
    readonly attempt: number;
    readonly maxReceiveCount: number;
    readonly delaySeconds: () => number;
    readonly shortenVisibility: (seconds: number) => Promise<void>;
  };
}

/** Media URL failures that mean the URL was never contacted: not a lost file, only a warning. */
const NOT_OURS_TO_FETCH: ReadonlySet<string> = new Set(['media_url_invalid', 'media_host_not_allowed']);

/** Hex SHA-256 of a body's UTF-8 bytes. */
export function bodySha256(rawBody: string): string {
  return createHash('sha256').update(rawBody, 'utf8').digest('hex');
}

/** `quarantine/<yyyy>/<mm>/<dd>/<sha256>.json`, dated in UTC (`.media`: the body's media file). */
export function quarantineKey(sha256: string, receivedAt: number, extension: 'json' | 'media' = 'json'): string {
  const day = new Date(receivedAt).toISOString().slice(0, 10).replace(/-/g, '/');
  return `${QUARANTINE_PREFIX}${day}/${sha256}.${extension}`;
}

/** The `media` object of a body, when the body is a JSON object whose `media.url` is a non-empty string. */
export function quarantinedMedia(rawBody: string): (Record<string, unknown> & { readonly url: string }) | undefined {
  let value: unknown;
  try {
    value = JSON.parse(rawBody);
  } catch {
    return undefined;
  }
  const media = isObject(value) ? value.media : undefined;
  if (!isObject(media) || typeof media.url !== 'string' || media.url.length === 0) return undefined;
  return media as Record<string, unknown> & { url: string };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Archives the body exactly as received, then stores its media file when it has one we may fetch.
 * The unit of work; it either completes or throws (a transient media failure throws, so that the
 * record is retried; the body is already archived, and is written again, the same bytes, then).
 */
export async function archiveQuarantinedBody(input: QuarantineInput, deps: QuarantineArchiveDependencies): Promise<QuarantineResult> {
  const key = quarantineKey(input.bodySha256, input.receivedAt);
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.bucket,
      Key: key,
      Body: input.rawBody,
      ContentType: 'application/json',
      ...objectEncryption(deps.encryptionKeyArn),
      Metadata: objectMetadata({ 'facesign-quarantine-reason': input.problem, 'facesign-body-sha256': input.bodySha256 }),
    }),
    { abortSignal: deps.media?.signal },
  );
  const result: QuarantineResult = {
    bucket: deps.bucket,
    key,
    problem: input.problem,
    bodySha256: input.bodySha256,
    quarantinedAt: new Date((deps.now ?? Date.now)()).toISOString(),
  };
  const media = quarantinedMedia(input.rawBody);
  if (!media || !deps.media) return result;
  if (input.mediaGivenUp) return { ...result, mediaFailure: input.mediaGivenUp };
  try {
    const { durationMs, ...stored } = await transferMedia(
      {
        url: media.url,
        key: quarantineKey(input.bodySha256, input.receivedAt, 'media'),
        expiresAt: mediaExpiresAt(media.expires),
        declaredContentType: media.contentType,
        // The processor may not list or read quarantine/ (IAM): a retry downloads again, to the same key.
        findStored: false,
        metadata: {
          'facesign-quarantine-reason': input.problem,
          'facesign-body-sha256': input.bodySha256,
          'facesign-source': redactUrl(media.url),
        },
      },
      {
        s3: deps.s3,
        bucket: deps.bucket,
        encryptionKeyArn: deps.encryptionKeyArn,
        policy: deps.media.policy,
        signal: deps.media.signal,
        remainingMs: deps.media.remainingMs,
        fetch: deps.media.fetch,
        now: deps.now,
      },
    );
    return { ...result, media: stored };
  } catch (error) {
    // No retry can change these: the body stays archived, without its media, and that is flagged.
    if (error instanceof PermanentFailure) return { ...result, mediaFailure: { reason: error.reason, message: error.message } };
    throw error;
  }
}

/**
 * Quarantines one SQS record whose body failed the processor's own envelope validation. Throws
 * (the record is retried, and SQS's redrive policy dead-letters it after `maxReceiveCount`
 * receives) when the archive cannot be written.
 */
export async function quarantineRecord(
  record: SQSRecord,
  failure: { readonly problem: EnvelopeProblem; readonly message: string },
  deps: QuarantineRecordDependencies,
): Promise<QuarantineResult> {
  const sha256 = bodySha256(record.body);
  const marked = record.messageAttributes?.[UNRECOGNIZED_ENVELOPE_ATTRIBUTE]?.stringValue;
  const logger = deps.logger.createChild({ persistentKeys: { messageId: record.messageId, bodySha256: sha256, problem: failure.problem } });
  if (marked !== undefined && marked !== failure.problem) {
    logger.warn("the verifier marked this envelope for another problem; using the processor's own validation", { marked });
  }
  const sentAt = Number(record.attributes?.SentTimestamp);
  const media = quarantinedMedia(record.body);
  if (media && expiresLooksLikeSeconds(media.expires)) {
    logger.warn('media.expires looks like seconds, not milliseconds; read as seconds', { anomaly: 'media_expires_in_seconds', expires: media.expires });
  }
  const input: QuarantineInput = {
    rawBody: record.body,
    bodySha256: sha256,
    problem: failure.problem,
    message: failure.message,
    receivedAt: Number.isFinite(sentAt) && sentAt > 0 ? sentAt : (deps.now ?? Date.now)(),
  };
  let result: QuarantineResult;
  try {
    result = await deps.quarantineOnce(input, { signal: deps.signal });
  } catch (error) {
    const classified = classifyFailure(error);
    const retry = deps.retry;
    if (!retry || classified.kind === 'permanent') {
      logger.warn('could not quarantine an unrecognized envelope; will retry', { reason: classified.reason, detail: classified.message });
      deps.metrics.countBy(METRIC.transientFailures, DIMENSION.reason, classified.reason);
      throw error;
    }
    const delaySeconds = retry.delaySeconds();
    const expiresAt = mediaExpiresAt(media?.expires);
    const urlMayLive = expiresAt === undefined || (deps.now ?? Date.now)() + delaySeconds * 1000 < expiresAt;
    // Only a failed transfer can be given up on: the body is archived by then. Any other failure
    // (S3, the deadline) is retried until SQS's redrive policy dead-letters the message.
    const mediaFailed = classified.reason.startsWith('media_');
    if (!mediaFailed || (retry.attempt < retry.maxReceiveCount && urlMayLive)) {
      logger.warn('could not quarantine an unrecognized envelope and its media; will retry', {
        reason: classified.reason,
        detail: classified.message,
        attempt: retry.attempt,
        retryInSeconds: delaySeconds,
      });
      deps.metrics.countBy(METRIC.transientFailures, DIMENSION.reason, classified.reason);
      await retry.shortenVisibility(delaySeconds);
      throw error;
    }
    const why = retry.attempt >= retry.maxReceiveCount ? `failed ${retry.attempt} times` : 'the media URL expires before the next attempt could run';
    result = await deps.quarantineOnce(
      { ...input, mediaGivenUp: { reason: classified.reason, message: `${why}; last failure: ${classified.message}` } },
      { signal: deps.signal },
    );
  }
  if (result.duplicate) {
    logger.info('unrecognized envelope already quarantined; duplicate skipped', { key: result.key });
    deps.metrics.count(METRIC.duplicatesSkipped);
    return result;
  }
  // Nothing is published: the event cannot be typed. The alarm on EventsQuarantined pages.
  logger.error('authentic event with an unrecognized envelope quarantined', { key: result.key, reason: failure.message, mediaKey: result.media?.key });
  deps.metrics.countBy(METRIC.eventsQuarantined, DIMENSION.reason, failure.problem);
  if (result.mediaFailure && NOT_OURS_TO_FETCH.has(result.mediaFailure.reason)) {
    logger.warn("the quarantined body's media URL is not one we may fetch; not contacted", {
      key: result.key,
      reason: result.mediaFailure.reason,
      detail: result.mediaFailure.message,
    });
  } else if (result.mediaFailure) {
    logger.error("the quarantined body's media could not be stored; the body is archived without it", {
      key: result.key,
      reason: result.mediaFailure.reason,
      detail: result.mediaFailure.message,
      source: media ? redactUrl(media.url) : undefined,
    });
  }
  return result;
}
