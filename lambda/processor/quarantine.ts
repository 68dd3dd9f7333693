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
 */
import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSRecord } from 'aws-lambda';
import type { EnvelopeProblem } from '../shared/event';
import { DIMENSION, METRIC, type EventMetrics, type Logger } from '../shared/observability';
import { objectEncryption } from './object-encryption';
import { objectMetadata } from './s3-keys';
import { QUARANTINE_PREFIX, UNRECOGNIZED_ENVELOPE_ATTRIBUTE } from '../shared/quarantine';
import { classifyFailure } from './failures';

/** One body to quarantine: the unit's input, keyed by `bodySha256`. */
export interface QuarantineInput {
  readonly rawBody: string;
  /** Hex SHA-256 of the body's UTF-8 bytes: the idempotency key and the object name. */
  readonly bodySha256: string;
  readonly problem: EnvelopeProblem;
  readonly message: string;
  /** When SQS first took the message (ms): the key's date, stable across retries. */
  readonly receivedAt: number;
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
}

/** What {@link archiveQuarantinedBody} needs. */
export interface QuarantineArchiveDependencies {
  readonly s3: S3Client;
  readonly bucket: string;
  /** The customer-managed key every object is written under (object-encryption.ts). */
  readonly encryptionKeyArn?: string;
  readonly now?: () => number;
}

/** What {@link quarantineRecord} needs. */
export interface QuarantineRecordDependencies {
  /** The idempotent unit (Powertools `makeIdempotent` around {@link archiveQuarantinedBody}, keyed by `bodySha256`). */
  readonly quarantineOnce: (input: QuarantineInput) => Promise<QuarantineResult>;
  readonly logger: Logger;
  readonly metrics: EventMetrics;
  readonly now?: () => number;
}

/** Hex SHA-256 of a body's UTF-8 bytes. */
export function bodySha256(rawBody: string): string {
  return createHash('sha256').update(rawBody, 'utf8').digest('hex');
}

/** `quarantine/<yyyy>/<mm>/<dd>/<sha256>.json`, dated in UTC. */
export function quarantineKey(sha256: string, receivedAt: number): string {
  const day = new Date(receivedAt).toISOString().slice(0, 10).replace(/-/g, '/');
  return `${QUARANTINE_PREFIX}${day}/${sha256}.json`;
}

/** Archives the body exactly as received. The unit of work; it either completes or throws. */
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
  );
  return {
    bucket: deps.bucket,
    key,
    problem: input.problem,
    bodySha256: input.bodySha256,
    quarantinedAt: new Date((deps.now ?? Date.now)()).toISOString(),
  };
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
    logger.warn('the verifier marked this envelope for another problem; using the processor\'s own validation', { marked });
  }
  const sentAt = Number(record.attributes?.SentTimestamp);
  try {
    const result = await deps.quarantineOnce({
      rawBody: record.body,
      bodySha256: sha256,
      problem: failure.problem,
      message: failure.message,
      receivedAt: Number.isFinite(sentAt) && sentAt > 0 ? sentAt : (deps.now ?? Date.now)(),
    });
    if (result.duplicate) {
      logger.info('unrecognized envelope already quarantined; duplicate skipped', { key: result.key });
      deps.metrics.count(METRIC.duplicatesSkipped);
    } else {
      // Nothing is published: the event cannot be typed. The alarm on EventsQuarantined pages.
      logger.error('authentic event with an unrecognized envelope quarantined', { key: result.key, reason: failure.message });
      deps.metrics.countBy(METRIC.eventsQuarantined, DIMENSION.reason, failure.problem);
    }
    return result;
  } catch (error) {
    const classified = classifyFailure(error);
    logger.warn('could not quarantine an unrecognized envelope; will retry', { reason: classified.reason, detail: classified.message });
    deps.metrics.countBy(METRIC.transientFailures, DIMENSION.reason, classified.reason);
    throw error;
  }
}
