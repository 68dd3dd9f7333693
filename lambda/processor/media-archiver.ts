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
import { redactUrl } from '../../contract/redact-url';
import { classifyMediaStatus, PermanentFailure, TransientFailure } from './failures';
import { objectEncryption } from './object-encryption';
import { mediaKey, objectMetadata, type EventWithMedia } from './s3-keys';

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
 * `media.expires` below this is read as seconds, not milliseconds: 1e11 ms is March 1973, 1e11 s
 * is the year 5138, so no real expiry in either unit is misread.
 */
export const EXPIRES_SECONDS_BELOW = 1e11;

/**
 * When a media URL stops working, in epoch ms, from a body's `media.expires`: a value below
 * {@link EXPIRES_SECONDS_BELOW} is taken as seconds. Undefined when there is no usable value.
 * Advisory only: the download is always attempted at least once, and the host's 403/404/410 is
 * what decides that the URL is dead (our clock and FaceSign's may differ by seconds).
 */
export function mediaExpiresAt(expires: unknown): number | undefined {
  if (typeof expires !== 'number' || !Number.isFinite(expires) || expires <= 0) return undefined;
  return expires < EXPIRES_SECONDS_BELOW ? expires * 1000 : expires;
}

/** True when `media.expires` was given in seconds (an anomaly worth a log line). */
export function expiresLooksLikeSeconds(expires: unknown): boolean {
  return typeof expires === 'number' && Number.isFinite(expires) && expires > 0 && expires < EXPIRES_SECONDS_BELOW;
}

// RFC 9110 section 8.3.1: media-type = type "/" subtype parameters; type, subtype and parameter
// names are tokens (section 5.6.2), parameter values tokens or quoted strings, ASCII only.
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[\\t !#-\\[\\]-~]|\\\\[\\t !-~])*"';
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED}))*$`);
/** Longest content type passed on to S3. */
const MAX_CONTENT_TYPE_LENGTH = 256;

/**
 * The value if it is a valid HTTP media type (`type/subtype`, optional parameters: tokens and
 * quoted strings, no CR/LF, no non-ASCII), else undefined. S3 stores it as the object's
 * Content-Type header, and refuses (or the SDK fails on) anything else on every attempt.
 */
export function validContentType(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_CONTENT_TYPE_LENGTH) return undefined;
  return MEDIA_TYPE.test(value) ? value : undefined;
}

/** The stored object's Content-Type: the host's if valid, else the event's if valid, else `application/octet-stream`. */
export function storedContentType(served: string | null | undefined, declared: unknown): string {
  return validContentType(served) ?? validContentType(declared) ?? 'application/octet-stream';
}

/** One file to fetch from a media URL into one S3 key. */
export interface MediaTransfer {
  readonly url: string;
  readonly key: string;
  /** When the URL dies (epoch ms, see {@link mediaExpiresAt}); undefined when unknown. */
  readonly expiresAt?: number;
  /** The content type the body declared, used when the host sends no valid one. */
  readonly declaredContentType?: unknown;
  /** User metadata (plain values; encoded and capped by {@link objectMetadata}). */
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * Look for a file already stored under `key` on a retry or past the expiry. Needs `s3:ListBucket`
   * and `s3:GetObject` on the key, which the processor has on `media/` only. @default true
   */
  readonly findStored?: boolean;
}

/**
 * Downloads a media event's file and stores it in S3, returning where and its SHA-256.
 *
 * A file already stored under the event's media key (a retry after a later step failed, or a
 * redrive from the dead-letter queue after the URL died) counts as done: it is not downloaded
 * again. `media.expires` is advisory (see {@link mediaExpiresAt}): the download is attempted even
 * past it, and only the host's 403/404/410 fails it (as `media_url_expired` once the expiry has
 * passed). The transfer is capped by the policy's download timeout and by the invocation's
 * deadline (`signal`, `remainingMs`), and either aborts the download and the upload together.
 * An empty answer is a failure, never a stored file.
 */
export async function storeMedia(event: EventWithMedia, deps: MediaArchiverDependencies): Promise<StoredMedia> {
  const { media } = event;
  return transferMedia(
    {
      url: media.url,
      key: mediaKey(event),
      expiresAt: mediaExpiresAt(media.expires),
      declaredContentType: media.contentType,
      metadata: {
        'facesign-event-id': event.id,
        'facesign-event-type': event.type,
        'facesign-session-id': event.sessionId,
        'facesign-media-id': media.id,
        'facesign-media-created-at': String(media.createdAt),
        'facesign-source': redactUrl(media.url),
      },
    },
    deps,
  );
}

/** Fetches one media URL into one S3 key: the work of {@link storeMedia}, for any key. */
export async function transferMedia(transfer: MediaTransfer, deps: MediaArchiverDependencies): Promise<StoredMedia> {
  const now = deps.now ?? Date.now;
  const started = Date.now();
  const { key, expiresAt } = transfer;
  const pastExpiry = () => expiresAt !== undefined && now() >= expiresAt;

  // Looked for only when it can be there: on a retry, or when the URL is past its expiry (a
  // redrive). A first attempt within the URL's life downloads at once: no extra S3 request (a LIST
  // costs as much as a PUT) on the path nearly every event takes; a redrive that re-downloads
  // rewrites the same file.
  if (transfer.findStored !== false && (deps.retry || pastExpiry())) {
    const existing = await findStoredMedia(deps, key);
    if (existing) return { ...existing, durationMs: Date.now() - started };
  }

  try {
    return await download(transfer, deps, started);
  } catch (error) {
    // The host's answer is the signal; past the stated expiry it is named for what it most likely is.
    if (error instanceof PermanentFailure && error.reason === 'media_not_available' && pastExpiry()) {
      throw new PermanentFailure('media_url_expired', `the media URL expired at ${new Date(expiresAt!).toISOString()} (${error.message})`, { cause: error });
    }
    throw error;
  }
}

async function download(transfer: MediaTransfer, deps: MediaArchiverDependencies, started: number): Promise<StoredMedia> {
  const { key } = transfer;
  const url = checkMediaUrl(transfer.url, deps.policy);

  // The transfer's cap: the policy's, or the time the invocation has left if that is shorter (then
  // the deadline's own signal ends it, as `invocation_deadline`, when it has one).
  const remaining = deps.remainingMs?.() ?? Infinity;
  const deadlineFirst = deps.signal !== undefined && remaining < deps.policy.downloadTimeoutMs;
  const budgetMs = Math.min(deps.policy.downloadTimeoutMs, remaining);
  const controller = new AbortController();
  const timeout = new TransientFailure(
    'media_download_timeout',
    `the transfer took longer than ${budgetMs} ms (download cap ${deps.policy.downloadTimeoutMs} ms, or the time the invocation had left)`,
  );
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
    const contentType = storedContentType(response.headers.get('content-type'), transfer.declaredContentType);
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
    const source = response.body ? Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>) : Readable.from([]);
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
        Metadata: objectMetadata(transfer.metadata),
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
