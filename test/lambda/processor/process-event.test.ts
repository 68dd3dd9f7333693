import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { PermanentFailure } from '../../../lambda/processor/failures';
import { processEvent } from '../../../lambda/processor/process-event';
import { eventArchiveKey, extensionFor, mediaKey, type EventWithMedia } from '../../../lambda/processor/s3-keys';
import { FACESIGN_EVENT_TYPES, MEDIA_EVENT_TYPES, type FaceSignMediaEvent } from '../../../contract/event';
import { sampleEvent } from '../../support/events';
import { silentLogger } from '../../support/observability';
import { captureS3 } from '../../support/s3-capture';

const s3 = captureS3();
const NOW = 1_761_595_800_000;

function run(event: Record<string, unknown>, rawBody = JSON.stringify(event), fails?: Error) {
  const storeMedia = vi.fn(async (e: EventWithMedia) => {
    if (fails) throw fails;
    return { bucket: 'b', key: mediaKey(e), bytes: 3, sha256: 'abc', contentType: 'image/jpeg', durationMs: 5 };
  });
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

  it("stores media for exactly FaceSign's media.* types, the contract's MEDIA_EVENT_TYPES", () => {
    expect(FACESIGN_EVENT_TYPES.filter((type) => type.startsWith('media.'))).toEqual([...MEDIA_EVENT_TYPES]);
  });

  it.each(MEDIA_EVENT_TYPES)('stores the %s file once, as the event names it, and returns where', async (type) => {
    const event = sampleEvent(type, { id: 'evt_m', sessionId: 'ses_m' });
    const { promise, storeMedia } = run(event);
    const result = await promise;
    expect(storeMedia).toHaveBeenCalledTimes(1);
    expect(storeMedia).toHaveBeenCalledWith(event);
    expect(result.media).toEqual({
      bucket: 'b',
      key: mediaKey(event as unknown as FaceSignMediaEvent),
      bytes: 3,
      sha256: 'abc',
      contentType: 'image/jpeg',
      durationMs: 5,
    });
  });

  it('fails a documented media event whose URL may not be fetched (it is dead-lettered, not archived only)', async () => {
    const refused = new PermanentFailure('media_host_not_allowed', 'the media host evil.example is not in the allowed hosts');
    const { promise } = run(sampleEvent('media.user_photo'), undefined, refused);
    await expect(promise).rejects.toBe(refused);
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
});

describe('processEvent: an undocumented event type that carries media', () => {
  const undocumented = (media: Record<string, unknown>) => ({ id: 'evt_u', type: 'media.document_video', createdAt: 1761595700000, sessionId: 'ses_u', media });

  it('stores its file under its own type, with the media fields it has', async () => {
    const media = { id: 'm_u', createdAt: 1761595600000, url: 'https://media.facesign.ai/u.mp4?sig=s', expires: 1761596600000, contentType: 'video/mp4' };
    const { promise, storeMedia } = run(undocumented(media));
    const result = await promise;
    expect(storeMedia).toHaveBeenCalledTimes(1);
    expect(storeMedia).toHaveBeenCalledWith({ id: 'evt_u', type: 'media.document_video', createdAt: 1761595700000, sessionId: 'ses_u', media });
    expect(result.media?.key).toBe('media/ses_u/media.document_video/m_u.mp4');
  });

  it('fills what the media object lacks: the event id, its time, octet-stream, and no expiry', async () => {
    const { promise, storeMedia } = run(undocumented({ url: 'https://media.facesign.ai/u?sig=s', id: 'bad\u0000id', createdAt: -1 }));
    await promise;
    const stored = storeMedia.mock.calls[0][0];
    expect(stored.media).toMatchObject({ id: 'evt_u', createdAt: 1761595700000, contentType: 'application/octet-stream' });
    expect(stored.media.expires).toBeNaN();
  });

  it.each([
    ['no media object', undefined],
    ['media without a url', { id: 'm' }],
    ['an empty url', { url: '' }],
    ['media as an array', ['https://media.facesign.ai/u']],
  ])('stores nothing when it has %s', async (_name, media) => {
    const { promise, storeMedia } = run({ ...undocumented({}), media });
    const result = await promise;
    expect(storeMedia).not.toHaveBeenCalled();
    expect(result.media).toBeUndefined();
  });

  it.each(['media_host_not_allowed', 'media_url_invalid'] as const)('archives it only when its URL fails the checks (%s)', async (reason) => {
    const { promise } = run(undocumented({ url: 'https://evil.example/x' }), undefined, new PermanentFailure(reason, 'refused'));
    const result = await promise;
    expect(result.media).toBeUndefined();
    expect(s3.objects.has(result.archive.key)).toBe(true);
  });

  it('fails on any other media failure, like a documented media event', async () => {
    const failure = new PermanentFailure('media_too_large', 'the file is over the cap');
    await expect(run(undocumented({ url: 'https://media.facesign.ai/big' }), undefined, failure).promise).rejects.toBe(failure);
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
    const storeMedia = vi.fn(async (e: EventWithMedia) => ({
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
