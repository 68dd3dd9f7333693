import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { processRecord, type RecordDependencies } from '../../../lambda/processor/routing';
import { archiveQuarantinedBody, type QuarantineInput, type QuarantineUnitDependencies } from '../../../lambda/processor/quarantine-unit';
import { quarantineKey, quarantineMediaKey } from '../../../lambda/processor/storage-names';
import { deadlineIn } from '../../../lambda/processor/deadline';
import type { MediaPolicy } from '../../../lambda/shared/config';
import { sampleEvent } from '../../support/events';
import { fakeIdempotencyTable } from '../../support/idempotency-table';
import { recordingMetrics } from '../../support/observability';
import {
  loadProcessorHandler,
  processorContext,
  recordDependencies,
  resetQueueAndBusMocks,
  sqsRecord,
  type ProcessorHandler,
} from '../../support/processor-handler';
import { captureS3 } from '../../support/s3-capture';

const s3 = captureS3();
const sqsMock = mockClient(SQSClient);
const eventBridge = mockClient(EventBridgeClient);
const table = fakeIdempotencyTable();
const SENT_AT = Date.UTC(2025, 9, 27, 23, 59, 58);
const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

const record = (body: string, attributes: Record<string, string> = {}): SQSRecord => sqsRecord(body, { sentAt: SENT_AT, attributes });

beforeEach(() => resetQueueAndBusMocks(sqsMock, eventBridge));
afterEach(() => {
  s3.mock.resetHistory();
  s3.objects.clear();
});

describe('quarantineKey', () => {
  it('is quarantine/<yyyy>/<mm>/<dd>/<sha256>.json, dated in UTC', () => {
    expect(quarantineKey('ab'.repeat(32), SENT_AT)).toBe(`quarantine/2025/10/27/${'ab'.repeat(32)}.json`);
  });
});

describe('quarantineMediaKey', () => {
  const sha256 = 'cd'.repeat(32);
  it('is media/<sessionId>/quarantine/<sha256>.<ext> when the body has a usable session id', () => {
    expect(quarantineMediaKey(sha256, SENT_AT, 'ses/1', 'image/jpeg')).toBe(`media/ses%2F1/quarantine/${sha256}.jpg`);
  });
  it('is media/_unknown-session/quarantine/<yyyy>/<mm>/<dd>/<sha256>.<ext> without one, dated in UTC', () => {
    expect(quarantineMediaKey(sha256, SENT_AT, undefined, 'application/octet-stream')).toBe(`media/_unknown-session/quarantine/2025/10/27/${sha256}.bin`);
  });
});

const POLICY: MediaPolicy = { allowedHosts: ['media.facesign.ai'], allowHttpLoopback: true, downloadTimeoutMs: 5000, maxBytes: 1024 };
function unitDeps(policy: MediaPolicy = POLICY): QuarantineUnitDependencies {
  return { s3: s3.client, bucket: 'b', policy, now: () => SENT_AT };
}
const unitOptions = (attempt = 1) => ({ deadline: deadlineIn(60_000), attempt });

describe('archiveQuarantinedBody', () => {
  it('stores the body byte for byte, with the problem and hash as metadata', async () => {
    const body = '{"id":1,  "note":"Zoë 🙂"}';
    const input: QuarantineInput = { rawBody: body, bodySha256: sha(body), problem: 'invalid_id', message: 'm', receivedAt: SENT_AT };
    const result = await archiveQuarantinedBody(input, unitDeps(), unitOptions());
    expect(result).toMatchObject({ bucket: 'b', key: quarantineKey(sha(body), SENT_AT), problem: 'invalid_id', bodySha256: sha(body) });
    const stored = s3.objects.get(result.key)!;
    expect(stored.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(stored.metadata).toEqual({ 'facesign-quarantine-reason': 'invalid_id', 'facesign-body-sha256': sha(body) });
    expect(s3.mock.commandCalls(PutObjectCommand)[0].args[0].input.IfNoneMatch).toBe('*');
  });

  it('a body already quarantined (412: the media failed after it was written) counts as stored', async () => {
    const body = '{"id":2}';
    s3.mock.on(PutObjectCommand).rejects(new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 } }));
    try {
      const input: QuarantineInput = { rawBody: body, bodySha256: sha(body), problem: 'invalid_id', message: 'm', receivedAt: SENT_AT };
      expect(await archiveQuarantinedBody(input, unitDeps(), unitOptions(2))).toMatchObject({ key: quarantineKey(sha(body), SENT_AT) });
    } finally {
      s3.mock.on(PutObjectCommand).callsFake(s3.putObject);
    }
  });
});

