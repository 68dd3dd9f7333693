/**
 * The paths an outside review found to lose an authentic event's media or misfile it, each driven
 * through the real processor handler with a media host on loopback.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { quarantinedSessionId } from '../../../lambda/processor/quarantine-unit';
import { validContentType } from '../../../lambda/processor/media-types';
import { quarantineKey, quarantineMediaKey } from '../../../lambda/processor/storage-names';
import { sampleEvent } from '../../support/events';
import { fakeIdempotencyTable } from '../../support/idempotency-table';
import { serveBytes } from '../../support/media-server';
import { processorContext, processorTestbed, sqsRecord } from '../../support/processor-handler';
import { captureS3 } from '../../support/s3-capture';

const s3 = captureS3();
const sqsMock = mockClient(SQSClient);
fakeIdempotencyTable();
const eventBridge = mockClient(EventBridgeClient);
const published = () => eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]);
const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const SENT_AT = Date.UTC(2026, 10, 26, 11, 0, 0);
const bed = processorTestbed(sqsMock, eventBridge, s3.mock);
const context = processorContext;
const sqsEvent = (body: string, receiveCount = 1): SQSEvent => ({ Records: [sqsRecord(body, { receiveCount, sentAt: SENT_AT })] });

/** A media event of `type` whose URL points at `path` on the loopback host; `media` fields override. */
function mediaEvent(type: string, id: string, path: string, mediaOverrides: Record<string, unknown> = {}): Record<string, unknown> {
  const event = sampleEvent('media.user_photo', { id, sessionId: `ses_${id}`, createdAt: Date.now(), mediaUrl: `${bed.media.origin}${path}?sig=secret` });
  return { ...event, type, media: { ...(event.media as object), ...mediaOverrides } };
}

/** Where a quarantined body's media file goes: under media/, by its session when it has one (storage-names.ts). */
function quarantinedFile(body: string): string {
  const declared = (JSON.parse(body) as { media?: { contentType?: unknown } }).media?.contentType;
  return quarantineMediaKey(sha(body), SENT_AT, quarantinedSessionId(body), validContentType(declared) ?? 'application/octet-stream');
}

const dlqReasons = () => sqsMock.commandCalls(SendMessageCommand).map((c) => c.args[0].input.MessageAttributes?.failureReason?.StringValue);

describe('an undocumented event type with a media object', () => {
  it('has its file stored through the same path as a documented media event, and published with it', async () => {
    const bytes = randomBytes(2048);
    bed.media.route('/doc-video.mp4', serveBytes(bytes, 'video/mp4'));
    const body = JSON.stringify(mediaEvent('media.document_video', 'evt_dv', '/doc-video.mp4', { contentType: 'video/mp4' }));
    expect(await bed.handler(sqsEvent(body), context())).toEqual({ batchItemFailures: [] });
    const key = 'media/ses_evt_dv/media.document_video/m_1.mp4';
    expect(s3.objects.get(key)?.body.equals(bytes)).toBe(true);
    expect(s3.objects.get(key)?.contentType).toBe('video/mp4');
    const detail = JSON.parse(published().find((e) => e.DetailType === 'media.document_video')!.Detail!);
    expect(detail.media).toMatchObject({ key, bytes: bytes.length });
    expect(dlqReasons()).toEqual([]);
  });

  it('stores the file even when the media object lacks id, expiry and content type', async () => {
    bed.media.route('/bare-doc', serveBytes(Buffer.from('bare'), 'image/png'));
    const body = JSON.stringify({ ...mediaEvent('media.passport_scan', 'evt_bare', '/bare-doc'), media: { url: `${bed.media.origin}/bare-doc?sig=s` } });
    expect(await bed.handler(sqsEvent(body), context())).toEqual({ batchItemFailures: [] });
    expect(s3.objects.get('media/ses_evt_bare/media.passport_scan/evt_bare.bin')?.body.toString()).toBe('bare');
  });

  it('retries a transient download failure like a documented media event', async () => {
    let calls = 0;
    bed.media.route('/doc-flaky.jpg', (req, res) => (++calls === 1 ? void res.writeHead(503).end() : serveBytes(Buffer.from('later'), 'image/jpeg')(req, res)));
    const body = JSON.stringify(mediaEvent('media.document_back', 'evt_dflaky', '/doc-flaky.jpg'));
    const first = sqsEvent(body);
    expect((await bed.handler(first, context())).batchItemFailures).toHaveLength(1);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(1);
    expect(await bed.handler(sqsEvent(body, 2), context())).toEqual({ batchItemFailures: [] });
    expect(s3.objects.get('media/ses_evt_dflaky/media.document_back/m_1.jpg')?.body.toString()).toBe('later');
  });

  it('does not contact a media host that is not allowed: the event is archived only, not dead-lettered', async () => {
    const body = JSON.stringify({ ...mediaEvent('media.elsewhere', 'evt_else', '/x'), media: { id: 'm', url: 'https://evil.example/x.jpg' } });
    expect(await bed.handler(sqsEvent(body), context())).toEqual({ batchItemFailures: [] });
    expect([...s3.objects.keys()].filter((k) => k.startsWith('media/ses_evt_else/'))).toEqual([]);
    expect([...s3.objects.keys()].some((k) => k.startsWith('events/ses_evt_else/'))).toBe(true);
    expect(dlqReasons()).toEqual([]);
  });
});

