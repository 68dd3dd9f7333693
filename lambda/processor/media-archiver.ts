/**
 * Streams a media event's file from FaceSign's signed URL into S3. The file never sits whole in
 * memory (multipart upload, a few parts in flight), only allowed hosts are contacted, redirects
 * are followed by hand so that each hop is checked, and the download has a time and size cap.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform, pipeline } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { MediaPolicy } from '../shared/config';
import type { FaceSignMediaEvent } from '../shared/event';
import { redactUrl } from '../shared/redact-url';
import { classifyMediaStatus, PermanentFailure, TransientFailure } from './failures';
import { objectEncryption } from './object-encryption';
import { mediaKey, objectMetadata } from './s3-keys';

/** Where and what was stored. */
export interface StoredMedia {
  readonly bucket: string;
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly contentType: string;
  /** Milliseconds from the first request to the stored object. */
  readonly durationMs: number;
}

/** What {@link storeMedia} needs. */
export interface MediaArchiverDependencies {
  readonly s3: S3Client;
  readonly bucket: string;
  /** KMS key the media is written under (SSE-KMS); unset: the bucket's default. */
  readonly encryptionKeyArn?: string;
  readonly policy: MediaPolicy;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  /** Multipart part size. @default 5 MiB (S3's minimum: the best throughput and lowest memory measured, bench/RESULTS.md) */
  readonly partSize?: number;
  /** Parts uploaded at once. @default 4 */
  readonly queueSize?: number;
  /** The invocation's deadline (deadline.ts): aborts the listing, the download and the upload. */
  readonly signal?: AbortSignal;
  /** Milliseconds the invocation has left; the transfer's cap is the smaller of this and the policy's. */
  readonly remainingMs?: () => number;
  /** Not the message's first receive: look for a stored file before downloading. */
  readonly retry?: boolean;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Kept here too for the code that imports it from this module. */
export { redactUrl };

/**
 * Checks a media URL against the policy: `https` to an allowed host (`host`, `host:port` or
 * `*.domain`), or plain `http` to a loopback host when the local runtime allows it.
 * Returns the parsed URL, or throws a {@link PermanentFailure}.
 */
export function checkMediaUrl(url: string, policy: MediaPolicy, reason: 'media_host_not_allowed' | 'media_redirect_refused' = 'media_host_not_allowed'): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PermanentFailure('media_url_invalid', 'the media URL is not a valid absolute URL');
  }
  if (parsed.username || parsed.password) {
    throw new PermanentFailure(reason, `the media URL ${redactUrl(url)} carries credentials`);
  }
  const isHttpLoopback = parsed.protocol === 'http:' && policy.allowHttpLoopback && isLoopback(parsed.hostname);
  if (parsed.protocol !== 'https:' && !isHttpLoopback) {
    throw new PermanentFailure(reason, `the media URL ${redactUrl(url)} is not https`);
  }
  if (!policy.allowedHosts.some((entry) => hostMatches(entry, parsed))) {
    throw new PermanentFailure(reason, `the media host ${parsed.host} is not in the allowed hosts (${policy.allowedHosts.join(', ')})`);
  }
  return parsed;
}

