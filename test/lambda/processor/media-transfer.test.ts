import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MediaPolicy } from '../../../lambda/shared/config';
import type { FaceSignMediaEvent } from '../../../contract/event';
import { classifyFailure, PermanentFailure, TransientFailure } from '../../../lambda/processor/failures';
import { deadlineIn } from '../../../lambda/processor/deadline';
import { storeMedia } from '../../../lambda/processor/media-transfer';
import { checkMediaUrl } from '../../../lambda/processor/media-url';
import { redactUrl } from '../../../contract/redact-url';
import { sampleEvent } from '../../support/events';
import { serveBytes, startMediaServer, type MediaServer } from '../../support/media-server';
import { captureS3 } from '../../support/s3-capture';

let server: MediaServer;
beforeAll(async () => {
  server = await startMediaServer();
});
afterAll(() => server.close());

const s3 = captureS3();
afterEach(() => {
  s3.objects.clear();
  s3.mock.resetHistory();
});

const NOW = 1_761_595_700_000;
function policy(overrides: Partial<MediaPolicy> = {}): MediaPolicy {
  return { allowedHosts: [server.host], allowHttpLoopback: true, downloadTimeoutMs: 5_000, maxBytes: 64 * 1024 * 1024, ...overrides };
}
function mediaEvent(path: string, overrides: Parameters<typeof sampleEvent>[1] = {}): FaceSignMediaEvent {
  return sampleEvent('media.user_photo', {
    mediaUrl: `${server.origin}${path}?X-Amz-Signature=supersecret`,
    createdAt: NOW,
    ...overrides,
  }) as unknown as FaceSignMediaEvent;
}
function store(event: FaceSignMediaEvent, p: Partial<MediaPolicy> = {}, extra: { partSize?: number; now?: number } = {}) {
  return storeMedia(event, { ...transferDeps(p, extra.now), partSize: extra.partSize });
}
function transferDeps(p: Partial<MediaPolicy> = {}, now = NOW) {
  return { s3: s3.client, bucket: 'bucket', policy: policy(p), now: () => now, deadline: deadlineIn(60_000), retry: false };
}
async function failure(promise: Promise<unknown>): Promise<PermanentFailure | TransientFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PermanentFailure || error instanceof TransientFailure)) throw new Error(`expected a classified failure, got ${String(error)}`);
  return error;
}
const preconditionFailed = () => new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', $metadata: { httpStatusCode: 412 } });
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('storeMedia', () => {
  it('stores the exact bytes with the served content type, its SHA-256, and metadata linking back to the event', async () => {
    const bytes = randomBytes(300_000);
    server.route('/photo.jpg', serveBytes(bytes, 'image/jpeg'));
    const event = mediaEvent('/photo.jpg');
    const stored = await store(event);
    expect(stored).toEqual({
      bucket: 'bucket',
      key: `media/${event.sessionId}/media.user_photo/m_1.jpg`,
      bytes: bytes.length,
      sha256: sha256(bytes),
      contentType: 'image/jpeg',
      durationMs: expect.any(Number),
      urlHeadroomSeconds: 900,
    });
    const object = s3.objects.get(stored.key);
    expect(object?.body.equals(bytes)).toBe(true);
    expect(object?.contentType).toBe('image/jpeg');
    expect(object?.metadata).toMatchObject({ 'facesign-event-id': event.id, 'facesign-media-id': 'm_1', 'facesign-event-type': 'media.user_photo' });
    expect(JSON.stringify(object?.metadata)).not.toContain('supersecret');
  });

  it('reports the URL headroom as the expiry less the moment the download finished, in seconds', async () => {
    server.route('/late.jpg', serveBytes(randomBytes(100), 'image/jpeg'));
    const event = mediaEvent('/late.jpg', { expires: NOW + 42_500 });
    expect((await store(event)).urlHeadroomSeconds).toBe(42.5);
    // A URL with no usable expiry has no headroom to report.
    server.route('/unknown.jpg', serveBytes(randomBytes(100), 'image/jpeg'));
    const unknown = { ...mediaEvent('/unknown.jpg'), media: { ...mediaEvent('/unknown.jpg').media, expires: NaN } };
    expect((await store(unknown)).urlHeadroomSeconds).toBeUndefined();
  });

  it('writes conditionally (If-None-Match: *), and a 412 from S3 counts as stored, not as a failure', async () => {
    server.route('/cond.jpg', serveBytes(randomBytes(100), 'image/jpeg'));
    await store(mediaEvent('/cond.jpg', { sessionId: 'ses_cond' }));
    expect(s3.mock.commandCalls(PutObjectCommand)[0].args[0].input.IfNoneMatch).toBe('*');
    s3.mock.on(PutObjectCommand).rejects(preconditionFailed());
    try {
      const again = await store(mediaEvent('/cond.jpg', { sessionId: 'ses_cond' }));
      expect(again).toMatchObject({ key: 'media/ses_cond/media.user_photo/m_1.jpg', bytes: 100 });
    } finally {
      s3.mock.on(PutObjectCommand).callsFake(s3.putObject);
    }
  });

  it('a 409 ConditionalRequestConflict is not "stored": it fails the transfer, to be retried', async () => {
    server.route('/race.jpg', serveBytes(randomBytes(100), 'image/jpeg'));
    s3.mock.on(PutObjectCommand).rejects(new S3ServiceException({ name: 'ConditionalRequestConflict', $fault: 'client', $metadata: { httpStatusCode: 409 } }));
    try {
      const error = await store(mediaEvent('/race.jpg', { sessionId: 'ses_race' })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(classifyFailure(error)).toMatchObject({ kind: 'transient', reason: 'dependency_error' });
    } finally {
      s3.mock.on(PutObjectCommand).callsFake(s3.putObject);
    }
  });

  it('streams a large file in parts and reassembles it byte for byte', async () => {
    const bytes = randomBytes(12 * 1024 * 1024 + 17);
    server.route('/video.mp4', serveBytes(bytes, 'video/mp4'));
    const stored = await store(mediaEvent('/video.mp4', { contentType: 'video/mp4' }), {}, { partSize: 5 * 1024 * 1024 });
    expect(s3.mock.commandCalls(CreateMultipartUploadCommand)).toHaveLength(1);
    expect(s3.mock.commandCalls(UploadPartCommand)).toHaveLength(3);
    // The condition goes with the request that creates the object (S3 conditional writes).
    expect(s3.mock.commandCalls(CompleteMultipartUploadCommand)[0].args[0].input.IfNoneMatch).toBe('*');
    expect(stored.sha256).toBe(sha256(bytes));
    expect(sha256(s3.objects.get(stored.key)!.body)).toBe(sha256(bytes));
  });

  it("falls back to the event's content type when the host sends none", async () => {
    server.route('/bare', (_req, res) => {
      res.removeHeader('content-type');
      res.end(Buffer.from('abc'));
    });
    const stored = await store(mediaEvent('/bare'));
    expect(stored.contentType).toBe('image/jpeg');
  });

  it.each([403, 404, 410])('treats %i from the media host as permanent (media_not_available)', async (status) => {
    server.route(`/gone${status}`, (_req, res) => res.writeHead(status).end());
    const error = await failure(store(mediaEvent(`/gone${status}`)));
    expect(error).toBeInstanceOf(PermanentFailure);
    expect(error.reason).toBe('media_not_available');
  });

  it.each([
    [500, 'media_server_error'],
    [503, 'media_server_error'],
    [429, 'media_throttled'],
  ])('treats %i as transient (%s)', async (status, reason) => {
    server.route(`/status${status}`, (_req, res) => res.writeHead(status).end());
    const error = await failure(store(mediaEvent(`/status${status}`)));
    expect(error).toBeInstanceOf(TransientFailure);
    expect(error.reason).toBe(reason);
  });

  it("still tries a URL past its expiry (the expiry is advisory); the host's refusal is then media_url_expired", async () => {
    const before = server.hits.get('/late') ?? 0;
    const error = await failure(store(mediaEvent('/late'), {}, { now: NOW + 15 * 60 * 1000 }));
    expect(error).toMatchObject({ reason: 'media_url_expired' });
    expect(error).toBeInstanceOf(PermanentFailure);
    expect(server.hits.get('/late') ?? 0).toBe(before + 1);
  });

  it('stores a file whose URL still works past the stated expiry', async () => {
    server.route('/late-ok.jpg', serveBytes(Buffer.from('late'), 'image/jpeg'));
    const stored = await store(mediaEvent('/late-ok.jpg', { sessionId: 'ses_late_ok' }), {}, { now: NOW + 15 * 60 * 1000 + 2000 });
    expect(s3.objects.get(stored.key)?.body.toString()).toBe('late');
  });

  it('refuses a host that is not allowed without contacting it', async () => {
    const error = await failure(store(mediaEvent('/x'), { allowedHosts: ['media.facesign.ai'] }));
    expect(error).toMatchObject({ reason: 'media_host_not_allowed' });
    expect(server.hits.get('/x')).toBeUndefined();
  });

  it('refuses plain http unless the local runtime allows it for loopback', async () => {
    server.route('/p.jpg', serveBytes(Buffer.from('x'), 'image/jpeg'));
    expect(await failure(store(mediaEvent('/p.jpg'), { allowHttpLoopback: false }))).toMatchObject({ reason: 'media_host_not_allowed' });
  });

  it('follows a redirect to an allowed host, and refuses one to any other host', async () => {
    const bytes = Buffer.from('redirected bytes');
    server.route('/final.jpg', serveBytes(bytes, 'image/jpeg'));
    server.route('/hop', (_req, res) => res.writeHead(302, { location: '/final.jpg?sig=1' }).end());
    server.route('/away', (_req, res) => res.writeHead(302, { location: 'https://evil.example/steal' }).end());
    server.route('/loop', (_req, res) => res.writeHead(307, { location: '/loop' }).end());
    expect((await store(mediaEvent('/hop'))).sha256).toBe(sha256(bytes));
    expect(await failure(store(mediaEvent('/away', { sessionId: 'ses_away' })))).toMatchObject({ reason: 'media_redirect_refused' });
    expect(await failure(store(mediaEvent('/loop', { sessionId: 'ses_loop' })))).toMatchObject({ reason: 'media_redirect_refused' });
  });

  it('refuses a file whose declared length is over the cap before reading it', async () => {
    server.route('/big-declared', serveBytes(randomBytes(2048), 'image/jpeg'));
    const error = await failure(store(mediaEvent('/big-declared'), { maxBytes: 1024 }));
    expect(error).toBeInstanceOf(PermanentFailure);
    expect(error.reason).toBe('media_too_large');
    expect(s3.objects.size).toBe(0);
  });

  it('stops a file without a declared length once it passes the cap, and aborts the multipart upload', async () => {
    server.route('/big-chunked', (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4' });
      const chunk = randomBytes(1024 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < 20 && res.write(chunk)) sent++;
        if (sent < 20)
          res.once('drain', () => {
            sent++;
            pump();
          });
        else res.end();
      };
      pump();
    });
    const error = await failure(store(mediaEvent('/big-chunked'), { maxBytes: 7 * 1024 * 1024 }, { partSize: 5 * 1024 * 1024 }));
    expect(error.reason).toBe('media_too_large');
    expect(s3.objects.size).toBe(0);
    expect(s3.mock.commandCalls(AbortMultipartUploadCommand).length).toBeGreaterThanOrEqual(1);
  });

  it('gives up on a host that stalls, as a transient timeout', async () => {
    server.route('/stall', (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': 1000 });
      res.write(Buffer.alloc(10));
    });
    const error = await failure(store(mediaEvent('/stall'), { downloadTimeoutMs: 300 }));
    expect(error).toBeInstanceOf(TransientFailure);
    expect(error.reason).toBe('media_download_timeout');
  });

  it('treats a connection that drops mid-file as transient', async () => {
    server.route('/drop', (req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': 100_000 });
      res.write(Buffer.alloc(1000), () => req.socket.destroy());
    });
    const error = await failure(store(mediaEvent('/drop')));
    expect(error).toBeInstanceOf(TransientFailure);
    expect(error.reason).toBe('media_download_failed');
  });

  it('treats a host that refuses connections as transient', async () => {
    const other = await startMediaServer();
    const host = other.host;
    await other.close();
    const event = sampleEvent('media.user_photo', { mediaUrl: `http://${host}/x.jpg`, createdAt: NOW }) as unknown as FaceSignMediaEvent;
    const error = await failure(storeMedia(event, transferDeps({ allowedHosts: [host] })));
    expect(error).toMatchObject({ reason: 'media_download_failed' });
    expect(error).toBeInstanceOf(TransientFailure);
  });

  it('never puts the signed query string in an error message', async () => {
    server.route('/gone', (_req, res) => res.writeHead(404).end());
    const error = await failure(store(mediaEvent('/gone')));
    expect(error.message).not.toContain('supersecret');
    expect(error.message).toContain('404');
  });
});

