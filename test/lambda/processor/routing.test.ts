import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { IdempotencyAlreadyInProgressError, IdempotencyRecordStatus, IdempotencyValidationError } from '@aws-lambda-powertools/idempotency';
import { IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import { deadlineIn } from '../../../lambda/processor/deadline';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { recordDependencies } from '../../support/processor-handler';
import { PermanentFailure, TransientFailure } from '../../../lambda/processor/failures';
import type { ProcessingResult } from '../../../lambda/processor/event-unit';
import { processRecord, type RecordDependencies } from '../../../lambda/processor/routing';
import { retryDelaySeconds } from '../../../lambda/processor/disposition';
import type { UnitOptions } from '../../../lambda/processor/event-unit';
import { conflictArchiveKey } from '../../../lambda/processor/storage-names';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { captureS3 } from '../../support/s3-capture';
import { sampleEvent } from '../../support/events';
import { recordingMetrics } from '../../support/observability';

const sqsMock = mockClient(SQSClient);
const s3 = captureS3();
const NOW = 1_761_595_700_000;

function record(body: string, receiveCount = 1): SQSRecord {
  return {
    messageId: 'msg-1',
    receiptHandle: 'rh-1',
    body,
    attributes: { ApproximateReceiveCount: String(receiveCount) } as SQSRecord['attributes'],
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:q',
    awsRegion: 'eu-west-1',
  };
}

let recorded = recordingMetrics();
function deps(processEventOnce: RecordDependencies['processEventOnce']): RecordDependencies {
  return recordDependencies(recorded.metrics, { processEventOnce, store: { s3: s3.client, bucket: 'b' }, now: () => NOW, random: () => 0.5 });
}

const result: ProcessingResult = {
  eventId: 'evt',
  eventType: 'session.status',
  sessionId: 's',
  archive: { bucket: 'b', key: 'events/s/1-evt.json' },
  processedAt: new Date(NOW).toISOString(),
};

function dlqAttributes() {
  const calls = sqsMock.commandCalls(SendMessageCommand);
  expect(calls).toHaveLength(1);
  const input = calls[0].args[0].input;
  expect(input.QueueUrl).toBe('https://sqs/dlq');
  return { body: input.MessageBody, attrs: Object.fromEntries(Object.entries(input.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue])) };
}

/** Fresh metrics, an SQS that accepts dead letters and visibility changes, and an empty S3. */
function resetMocks(): void {
  recorded = recordingMetrics();
  sqsMock.reset();
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  s3.mock.resetHistory();
  s3.objects.clear();
}