describe('a quarantined body that carries a media URL', () => {
  it.each([
    ['createdAt as an ISO string', (e: Record<string, unknown>) => ({ ...e, createdAt: '2026-11-26T11:00:00Z' })],
    ['media without contentType, expires, createdAt and id', (e: Record<string, unknown>) => ({ ...e, media: { url: (e.media as { url: string }).url } })],
    ['an over-long id', (e: Record<string, unknown>) => ({ ...e, id: 'x'.repeat(300) })],
  ])('%s: the body is quarantined and its media stored under media/', async (name, change) => {
    const path = `/q-${sha(name).slice(0, 8)}.jpg`;
    const bytes = randomBytes(1500);
    bed.media.route(path, serveBytes(bytes, 'image/jpeg'));
    const body = JSON.stringify(change(mediaEvent('media.user_photo', `evt_q_${sha(name).slice(0, 6)}`, path)));
    expect(await bed.handler(sqsEvent(body), context())).toEqual({ batchItemFailures: [] });
    expect(s3.objects.get(quarantineKey(sha(body), SENT_AT))?.body.toString()).toBe(body);
    const stored = s3.objects.get(quarantinedFile(body));
    expect(stored?.body.equals(bytes)).toBe(true);
    expect(stored?.contentType).toBe('image/jpeg');
    expect(JSON.stringify(stored?.metadata)).not.toContain('secret');
    expect(published()).toEqual([]);
  });

  it('stores an invalid declared content type as application/octet-stream when the host sends none', async () => {
    bed.media.route('/q-noct', (_req, res) => {
      res.removeHeader('content-type');
      res.end(Buffer.from('raw'));
    });
    const event = mediaEvent('media.user_photo', 'evt_q_noct', '/q-noct', { contentType: 'image/jpeg\r\nX-Evil: 1' });
    const body = JSON.stringify({ ...event, sessionId: '' });
    expect(await bed.handler(sqsEvent(body), context())).toEqual({ batchItemFailures: [] });
    expect(s3.objects.get(quarantinedFile(body))?.contentType).toBe('application/octet-stream');
  });

  it('retries a transient download failure with a short visibility, keeping the body archived meanwhile', async () => {
    let calls = 0;
    bed.media.route('/q-flaky.jpg', (req, res) => (++calls === 1 ? void res.writeHead(503).end() : serveBytes(Buffer.from('second'), 'image/jpeg')(req, res)));
    const body = JSON.stringify({ ...mediaEvent('media.user_photo', 'evt_q_flaky', '/q-flaky.jpg'), createdAt: 'yesterday' });
    const first = sqsEvent(body);
    expect(await bed.handler(first, context())).toEqual({ batchItemFailures: [{ itemIdentifier: first.Records[0].messageId }] });
    expect(s3.objects.get(quarantineKey(sha(body), SENT_AT))?.body.toString()).toBe(body);
    expect(s3.objects.has(quarantinedFile(body))).toBe(false);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)[0].args[0].input.VisibilityTimeout).toBeLessThanOrEqual(12);

    expect(await bed.handler(sqsEvent(body, 2), context())).toEqual({ batchItemFailures: [] });
    expect(s3.objects.get(quarantinedFile(body))?.body.toString()).toBe('second');
    // The processor may list and read media/ only (IAM): a quarantine retry looks for the file there, never under quarantine/.
    const reads = [
      ...s3.mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.Prefix),
      ...s3.mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key),
    ];
    expect(reads.filter((k) => !k?.startsWith('media/'))).toEqual([]);
  });

  it('on the last attempt, keeps the body without its media rather than failing it again', async () => {
    bed.media.route('/q-down.jpg', (_req, res) => res.writeHead(503).end());
    const body = JSON.stringify({ ...mediaEvent('media.user_photo', 'evt_q_down', '/q-down.jpg'), createdAt: 'never' });
    expect(await bed.handler(sqsEvent(body, 5), context())).toEqual({ batchItemFailures: [] });
    expect(s3.objects.get(quarantineKey(sha(body), SENT_AT))?.body.toString()).toBe(body);
    expect(s3.objects.has(quarantinedFile(body))).toBe(false);
  });

  it('keeps the body when the host refuses the URL for good, without a retry', async () => {
    bed.media.route('/q-gone.jpg', (_req, res) => res.writeHead(403).end());
    const body = JSON.stringify({ ...mediaEvent('media.user_photo', 'evt_q_gone', '/q-gone.jpg'), sessionId: 7 });
    expect(await bed.handler(sqsEvent(body), context())).toEqual({ batchItemFailures: [] });
    expect(s3.objects.get(quarantineKey(sha(body), SENT_AT))?.body.toString()).toBe(body);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
  });
});