describe('processRecord with quarantine', () => {
  let recorded = recordingMetrics();
  beforeEach(() => {
    recorded = recordingMetrics();
  });
  function deps(overrides: Partial<RecordDependencies> = {}): RecordDependencies {
    return recordDependencies(recorded.metrics, {
      processEventOnce: vi.fn(),
      quarantineOnce: (input, options) => archiveQuarantinedBody(input, unitDeps(), options),
      ...overrides,
    });
  }

  it('re-validates itself: an unmarked unrecognized body is quarantined, not dead-lettered or processed', async () => {
    const body = JSON.stringify({ ...sampleEvent('session.status'), createdAt: '2025-10-27T19:50:51Z' });
    const d = deps();
    const outcome = await processRecord(record(body), d);
    expect(outcome).toMatchObject({ status: 'quarantined', quarantine: { problem: 'invalid_created_at', key: quarantineKey(sha(body), SENT_AT) } });
    expect(s3.objects.get(quarantineKey(sha(body), SENT_AT))?.body.toString('utf8')).toBe(body);
    expect(d.processEventOnce).not.toHaveBeenCalled();
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(recorded.count('EventsQuarantined')).toBe(1);
    expect(recorded.count('EventsQuarantined', { Reason: 'invalid_created_at' })).toBe(1);
  });

  it('does not trust the attribute: a marked body that is a valid envelope is processed normally', async () => {
    const body = JSON.stringify(sampleEvent('session.status'));
    const processEventOnce = vi.fn(async () => ({
      eventId: 'e',
      eventType: 'session.status',
      sessionId: 's',
      archive: { bucket: 'b', key: 'k' },
      processedAt: '',
    }));
    const outcome = await processRecord(record(body, { unrecognizedEnvelope: 'invalid_id' }), deps({ processEventOnce }));
    expect(outcome.status).toBe('processed');
    expect(processEventOnce).toHaveBeenCalledTimes(1);
    expect([...s3.objects.keys()].filter((k) => k.startsWith('quarantine/'))).toEqual([]);
    expect(recorded.count('EventsQuarantined')).toBe(0);
  });

  it('counts the problem it found itself when the attribute names another', async () => {
    const body = JSON.stringify({ ...sampleEvent('media.user_photo'), media: undefined });
    await processRecord(record(body, { unrecognizedEnvelope: 'invalid_id' }), deps());
    expect(recorded.count('EventsQuarantined', { Reason: 'missing_media' })).toBe(1);
    expect(recorded.count('EventsQuarantined', { Reason: 'invalid_id' })).toBe(0);
  });

  it('still dead-letters a body that is not a JSON object as invalid_envelope', async () => {
    const outcome = await processRecord(record('[1,2]'), deps());
    expect(outcome).toEqual({ status: 'dead_lettered', reason: 'invalid_envelope' });
    expect(s3.objects.size).toBe(0);
  });

  it('rethrows when the archive cannot be written, counting a transient failure, so the record is retried', async () => {
    const failing = deps({
      quarantineOnce: async () => {
        throw Object.assign(new Error('slow down'), { name: 'SlowDown' });
      },
    });
    const body = JSON.stringify({ ...sampleEvent('session.status'), sessionId: '' });
    await expect(processRecord(record(body), failing)).rejects.toThrow('slow down');
    expect(recorded.count('TransientFailures', { Reason: 'dependency_error' })).toBe(1);
    expect(recorded.count('EventsQuarantined')).toBe(0);
  });

  it("stores a quarantined body's file under media/<sessionId>/quarantine/ and publishes its URL headroom once", async () => {
    const host = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(Buffer.from('selfie')));
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    const { port } = host.address() as AddressInfo;
    try {
      const policy = { allowedHosts: [`127.0.0.1:${port}`], allowHttpLoopback: true, downloadTimeoutMs: 5000, maxBytes: 1024 };
      const event = sampleEvent('media.user_photo', { sessionId: 'ses_qm', mediaUrl: `http://127.0.0.1:${port}/m.jpg?sig=s`, expires: Date.now() + 600_000 });
      const body = JSON.stringify({ ...event, createdAt: 'late' });
      const outcome = await processRecord(
        record(body),
        deps({ quarantineOnce: (input, options) => archiveQuarantinedBody(input, { ...unitDeps(policy), now: Date.now }, options) }),
      );
      const mediaKey = `media/ses_qm/quarantine/${sha(body)}.jpg`;
      expect(outcome).toMatchObject({ status: 'quarantined', quarantine: { media: { key: mediaKey, bytes: 6 } } });
      expect(s3.objects.get(mediaKey)?.body.toString()).toBe('selfie');
      expect([...s3.objects.keys()].filter((k) => k.startsWith('quarantine/'))).toEqual([quarantineKey(sha(body), SENT_AT)]);
      const headroom = recorded.records.filter((r) => r.name === 'MediaUrlHeadroom');
      expect(headroom).toHaveLength(1);
      expect(headroom[0].unit).toBe('Seconds');
      expect(headroom[0].value).toBeGreaterThan(590);
      expect(headroom[0].value).toBeLessThanOrEqual(600);
    } finally {
      await new Promise((resolve) => host.close(resolve));
    }
  });

  it('a body whose media download fails on the last attempt is quarantined without it: paged as quarantined, not counted as a dead letter', async () => {
    const host = createServer((_req, res) => res.writeHead(503).end());
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    const { port } = host.address() as AddressInfo;
    try {
      const policy = { allowedHosts: [`127.0.0.1:${port}`], allowHttpLoopback: true, downloadTimeoutMs: 5000, maxBytes: 1024 };
      const event = sampleEvent('media.user_photo', { mediaUrl: `http://127.0.0.1:${port}/m.jpg?sig=s`, expires: Date.now() + 600_000 });
      const body = JSON.stringify({ ...event, createdAt: 'late' });
      const last = { ...record(body), attributes: { ...record(body).attributes, ApproximateReceiveCount: '5' } };
      const outcome = await processRecord(
        last,
        deps({ quarantineOnce: (input, options) => archiveQuarantinedBody(input, { ...unitDeps(policy), now: Date.now }, options) }),
      );
      expect(outcome).toMatchObject({
        status: 'quarantined',
        quarantine: { key: quarantineKey(sha(body), SENT_AT), mediaFailure: { reason: 'media_server_error' } },
      });
      expect(s3.objects.get(quarantineKey(sha(body), SENT_AT))?.body.toString('utf8')).toBe(body);
      expect(recorded.count('EventsQuarantined')).toBe(1);
      expect(recorded.count('PermanentFailures')).toBe(0);
      expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
    } finally {
      await new Promise((resolve) => host.close(resolve));
    }
  });
});

