import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { eventHandlers } from '../../../lambda/processor/event-handlers';
import { processEvent } from '../../../lambda/processor/process-event';
import { eventArchiveKey, extensionFor, mediaKey } from '../../../lambda/processor/s3-keys';
import { FACESIGN_EVENT_TYPES, type FaceSignMediaEvent } from '../../../contract/event';
import { sampleEvent } from '../../support/events';
import { silentLogger } from '../../support/observability';
import { captureS3 } from '../../support/s3-capture';

const s3 = captureS3();
const NOW = 1_761_595_800_000;

function run(event: Record<string, unknown>, rawBody = JSON.stringify(event)) {
  const storeMedia = vi.fn(async (e: FaceSignMediaEvent) => ({
    bucket: 'b',
    key: mediaKey(e),
    bytes: 3,
    sha256: 'abc',
    contentType: 'image/jpeg',
    durationMs: 5,
  }));
  const promise = processEvent({ event: event as never, rawBody }, { s3: s3.client, bucket: 'b', storeMedia, logger: silentLogger(), now: () => NOW });
  return { promise, storeMedia };
}

describe('processEvent', () => {
  it.each(FACESIGN_EVENT_TYPES)('archives %s byte for byte under events/<session>/<createdAt>-<id>.json', async (type) => {
    const event = sampleEvent(type, { id: 'evt_9', sessionId: 'ses_9', createdAt: 1761595700000 });
    const rawBody = JSON.stringify(event, null, 3);
    const { promise, storeMedia } = run(event, rawBody);
    const result = await promise;
    expect(result.archive).toEqual({ bucket: 'b', key: 'events/ses_9/1761595700000-evt_9.json' });
    const object = s3.objects.get(result.archive.key);
    expect(object?.body.toString('utf8')).toBe(rawBody);
    expect(object?.contentType).toBe('application/json');
    expect(object?.metadata).toEqual({ 'facesign-event-id': 'evt_9', 'facesign-event-type': type, 'facesign-session-id': 'ses_9' });
    expect(result.processedAt).toBe(new Date(NOW).toISOString());
    expect(storeMedia).toHaveBeenCalledTimes(type.startsWith('media.') ? 1 : 0);
    expect(Boolean(result.media)).toBe(type.startsWith('media.'));
  });

  it('archives an undocumented event type and stores no media', async () => {
    const { promise, storeMedia } = run({ ...sampleEvent('session.status'), type: 'session.deleted' });
    const result = await promise;
    expect(result.eventType).toBe('session.deleted');
    expect(s3.objects.has(result.archive.key)).toBe(true);
    expect(storeMedia).not.toHaveBeenCalled();
  });

  it('fails, rather than completing, when the archive write fails', async () => {
    const failing = { send: async () => Promise.reject(new Error('AccessDenied')) } as unknown as S3Client;
    const storeMedia = vi.fn();
    const event = sampleEvent('media.user_photo');
    await expect(
      processEvent({ event: event as never, rawBody: JSON.stringify(event) }, { s3: failing, bucket: 'b', storeMedia, logger: silentLogger() }),
    ).rejects.toThrow('AccessDenied');
    expect(storeMedia).not.toHaveBeenCalled();
  });

  it('has a handler for every documented type', () => {
    expect(Object.keys(eventHandlers).sort()).toEqual([...FACESIGN_EVENT_TYPES].sort());
  });
});

describe('S3 keys', () => {
  it('percent-encodes ids so they cannot add or escape prefixes', () => {
    expect(eventArchiveKey({ id: 'a/b', sessionId: '..', createdAt: 5 })).toBe('events/%2E%2E/5-a%2Fb.json');
    const event = sampleEvent('media.document_photo', { sessionId: 's/1' }) as unknown as FaceSignMediaEvent;
    expect(mediaKey(event)).toBe('media/s%2F1/media.document_photo/m_1.jpg');
  });

  it.each([
    ['image/jpeg', 'jpg'],
    ['image/png', 'png'],
    ['video/mp4', 'mp4'],
    ['video/quicktime', 'mov'],
    ['image/avif', 'avif'],
    ['image/svg+xml', 'bin'],
    ['nonsense', 'bin'],
    ['IMAGE/JPEG; charset=binary', 'jpg'],
  ])('names %s files .%s', (type, ext) => {
    expect(extensionFor(type)).toBe(ext);
  });
});

describe('processEvent: publishing to EventBridge', () => {
  it('publishes last, with the archive and media locations', async () => {
    const publish = vi.fn(async () => undefined);
    const event = sampleEvent('media.user_photo', { id: 'evt_pub', sessionId: 'ses_pub' });
    const storeMedia = vi.fn(async (e: FaceSignMediaEvent) => ({
      bucket: 'b',
      key: mediaKey(e),
      bytes: 3,
      sha256: 'abc',
      contentType: 'image/jpeg',
      durationMs: 5,
    }));
    await processEvent(
      { event: event as never, rawBody: JSON.stringify(event) },
      { s3: s3.client, bucket: 'b', storeMedia, logger: silentLogger(), now: () => NOW, publish },
    );
    expect(publish).toHaveBeenCalledWith(event, {
      archive: { bucket: 'b', key: 'events/ses_pub/1761595700000-evt_pub.json' },
      media: { bucket: 'b', key: 'media/ses_pub/media.user_photo/m_1.jpg', bytes: 3, sha256: 'abc', contentType: 'image/jpeg' },
      processedAt: new Date(NOW).toISOString(),
    });
  });

  it('fails the unit when publishing fails, so it is retried', async () => {
    const event = sampleEvent('session.status');
    await expect(
      processEvent(
        { event: event as never, rawBody: JSON.stringify(event) },
        {
          s3: s3.client,
          bucket: 'b',
          storeMedia: vi.fn(),
          logger: silentLogger(),
          publish: async () => Promise.reject(new Error('EventBridge down')),
        },
      ),
    ).rejects.toThrow('EventBridge down');
  });
});
