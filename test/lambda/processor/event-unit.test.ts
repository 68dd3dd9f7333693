import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { PermanentFailure } from '../../../lambda/processor/failures';
import { processEvent, type EventUnitDependencies, type UnitOptions } from '../../../lambda/processor/event-unit';
import { conflictArchiveKey, eventArchiveKey, mediaKey, type EventWithMedia } from '../../../lambda/processor/storage-names';
import { extensionFor } from '../../../lambda/processor/media-types';
import { deadlineIn } from '../../../lambda/processor/deadline';
import { PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
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
  const promise = processEvent({ event: event as never, rawBody }, unitDeps({ storeMedia }), options());
  return { promise, storeMedia };
}
function unitDeps(overrides: Partial<EventUnitDependencies> = {}): EventUnitDependencies {
  return { s3: s3.client, bucket: 'b', storeMedia: vi.fn(), publish: undefined, logger: silentLogger(), now: () => NOW, ...overrides };
}
function options(): UnitOptions {
  return { deadline: deadlineIn(60_000), attempt: 1 };
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
    expect(storeMedia).toHaveBeenCalledWith(event, expect.objectContaining({ attempt: 1 }));
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
    await expect(processEvent({ event: event as never, rawBody: JSON.stringify(event) }, unitDeps({ s3: failing, storeMedia }), options())).rejects.toThrow(
      'AccessDenied',
    );
    expect(storeMedia).not.toHaveBeenCalled();
  });
});

describe('processEvent: conditional archive writes', () => {
  it('sends If-None-Match: * with the archive write', async () => {
    const event = sampleEvent('session.status', { id: 'evt_c1', sessionId: 'ses_c1' });
    await run(event).promise;
    const put = s3.mock.commandCalls(PutObjectCommand).find((call) => call.args[0].input.Key === eventArchiveKey(event as never));
    expect(put?.args[0].input.IfNoneMatch).toBe('*');
  });

  it('an archive key S3 refuses with 412 (processed before the idempotency window) is kept; this delivery goes under conflicts/, and the unit completes', async () => {
    const event = sampleEvent('session.status', { id: 'evt_late', sessionId: 'ses_late' });
    const archiveKey = eventArchiveKey(event as never);
    s3.objects.set(archiveKey, { body: Buffer.from('the first version') });
    s3.mock
      .on(PutObjectCommand, { Key: archiveKey })
      .rejects(new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 } }));
    try {
      const rawBody = JSON.stringify({ ...event, note: 'a later version' });
      const result = await run(event, rawBody).promise;
      expect(result.archive.key).toBe(archiveKey);
      expect(s3.objects.get(archiveKey)?.body.toString()).toBe('the first version');
      const lateKey = conflictArchiveKey(event as never, rawBody);
      expect(result.lateVersionKey).toBe(lateKey);
      expect(s3.objects.get(lateKey)?.body.toString()).toBe(rawBody);
      expect(s3.mock.commandCalls(PutObjectCommand).find((call) => call.args[0].input.Key === lateKey)?.args[0].input.IfNoneMatch).toBe('*');
    } finally {
      s3.mock.on(PutObjectCommand).callsFake(s3.putObject);
    }
  });

  it('a 409 ConditionalRequestConflict on the archive fails the unit (S3 asks for a retry)', async () => {
    const event = sampleEvent('session.status', { id: 'evt_409', sessionId: 'ses_409' });
    s3.mock.on(PutObjectCommand).rejects(new S3ServiceException({ name: 'ConditionalRequestConflict', $fault: 'client', $metadata: { httpStatusCode: 409 } }));
    try {
      await expect(run(event).promise).rejects.toMatchObject({ name: 'ConditionalRequestConflict' });
    } finally {
      s3.mock.on(PutObjectCommand).callsFake(s3.putObject);
    }
  });
});

describe('processEvent: an undocumented event type that carries media', () => {
  const undocumented = (media: Record<string, unknown>) => ({ id: 'evt_u', type: 'media.document_video', createdAt: 1761595700000, sessionId: 'ses_u', media });

  it('stores its file under its own type, with the media fields it has', async () => {
    const media = { id: 'm_u', createdAt: 1761595600000, url: 'https://media.facesign.ai/u.mp4?sig=s', expires: 1761596600000, contentType: 'video/mp4' };
    const { promise, storeMedia } = run(undocumented(media));
    const result = await promise;
    expect(storeMedia).toHaveBeenCalledTimes(1);
    expect(storeMedia.mock.calls[0][0]).toEqual({ id: 'evt_u', type: 'media.document_video', createdAt: 1761595700000, sessionId: 'ses_u', media });
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
      urlHeadroomSeconds: 800,
    }));
    await processEvent({ event: event as never, rawBody: JSON.stringify(event) }, unitDeps({ storeMedia, publish }), options());
    expect(publish.mock.calls[0].slice(0, 2)).toEqual([
      event,
      {
        archive: { bucket: 'b', key: 'events/ses_pub/1761595700000-evt_pub.json' },
        media: { bucket: 'b', key: 'media/ses_pub/media.user_photo/m_1.jpg', bytes: 3, sha256: 'abc', contentType: 'image/jpeg' },
        processedAt: new Date(NOW).toISOString(),
      },
    ]);
  });

  it('fails the unit when publishing fails, so it is retried', async () => {
    const event = sampleEvent('session.status');
    await expect(
      processEvent(
        { event: event as never, rawBody: JSON.stringify(event) },
        unitDeps({ publish: async () => Promise.reject(new Error('EventBridge down')) }),
        options(),
      ),
    ).rejects.toThrow('EventBridge down');
  });
});
