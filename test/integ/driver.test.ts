/**
 * The integration test's driver, run here against local services over HTTP: fauxqs for S3 and SQS,
 * the repo's Secrets Manager stand-in, and a webhook endpoint that checks signatures with the
 * verifier's own module. What cannot run here is AWS itself (see README, "Test it in your account").
 */
import { createServer } from 'node:http';
import * as path from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, PurgeQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseFaceSignEvent } from '../../contract/event';
import { verifyFaceSignSignature } from '../../contract/signature';
import { startSecretsManager, type LocalSecretsManager } from '../../local/secrets-manager-server';
import { listenOnLoopback, type LoopbackListener } from '../../local/services/ports';
import { startSqsS3, type LocalSqsS3 } from '../../local/services/sqs-s3';
import { invokeBundle } from '../support/bundles';
import { DRIVER_BUNDLE_DIR } from './driver-bundle';
import { DRIVER_ENV } from './driver/index';
import {
  alarmNotified,
  deliverFirst,
  deliverRepeat,
  deliverWithWrongSecret,
  expectedKeys,
  fixSecret,
  inspect,
  published,
  recovered,
  runIds,
  type DriverClients,
  type DriverConfig,
} from './driver/drive';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { FIXTURE_BYTES, FIXTURE_CONTENT_TYPE, fixtureBody, fixtureSha256 } from './fixture';

const SECRET = 'integ_test_secret_0123456789';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:integ-test';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

let sqsS3: LocalSqsS3;
let secrets: LocalSecretsManager;
let webhook: LoopbackListener;
let clients: DriverClients;
let config: DriverConfig;
/** What the webhook endpoint received: body, headers, and what it answered. */
let received: { body: string; headers: Record<string, string | string[] | undefined>; status: number }[] = [];

beforeAll(async () => {
  sqsS3 = await startSqsS3();
  secrets = await startSecretsManager({ [SECRET_ARN]: SECRET });
  // Answers as the verifier does for the signature: 200 when it verifies, 401 with the reason otherwise.
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const result = verifyFaceSignSignature(body, req.headers, [SECRET]);
      const status = result.ok ? 200 : 401;
      received.push({ body, headers: req.headers, status });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result.ok ? { received: true } : { error: result.reason, message: result.message }));
    });
  });
  webhook = await listenOnLoopback(server);

  const s3 = new S3Client({ region: 'us-east-1', endpoint: sqsS3.endpoint, forcePathStyle: true, credentials });
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: sqsS3.endpoint, useQueueUrlAsEndpoint: false, credentials });
  const secretsClient = new SecretsManagerClient({ region: 'us-east-1', endpoint: secrets.endpoint, credentials });
  clients = { s3, sqs, secrets: secretsClient };
  await s3.send(new CreateBucketCommand({ Bucket: 'fixture' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'archive' }));
  const queue = async (name: string) => (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  config = {
    runId: 'localrun',
    webhookUrl: `http://127.0.0.1:${webhook.port}/webhooks/facesign`,
    signingSecretArn: SECRET_ARN,
    fixtureBucket: 'fixture',
    archiveBucket: 'archive',
    queueUrl: await queue('main'),
    deadLetterQueueUrl: await queue('dlq'),
    consumerQueueUrl: await queue('consumer'),
    alarmQueueUrl: await queue('alarms'),
  };
});

afterAll(async () => {
  await webhook?.close();
  await secrets?.close();
  await sqsS3?.stop();
});

beforeEach(async () => {
  received = [];
  await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: config.consumerQueueUrl }));
});

