/**
 * The failure policy as a table, on its own; then one fault driven through the real handler on
 * both paths: S3 refusing an object for good dead-letters the record at once, with its reason,
 * whether it is an event or a quarantined body.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { decide, type Disposition, type FailureCase } from '../../../lambda/processor/disposition';
import { PermanentFailure, TransientFailure, type Failure } from '../../../lambda/processor/failures';
import { sampleEvent } from '../../support/events';
import { fakeIdempotencyTable } from '../../support/idempotency-table';
import { processorContext, processorTestbed, sqsRecord } from '../../support/processor-handler';
import { captureS3 } from '../../support/s3-capture';

const NOW = 1_761_595_700_000;
const MINUTE = 60_000;
const permanent = (reason: PermanentFailure['reason']) => new PermanentFailure(reason, 'why');
const transient = (reason: TransientFailure['reason']) => new TransientFailure(reason, 'why');

type Row = [name: string, failure: Failure, attempt: number, expiresInMs: number | undefined, mediaOptional: boolean, expected: Disposition];

// prettier-ignore
const TABLE: Row[] = [
  // Permanent: at once, whatever the attempt.
  ['permanent, first attempt', permanent('storage_rejected'), 1, undefined, false, { action: 'dead_letter', reason: 'storage_rejected', message: 'why' }],
  ['permanent media failure of an event', permanent('media_not_available'), 1, 10 * MINUTE, false, { action: 'dead_letter', reason: 'media_not_available', message: 'why' }],
  ['permanent media failure, media optional', permanent('media_too_large'), 1, 10 * MINUTE, true, { action: 'give_up_media', reason: 'media_too_large', message: 'why' }],
  ['permanent non-media failure, media optional', permanent('storage_rejected'), 1, 10 * MINUTE, true, { action: 'dead_letter', reason: 'storage_rejected', message: 'why' }],
  // Transient: retried after the backoff while attempts and the URL's life allow.
  ['transient, attempts left', transient('dependency_error'), 1, undefined, false, { action: 'retry', delaySeconds: 10 }],
  ['transient media failure, URL alive after the backoff', transient('media_server_error'), 2, 10 * MINUTE, false, { action: 'retry', delaySeconds: 10 }],
  ['transient non-media failure, URL about to die', transient('publish_failed'), 1, 5_000, false, { action: 'retry', delaySeconds: 10 }],
  ['transient media failure, no known expiry', transient('media_download_failed'), 4, undefined, false, { action: 'retry', delaySeconds: 10 }],
  // The last attempt.
  ['transient, last attempt', transient('dependency_error'), 5, undefined, false, { action: 'dead_letter', reason: 'retries_exhausted', message: 'failed 5 times; last failure: dependency_error: why' }],
  ['transient, last attempt, media optional', transient('dependency_error'), 5, undefined, true, { action: 'dead_letter', reason: 'retries_exhausted', message: 'failed 5 times; last failure: dependency_error: why' }],
  ['transient media failure, last attempt, media optional', transient('media_server_error'), 5, 10 * MINUTE, true, { action: 'give_up_media', reason: 'media_server_error', message: 'failed 5 times; last failure: media_server_error: why' }],
  // The URL would be dead by the next attempt.
  ['transient media failure, URL dead by the retry', transient('media_server_error'), 1, 9_999, false, { action: 'dead_letter', reason: 'media_url_expired', message: 'the media URL expires before the next attempt could run; last failure: media_server_error: why' }],
  ['transient media failure, URL dead by the retry, media optional', transient('media_empty'), 1, 10_000, true, { action: 'give_up_media', reason: 'media_empty', message: 'the media URL expires before the next attempt could run; last failure: media_empty: why' }],
  ['transient media failure, URL alive just past the retry', transient('media_server_error'), 1, 10_001, false, { action: 'retry', delaySeconds: 10 }],
];

describe('decide: the failure policy', () => {
  it.each(TABLE)('%s', (_name, failure, attempt, expiresInMs, mediaOptional, expected) => {
    const c: FailureCase = {
      failure,
      attempt,
      maxReceiveCount: 5,
      mediaExpiresAt: expiresInMs === undefined ? undefined : NOW + expiresInMs,
      now: NOW,
      delaySeconds: 10,
      mediaOptional,
    };
    expect(decide(c)).toEqual(expected);
  });
});

const s3 = captureS3();
const sqsMock = mockClient(SQSClient);
const eventBridge = mockClient(EventBridgeClient);
fakeIdempotencyTable();
const bed = processorTestbed(sqsMock, eventBridge, s3.mock);

describe('a permanent S3 refusal, on both paths', () => {
  it.each([
    ['an event', JSON.stringify(sampleEvent('session.status', { id: 'evt_refused', sessionId: 'ses_refused' }))],
    ['a quarantined body', JSON.stringify({ ...sampleEvent('session.status', { id: 'evt_refused_q' }), createdAt: 'not a number' })],
  ])('%s is dead-lettered at once, with storage_rejected, and not retried', async (_name, body) => {
    s3.mock.on(PutObjectCommand).rejects(new S3ServiceException({ name: 'InvalidArgument', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    try {
      const record = sqsRecord(body, { receiveCount: 1, sentAt: NOW });
      expect(await bed.handler({ Records: [record] }, processorContext())).toEqual({ batchItemFailures: [] });
      const sent = sqsMock.commandCalls(SendMessageCommand);
      expect(sent).toHaveLength(1);
      expect(sent[0].args[0].input.QueueUrl).toBe('https://sqs/dlq');
      expect(sent[0].args[0].input.MessageBody).toBe(body);
      expect(sent[0].args[0].input.MessageAttributes?.failureReason?.StringValue).toBe('storage_rejected');
      expect(sent[0].args[0].input.MessageAttributes?.attempts?.StringValue).toBe('1');
      expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
    } finally {
      s3.mock.on(PutObjectCommand).callsFake(s3.putObject);
    }
  });
});