describe('processor Lambda handler: quarantine', () => {
  let handler: ProcessorHandler;
  const context = processorContext;

  beforeAll(async () => {
    handler = await loadProcessorHandler('media.facesign.ai');
  });
  afterAll(() => vi.unstubAllEnvs());

  it('archives each of the unrecognized envelopes once, keyed by the body hash, and publishes none of them', async () => {
    const base = sampleEvent('session.status', { id: 'evt_q1', sessionId: 'ses_q' });
    const { id: _id, ...noId } = base;
    const bodies = [JSON.stringify(noId), JSON.stringify({ ...base, id: 7 }), JSON.stringify({ ...base, sessionId: undefined })];
    const response = await handler({ Records: bodies.map((b) => record(b)) }, context());
    expect(response).toEqual({ batchItemFailures: [] });
    for (const body of bodies) expect(s3.objects.get(quarantineKey(sha(body), SENT_AT))?.body.toString('utf8')).toBe(body);
    expect([...s3.objects.keys()].filter((k) => !k.startsWith('quarantine/'))).toEqual([]);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect([...table.items.keys()].filter((k) => k.startsWith('facesign-webhooks-quarantine#'))).toHaveLength(3);

    // The same bytes again (a FaceSign retry as a new message) are a duplicate; a different version is not.
    const puts = s3.mock.commandCalls(PutObjectCommand).length;
    const other = JSON.stringify({ ...noId, extra: true });
    expect(await handler({ Records: [record(bodies[0]), record(other)] }, context())).toEqual({ batchItemFailures: [] });
    expect(s3.mock.commandCalls(PutObjectCommand).length).toBe(puts + 1);
    expect(s3.objects.get(quarantineKey(sha(other), SENT_AT))?.body.toString('utf8')).toBe(other);
  });

  it('does not let an unrecognized version hide the valid event with the same id', async () => {
    const valid = sampleEvent('session.status', { id: 'evt_q2', sessionId: 'ses_q2' });
    const broken = JSON.stringify({ ...valid, createdAt: '2025-10-27T19:50:51Z' });
    await handler({ Records: [record(broken)] }, context());
    expect(await handler({ Records: [record(JSON.stringify(valid))] }, context())).toEqual({ batchItemFailures: [] });
    expect(s3.objects.get('events/ses_q2/1761595700000-evt_q2.json')?.body.toString('utf8')).toBe(JSON.stringify(valid));
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(1);
  });
});