describe('processRecord', () => {
  beforeEach(resetMocks);

  it('hands the parsed event and the exact body to the idempotent unit', async () => {
    const body = JSON.stringify(sampleEvent('session.status'), null, 1);
    const once = vi.fn(async () => result);
    expect(await processRecord(record(body), deps(once))).toEqual({ status: 'processed', result });
    expect(once).toHaveBeenCalledWith({ event: JSON.parse(body), rawBody: body }, expect.objectContaining({ attempt: 1 }));
    expect(sqsMock.calls()).toHaveLength(0);
    expect(recorded.count('EventsProcessed', { EventType: 'session.status' })).toBe(1);
    expect(recorded.count('EventsProcessed')).toBe(1);
  });

  it('counts stored media bytes, download time and the URL headroom', async () => {
    const media = { bucket: 'b', key: 'media/k.jpg', bytes: 1234, sha256: 'x', contentType: 'image/jpeg', durationMs: 56, urlHeadroomSeconds: 812.5 };
    await processRecord(
      record(JSON.stringify(sampleEvent('media.user_photo'))),
      deps(async () => ({ ...result, media })),
    );
    expect(recorded.records).toContainEqual({ name: 'MediaBytesStored', unit: 'Bytes', value: 1234, dimensions: {} });
    expect(recorded.records).toContainEqual({ name: 'MediaDownloadTime', unit: 'Milliseconds', value: 56, dimensions: {} });
    expect(recorded.records).toContainEqual({ name: 'MediaUrlHeadroom', unit: 'Seconds', value: 812.5, dimensions: {} });
  });

  it('publishes no URL headroom for a file it did not download now (found stored, or no expiry)', async () => {
    const media = { bucket: 'b', key: 'media/k.jpg', bytes: 1234, sha256: 'x', contentType: 'image/jpeg', durationMs: 3 };
    await processRecord(
      record(JSON.stringify(sampleEvent('media.user_photo'))),
      deps(async () => ({ ...result, media })),
    );
    expect(recorded.records.filter((r) => r.name === 'MediaUrlHeadroom')).toEqual([]);
  });

  it('reports a repeat delivery as a duplicate', async () => {
    const outcome = await processRecord(
      record(JSON.stringify(sampleEvent('session.status'))),
      deps(async () => ({ ...result, duplicate: true })),
    );
    expect(outcome.status).toBe('duplicate');
    expect(recorded.count('DuplicatesSkipped')).toBe(1);
    expect(recorded.count('EventsProcessed')).toBe(0);
  });

  it('sends a permanent failure to the DLQ at once, with the reason, and does not ask for a retry', async () => {
    const body = JSON.stringify(sampleEvent('media.user_photo', { id: 'evt_p', sessionId: 'ses_p' }));
    const outcome = await processRecord(
      record(body),
      deps(async () => {
        throw new PermanentFailure('media_not_available', 'the media host answered 404');
      }),
    );
    expect(outcome).toEqual({ status: 'dead_lettered', reason: 'media_not_available' });
    const { body: sent, attrs } = dlqAttributes();
    expect(sent).toBe(body);
    expect(attrs).toMatchObject({
      failureReason: 'media_not_available',
      failureMessage: 'the media host answered 404',
      eventId: 'evt_p',
      sessionId: 'ses_p',
      eventType: 'media.user_photo',
      attempts: '1',
      sourceMessageId: 'msg-1',
    });
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
    expect(recorded.count('PermanentFailures', { Reason: 'media_not_available' })).toBe(1);
    expect(recorded.count('PermanentFailures')).toBe(1);
  });

  it('sends a body that is not a JSON object to the DLQ as invalid_envelope (a JSON object is quarantined instead)', async () => {
    const once = vi.fn();
    const outcome = await processRecord(record('"just a string"'), deps(once));
    expect(outcome).toEqual({ status: 'dead_lettered', reason: 'invalid_envelope' });
    expect(dlqAttributes().attrs.failureReason).toBe('invalid_envelope');
    expect(once).not.toHaveBeenCalled();
  });

  it('retries a transient failure soon: shortens the visibility to the backoff and rethrows', async () => {
    const error = new TransientFailure('media_server_error', 'the media host answered 503');
    await expect(
      processRecord(
        record(JSON.stringify(sampleEvent('media.user_photo', { createdAt: NOW })), 2),
        deps(async () => {
          throw error;
        }),
      ),
    ).rejects.toBe(error);
    const change = sqsMock.commandCalls(ChangeMessageVisibilityCommand);
    expect(change).toHaveLength(1);
    expect(change[0].args[0].input).toEqual({ QueueUrl: 'https://sqs/q', ReceiptHandle: 'rh-1', VisibilityTimeout: 20 });
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(recorded.count('TransientFailures', { Reason: 'media_server_error' })).toBe(1);
    expect(recorded.count('PermanentFailures')).toBe(0);
  });

  it('treats a delivery that is being processed concurrently as transient', async () => {
    await expect(
      processRecord(
        record(JSON.stringify(sampleEvent('session.status'))),
        deps(async () => {
          throw new IdempotencyAlreadyInProgressError('in progress');
        }),
      ),
    ).rejects.toThrow(IdempotencyAlreadyInProgressError);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(1);
  });

  it('treats an unknown error (an S3 or DynamoDB outage) as transient', async () => {
    await expect(
      processRecord(
        record(JSON.stringify(sampleEvent('session.status'))),
        deps(async () => {
          throw Object.assign(new Error('slow down'), { name: 'SlowDown' });
        }),
      ),
    ).rejects.toThrow('slow down');
  });

  it('still rethrows when the visibility cannot be shortened: the retry just comes later', async () => {
    sqsMock.on(ChangeMessageVisibilityCommand).rejects(new Error('nope'));
    await expect(
      processRecord(
        record(JSON.stringify(sampleEvent('session.status'))),
        deps(async () => {
          throw new TransientFailure('dependency_error', 'x');
        }),
      ),
    ).rejects.toThrow('x');
  });

  it('on the last allowed attempt, sends a transient failure to the DLQ as retries_exhausted', async () => {
    const outcome = await processRecord(
      record(JSON.stringify(sampleEvent('session.status')), 5),
      deps(async () => {
        throw new TransientFailure('dependency_error', 'DynamoDB throttled');
      }),
    );
    expect(outcome).toEqual({ status: 'dead_lettered', reason: 'retries_exhausted' });
    const { attrs } = dlqAttributes();
    expect(attrs.failureMessage).toMatch(/failed 5 times; last failure: dependency_error: DynamoDB throttled/);
    expect(attrs.attempts).toBe('5');
  });

  it('sends a transient media failure to the DLQ when the URL would be dead by the next attempt', async () => {
    const event = sampleEvent('media.user_video', { createdAt: NOW - 14.9 * 60 * 1000 });
    const outcome = await processRecord(
      record(JSON.stringify(event), 1),
      deps(async () => {
        throw new TransientFailure('media_server_error', 'the media host answered 503');
      }),
    );
    expect(outcome).toEqual({ status: 'dead_lettered', reason: 'media_url_expired' });
    expect(dlqAttributes().attrs.failureMessage).toMatch(/last failure: media_server_error/);
  });

  it('retries a media event whose URL is about to die when the failure came after the transfer (the stored file counts as done)', async () => {
    const event = sampleEvent('media.user_video', { createdAt: NOW - 14.9 * 60 * 1000 });
    await expect(
      processRecord(
        record(JSON.stringify(event), 1),
        deps(async () => {
          throw new TransientFailure('publish_failed', 'EventBridge did not accept the event');
        }),
      ),
    ).rejects.toThrow('EventBridge');
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(1);
  });

  it('lets the record be retried when the DLQ send itself fails, so nothing is lost', async () => {
    sqsMock.on(SendMessageCommand).rejects(new Error('dlq down'));
    await expect(
      processRecord(
        record(JSON.stringify(sampleEvent('session.status'))),
        deps(async () => {
          throw new PermanentFailure('media_rejected', 'x');
        }),
      ),
    ).rejects.toThrow('dlq down');
  });
});