describe('checkMediaUrl', () => {
  const p: MediaPolicy = {
    allowedHosts: ['media.facesign.ai', '*.cdn.facesign.ai', 'files.example:8443'],
    allowHttpLoopback: false,
    downloadTimeoutMs: 1,
    maxBytes: 1,
  };
  it.each(['https://media.facesign.ai/a.jpg', 'https://MEDIA.facesign.ai/a.jpg', 'https://eu.cdn.facesign.ai/a.jpg', 'https://files.example:8443/a.jpg'])(
    'allows %s',
    (url) => {
      expect(() => checkMediaUrl(url, p)).not.toThrow();
    },
  );
  it.each([
    ['http://media.facesign.ai/a.jpg', 'media_host_not_allowed'],
    ['https://media.facesign.ai.evil.example/a.jpg', 'media_host_not_allowed'],
    ['https://cdn.facesign.ai/a.jpg', 'media_host_not_allowed'],
    ['https://media.facesign.ai:444/a.jpg', 'media_host_not_allowed'],
    ['https://files.example/a.jpg', 'media_host_not_allowed'],
    ['https://user:pw@media.facesign.ai/a.jpg', 'media_host_not_allowed'],
    ['ftp://media.facesign.ai/a.jpg', 'media_host_not_allowed'],
    ['not a url', 'media_url_invalid'],
  ])('refuses %s', (url, reason) => {
    expect(() => checkMediaUrl(url, p)).toThrow(expect.objectContaining({ reason }));
  });
  it('allows plain http only to loopback, only when enabled', () => {
    const local = { ...p, allowHttpLoopback: true, allowedHosts: ['127.0.0.1:9000', 'localhost:9000', 'example.com'] };
    expect(() => checkMediaUrl('http://127.0.0.1:9000/a', local)).not.toThrow();
    expect(() => checkMediaUrl('http://localhost:9000/a', local)).not.toThrow();
    expect(() => checkMediaUrl('http://example.com/a', local)).toThrow(expect.objectContaining({ reason: 'media_host_not_allowed' }));
  });
});

