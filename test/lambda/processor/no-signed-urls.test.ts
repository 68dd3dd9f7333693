/**
 * Signed media URLs never leave the processor: not in what it publishes to EventBridge, not in a
 * log line, not in a dead-letter reason, whichever way an event ends. And what it writes to S3 is
 * SSE-KMS under the configured key. The real handler, with Powertools, against mocked AWS clients
 * and a real local media host.
 */
import { createHash } from 'node:crypto';
import { CreateMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../contract/function-environment';
import { containsUrlQuery, stripUrlQueries } from '../../../contract/redact-url';
import { sampleEvent } from '../../support/events';
import { fakeIdempotencyTable } from '../../support/idempotency-table';
import { serveBytes, startMediaServer, type MediaServer } from '../../support/media-server';
import { captureOutputJson } from '../../support/observability';
import { loadProcessorHandler, resetQueueAndBusMocks } from '../../support/processor-handler';
import { captureS3 } from '../../support/s3-capture';

const s3 = captureS3();
fakeIdempotencyTable();
const sqsMock = mockClient(SQSClient);
const eventBridge = mockClient(EventBridgeClient);
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SIGNATURE = 'X-Amz-Signature=SIGNEDPART&X-Amz-Credential=CREDPART';
let media: MediaServer;
let handler: (event: SQSEvent, context: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

const context = () =>
  ({
    awsRequestId: 'req-nsu',
    functionName: 'processor',
    functionVersion: '1',
    invokedFunctionArn: 'arn',
    memoryLimitInMB: '1024',
    getRemainingTimeInMillis: () => 60_000,
  }) as Context;

function records(...bodies: string[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({ messageId: `m${i}`, receiptHandle: 'r', body, attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {} })),
  } as unknown as SQSEvent;
}

function mediaEvent(id: string, url: string) {
  return JSON.stringify(sampleEvent('media.user_photo', { id, sessionId: 'ses_nsu', createdAt: Date.now(), mediaUrl: url }));
}

/** Runs the handler, returning everything it printed. */
async function run(...bodies: string[]): Promise<string> {
  const out = captureOutputJson();
  try {
    await handler(records(...bodies), context());
  } finally {
    out.restore();
  }
  return out.raw();
}

beforeAll(async () => {
  media = await startMediaServer();
  handler = await loadProcessorHandler(media.host, {
    [ENV.bucketName]: 'archive',
    [ENV.idempotencyTableName]: 't',
    [ENV.eventBusName]: 'bus',
    [ENV.encryptionKeyArn]: KEY_ARN,
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
    POWERTOOLS_METRICS_NAMESPACE: 'FaceSignTest',
  });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await media.close();
});
beforeEach(() => {
  resetQueueAndBusMocks(sqsMock, eventBridge);
  s3.mock.resetHistory();
});

describe('stripUrlQueries and containsUrlQuery', () => {
  it('reduces every URL in a JSON value to its scheme and host, and changes nothing else', () => {
    const value = { a: 'https://h/p?x=1#f', b: ['see http://127.0.0.1:9/x.jpg?sig=2 now', 'no url? fine'], c: { d: 'wss://h/p#frag', n: 3, z: null } };
    expect(stripUrlQueries(value)).toEqual({
      a: 'https://h/[redacted]',
      b: ['see http://127.0.0.1:9/[redacted] now', 'no url? fine'],
      c: { d: 'wss://h/[redacted]', n: 3, z: null },
    });
    expect(containsUrlQuery(JSON.stringify(value))).toBe(true);
    expect(containsUrlQuery(JSON.stringify(stripUrlQueries(value)))).toBe(false);
  });
});

describe('the processor handler never passes a signed URL on', () => {
  it('publishes the stored object (bucket, key, type, size, SHA-256) and the event with its URL reduced to its host', async () => {
    const bytes = Buffer.from('selfie bytes');
    media.route('/selfie.jpg', serveBytes(bytes, 'image/jpeg'));
    const body = mediaEvent('evt_nsu_ok', `${media.origin}/selfie.jpg?${SIGNATURE}#frag`);
    const printed = await run(body);

    const [entry] = eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]);
    expect(containsUrlQuery(entry.Detail!)).toBe(false);
    expect(entry.Detail).not.toContain('SIGNEDPART');
    const detail = JSON.parse(entry.Detail!);
    expect(detail.event.media.url).toBe(`${media.origin}/[redacted]`);
    expect(detail.event).toEqual({ ...JSON.parse(body), media: { ...JSON.parse(body).media, url: `${media.origin}/[redacted]` } });
    expect(detail.media).toEqual({
      bucket: 'archive',
      key: 'media/ses_nsu/media.user_photo/m_1.jpg',
      contentType: 'image/jpeg',
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(containsUrlQuery(printed), printed).toBe(false);
    expect(printed).not.toContain('SIGNEDPART');
  });

  it.each([
    ['dead-lettered at once (404)', '/gone.jpg', 404],
    ['retried (503)', '/busy.jpg', 503],
  ])('logs no query when the download is %s, and puts none in the failure reason', async (_name, path, status) => {
    media.route(path, (_req, res) => res.writeHead(status).end());
    const printed = await run(mediaEvent(`evt_nsu_${status}`, `${media.origin}${path}?${SIGNATURE}`));
    expect(printed).toContain(`evt_nsu_${status}`);
    expect(containsUrlQuery(printed), printed).toBe(false);
    expect(printed).not.toContain('SIGNEDPART');
    for (const call of sqsMock.commandCalls(SendMessageCommand)) {
      expect(JSON.stringify(call.args[0].input.MessageAttributes)).not.toContain('SIGNEDPART');
    }
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('logs no query when the host is not allowed or a redirect leaves the allowed hosts', async () => {
    media.route('/hop.jpg', (_req, res) => res.writeHead(302, { location: `https://elsewhere.example/x.jpg?${SIGNATURE}` }).end());
    const printed = await run(
      mediaEvent('evt_nsu_host', `https://not-allowed.example/x.jpg?${SIGNATURE}`),
      mediaEvent('evt_nsu_redirect', `${media.origin}/hop.jpg?${SIGNATURE}`),
    );
    expect(printed).toContain('media_host_not_allowed');
    expect(printed).toContain('media_redirect_refused');
    expect(containsUrlQuery(printed), printed).toBe(false);
    expect(printed).not.toContain('SIGNEDPART');
    const reasons = sqsMock.commandCalls(SendMessageCommand).map((c) => JSON.stringify(c.args[0].input.MessageAttributes));
    expect(reasons).toHaveLength(2);
    for (const r of reasons) expect(r).not.toContain('SIGNEDPART');
  });

  it('writes the archive and the media SSE-KMS under the configured key, with an S3 Bucket Key', async () => {
    media.route('/doc.jpg', serveBytes(Buffer.from('document'), 'image/jpeg'));
    await run(mediaEvent('evt_nsu_kms', `${media.origin}/doc.jpg?${SIGNATURE}`));
    const writes = [...s3.mock.commandCalls(PutObjectCommand), ...s3.mock.commandCalls(CreateMultipartUploadCommand)].map((c) => c.args[0].input);
    expect(writes.map((w) => w.Key).sort()).toEqual([
      expect.stringMatching(/^events\/ses_nsu\/\d+-evt_nsu_kms\.json$/),
      'media/ses_nsu/media.user_photo/m_1.jpg',
    ]);
    for (const w of writes) expect(w).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY_ARN, BucketKeyEnabled: true });
  });
});