function isLoopback(hostname: string): boolean {
  return LOOPBACK.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function hostMatches(entry: string, url: URL): boolean {
  const [entryHost, entryPort] = splitHostPort(entry);
  if ((entryPort ?? '') !== url.port) return false;
  const host = url.hostname.toLowerCase();
  if (entryHost.startsWith('*.')) return host.endsWith(entryHost.slice(1)) && host.length > entryHost.length - 1;
  return host === entryHost;
}

function splitHostPort(entry: string): [string, string | undefined] {
  const colon = entry.lastIndexOf(':');
  if (colon > 0 && !entry.endsWith(']') && /^\d+$/.test(entry.slice(colon + 1))) {
    return [entry.slice(0, colon).toLowerCase(), entry.slice(colon + 1)];
  }
  return [entry.toLowerCase(), undefined];
}

/**
 * Downloads a media event's file and stores it in S3, returning where and its SHA-256.
 *
 * A file already stored under the event's media key (a retry after a later step failed, or a
 * redrive from the dead-letter queue after the URL died) counts as done: it is not downloaded
 * again, and the URL's expiry matters only when a download is still needed. The transfer is capped by the policy's
 * download timeout and by the invocation's deadline (`signal`, `remainingMs`), and either
 * aborts the download and the upload together. An empty answer is a failure, never a stored file.
 */
export async function storeMedia(event: FaceSignMediaEvent, deps: MediaArchiverDependencies): Promise<StoredMedia> {
  const now = deps.now ?? Date.now;
  const { media } = event;
  const started = Date.now();
  const key = mediaKey(event);

  // Looked for only when it can be there: on a retry, or when the URL is dead (a redrive). A first
  // attempt within the URL's life downloads at once: no extra S3 request (a LIST costs as much as
  // a PUT) on the path nearly every event takes; a redrive that re-downloads rewrites the same file.
  if (deps.retry || now() >= media.expires) {
    const existing = await findStoredMedia(deps, key);
    if (existing) return { ...existing, durationMs: Date.now() - started };
  }

  if (now() >= media.expires) {
    throw new PermanentFailure('media_url_expired', `the media URL expired at ${new Date(media.expires).toISOString()}`);
  }
  const url = checkMediaUrl(media.url, deps.policy);

  // The transfer's cap: the policy's, or the time the invocation has left if that is shorter (then
  // the deadline's own signal ends it, as `invocation_deadline`, when it has one).
  const remaining = deps.remainingMs?.() ?? Infinity;
  const deadlineFirst = deps.signal !== undefined && remaining < deps.policy.downloadTimeoutMs;
  const budgetMs = Math.min(deps.policy.downloadTimeoutMs, remaining);
  const controller = new AbortController();
  const timeout = new TransientFailure('media_download_timeout', `the transfer took longer than ${budgetMs} ms (download cap ${deps.policy.downloadTimeoutMs} ms, or the time the invocation had left)`);
  const timer = deadlineFirst ? undefined : setTimeout(() => controller.abort(timeout), budgetMs);
  const onDeadline = () => controller.abort(deps.signal?.reason);
  deps.signal?.addEventListener('abort', onDeadline, { once: true });
  if (deps.signal?.aborted) onDeadline();
  let downloadError: Error | undefined;
  try {
    const response = await fetchFollowingAllowedRedirects(url, deps, controller.signal);
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > deps.policy.maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw tooLarge(deps.policy.maxBytes);
    }
    if (declared === 0) {
      await response.body?.cancel().catch(() => undefined);
      throw emptyAnswer(url);
    }
    const contentType = response.headers.get('content-type') || media.contentType;
    const hash = createHash('sha256');
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if (bytes > deps.policy.maxBytes) return callback(tooLarge(deps.policy.maxBytes));
        hash.update(chunk);
        callback(null, chunk);
      },
      // Before the end reaches the upload, so that no empty object is ever written.
      flush(callback) {
        callback(bytes === 0 ? emptyAnswer(url) : null);
      },
    });
    const source = response.body
      ? Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>)
      : Readable.from([]);
    pipeline(source, meter, (error) => {
      if (error && !(error instanceof PermanentFailure) && !(error instanceof TransientFailure)) downloadError = error;
    });

    // The abort controller ends the upload too: done() rejects at once and no further part is
    // sent; a part already in flight ends within the S3 client's request timeout (aws-clients.ts),
    // and the bucket's lifecycle rule removes the incomplete multipart upload.
    await new Upload({
      client: deps.s3,
      partSize: deps.partSize ?? 5 * 1024 * 1024,
      queueSize: deps.queueSize ?? 4,
      leavePartsOnError: false,
      abortController: controller,
      params: {
        Bucket: deps.bucket,
        Key: key,
        Body: meter,
        ContentType: contentType,
        ...objectEncryption(deps.encryptionKeyArn),
        Metadata: objectMetadata({
          'facesign-event-id': event.id,
          'facesign-event-type': event.type,
          'facesign-session-id': event.sessionId,
          'facesign-media-id': media.id,
          'facesign-media-created-at': String(media.createdAt),
          'facesign-source': redactUrl(media.url),
        }),
      },
    }).done();
    return { bucket: deps.bucket, key, bytes, sha256: hash.digest('hex'), contentType, durationMs: Date.now() - started };
  } catch (error) {
    if (controller.signal.aborted) throw controller.signal.reason;
    const failure = (error as { cause?: unknown })?.cause;
    if (error instanceof PermanentFailure || error instanceof TransientFailure) throw error;
    if (failure instanceof PermanentFailure || failure instanceof TransientFailure) throw failure;
    if (downloadError) {
      throw new TransientFailure('media_download_failed', `the download from ${url.host} broke off (${downloadError.message})`, { cause: downloadError });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    deps.signal?.removeEventListener('abort', onDeadline);
  }
}