describe('deliver', () => {
  it('posts two correctly signed FaceSign events and a tampered one, and reports the answers', async () => {
    const now = Date.now();
    const result = await deliverFirst(config, clients, now);

    expect(result.responses).toEqual({
      sessionStatus: { status: 200 },
      userPhoto: { status: 200 },
      tampered: { status: 401, error: 'signature_mismatch' },
    });
    expect(result.summary).toBe('session.status=200 media.user_photo=200 tampered=401:signature_mismatch');
    expect(received.map((r) => r.status)).toEqual([200, 200, 401]);
    const [status, photo, tampered] = received;
    // The request FaceSign sends: JSON, both signature headers, a valid envelope.
    for (const r of [status, photo]) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-facesign-timestamp']).toMatch(/^\d+$/);
      expect(r.headers['x-facesign-signature']).toMatch(new RegExp(`^t=${r.headers['x-facesign-timestamp']},v1=[0-9a-f]{64}$`));
      expect(parseFaceSignEvent(r.body).ok).toBe(true);
    }
    const ids = runIds('localrun');
    expect(JSON.parse(status.body)).toMatchObject({ id: ids.eventIds.sessionStatus, type: 'session.status', sessionId: ids.sessionId, createdAt: now });
    expect(JSON.parse(photo.body)).toMatchObject({
      id: ids.eventIds.userPhoto,
      type: 'media.user_photo',
      media: { id: ids.mediaId, contentType: FIXTURE_CONTENT_TYPE, expires: now + 15 * 60 * 1000 },
    });
    // The tampered body carries the first event's valid signature over different bytes.
    expect(tampered.body).not.toBe(status.body);
    expect(verifyFaceSignSignature(status.body, tampered.headers, [SECRET]).ok).toBe(true);
  });

  it('presigns a URL that serves the fixture byte for byte, and never answers with it or the secret', async () => {
    const result = await deliverFirst(config, clients, Date.now());
    const url = (JSON.parse(received[1].body) as { media: { url: string } }).media.url;
    expect(url).toContain('X-Amz-Signature=');
    expect(url).toContain('X-Amz-Expires=900');
    expect(result.mediaHost).toBe(new URL(url).host);
    const download = await fetch(url);
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.length).toBe(FIXTURE_BYTES);
    expect(bytes.equals(fixtureBody())).toBe(true);

    const answer = JSON.stringify(result);
    expect(answer).not.toContain(SECRET);
    expect(answer).not.toContain('X-Amz-Signature');
    // A CloudFormation custom resource response must stay under 4 KB.
    expect(answer.length).toBeLessThan(1024);
  });

  it('repeats the same bodies, freshly signed', async () => {
    await deliverFirst(config, clients, Date.now() - 5_000);
    const first = received.slice(0, 2);
    received = [];
    const repeat = await deliverRepeat(config, clients);
    expect(repeat.responses).toEqual({ sessionStatus: { status: 200 }, userPhoto: { status: 200 } });
    expect(repeat.summary).toBe('session.status=200 media.user_photo=200');
    expect(received.map((r) => r.body)).toEqual(first.map((r) => r.body));
  });

  it('fails loudly when the webhook cannot be reached', async () => {
    await expect(deliverFirst({ ...config, webhookUrl: 'http://127.0.0.1:9/webhooks/facesign' }, clients, Date.now())).rejects.toThrow();
  });
});

describe('inspect', () => {
  async function storeAsTheProcessorWould(): Promise<ReturnType<typeof expectedKeys>> {
    await deliverFirst(config, clients, Date.now());
    const bodies = { sessionStatus: received[0].body, userPhoto: received[1].body };
    const keys = expectedKeys(bodies);
    for (const name of ['sessionStatus', 'userPhoto'] as const) {
      await clients.s3.send(new PutObjectCommand({ Bucket: 'archive', Key: keys.archive[name], Body: bodies[name], ContentType: 'application/json' }));
    }
    await clients.s3.send(new PutObjectCommand({ Bucket: 'archive', Key: keys.media, Body: fixtureBody(), ContentType: FIXTURE_CONTENT_TYPE }));
    return keys;
  }

  it('reads back size and SHA-256 of what was stored and compares them with what was sent', async () => {
    const keys = await storeAsTheProcessorWould();
    expect(keys.media).toBe('media/sess-integ-localrun/media.user_photo/m_integ_localrun.jpg');
    const result = await inspect('first', config, clients);
    expect(result.archive.sessionStatus).toMatchObject({
      exists: true,
      matchesExpected: true,
      contentType: 'application/json',
      bytes: received[0].body.length,
    });
    expect(result.archive.userPhoto).toMatchObject({ exists: true, matchesExpected: true });
    expect(result.media).toMatchObject({
      exists: true,
      matchesExpected: true,
      bytes: FIXTURE_BYTES,
      sha256: fixtureSha256(),
      contentType: FIXTURE_CONTENT_TYPE,
    });
    expect(result.objectCounts).toEqual({ events: 2, media: 1 });
    expect(result.queueDrained).toBe(true);
    expect(result.deadLetterQueue).toEqual({ visible: 0, inFlight: 0 });
  });

  it('reports a wrong body, a missing object, a waiting message and a dead letter', async () => {
    const keys = await storeAsTheProcessorWould();
    await clients.s3.send(new PutObjectCommand({ Bucket: 'archive', Key: keys.archive.sessionStatus, Body: '{"changed":true}' }));
    await clients.s3.send(new DeleteObjectCommand({ Bucket: 'archive', Key: keys.media }));
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: config.queueUrl, MessageBody: 'waiting' }));
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: config.deadLetterQueueUrl, MessageBody: 'dead' }));
    try {
      const result = await inspect('first', config, clients);
      expect(result.archive.sessionStatus.matchesExpected).toBe(false);
      expect(result.media.exists).toBe(false);
      expect(result.queueDrained).toBe(false);
      expect(result.deadLetterQueue.visible).toBe(1);
    } finally {
      await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: config.queueUrl }));
      await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: config.deadLetterQueueUrl }));
    }
  });

  it('after a repeat, says whether each object is the one written the first time', async () => {
    const keys = await storeAsTheProcessorWould();
    await inspect('first', config, clients);
    expect((await inspect('repeat', config, clients)).archive.userPhoto.unchangedSinceFirstDelivery).toBe(true);
    // A rewrite (what a repeat processed twice would do) a second later changes LastModified.
    await new Promise((r) => setTimeout(r, 1100));
    await clients.s3.send(new PutObjectCommand({ Bucket: 'archive', Key: keys.archive.userPhoto, Body: received[1].body, ContentType: 'application/json' }));
    const repeat = await inspect('repeat', config, clients);
    expect(repeat.archive.userPhoto).toMatchObject({ matchesExpected: true, unchangedSinceFirstDelivery: false });
    expect(repeat.archive.sessionStatus.unchangedSinceFirstDelivery).toBe(true);
  });
});

