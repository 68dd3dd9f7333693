import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { DeliveryJournal, isThumbnailType, observeBatch, RESEND_BUDGET_BYTES, signatureVerdict, type Delivery } from '../../../local/inspector/journal';
import type { WebhookExchange } from '../../../local/http-api';

const EVENT = {
  id: 'evt_1',
  type: 'media.user_photo',
  createdAt: 1,
  sessionId: 'ses_1',
  media: { url: 'https://media.facesign.ai/m.jpg?X-Amz-Signature=secret' },
};
const BODY = JSON.stringify(EVENT);

function exchange(
  status: number,
  body = BODY,
  responseBody: unknown = status === 200 ? { received: true } : { error: 'signature_mismatch', message: 'no match' },
): WebhookExchange {
  return {
    receivedAt: new Date('2026-01-01T00:00:00Z'),
    headers: { 'content-type': 'application/json', 'x-facesign-signature': 't=1,v1=abc' },
    body: Buffer.from(body),
    bytes: Buffer.byteLength(body),
    status,
    responseBody: Buffer.from(JSON.stringify(responseBody)),
    durationMs: 12,
  };
}

const published = (eventId: string, media?: Record<string, unknown>) => ({
  detailType: 'media.user_photo',
  detail: {
    event: { ...EVENT, id: eventId },
    archive: { bucket: 'b', key: `events/ses_1/1-${eventId}.json` },
    ...(media ? { media } : {}),
    processedAt: '2026-01-01T00:00:01Z',
  },
});
const PHOTO = { bucket: 'b', key: 'media/ses_1/media.user_photo/m.jpg', bytes: 134, sha256: 'ab'.repeat(32), contentType: 'image/jpeg' };
const log = (fields: Record<string, unknown>) => JSON.stringify({ level: 'INFO', service: 'facesign-processor', ...fields });
const states = (d: Delivery) => d.steps.map((s) => s.step);

describe('signatureVerdict', () => {
  it.each([
    [200, undefined, 'verified'],
    [400, 'invalid_json', 'verified'],
    [413, 'payload_too_large', 'verified'],
    [503, 'queue_unavailable', 'verified'],
    [401, 'signature_mismatch', 'rejected'],
    [401, 'missing_signature', 'rejected'],
    [401, 'malformed_signature', 'rejected'],
    [401, 'timestamp_out_of_tolerance', 'timestamp refused'],
    [401, 'invalid_timestamp', 'timestamp refused'],
    [503, 'secret_unavailable', 'not checked'],
    [503, 'secret_not_configured', 'not checked'],
    [413, undefined, 'not checked'], // API Gateway's own 413, over 10 MiB
    [500, undefined, 'not checked'], // a throttled or crashed verifier
  ])('%i %s is %s', (status, error, verdict) => {
    expect(signatureVerdict(status, error)).toBe(verdict);
  });
});

