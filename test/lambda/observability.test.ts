import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../contract/function-environment';
import { signFaceSignPayload } from '../../contract/signature';
import { sampleEvent } from '../support/events';
import { fakeIdempotencyTable } from '../support/idempotency-table';
import { serveBytes, startMediaServer, type MediaServer } from '../support/media-server';
import { captureOutputJson } from '../support/observability';
import { captureS3 } from '../support/s3-capture';

// What the real handlers print: JSON log lines carrying the event's ids, EMF metrics, no secrets.
captureS3();
fakeIdempotencyTable();
const sqsMock = mockClient(SQSClient);
const secretsMock = mockClient(SecretsManagerClient);
let media: MediaServer;
const SIGNING_SECRET = 'whsec_never_log_me';

const context = (name: string) =>
  ({
    awsRequestId: 'req-obs',
    functionName: name,
    functionVersion: '1',
    invokedFunctionArn: 'arn',
    memoryLimitInMB: '512',
    getRemainingTimeInMillis: () => 60_000,
  }) as Context;

beforeAll(async () => {
  media = await startMediaServer();
  media.route('/selfie.jpg', serveBytes(Buffer.from('jpeg bytes'), 'image/jpeg'));
  for (const [k, v] of Object.entries({
    [ENV.bucketName]: 'b',
    [ENV.idempotencyTableName]: 't',
    [ENV.queueUrl]: 'https://sqs/q',
    [ENV.deadLetterQueueUrl]: 'https://sqs/dlq',
    [ENV.signingSecretArn]: 'arn:secret',
    [ENV.allowedMediaHosts]: media.host,
    [ENV.mediaAllowHttpLoopback]: 'true',
    AWS_REGION: 'eu-west-1',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_NAMESPACE: 'FaceSignTest',
  }))
    vi.stubEnv(k, v);
  sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm' });
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: SIGNING_SECRET });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await media.close();
});

describe('processor logs and metrics', () => {
  it('every line about a media event carries its ids, and no line carries the signed query string', async () => {
    vi.resetModules();
    const { handler } = await import('../../lambda/processor/index.js');
    const body = JSON.stringify(
      sampleEvent('media.user_photo', {
        id: 'evt_obs',
        sessionId: 'ses_obs',
        createdAt: Date.now(),
        mediaUrl: `${media.origin}/selfie.jpg?X-Amz-Signature=SIGNEDPART`,
      }),
    );
    const out = captureOutputJson();
    try {
      const event = {
        Records: [{ messageId: 'm1', receiptHandle: 'r', body, attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {} }],
      } as unknown as SQSEvent;
      expect(await handler(event, context('processor'))).toEqual({ batchItemFailures: [] });
    } finally {
      out.restore();
    }
    expect(out.raw()).not.toContain('SIGNEDPART');
    const logs = out.lines().filter((l) => 'level' in l);
    const eventLines = logs.filter((l) => l.eventId === 'evt_obs');
    expect(eventLines.map((l) => l.message)).toEqual(expect.arrayContaining(['media stored', 'event processed']));
    for (const line of eventLines) {
      expect(line).toMatchObject({ sessionId: 'ses_obs', eventType: 'media.user_photo', service: 'facesign-processor', function_request_id: 'req-obs' });
      expect(line).toHaveProperty('cold_start');
    }
    const stored = eventLines.find((l) => l.message === 'media stored');
    expect(stored?.source).toBe(`${media.origin}/[redacted]`);

    const emf = out.lines().filter((l) => '_aws' in l);
    const names = emf.flatMap((l) =>
      (l._aws as { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string }> }> }).CloudWatchMetrics.flatMap((m) =>
        m.Metrics.map((x) => `${m.Namespace}/${x.Name}`),
      ),
    );
    expect(names).toEqual(
      expect.arrayContaining([
        'FaceSignTest/EventsProcessed',
        'FaceSignTest/MediaBytesStored',
        'FaceSignTest/MediaDownloadTime',
        'FaceSignTest/MediaUrlHeadroom',
      ]),
    );
    // The URL's time left when the download finished: just under the 15 minutes the sample URL had.
    const headroomLine = emf.find((l) => 'MediaUrlHeadroom' in l);
    const units = (headroomLine?._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string; Unit: string }> }> }).CloudWatchMetrics.flatMap(
      (m) => m.Metrics,
    );
    expect(units.find((m) => m.Name === 'MediaUrlHeadroom')?.Unit).toBe('Seconds');
    expect(headroomLine?.MediaUrlHeadroom).toBeGreaterThan(880);
    expect(headroomLine?.MediaUrlHeadroom).toBeLessThanOrEqual(900);
    const bytesLine = emf.find((l) => 'MediaBytesStored' in l);
    expect(bytesLine?.MediaBytesStored).toBe(10);
    expect(bytesLine?.service).toBe('facesign-processor');
  });
});

describe('verifier logs', () => {
  it('never prints the signing secret or the signature header, and tags the queued event with its ids', async () => {
    vi.resetModules();
    const { handler } = await import('../../lambda/verifier/index.js');
    const body = JSON.stringify(sampleEvent('session.status', { id: 'evt_v', sessionId: 'ses_v' }));
    const signed = signFaceSignPayload(body, SIGNING_SECRET);
    const forged = signFaceSignPayload(body, 'whsec_other');
    const out = captureOutputJson();
    try {
      for (const s of [signed, forged]) {
        await handler({ headers: { 'x-facesign-signature': s.signature }, body, isBase64Encoded: false } as never, context('verifier'));
      }
    } finally {
      out.restore();
    }
    const raw = out.raw();
    expect(raw).not.toContain(SIGNING_SECRET);
    expect(raw).not.toContain(signed.signature.split('v1=')[1]);
    expect(raw).not.toContain(forged.signature.split('v1=')[1]);
    const queued = out.lines().find((l) => l.message === 'event verified and queued');
    expect(queued).toMatchObject({ eventId: 'evt_v', sessionId: 'ses_v', eventType: 'session.status' });
    const rejected = out.lines().find((l) => l.message === 'webhook rejected');
    expect(rejected).toMatchObject({ error: 'signature_mismatch', statusCode: 401 });
    const failures = out.lines().find((l) => 'SignatureFailures' in l && l.Reason === 'signature_mismatch');
    expect(failures).toBeDefined();
  });
});