describe('retryDelaySeconds', () => {
  it('doubles from the base, with ±20% jitter, capped at 300 s', () => {
    expect([1, 2, 3, 4].map((a) => retryDelaySeconds(a, 10, () => 0.5))).toEqual([10, 20, 40, 80]);
    expect(retryDelaySeconds(1, 10, () => 0)).toBe(8);
    expect(retryDelaySeconds(1, 10, () => 1)).toBe(12);
    expect(retryDelaySeconds(20, 10, () => 1)).toBe(300);
  });

  it('keeps the whole default schedule inside the 15-minute media URL life', () => {
    const total = [1, 2, 3, 4].reduce((sum, a) => sum + retryDelaySeconds(a, 10, () => 1), 0);
    expect(total).toBeLessThan(15 * 60);
  });
});

describe('processRecord: the invocation deadline and conflicting versions', () => {
  beforeEach(resetMocks);

  it('a unit that hangs past the deadline is failed as invocation_deadline, with a short visibility', async () => {
    const deadline = deadlineIn(50);
    let signalSeen: AbortSignal | undefined;
    const hangs = vi.fn(async (_input: unknown, options: UnitOptions) => {
      signalSeen = options.deadline.signal;
      return new Promise<ProcessingResult>(() => undefined);
    });
    const error = await processRecord(record(JSON.stringify(sampleEvent('session.status'))), { ...deps(hangs), deadline }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientFailure);
    expect((error as TransientFailure).reason).toBe('invocation_deadline');
    expect(signalSeen?.aborted).toBe(true);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)[0].args[0].input.VisibilityTimeout).toBe(10);
    expect(recorded.count('TransientFailures', { Reason: 'invocation_deadline' })).toBe(1);
  });

  it('an AWS call aborted by the deadline counts as the deadline, not as whatever the SDK threw', async () => {
    const deadline = deadlineIn(20);
    const aborted = vi.fn(
      (_input: unknown, options: UnitOptions) =>
        new Promise<ProcessingResult>((_resolve, reject) =>
          options.deadline.signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))),
        ),
    );
    const error = await processRecord(record(JSON.stringify(sampleEvent('session.status'))), { ...deps(aborted), deadline }).catch((e: unknown) => e);
    expect((error as TransientFailure).reason).toBe('invocation_deadline');
  });

  function validationError(payloadHash: string | undefined, response?: ProcessingResult, status: string = IdempotencyRecordStatus.COMPLETED) {
    const existing = new IdempotencyRecord({
      idempotencyKey: 'k',
      status: status as never,
      payloadHash,
      responseData: response as never,
      expiryTimestamp: status === IdempotencyRecordStatus.INPROGRESS ? Date.now() / 1000 + 3600 : 0,
    });
    return new IdempotencyValidationError('Payload does not match stored record for this event key', existing);
  }

  it('a different version of a processed event id is archived under conflicts/, counted, and not retried', async () => {
    const body = JSON.stringify(sampleEvent('session.status', { id: 'evt_c' }));
    const outcome = await processRecord(
      record(body),
      deps(async () => Promise.reject(validationError('hash-of-first', result))),
    );
    const conflictKey = conflictArchiveKey(JSON.parse(body), body);
    expect(conflictKey).toMatch(/^conflicts\/.+\/[0-9a-f]{64}\.json$/);
    expect(outcome).toEqual({ status: 'conflicting_duplicate', conflictKey });
    expect(s3.objects.get(conflictKey)?.body.toString()).toBe(body);
    expect(s3.mock.commandCalls(PutObjectCommand)[0].args[0].input.IfNoneMatch).toBe('*');
    expect(recorded.count('ConflictingDuplicates')).toBe(1);
    expect(recorded.count('DuplicatesSkipped')).toBe(0);
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it('if the conflicting version cannot be archived, the record is retried, not skipped', async () => {
    s3.mock.on(PutObjectCommand).rejects(new Error('S3 down'));
    try {
      await expect(
        processRecord(
          record(JSON.stringify(sampleEvent('session.status'))),
          deps(async () => Promise.reject(validationError('h', result))),
        ),
      ).rejects.toThrow('S3 down');
    } finally {
      s3.mock.on(PutObjectCommand).callsFake(s3.putObject);
    }
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(1);
    expect(recorded.count('ConflictingDuplicates')).toBe(0);
  });

  it('a record stored before payload validation was enabled (no hash) is a plain duplicate', async () => {
    const outcome = await processRecord(
      record(JSON.stringify(sampleEvent('session.status'))),
      deps(async () => Promise.reject(validationError(undefined, result))),
    );
    expect(outcome).toMatchObject({ status: 'duplicate' });
    expect(s3.mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(recorded.count('DuplicatesSkipped')).toBe(1);
  });

  it('a different version arriving while the first is still in progress is retried as concurrent_delivery, not filed as a conflict', async () => {
    const inProgress = validationError('hash-of-first', undefined, IdempotencyRecordStatus.INPROGRESS);
    const error = await processRecord(
      record(JSON.stringify(sampleEvent('session.status', { id: 'evt_ip' }))),
      deps(async () => Promise.reject(inProgress)),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientFailure);
    expect((error as TransientFailure).reason).toBe('concurrent_delivery');
    expect(s3.mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(recorded.count('ConflictingDuplicates')).toBe(0);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)[0].args[0].input.VisibilityTimeout).toBe(10);
  });
});