describe('DeliveryJournal', () => {
  it('follows a media event from the answer to published, with the stored media and no URL query anywhere', () => {
    const journal = new DeliveryJournal();
    const told: number[] = [];
    journal.subscribe((d) => told.push(d.id));
    const d = journal.answered(exchange(200));
    expect(d).toMatchObject({ id: 1, eventId: 'evt_1', eventType: 'media.user_photo', sessionId: 'ses_1', signature: 'verified', state: 'queued' });
    journal.recordsReceived([{ messageId: 'm1', body: BODY, attempt: 1 }]);
    expect(d).toMatchObject({ state: 'processing', attempt: 1 });
    journal.published(published('evt_1', PHOTO));
    journal.recordsFinished(['m1'], new Set());
    expect(d.state).toBe('processed');
    expect(states(d)).toEqual(['queued', 'processing', 'archived', 'media stored', 'published', 'processed']);
    expect(d.archiveKey).toBe('events/ses_1/1-evt_1.json');
    expect(d.media).toEqual({ key: PHOTO.key, bytes: 134, sha256: PHOTO.sha256, contentType: 'image/jpeg', thumbnail: true });
    expect(JSON.stringify(journal.deliveries())).not.toContain('X-Amz-Signature');
    expect(JSON.stringify(d.published)).toContain('https://media.facesign.ai/[redacted]"');
    expect(told).toEqual([1, 1, 1, 1]);
  });

  it('shows a refused delivery with its reason and verdict, and never queues it', () => {
    const journal = new DeliveryJournal();
    const d = journal.answered(exchange(401));
    expect(d).toMatchObject({
      state: 'refused',
      signature: 'rejected',
      answer: { status: 401, error: 'signature_mismatch', message: 'no match', durationMs: 12 },
    });
    journal.recordsReceived([{ messageId: 'm1', body: BODY, attempt: 1 }]);
    expect(d.state).toBe('refused');
  });

  it('binds a record the processor received before the answer was recorded, and replays what happened to it', () => {
    const journal = new DeliveryJournal();
    journal.recordsReceived([{ messageId: 'm1', body: BODY, attempt: 1 }]);
    journal.published(published('evt_1'));
    const d = journal.answered(exchange(200));
    expect(states(d)).toEqual(['queued', 'processing', 'archived', 'published']);
    journal.recordsFinished(['m1'], new Set());
    expect(d.state).toBe('processed');
  });

  it('binds two deliveries of the same bytes to their messages in order', () => {
    const journal = new DeliveryJournal();
    const first = journal.answered(exchange(200));
    const second = journal.answered(exchange(200));
    journal.recordsReceived([{ messageId: 'm1', body: BODY, attempt: 1 }]);
    expect([first.state, second.state]).toEqual(['processing', 'queued']);
    journal.recordsFinished(['m1'], new Set());
    journal.recordsReceived([{ messageId: 'm2', body: BODY, attempt: 1 }]);
    journal.processorLog(log({ message: 'duplicate delivery skipped; the event was already processed', messageId: 'm2', eventId: 'evt_1' }));
    expect([first.state, second.state]).toEqual(['completed', 'duplicate']);
  });

  it('shows a transient failure with its reason, then the next attempt', () => {
    const journal = new DeliveryJournal();
    const d = journal.answered(exchange(200));
    journal.recordsReceived([{ messageId: 'm1', body: BODY, attempt: 1 }]);
    journal.processorLog(
      log({ level: 'WARN', message: 'transient failure; will retry', messageId: 'm1', reason: 'media_timeout', attempt: 1, retryInSeconds: 2 }),
    );
    journal.recordsFinished(['m1'], new Set(['m1']));
    expect(d).toMatchObject({ state: 'retrying', retry: { reason: 'media_timeout', inSeconds: 2 } });
    journal.recordsReceived([{ messageId: 'm1', body: BODY, attempt: 2 }]);
    expect(d).toMatchObject({ state: 'processing', attempt: 2 });
  });

  it('fails every record of an invocation that failed as a whole', async () => {
    const journal = new DeliveryJournal();
    const d = journal.answered(exchange(200));
    const event = { Records: [sqsRecord('m1', BODY, 1)] } as SQSEvent;
    await expect(observeBatch(journal, event, () => Promise.reject(new Error('worker crashed')))).rejects.toThrow('worker crashed');
    expect(d).toMatchObject({ state: 'retrying', retry: { reason: 'invocation failed: worker crashed' } });
  });

  it('passes the batch response through and marks the records the processor reported failed', async () => {
    const journal = new DeliveryJournal();
    const ok = journal.answered(exchange(200));
    const otherBody = JSON.stringify({ ...EVENT, id: 'evt_2' });
    const failing = journal.answered(exchange(200, otherBody));
    const response = { batchItemFailures: [{ itemIdentifier: 'm2' }] };
    const event = { Records: [sqsRecord('m1', BODY, 1), sqsRecord('m2', otherBody, 3)] } as SQSEvent;
    expect(await observeBatch(journal, event, async () => response)).toBe(response);
    expect([ok.state, failing.state, failing.attempt]).toEqual(['completed', 'retrying', 3]);
  });

  it('decodes a base64 queue body before matching it to its delivery', async () => {
    const journal = new DeliveryJournal();
    const odd = JSON.stringify({ ...EVENT, note: '\uFFFE' });
    const d = journal.answered(exchange(200, odd));
    const record = sqsRecord('m1', Buffer.from(odd, 'utf8').toString('base64'), 1, { bodyEncoding: 'base64' });
    await observeBatch(journal, { Records: [record] } as SQSEvent, async () => ({ batchItemFailures: [] }));
    expect(d.state).toBe('completed');
  });

  it('dead-letters with the reason the processor logged, and a redrive puts the same delivery back in the pipeline', () => {
    const journal = new DeliveryJournal();
    let deadLetterChanges = 0;
    journal.subscribeDeadLetters(() => deadLetterChanges++);
    const d = journal.answered(exchange(200));
    journal.recordsReceived([{ messageId: 'm1', body: BODY, attempt: 1 }]);
    journal.processorLog(
      log({
        level: 'ERROR',
        message: 'event sent to the dead-letter queue',
        messageId: 'm1',
        reason: 'media_not_available',
        detail: 'GET https://h/x?sig=1 answered 404',
      }),
    );
    journal.recordsFinished(['m1'], new Set());
    journal.deadLettered({ messageId: 'dlq1', failureReason: 'media_not_available', eventId: 'evt_1' });
    expect(d).toMatchObject({ state: 'dead-lettered', deadLetter: { reason: 'media_not_available', detail: 'GET https://h/[redacted] answered 404' } });
    expect(states(d).filter((s) => s === 'dead-lettered')).toHaveLength(1);

    journal.redriven('evt_1', d.bodySha256);
    expect(d.state).toBe('redriven');
    expect(d.deadLetter).toBeUndefined();
    expect(deadLetterChanges).toBe(2);
    journal.recordsReceived([{ messageId: 'm9', body: BODY, attempt: 1 }]);
    journal.published(published('evt_1', PHOTO));
    journal.recordsFinished(['m9'], new Set());
    expect(d.state).toBe('processed');
    expect(states(d).slice(-5)).toEqual(['processing', 'archived', 'media stored', 'published', 'processed']);
  });

  it('binds a redriven message the processor received before the redrive returned', () => {
    const journal = new DeliveryJournal();
    const d = journal.answered(exchange(200));
    journal.recordsReceived([{ messageId: 'm1', body: BODY, attempt: 1 }]);
    journal.processorLog(log({ level: 'ERROR', message: 'event sent to the dead-letter queue', messageId: 'm1', reason: 'media_not_available' }));
    journal.recordsFinished(['m1'], new Set());
    journal.recordsReceived([{ messageId: 'm2', body: BODY, attempt: 1 }]);
    expect(d.state).toBe('dead-lettered');
    journal.redriven('evt_1', d.bodySha256);
    expect(d).toMatchObject({ state: 'processing', attempt: 1 });
    journal.published(published('evt_1'));
    journal.recordsFinished(['m2'], new Set());
    expect(d.state).toBe('processed');
  });

  it("dead-letters from the queue's own redrive (no log line of the processor)", () => {
    const journal = new DeliveryJournal();
    const d = journal.answered(exchange(200));
    journal.recordsReceived([{ messageId: 'm1', body: BODY, attempt: 3 }]);
    journal.recordsFinished(['m1'], new Set(['m1']));
    journal.deadLettered({ messageId: 'm1', failureReason: 'max_receive_count_exceeded', eventId: 'evt_1' });
    expect(d).toMatchObject({ state: 'dead-lettered', deadLetter: { reason: 'max_receive_count_exceeded' } });
  });

  it('records a resend as such, and keeps no more than its limit of deliveries and of resend bytes', () => {
    const journal = new DeliveryJournal(3);
    const first = journal.answered(exchange(200));
    expect(journal.keptRequest(first.id)?.body.toString()).toBe(BODY);
    journal.expectResend(Buffer.from(BODY), first.id);
    const again = journal.answered(exchange(200));
    expect(again.resendOf).toBe(first.id);
    expect(journal.answered(exchange(200)).resendOf).toBeUndefined();
    journal.answered(exchange(401));
    expect(journal.deliveries().map((d) => d.id)).toEqual([2, 3, 4]);
    expect(journal.get(1)).toBeUndefined();
    expect(journal.keptRequest(1)).toBeUndefined();

    const big = new DeliveryJournal(1000);
    const body = `{"pad":"${'x'.repeat(200 * 1024)}"}`;
    const count = Math.ceil(RESEND_BUDGET_BYTES / body.length) + 2;
    const all = Array.from({ length: count }, () => big.answered(exchange(200, body)));
    expect(all[0].resendable).toBe(false);
    expect(big.keptRequest(all[0].id)).toBeUndefined();
    expect(all.at(-1)!.resendable).toBe(true);
    const kept = all.filter((d) => big.keptRequest(d.id)).length;
    expect(kept * body.length).toBeLessThanOrEqual(RESEND_BUDGET_BYTES);
  });

  it('shows any body: not JSON, not an object, ids that are not strings', () => {
    const journal = new DeliveryJournal();
    expect(journal.answered(exchange(400, 'not json', { error: 'invalid_json' }))).toMatchObject({ state: 'refused', signature: 'verified' });
    expect(journal.answered(exchange(400, '[1]', { error: 'not_an_object' })).event).toBeUndefined();
    const odd = journal.answered(exchange(200, JSON.stringify({ id: 5, type: 'x', sessionId: 'y'.repeat(500) })));
    expect(odd.eventId).toBeUndefined();
    expect(odd.sessionId).toHaveLength(200);
    const big = journal.answered(exchange(413, JSON.stringify({ id: 'evt_big', pad: 'x'.repeat(70 * 1024) }), { error: 'payload_too_large' }));
    expect(big).toMatchObject({ eventId: 'evt_big', signature: 'verified' });
    expect(big.event).toBeUndefined();
  });
});

describe('isThumbnailType', () => {
  it.each([
    ['image/jpeg', true],
    ['image/PNG; charset=binary', true],
    ['image/svg+xml', false],
    ['video/mp4', false],
    ['text/html', false],
  ])('%s: %s', (type, shown) => {
    expect(isThumbnailType(type)).toBe(shown);
  });
});

function sqsRecord(messageId: string, body: string, attempt: number, attributes: Record<string, string> = {}): SQSRecord {
  return {
    messageId,
    body,
    receiptHandle: 'r',
    attributes: { ApproximateReceiveCount: String(attempt), SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { dataType: 'String', stringValue: v }])),
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn',
    awsRegion: 'us-east-1',
  };
}