describe('redactUrl', () => {
  it('drops everything after the host: path, query string and fragment', () => {
    expect(redactUrl('https://media.facesign.ai/m_1.jpg?X-Amz-Signature=abc&exp=1#f')).toBe('https://media.facesign.ai/[redacted]');
  });
});

describe('storeMedia: empty answers, stored files, and the invocation deadline', () => {
  it.each([
    ['declared empty', (res: import('node:http').ServerResponse) => res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': 0 }).end()],
    [
      'chunked and empty',
      (res: import('node:http').ServerResponse) => {
        res.writeHead(200, { 'content-type': 'image/jpeg', 'transfer-encoding': 'chunked' });
        res.end();
      },
    ],
  ])('a zero-byte answer (%s) is a transient media_empty, and nothing is stored', async (name, answer) => {
    const path = `/empty-${name.replace(/\W/g, '')}`;
    server.route(path, (_req, res) => answer(res));
    const error = await failure(store(mediaEvent(path)));
    expect(error).toMatchObject({ reason: 'media_empty' });
    expect(error).toBeInstanceOf(TransientFailure);
    expect(s3.objects.size).toBe(0);
    expect(s3.mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('a file already stored under the media key counts as done, even after the URL expired, and is not downloaded again', async () => {
    const bytes = randomBytes(70_000);
    server.route('/stored.jpg', serveBytes(bytes, 'image/jpeg'));
    const event = mediaEvent('/stored.jpg', { sessionId: 'ses_stored' });
    const first = await store(event);
    const hitsAfterFirst = server.hits.get('/stored.jpg');
    // The redrive: an hour later, the URL long dead.
    const again = await store(event, {}, { now: NOW + 3600_000 });
    expect(again).toMatchObject({ key: first.key, bytes: bytes.length, sha256: sha256(bytes), contentType: 'image/jpeg' });
    expect(server.hits.get('/stored.jpg')).toBe(hitsAfterFirst);
  });

  it('looks for a stored file only on a retry or once the URL died: a first attempt costs no LIST', async () => {
    server.route('/first.jpg', serveBytes(randomBytes(1000), 'image/jpeg'));
    await store(mediaEvent('/first.jpg', { sessionId: 'ses_first' }));
    expect(s3.mock.commandCalls(ListObjectsV2Command)).toHaveLength(0);
    const hits = server.hits.get('/first.jpg');
    const again = await storeMedia(mediaEvent('/first.jpg', { sessionId: 'ses_first' }), { ...transferDeps(), retry: true });
    expect(s3.mock.commandCalls(ListObjectsV2Command)).toHaveLength(1);
    expect(again.bytes).toBe(1000);
    expect(server.hits.get('/first.jpg')).toBe(hits);
  });

  it('without a stored file, an expired URL is still media_url_expired', async () => {
    const error = await failure(store(mediaEvent('/never.jpg', { sessionId: 'ses_never' }), {}, { now: NOW + 3600_000 }));
    expect(error).toMatchObject({ reason: 'media_url_expired' });
  });

  it('the deadline aborts an upload to an S3 that never answers, as invocation_deadline', async () => {
    server.route('/hung-s3.jpg', serveBytes(randomBytes(10_000), 'image/jpeg'));
    s3.mock.on(PutObjectCommand).callsFake(() => new Promise(() => undefined));
    try {
      const deadline = deadlineIn(300);
      const started = Date.now();
      const error = await failure(storeMedia(mediaEvent('/hung-s3.jpg', { sessionId: 'ses_hung' }), { ...transferDeps(), deadline }));
      expect(error).toMatchObject({ reason: 'invocation_deadline' });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      s3.mock.on(PutObjectCommand).callsFake(async (input) => {
        s3.objects.set(input.Key!, { body: Buffer.from(input.Body as Uint8Array), contentType: input.ContentType, metadata: input.Metadata });
        return { ETag: '"etag"' };
      });
    }
  });

  it('the download cap shrinks to the time the invocation has left: the deadline ends it, as invocation_deadline', async () => {
    server.route('/slow.jpg', (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.write(Buffer.alloc(10));
    });
    const started = Date.now();
    const error = await failure(
      storeMedia(mediaEvent('/slow.jpg', { sessionId: 'ses_slow' }), { ...transferDeps({ downloadTimeoutMs: 60_000 }), deadline: deadlineIn(200) }),
    );
    expect(error).toMatchObject({ reason: 'invocation_deadline' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