describe('published', () => {
  const eventBridgeMessage = (name: 'sessionStatus' | 'userPhoto', url?: string) => {
    const ids = runIds('localrun');
    const type = name === 'sessionStatus' ? 'session.status' : 'media.user_photo';
    return JSON.stringify({
      source: 'facesign.webhooks',
      'detail-type': type,
      detail: {
        event: { id: ids.eventIds[name], type, sessionId: ids.sessionId, ...(url ? { media: { url } } : {}) },
        archive: { bucket: 'archive', key: 'events/x.json' },
        ...(name === 'userPhoto'
          ? { media: { bucket: 'archive', key: 'media/k.jpg', bytes: FIXTURE_BYTES, sha256: fixtureSha256(), contentType: FIXTURE_CONTENT_TYPE } }
          : {}),
      },
    });
  };
  const send = (body: string) => clients.sqs.send(new SendMessageCommand({ QueueUrl: config.consumerQueueUrl, MessageBody: body }));

  it('counts each event once, with its detail-type and stored media', async () => {
    await send(eventBridgeMessage('sessionStatus'));
    await send(eventBridgeMessage('userPhoto', 'https://fixture.s3.amazonaws.com/m.jpg'));
    await send(JSON.stringify({ detail: { event: { id: 'someone-else' } } }));
    const result = await published(config, clients, 8_000);
    expect(result).toEqual({
      count: { sessionStatus: 1, userPhoto: 1 },
      detailType: { sessionStatus: 'session.status', userPhoto: 'media.user_photo' },
      media: { key: 'media/k.jpg', bytes: FIXTURE_BYTES, sha256: fixtureSha256(), contentType: FIXTURE_CONTENT_TYPE },
      mediaUrlHasQuery: false,
      other: 1,
    });
  });

  it('counts a second publish of the same event, and a signed URL left in the detail', async () => {
    await send(eventBridgeMessage('userPhoto', 'https://fixture.s3.amazonaws.com/m.jpg?X-Amz-Signature=abc'));
    await send(eventBridgeMessage('userPhoto', 'https://fixture.s3.amazonaws.com/m.jpg?X-Amz-Signature=abc'));
    const result = await published(config, clients, 8_000);
    expect(result.count).toEqual({ sessionStatus: 0, userPhoto: 2 });
    expect(result.mediaUrlHasQuery).toBe(true);
  });
});

describe('alarmNotified', () => {
  // What SNS delivers to a subscribed queue (raw delivery off): an envelope whose Message is CloudWatch's JSON.
  const notification = (alarmName: string, state: string) =>
    JSON.stringify({
      Type: 'Notification',
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:alarms',
      Message: JSON.stringify({ AlarmName: alarmName, NewStateValue: state, OldStateValue: 'OK' }),
    });
  const send = (body: string) => clients.sqs.send(new SendMessageCommand({ QueueUrl: config.alarmQueueUrl, MessageBody: body }));
  beforeEach(() => clients.sqs.send(new PurgeQueueCommand({ QueueUrl: config.alarmQueueUrl })));

  it('finds the ALARM notification of the named alarm among the OK notifications of the others', async () => {
    await send(notification('Stack-Queue-OldestMessageAge-Critical', 'OK'));
    await send('not json');
    await send(notification('Stack-DeadLetterQueue-VisibleMessages-Critical', 'ALARM'));
    const result = await alarmNotified('Stack-DeadLetterQueue-VisibleMessages-Critical', config, clients, 8_000);
    expect(result.alarmNotified).toBe(true);
  });

  it("does not take an OK, or another alarm's ALARM, for it", async () => {
    await send(notification('Stack-DeadLetterQueue-VisibleMessages-Critical', 'OK'));
    await send(notification('Stack-Queue-OldestMessageAge-Critical', 'ALARM'));
    expect(await alarmNotified('Stack-DeadLetterQueue-VisibleMessages-Critical', config, clients, 8_000)).toEqual({
      alarmNotified: false,
      notificationsRead: 2,
    });
  });
});

