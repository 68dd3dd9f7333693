import { createServer, type Socket } from 'node:net';
import { S3Client, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientConfig, CLIENT_TIMEOUTS } from '../../../lambda/shared/aws-clients';
import { deadlineIn, invocationDeadline, raceAbort, FAILURE_RESERVE_MS } from '../../../lambda/processor/deadline';
import { classifyFailure, TransientFailure } from '../../../lambda/processor/failures';
import { conflictArchiveKey, eventArchiveKey, MAX_KEY_BYTES, MAX_METADATA_BYTES, mediaKey, objectMetadata } from '../../../lambda/processor/storage-names';
import { MAX_IDENTIFIER_LENGTH, type FaceSignMediaEvent } from '../../../contract/event';
import { sampleEvent } from '../../support/events';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
// The longest identifiers the envelope allows, in the characters that encode longest.
const WIDE = {
  threeByte: '中'.repeat(MAX_IDENTIFIER_LENGTH),
  fourByte: '😀'.repeat(MAX_IDENTIFIER_LENGTH / 2),
  slashes: '/'.repeat(MAX_IDENTIFIER_LENGTH),
};

describe('S3 keys and metadata stay inside S3 limits for any valid event', () => {
  it.each(Object.entries(WIDE))('keys of %s identifiers are at most 1024 bytes, and distinct', (_name, wide) => {
    const media = { ...sampleEvent('media.user_video'), id: wide, sessionId: wide, type: 'media.user_video' } as unknown as FaceSignMediaEvent;
    (media as unknown as { media: { id: string } }).media.id = wide;
    const keys = [eventArchiveKey(media), mediaKey(media), conflictArchiveKey(media, '{}')];
    for (const key of keys) expect(bytes(key)).toBeLessThanOrEqual(MAX_KEY_BYTES);
    // Before the caps, a session id and an event id like these made a key S3 refuses.
    expect(2 * encodeURIComponent(wide).length).toBeGreaterThan(MAX_KEY_BYTES);
    const other = { ...media, id: `x${wide.slice(2)}` };
    expect(eventArchiveKey(other)).not.toBe(eventArchiveKey(media));
    expect(eventArchiveKey({ ...media })).toBe(eventArchiveKey(media));
  });

  it('leaves ordinary keys exactly as before', () => {
    expect(eventArchiveKey({ id: 'evt_1', sessionId: 'ses/1', createdAt: 5.7 })).toBe('events/ses%2F1/5-evt_1.json');
  });

  it('never cuts a percent escape in half', () => {
    const key = eventArchiveKey({ id: 'é'.repeat(200), sessionId: 's', createdAt: 1 });
    const segment = key.split('/')[2];
    expect(() => decodeURIComponent(segment.split('~')[0])).not.toThrow();
    expect(segment).toMatch(/~[0-9a-f]{16}\.json$/);
  });

  it.each([
    ['two-byte', 'é'],
    ['three-byte', '中'],
    ['four-byte', '😀'],
  ])('never cuts a %s character in half: the kept start still decodes', (_name, character) => {
    // Each prefix length shifts where the cut falls within the character's escapes.
    for (const prefix of ['', 'a', 'aa', 'aaa', 'aaaa', 'aaaaa', 'aaaaaa', 'aaaaaaa', 'aaaaaaaa']) {
      const id = prefix + character.repeat(200);
      const segment = eventArchiveKey({ id, sessionId: 's', createdAt: 1 }).split('/')[2];
      const head = segment.slice('1-'.length).split('~')[0];
      expect(() => decodeURIComponent(head), `prefix ${prefix.length}`).not.toThrow();
      expect(id.startsWith(decodeURIComponent(head))).toBe(true);
      expect(segment).toMatch(/~[0-9a-f]{16}\.json$/);
    }
  });

  it('keeps metadata ASCII and within 2 KB in total', () => {
    const metadata = objectMetadata({
      'facesign-event-id': WIDE.threeByte,
      'facesign-event-type': WIDE.fourByte,
      'facesign-session-id': WIDE.threeByte,
      'facesign-media-id': WIDE.fourByte,
      'facesign-media-created-at': '1761595700000',
      'facesign-source': `https://media.facesign.ai/${'中'.repeat(2000)}`,
      'facesign-extra-1': 'x'.repeat(5000),
      'facesign-extra-2': 'y'.repeat(5000),
      'facesign-extra-3': 'z'.repeat(5000),
    });
    const total = Object.entries(metadata).reduce((sum, [k, v]) => sum + bytes(k) + bytes(v), 0);
    expect(total).toBeLessThanOrEqual(MAX_METADATA_BYTES);
    for (const value of Object.values(metadata)) expect(value).toMatch(/^[\x21-\x7e]*$/);
    expect(metadata['facesign-media-created-at']).toBe('1761595700000');
  });
});