describe('media.expires is advisory', () => {
  it('reads an expiry given in seconds as seconds and stores the file', async () => {
    bed.media.route('/secs.jpg', serveBytes(Buffer.from('seconds'), 'image/jpeg'));
    const body = JSON.stringify(mediaEvent('media.user_photo', 'evt_secs', '/secs.jpg', { expires: Math.floor(Date.now() / 1000) + 900 }));
    expect(await bed.handler(sqsEvent(body), context())).toEqual({ batchItemFailures: [] });
    expect(s3.objects.get('media/ses_evt_secs/media.user_photo/m_1.jpg')?.body.toString()).toBe('seconds');
    expect(dlqReasons()).toEqual([]);
  });

  it("still downloads when FaceSign's clock puts the expiry 2 s behind ours and the URL works", async () => {
    bed.media.route('/skew.jpg', serveBytes(Buffer.from('skewed'), 'image/jpeg'));
    const body = JSON.stringify(mediaEvent('media.user_photo', 'evt_skew', '/skew.jpg', { expires: Date.now() - 2000 }));
    expect(await bed.handler(sqsEvent(body), context())).toEqual({ batchItemFailures: [] });
    expect(s3.objects.get('media/ses_evt_skew/media.user_photo/m_1.jpg')?.body.toString()).toBe('skewed');
  });

  it('dead-letters as media_url_expired when the host refuses a URL past its expiry', async () => {
    bed.media.route('/dead.jpg', (_req, res) => res.writeHead(403).end());
    const body = JSON.stringify(mediaEvent('media.user_photo', 'evt_dead', '/dead.jpg', { expires: Date.now() - 60_000 }));
    expect(await bed.handler(sqsEvent(body), context())).toEqual({ batchItemFailures: [] });
    expect(bed.media.hits.get('/dead.jpg')).toBe(1);
    expect(dlqReasons()).toEqual(['media_url_expired']);
  });

  it('does not schedule a retry of a failed download that would start after the expiry', async () => {
    bed.media.route('/dying.jpg', (_req, res) => res.writeHead(503).end());
    const body = JSON.stringify(mediaEvent('media.user_photo', 'evt_dying', '/dying.jpg', { expires: Date.now() + 3000 }));
    expect(await bed.handler(sqsEvent(body), context())).toEqual({ batchItemFailures: [] });
    expect(dlqReasons()).toEqual(['media_url_expired']);
  });
});

describe('media.contentType is a header', () => {
  it.each([
    ['CR/LF', 'image/jpeg\r\nX-Injected: 1'],
    ['non-ASCII', 'image/jpég'],
    ['not type/subtype', 'jpeg photo'],
  ])('a declared type with %s is not sent to S3: the file is stored as application/octet-stream', async (name, contentType) => {
    const path = `/ct-${sha(name).slice(0, 6)}`;
    bed.media.route(path, (_req, res) => {
      res.removeHeader('content-type');
      res.end(Buffer.from('typed'));
    });
    const id = `evt_ct_${sha(name).slice(0, 6)}`;
    const body = JSON.stringify(mediaEvent('media.user_photo', id, path, { contentType }));
    expect(await bed.handler(sqsEvent(body), context())).toEqual({ batchItemFailures: [] });
    const stored = [...s3.objects.entries()].find(([k]) => k.startsWith(`media/ses_${id}/`));
    expect(stored?.[1].contentType).toBe('application/octet-stream');
    expect(stored?.[1].body.toString()).toBe('typed');
  });

  it("uses the host's valid Content-Type over an invalid declared one", async () => {
    bed.media.route('/ct-host', serveBytes(Buffer.from('host'), 'image/webp'));
    const body = JSON.stringify(mediaEvent('media.user_photo', 'evt_ct_host', '/ct-host', { contentType: 'bad type' }));
    expect(await bed.handler(sqsEvent(body), context())).toEqual({ batchItemFailures: [] });
    expect([...s3.objects.entries()].find(([k]) => k.startsWith('media/ses_evt_ct_host/'))?.[1].contentType).toBe('image/webp');
  });
});

describe('EventBridge DetailType limit', () => {
  it('caps a 256-character event type at 128 characters and keeps the full type in the detail', async () => {
    const type = `custom.${'t'.repeat(249)}`;
    const body = JSON.stringify(sampleEvent(type, { id: 'evt_long_type', sessionId: 'ses_long' }));
    expect(await bed.handler(sqsEvent(body), context())).toEqual({ batchItemFailures: [] });
    const [entry] = published();
    expect(entry.DetailType!.length).toBeLessThanOrEqual(128);
    expect(entry.DetailType).toBe(`${type.slice(0, 110)}~${sha(type).slice(0, 16)}`);
    expect(JSON.parse(entry.Detail!).event.type).toBe(type);
  });
});