describe('the wrong-secret recovery', () => {
  afterAll(() => secrets.put(SECRET_ARN, SECRET));

  it("posts a FaceSign event in FaceSign's exact form signed with a secret the receiver lacks, and reports the 401", async () => {
    await deliverFirst(config, clients, Date.now());
    received = [];
    const now = Date.now();
    const result = await deliverWithWrongSecret(config, clients, now);
    const ids = runIds('localrun');
    expect(result).toEqual({ summary: 'held=401:signature_mismatch', eventId: ids.held.eventId });
    expect(received).toHaveLength(1);
    const [delivery] = received;
    expect(delivery.headers['x-facesign-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(JSON.parse(delivery.body)).toMatchObject({ id: ids.held.eventId, sessionId: ids.held.sessionId, type: 'session.status', createdAt: now });
    expect(JSON.stringify(result)).not.toMatch(/whsec_/);
  });

  it('fixes the secret with both the current one and the one FaceSign used, so both verify', async () => {
    await deliverFirst(config, clients, Date.now());
    await deliverWithWrongSecret(config, clients, Date.now());
    const wrong = received.at(-1)!;
    expect(await fixSecret(config, clients)).toEqual({ activeSecrets: 2 });
    const stored = (await clients.secrets.send(new GetSecretValueCommand({ SecretId: SECRET_ARN }))).SecretString!;
    const active = (JSON.parse(stored) as { secrets: string[] }).secrets;
    expect(active[0]).toBe(SECRET);
    expect(verifyFaceSignSignature(wrong.body, wrong.headers, active).ok).toBe(true);
    // Idempotent: a retried step does not add the secret twice.
    expect(await fixSecret(config, clients)).toEqual({ activeSecrets: 2 });
  });

  it('reads the recovered event back from the archive and counts its publications', async () => {
    await deliverFirst(config, clients, Date.now());
    await deliverWithWrongSecret(config, clients, Date.now());
    const body = received.at(-1)!.body;
    const event = JSON.parse(body) as { id: string; sessionId: string; createdAt: number };
    const before = await recovered(config, clients, 5_000);
    expect(before).toEqual({ archive: expect.objectContaining({ exists: false }), published: 0 });
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: 'archive',
        Key: `events/${event.sessionId}/${event.createdAt}-${event.id}.json`,
        Body: body,
        ContentType: 'application/json',
      }),
    );
    const publish = () =>
      clients.sqs.send(new SendMessageCommand({ QueueUrl: config.consumerQueueUrl, MessageBody: JSON.stringify({ detail: { event: { id: event.id } } }) }));
    await publish();
    expect(await recovered(config, clients, 8_000)).toEqual({
      archive: expect.objectContaining({ exists: true, matchesExpected: true, contentType: 'application/json' }),
      published: 1,
    });
    await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: config.consumerQueueUrl }));
    await publish();
    await publish();
    expect((await recovered(config, clients, 8_000)).published).toBe(2);
  });
});

describe('driver bundle', () => {
  // The bundle the integ app deploys, built by the unit tests' global setup (test/global-setup.ts).
  it('delivers from the bundle the integ app deploys', async () => {
    const outfile = path.join(DRIVER_BUNDLE_DIR, 'index.mjs');
    const env: Record<string, string> = {
      [DRIVER_ENV.runId]: 'bundlerun',
      [DRIVER_ENV.webhookUrl]: config.webhookUrl,
      [DRIVER_ENV.signingSecretArn]: SECRET_ARN,
      [DRIVER_ENV.fixtureBucket]: 'fixture',
      [DRIVER_ENV.archiveBucket]: 'archive',
      [DRIVER_ENV.queueUrl]: config.queueUrl,
      [DRIVER_ENV.deadLetterQueueUrl]: config.deadLetterQueueUrl,
      [DRIVER_ENV.consumerQueueUrl]: config.consumerQueueUrl,
      [DRIVER_ENV.alarmQueueUrl]: config.alarmQueueUrl,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: sqsS3.endpoint,
      AWS_ENDPOINT_URL_SQS: sqsS3.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const [result] = (await invokeBundle(outfile, [{ action: 'deliver', round: 'first' }], env)) as [{ responses: unknown }];
    expect(result.responses).toEqual({ sessionStatus: { status: 200 }, userPhoto: { status: 200 }, tampered: { status: 401, error: 'signature_mismatch' } });
    expect(received.map((r) => JSON.parse(r.body).id)).toEqual(['evt_integ_bundlerun_status', 'evt_integ_bundlerun_photo', 'evt_integ_bundlerun_status']);
  });
});