/**
 * The media file already stored under `key`, if any. ListObjectsV2 with the key as prefix rather
 * than HeadObject: S3 answers a HeadObject on a missing key with 403 unless the caller may list
 * the bucket, and a listing needs no read access to the identity data. A stored object is always
 * complete (a multipart upload only appears once completed) and never empty (an empty answer is
 * refused above); its SHA-256 is read back, which costs one GET only on this retry path.
 */
async function findStoredMedia(deps: MediaArchiverDependencies, key: string): Promise<Omit<StoredMedia, 'durationMs'> | undefined> {
  const listed = await deps.s3.send(new ListObjectsV2Command({ Bucket: deps.bucket, Prefix: key, MaxKeys: 1 }), { abortSignal: deps.signal });
  const object = listed.Contents?.find((o) => o.Key === key);
  if (!object || !object.Size) return undefined;
  const got = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: key }), { abortSignal: deps.signal });
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of got.Body as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    hash.update(chunk);
  }
  if (bytes === 0) return undefined;
  return { bucket: deps.bucket, key, bytes, sha256: hash.digest('hex'), contentType: got.ContentType ?? 'application/octet-stream' };
}

function emptyAnswer(url: URL): TransientFailure {
  return new TransientFailure('media_empty', `the media host ${url.host} answered with an empty file`);
}

async function fetchFollowingAllowedRedirects(start: URL, deps: MediaArchiverDependencies, signal: AbortSignal): Promise<Response> {
  const fetchImpl = deps.fetch ?? fetch;
  let url = start;
  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      response = await fetchImpl(url, { redirect: 'manual', signal });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new TransientFailure('media_download_failed', `could not reach ${url.host} (${(error as Error).message})`, { cause: error });
    }
    if (!REDIRECTS.has(response.status)) {
      const failure = classifyMediaStatus(response.status);
      if (failure) {
        await response.body?.cancel().catch(() => undefined);
        throw failure;
      }
      return response;
    }
    await response.body?.cancel().catch(() => undefined);
    const location = response.headers.get('location');
    if (!location) throw new PermanentFailure('media_rejected', `the media host answered ${response.status} without a Location`);
    if (hop + 1 > MAX_REDIRECTS) throw new PermanentFailure('media_redirect_refused', `more than ${MAX_REDIRECTS} redirects`);
    let next: string;
    try {
      next = new URL(location, url).toString();
    } catch {
      throw new PermanentFailure('media_redirect_refused', `the media host redirected to an invalid Location`);
    }
    url = checkMediaUrl(next, deps.policy, 'media_redirect_refused');
  }
}

function tooLarge(maxBytes: number): PermanentFailure {
  return new PermanentFailure('media_too_large', `the media file is larger than the ${maxBytes}-byte cap`);
}
