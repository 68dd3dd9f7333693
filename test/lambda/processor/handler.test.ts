import { randomBytes } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { sampleEvent } from '../../support/events';
import { fakeIdempotencyTable } from '../../support/idempotency-table';
import { serveBytes } from '../../support/media-server';
import { processorContext, processorTestbed, sqsRecord } from '../../support/processor-handler';
import { captureS3 } from '../../support/s3-capture';

const s3 = captureS3();
const sqsMock = mockClient(SQSClient);
const table = fakeIdempotencyTable();
const eventBridge = mockClient(EventBridgeClient);
const published = () => eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]);
const bed = processorTestbed(sqsMock, eventBridge, s3.mock);
const context = processorContext;
const sqsEvent = (...bodies: Array<{ body: string; receiveCount?: number }>): SQSEvent => ({
  Records: bodies.map(({ body, receiveCount }) => sqsRecord(body, { receiveCount })),
});

function mediaBody(id: string, path: string): string {
  // One session per event: a media key that already holds a file counts as stored.
  return JSON.stringify(
    sampleEvent('media.user_photo', { id, sessionId: `ses_${id}`, createdAt: Date.now(), mediaUrl: `${bed.media.origin}${path}?sig=secret` }),
  );
}

describe('processor Lambda handler', () => {
  it('archives every event, stores media, and reports no failures', async () => {
    const bytes = randomBytes(4096);
    bed.media.route('/a.jpg', serveBytes(bytes, 'image/jpeg'));
    const status = JSON.stringify(sampleEvent('session.status', { id: 'evt_h1', sessionId: 'ses_h' }));
    const photo = mediaBody('evt_h2', '/a.jpg');
    const response = await bed.handler(sqsEvent({ body: status }, { body: photo }), context());
    expect(response).toEqual({ batchItemFailures: [] });
    expect(s3.objects.get('events/ses_h/1761595700000-evt_h1.json')?.body.toString()).toBe(status);
    expect([...s3.objects.keys()].some((k) => k.startsWith('events/ses_evt_h2/') && k.endsWith('-evt_h2.json'))).toBe(true);
    expect(s3.objects.get('media/ses_evt_h2/media.user_photo/m_1.jpg')?.body.equals(bytes)).toBe(true);
    expect(table.statuses().filter((s) => s === 'COMPLETED').length).toBeGreaterThanOrEqual(2);
  });

  it('keys idempotency on the FaceSign event id: a redelivery in a new message is skipped', async () => {
    bed.media.route('/once.jpg', serveBytes(Buffer.from('once'), 'image/jpeg'));
    const body = mediaBody('evt_once', '/once.jpg');
    await bed.handler(sqsEvent({ body }), context());
    const putsAfterFirst = s3.mock.calls().length;
    expect(published().filter((e) => JSON.parse(e.Detail!).event.id === 'evt_once')).toHaveLength(1);
    const response = await bed.handler(sqsEvent({ body }, { body }), context());
    expect(response.batchItemFailures).toEqual([]);
    expect(bed.media.hits.get('/once.jpg')).toBe(1);
    expect(s3.mock.calls().length).toBe(putsAfterFirst);
    // Publishing is inside the idempotent unit: the repeats publish nothing.
    expect(published().filter((e) => JSON.parse(e.Detail!).event.id === 'evt_once')).toHaveLength(1);
  });

  it('retries a transient media failure with a short visibility, leaving no completed record', async () => {
    let calls = 0;
    bed.media.route('/flaky.jpg', (req, res) => {
      calls++;
      if (calls <= 1) return void res.writeHead(503).end();
      serveBytes(Buffer.from('finally'), 'image/jpeg')(req, res);
    });
    const body = mediaBody('evt_flaky', '/flaky.jpg');
    const first = sqsEvent({ body });
    expect(await bed.handler(first, context())).toEqual({ batchItemFailures: [{ itemIdentifier: first.Records[0].messageId }] });
    const visibility = sqsMock.commandCalls(ChangeMessageVisibilityCommand)[0].args[0].input.VisibilityTimeout ?? 0;
    expect(visibility).toBeGreaterThanOrEqual(8);
    expect(visibility).toBeLessThanOrEqual(12);
    expect(table.statuses()).not.toContain('INPROGRESS');

    expect(await bed.handler(sqsEvent({ body, receiveCount: 2 }), context())).toEqual({ batchItemFailures: [] });
    expect(s3.objects.get('media/ses_evt_flaky/media.user_photo/m_1.jpg')?.body.toString()).toBe('finally');
  });

  it('dead-letters a permanent failure at once, and processes it again when redriven after a fix', async () => {
    bed.media.route('/later.jpg', (_req, res) => res.writeHead(404).end());
    const body = mediaBody('evt_redrive', '/later.jpg');
    expect(await bed.handler(sqsEvent({ body }), context())).toEqual({ batchItemFailures: [] });
    const dlq = sqsMock.commandCalls(SendMessageCommand);
    expect(dlq).toHaveLength(1);
    expect(dlq[0].args[0].input.MessageAttributes?.failureReason?.StringValue).toBe('media_not_available');
    expect(dlq[0].args[0].input.MessageBody).toBe(body);

    bed.media.route('/later.jpg', serveBytes(Buffer.from('fixed'), 'image/jpeg'));
    expect(await bed.handler(sqsEvent({ body }), context())).toEqual({ batchItemFailures: [] });
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(1);
    expect(s3.objects.get('media/ses_evt_redrive/media.user_photo/m_1.jpg')?.body.toString()).toBe('fixed');
  });

  it('publishes each processed event to the bus with its type and locations', async () => {
    bed.media.route('/pub.jpg', serveBytes(Buffer.from('pub'), 'image/jpeg'));
    const body = mediaBody('evt_pub', '/pub.jpg');
    await bed.handler(sqsEvent({ body }), context());
    const entry = published().find((e) => JSON.parse(e.Detail!).event.id === 'evt_pub');
    expect(entry).toMatchObject({ EventBusName: 'facesign-bus', Source: 'facesign.webhooks', DetailType: 'media.user_photo' });
    const sent = JSON.parse(body);
    expect(JSON.parse(entry!.Detail!)).toMatchObject({
      // The signed query never leaves the processor.
      event: { ...sent, media: { ...sent.media, url: `${bed.media.origin}/[redacted]` } },
      archive: { bucket: 'archive-bucket', key: expect.stringMatching(/^events\/ses_evt_pub\/\d+-evt_pub\.json$/) },
      media: { bucket: 'archive-bucket', key: 'media/ses_evt_pub/media.user_photo/m_1.jpg', bytes: 3, contentType: 'image/jpeg' },
    });
  });

  it('retries an event whose publish failed, leaving no completed record', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    const body = JSON.stringify(sampleEvent('settings.langs', { id: 'evt_pubfail' }));
    const first = sqsEvent({ body });
    expect(await bed.handler(first, context())).toEqual({ batchItemFailures: [{ itemIdentifier: first.Records[0].messageId }] });
    expect(await bed.handler(sqsEvent({ body, receiveCount: 2 }), context())).toEqual({ batchItemFailures: [] });
    expect(published().filter((e) => JSON.parse(e.Detail!).event.id === 'evt_pubfail')).toHaveLength(2);
  });

  it('fails only the records that failed in a mixed batch', async () => {
    bed.media.route('/down.jpg', (_req, res) => res.writeHead(500).end());
    const ok = JSON.stringify(sampleEvent('analysis.video', { id: 'evt_mix_ok' }));
    const bad = mediaBody('evt_mix_bad', '/down.jpg');
    const event = sqsEvent({ body: ok }, { body: bad });
    expect(await bed.handler(event, context())).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[1].messageId }] });
  });

  it('same id, different content: a re-serialized retry is a plain duplicate, another version is archived under conflicts/', async () => {
    const original = sampleEvent('session.status', { id: 'evt_versions', sessionId: 'ses_v' });
    const first = JSON.stringify(original);
    expect(await bed.handler(sqsEvent({ body: first }), context())).toEqual({ batchItemFailures: [] });
    // The same content, re-serialized: other key order, other whitespace.
    const reserialized = JSON.stringify(Object.fromEntries(Object.entries(original).reverse()), null, 2);
    expect(await bed.handler(sqsEvent({ body: reserialized }), context())).toEqual({ batchItemFailures: [] });
    expect([...s3.objects.keys()].filter((k) => k.startsWith('conflicts/'))).toEqual([]);
    // Another version under the same id.
    const changed = JSON.stringify({ ...original, status: 'complete', createdAt: 1761595799999 });
    expect(await bed.handler(sqsEvent({ body: changed }), context())).toEqual({ batchItemFailures: [] });
    const conflicts = [...s3.objects.keys()].filter((k) => k.startsWith('conflicts/ses_v/1761595799999-evt_versions/'));
    expect(conflicts).toHaveLength(1);
    expect(s3.objects.get(conflicts[0])?.body.toString()).toBe(changed);
    expect(s3.objects.get('events/ses_v/1761595700000-evt_versions.json')?.body.toString()).toBe(first);
    expect(published().filter((e) => JSON.parse(e.Detail!).event.id === 'evt_versions')).toHaveLength(1);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  // 16 s left: the deadline is 15 s earlier (at least a tenth of the time: 1.6 s), well before the Lambda timeout.
  it.each([
    ['S3', () => s3.mock.on(PutObjectCommand).callsFake(() => new Promise(() => undefined)), () => s3.mock.on(PutObjectCommand).callsFake(s3.putObject)],
    ['DynamoDB', () => table.setHung(true), () => table.setHung(false)],
    [
      'EventBridge',
      () => eventBridge.on(PutEventsCommand).callsFake(() => new Promise(() => undefined)),
      () => eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] }),
    ],
  ] as const)('a hung %s ends the invocation at its deadline, with the record failed and retried soon', async (name, hang, recover) => {
    hang();
    try {
      const body = JSON.stringify(sampleEvent('session.status', { id: `evt_hung_${name}` }));
      const event = sqsEvent({ body });
      const started = Date.now();
      const response = await bed.handler(event, { ...context(), getRemainingTimeInMillis: () => 16_000 });
      expect(Date.now() - started).toBeLessThan(6_000);
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] });
      expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand).at(-1)?.args[0].input.VisibilityTimeout).toBeLessThanOrEqual(12);
    } finally {
      recover();
    }
  });
});
