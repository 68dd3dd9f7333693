/**
 * The hold of a refused delivery in FaceSign's form: what is stored (exact bytes, signature headers,
 * arrival time, under the key), the cross-instance rate cap, and every fault (counter refusal,
 * counter error, S3 error) counted and dropped while FaceSign still gets its 401. Hung S3 and
 * DynamoDB, with the real handler and SDK clients: timeouts.test.ts.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { HOLD_COUNTER_KEY_PREFIX, parseHeldDelivery } from '../../../contract/held-delivery';
import { METRIC } from '../../../contract/metric-names';
import { signFaceSignPayload } from '../../../contract/signature';
import { handleWebhook, type VerifierDependencies, type WebhookRequest } from '../../../lambda/verifier/handle-webhook';
import { DeliveryHoldStore, type HoldOutcome, type HoldRequest } from '../../../lambda/verifier/hold-store';
import { sampleEvent } from '../../support/events';
import { captureOutputJson, recordingMetrics, silentLogger } from '../../support/observability';
import { Logger } from '@aws-lambda-powertools/logger';
import { HELD_LOG_TEXT } from '../../integ/integ-app';

const NOW_MS = 1_761_595_700_123;
const NOW = Math.floor(NOW_MS / 1000);
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/abc';
const EVENT = sampleEvent('session.status') as { id: string; type: string; sessionId: string };
const BODY = JSON.stringify(EVENT);
const WRONG = signFaceSignPayload(BODY, 'whsec_wrong', NOW);

const s3 = mockClient(S3Client);
const dynamodb = mockClient(DynamoDBClient);
afterEach(() => {
  s3.reset();
  dynamodb.reset();
});

function store(maxPerHour = 1000): DeliveryHoldStore {
  return new DeliveryHoldStore({
    s3: new S3Client({ region: 'eu-west-1' }),
    bucket: 'archive',
    encryptionKeyArn: KEY_ARN,
    dynamodb: new DynamoDBClient({ region: 'eu-west-1' }),
    counterTable: 'idempotency',
    maxPerHour,
  });
}

const holdRequest = (receivedAtMs = NOW_MS): HoldRequest => ({
  bytes: Buffer.from(BODY, 'utf8'),
  headers: { 'X-FaceSign-Signature': WRONG.signature, 'X-FaceSign-Timestamp': String(NOW), 'Content-Type': 'application/json' },
  receivedAtMs,
  lookalike: { id: EVENT.id, type: EVENT.type, sessionId: EVENT.sessionId, signedAt: NOW },
});

describe('DeliveryHoldStore', () => {
  it('counts the hold in the hour and stores the exact bytes, the signature headers and the arrival time, SSE-KMS', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    const outcome = await store(5).hold(holdRequest());
    const sha = createHash('sha256').update(BODY).digest('hex');
    expect(outcome).toEqual({ held: true, key: `held/2025/10/27/${NOW_MS}-${sha}.json` });

    const [update] = dynamodb.commandCalls(UpdateItemCommand);
    const hour = Math.floor(NOW / 3600);
    expect(update.args[0].input).toMatchObject({
      TableName: 'idempotency',
      Key: { id: { S: `${HOLD_COUNTER_KEY_PREFIX}${hour}` } },
      ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
      ExpressionAttributeValues: { ':one': { N: '1' }, ':max': { N: '5' }, ':expiration': { N: String((hour + 2) * 3600) } },
    });

    const [put] = s3.commandCalls(PutObjectCommand);
    const input = put.args[0].input;
    expect(input).toMatchObject({
      Bucket: 'archive',
      Key: outcome.held && outcome.key,
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: KEY_ARN,
      BucketKeyEnabled: true,
    });
    const held = parseHeldDelivery(String(input.Body));
    expect(Buffer.from(held.body, 'base64').toString('utf8')).toBe(BODY);
    expect(held).toMatchObject({
      receivedAt: NOW_MS,
      headers: { 'x-facesign-signature': WRONG.signature, 'x-facesign-timestamp': String(NOW), 'content-type': 'application/json' },
      claimed: { id: EVENT.id, type: EVENT.type, sessionId: EVENT.sessionId },
    });
  });

  it('keeps a body byte for byte, a byte order mark and invalid UTF-8 included', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(BODY), Buffer.from([0xff])]);
    await store().hold({ ...holdRequest(), bytes });
    const held = parseHeldDelivery(String(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body));
    expect(Buffer.from(held.body, 'base64').equals(bytes)).toBe(true);
  });

  it("leaves out an X-FaceSign-Timestamp too long to be FaceSign's", async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    await store().hold({ ...holdRequest(), headers: { 'x-facesign-signature': WRONG.signature, 'x-facesign-timestamp': '1'.repeat(65) } });
    const held = parseHeldDelivery(String(s3.commandCalls(PutObjectCommand)[0].args[0].input.Body));
    expect(held.headers).toEqual({ 'x-facesign-signature': WRONG.signature });
  });

  it('drops a hold over the hourly cap (the counter refuses) without storing it, and asks the counter no more that hour', async () => {
    dynamodb.on(UpdateItemCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    const holds = store(1);
    expect(await holds.hold(holdRequest())).toEqual({ held: false, reason: 'rate_limit' });
    expect(await holds.hold(holdRequest(NOW_MS + 1000))).toEqual({ held: false, reason: 'rate_limit' });
    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(1);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    // The next hour asks again.
    dynamodb.on(UpdateItemCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    expect((await holds.hold(holdRequest(NOW_MS + 3600_000))).held).toBe(true);
  });

  it('drops the hold when the counter cannot be read, rather than holding without a cap', async () => {
    dynamodb.on(UpdateItemCommand).rejects(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
    expect(await store().hold(holdRequest())).toEqual({ held: false, reason: 'counter_unavailable', errorName: 'ProvisionedThroughputExceededException' });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('reports an S3 error as store_unavailable', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('down'), { name: 'ServiceUnavailable' }));
    expect(await store().hold(holdRequest())).toEqual({ held: false, reason: 'store_unavailable', errorName: 'ServiceUnavailable' });
  });
});

describe("handleWebhook: the hold of a refused delivery in FaceSign's form", () => {
  function harness(hold?: (request: HoldRequest) => Promise<HoldOutcome>) {
    const recorded = recordingMetrics();
    const holds: HoldRequest[] = [];
    const enqueued: unknown[] = [];
    const deps: VerifierDependencies = {
      metrics: recorded.metrics,
      secrets: { get: async () => ['whsec_right'], refreshAfterMismatch: async () => undefined },
      enqueue: async (e) => void enqueued.push(e),
      logger: silentLogger(),
      toleranceSeconds: 7 * 24 * 3600,
      maxBodyBytes: 256 * 1024,
      now: () => NOW_MS,
      hold: hold
        ? (request) => {
            holds.push(request);
            return hold(request);
          }
        : undefined,
    };
    return { deps, holds, enqueued, count: recorded.count };
  }
  const request = (body: string, signature: string): WebhookRequest => ({
    headers: { 'content-type': 'application/json', 'x-facesign-signature': signature },
    body,
    isBase64Encoded: false,
  });
  const unauthorized = { statusCode: 401, body: { error: 'signature_mismatch', message: expect.any(String) } };

  it('holds the exact bytes at the arrival time, counts DeliveriesHeld, and still answers 401', async () => {
    const { deps, holds, enqueued, count } = harness(async () => ({ held: true, key: 'held/k' }));
    expect(await handleWebhook(request(BODY, WRONG.signature), deps)).toEqual(unauthorized);
    expect(holds).toHaveLength(1);
    expect(Buffer.from(holds[0].bytes).toString('utf8')).toBe(BODY);
    expect(holds[0]).toMatchObject({ receivedAtMs: NOW_MS, lookalike: { id: EVENT.id }, headers: { 'x-facesign-signature': WRONG.signature } });
    expect(count(METRIC.deliveriesHeld)).toBe(1);
    expect(count(METRIC.deliveriesHeld, { EventType: EVENT.type })).toBe(1);
    expect(count(METRIC.holdsDropped)).toBe(0);
    expect(enqueued).toHaveLength(0);
  });

  it.each(['rate_limit', 'counter_unavailable', 'store_unavailable'] as const)('counts a hold dropped for %s, and still answers 401', async (reason) => {
    const { deps, count } = harness(async () => ({ held: false, reason }));
    expect(await handleWebhook(request(BODY, WRONG.signature), deps)).toEqual(unauthorized);
    expect(count(METRIC.holdsDropped, { Reason: reason })).toBe(1);
    expect(count(METRIC.deliveriesHeld)).toBe(0);
    expect(count(METRIC.wrongSecretSuspected)).toBe(1);
  });

  it('logs the held delivery with its event id, in the words the integration test looks for', async () => {
    const output = captureOutputJson();
    try {
      const { deps } = harness(async () => ({ held: true, key: 'held/k' }));
      await handleWebhook(request(BODY, WRONG.signature), { ...deps, logger: new Logger({ serviceName: 'test', logLevel: 'INFO' }) });
    } finally {
      output.restore();
    }
    const line = output.lines().find((l) => String(l.message).startsWith(HELD_LOG_TEXT));
    expect(line).toMatchObject({ eventId: EVENT.id, heldKey: 'held/k' });
    // Never the signature header.
    expect(output.raw()).not.toContain(WRONG.signature);
  });

  it('answers 401 even when the hold throws', async () => {
    const { deps, count } = harness(async () => {
      throw new Error('bug');
    });
    expect(await handleWebhook(request(BODY, WRONG.signature), deps)).toEqual(unauthorized);
    expect(count(METRIC.holdsDropped, { Reason: 'store_unavailable' })).toBe(1);
  });

  it("never holds a forgery that is not in FaceSign's form, nor an authentic delivery", async () => {
    const { deps, holds, enqueued } = harness(async () => ({ held: true, key: 'held/k' }));
    const notEnvelope = JSON.stringify({ hello: 'world' });
    await handleWebhook(request(notEnvelope, signFaceSignPayload(notEnvelope, 'whsec_wrong', NOW).signature), deps);
    await handleWebhook(request(BODY, `t=${NOW}, v1=${'a'.repeat(64)}`), deps);
    await handleWebhook(request(BODY, signFaceSignPayload(BODY, 'whsec_wrong', NOW - 8 * 24 * 3600).signature), deps);
    expect(holds).toHaveLength(0);
    expect(await handleWebhook(request(BODY, signFaceSignPayload(BODY, 'whsec_right', NOW).signature), deps)).toEqual({
      statusCode: 200,
      body: { received: true },
    });
    expect(holds).toHaveLength(0);
    expect(enqueued).toHaveLength(1);
  });
});