describe('S3 errors that no retry can fix are permanent', () => {
  const s3Error = (name: string, status: number) => new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
  it.each(['KeyTooLongError', 'InvalidArgument', 'EntityTooLarge', 'MetadataTooLarge'])('%s goes to the DLQ as storage_rejected', (name) => {
    expect(classifyFailure(s3Error(name, 400))).toMatchObject({ kind: 'permanent', reason: 'storage_rejected' });
  });
  it.each([
    ['AccessDenied', 403],
    ['NoSuchBucket', 404],
    ['SlowDown', 503],
    ['InternalError', 500],
  ])('%s is retried (a deploy or time can fix it)', (name, status) => {
    expect(classifyFailure(s3Error(name, status))).toMatchObject({ kind: 'transient', reason: 'dependency_error' });
  });
  it('an AWS call that timed out is a transient dependency_timeout', () => {
    expect(classifyFailure(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toMatchObject({ kind: 'transient', reason: 'dependency_timeout' });
  });
});

describe('the invocation deadline', () => {
  it('is the remaining time less the failure reserve', () => {
    const deadline = invocationDeadline({ getRemainingTimeInMillis: () => 120_000 }, () => 1_000);
    expect(deadline.at).toBe(1_000 + 120_000 - FAILURE_RESERVE_MS);
    deadline.dispose();
  });

  it('aborts with a transient invocation_deadline, and raceAbort gives up on work that never settles', async () => {
    const deadline = deadlineIn(30);
    const started = Date.now();
    const error = await raceAbort(new Promise(() => undefined), deadline.signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientFailure);
    expect((error as TransientFailure).reason).toBe('invocation_deadline');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('raceAbort passes through work that settles first', async () => {
    const deadline = deadlineIn(10_000);
    await expect(raceAbort(Promise.resolve(7), deadline.signal)).resolves.toBe(7);
    await expect(raceAbort(Promise.reject(new Error('boom')), deadline.signal)).rejects.toThrow('boom');
    deadline.dispose();
  });
});

describe('SDK client timeouts', () => {
  let port = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    // Accepts the connection and never answers: a hung S3.
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('every client has connection and request timeouts that throw', () => {
    for (const timeouts of Object.values(CLIENT_TIMEOUTS)) {
      const config = clientConfig(timeouts);
      expect(config.requestHandler.connectionTimeout).toBeGreaterThan(0);
      expect(config.requestHandler.requestTimeout).toBeGreaterThan(0);
      expect(config.requestHandler.throwOnRequestTimeout).toBe(true);
      // One call's worst case stays far under the processor's 2-minute timeout.
      expect(timeouts.maxAttempts * (timeouts.connectionTimeoutMs + timeouts.requestTimeoutMs)).toBeLessThanOrEqual(45_000);
    }
  });

  it('a real S3 client against a server that never answers fails with a TimeoutError, not a hang', async () => {
    const s3 = new S3Client({
      ...clientConfig({ connectionTimeoutMs: 200, requestTimeoutMs: 300, maxAttempts: 2 }),
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    const started = Date.now();
    const error = await s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'x' })).catch((e: unknown) => e as Error);
    expect((error as Error).name).toBe('TimeoutError');
    expect(classifyFailure(error)).toMatchObject({ kind: 'transient', reason: 'dependency_timeout' });
    expect(Date.now() - started).toBeLessThan(5_000);
    s3.destroy();
  });
});
