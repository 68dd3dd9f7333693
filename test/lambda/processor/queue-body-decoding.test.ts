import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { recordDependencies } from '../../support/processor-handler';
import { PermanentFailure } from '../../../lambda/processor/failures';
import type { ProcessingResult } from '../../../lambda/processor/event-unit';
import { processRecord, type RecordDependencies } from '../../../lambda/processor/routing';
import { sampleEvent } from '../../support/events';
import { recordingMetrics } from '../../support/observability';

/** A body the verifier had to base64-encode for SQS (shared/queue-body.ts) is processed as the signed text. */

const sqsMock = mockClient(SQSClient);
const NOW = 1_761_595_700_000;
const base = sampleEvent('session.status', { id: 'evt_nc', sessionId: 'ses_nc' });
const event = { ...base, note: 'a\uFFFEb\uFFFF' };
const body = JSON.stringify(event);

function encodedRecord(): SQSRecord {
  return {
    messageId: 'msg-1',
    receiptHandle: 'rh-1',
    body: Buffer.from(body, 'utf8').toString('base64'),
    attributes: { ApproximateReceiveCount: '1' } as SQSRecord['attributes'],
    messageAttributes: { bodyEncoding: { stringValue: 'base64', dataType: 'String' } },
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:q',
    awsRegion: 'eu-west-1',
  };
}

function deps(processEventOnce: RecordDependencies['processEventOnce']): RecordDependencies {
  return recordDependencies(recordingMetrics().metrics, { processEventOnce, now: () => NOW, random: () => 0.5 });
}

describe('processRecord: a base64-encoded message body', () => {
  beforeEach(() => {
    sqsMock.reset();
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'dlq-1' });
  });

  it('hands the decoded, exact signed text to the idempotent unit', async () => {
    const result: ProcessingResult = {
      eventId: 'evt_nc',
      eventType: 'session.status',
      sessionId: 'ses_nc',
      archive: { bucket: 'b', key: 'k' },
      processedAt: new Date(NOW).toISOString(),
    };
    const once = vi.fn(async () => result);
    expect(await processRecord(encodedRecord(), deps(once))).toMatchObject({ status: 'processed' });
    expect(once).toHaveBeenCalledWith({ event, rawBody: body }, expect.objectContaining({ attempt: 1 }));
  });

  it('dead-letters it still encoded, with bodyEncoding, so SQS keeps it intact', async () => {
    const once = vi.fn(async () => Promise.reject(new PermanentFailure('media_not_available', 'gone')));
    expect(await processRecord(encodedRecord(), deps(once))).toMatchObject({ status: 'dead_lettered' });
    const input = sqsMock.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(input.MessageBody).toBe(Buffer.from(body, 'utf8').toString('base64'));
    expect(input.MessageAttributes?.bodyEncoding).toEqual({ DataType: 'String', StringValue: 'base64' });
    expect(input.MessageAttributes?.eventId?.StringValue).toBe('evt_nc');
  });
});
