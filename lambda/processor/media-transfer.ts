/**
 * Streams a media event's file from FaceSign's signed URL into S3. The file never sits whole in
 * memory (multipart upload, a few parts in flight), only allowed hosts are contacted, redirects
 * are followed by hand so that each hop is checked, and the download has a time and size cap.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform, pipeline } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { MediaPolicy } from '../shared/config';
import { redactUrl } from '../../contract/redact-url';
import type { Deadline } from './deadline';
import { classifyMediaStatus, PermanentFailure, TransientFailure } from './failures';
import { storedContentType } from './media-types';
import { checkMediaUrl, mediaExpiresAt } from './media-url';
import { mediaKey, objectMetadata, type EventWithMedia } from './storage-names';
import { isAlreadyStored, writeParameters, type ObjectStore } from './storage-writer';

/** Where and what was stored. */
export interface StoredMedia {
  readonly bucket: string;
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly contentType: string;
  /** Milliseconds from the first request to the stored object. */
  readonly durationMs: number;
  /**
   * Seconds the signed URL had left when the download finished (its expiry less then), when the
   * expiry is known and the file was downloaded now (not found stored by a retry).
   */
  readonly urlHeadroomSeconds?: number;
}

/** A stored file as consumers see it (EventBridge detail, quarantine result): where and what, not how it went. */
export type StoredMediaObject = Omit<StoredMedia, 'durationMs' | 'urlHeadroomSeconds'>;

/** The stored object without the transfer's measurements. */
export function storedObject(media: StoredMedia): StoredMediaObject {
  const { durationMs: _durationMs, urlHeadroomSeconds: _headroom, ...stored } = media;
  return stored;
}

/** What {@link storeMedia} needs: where to write (storage-writer.ts), the URL policy, and the invocation's deadline. */
export interface MediaTransferDependencies extends ObjectStore {
  readonly policy: MediaPolicy;
  /** The invocation's deadline (deadline.ts): its signal aborts the listing, the download and the upload; its remaining time caps the transfer. */
  readonly deadline: Deadline;
  /** Not the message's first receive: look for a stored file before downloading. */
  readonly retry: boolean;
  /** The HTTP client (tests pass one that fails on cue). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** The clock the URL's expiry and headroom are measured with. */
  readonly now: () => number;
  /** Multipart part size. @default 5 MiB (S3's minimum: the best throughput and lowest memory measured, bench/RESULTS.md) */
  readonly partSize?: number;
  /** Parts uploaded at once. @default 4 */
  readonly queueSize?: number;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

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
}

/**
 * Downloads a media event's file and stores it in S3, returning where and its SHA-256.
 *
 * A file already stored under the event's media key (a retry after a later step failed, or a
 * redrive from the dead-letter queue after the URL died) counts as done: it is not downloaded
 * again (this looks needs `s3:ListBucket` and `s3:GetObject`, which the processor has on `media/`,
where every media file goes). `media.expires` is advisory (see {@link mediaExpiresAt}): the download is attempted even
 * past it, and only the host's 403/404/410 fails it (as `media_url_expired` once the expiry has
 * passed). The transfer is capped by the policy's download timeout and by the invocation's
 * deadline, and either aborts the download and the upload together.
 * An empty answer is a failure, never a stored file.
 */
export async function storeMedia(event: EventWithMedia, deps: MediaTransferDependencies): Promise<StoredMedia> {
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

/** {@link storeMedia} as the event unit calls it: with the unit's deadline, looking for a stored file on a retry. */
export function mediaStore(deps: Omit<MediaTransferDependencies, 'deadline' | 'retry'>) {
  return (event: EventWithMedia, options: { readonly deadline: Deadline; readonly attempt: number }): Promise<StoredMedia> =>
    storeMedia(event, { ...deps, deadline: options.deadline, retry: options.attempt > 1 });
}

/** Fetches one media URL into one S3 key: the work of {@link storeMedia}, for any key. */
export async function transferMedia(transfer: MediaTransfer, deps: MediaTransferDependencies): Promise<StoredMedia> {
  const now = deps.now;
  const started = Date.now();
  const { key, expiresAt } = transfer;
  const pastExpiry = () => expiresAt !== undefined && now() >= expiresAt;

  // Looked for only when it can be there: on a retry, or when the URL is past its expiry (a
  // redrive). A first attempt within the URL's life downloads at once: no extra S3 request (a LIST
  // costs as much as a PUT) on the path nearly every event takes; a file stored meanwhile is
  // never overwritten: the conditional write's 412 counts as stored (storage-writer.ts).
  if (deps.retry || pastExpiry()) {
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

async function download(transfer: MediaTransfer, deps: MediaTransferDependencies, started: number): Promise<StoredMedia> {
  const { key } = transfer;
  const url = checkMediaUrl(transfer.url, deps.policy);

  // The transfer's cap: the policy's, or the time the invocation has left if that is shorter (then
  // the deadline's own signal ends it, as `invocation_deadline`, when it has one).
  const signal = deps.deadline.signal;
  const remaining = deps.deadline.remainingMs();
  const deadlineFirst = remaining < deps.policy.downloadTimeoutMs;
  const budgetMs = Math.min(deps.policy.downloadTimeoutMs, remaining);
  const controller = new AbortController();
  const timeout = new TransientFailure(
    'media_download_timeout',
    `the transfer took longer than ${budgetMs} ms (download cap ${deps.policy.downloadTimeoutMs} ms, or the time the invocation had left)`,
  );
  const timer = deadlineFirst ? undefined : setTimeout(() => controller.abort(timeout), budgetMs);
  const onDeadline = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onDeadline, { once: true });
  if (signal.aborted) onDeadline();
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

    await upload(meter, { ...transfer, contentType }, deps, controller);
    const stored = { bucket: deps.bucket, key, bytes, sha256: hash.digest('hex'), contentType, durationMs: Date.now() - started };
    const expiresAt = transfer.expiresAt;
    return expiresAt === undefined ? stored : { ...stored, urlHeadroomSeconds: (expiresAt - deps.now()) / 1000 };
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
    signal.removeEventListener('abort', onDeadline);
  }
}

/**
 * Streams `body` into S3 under the transfer's key, conditionally (storage-writer.ts): when S3
 * answers 412, a file is already stored under the key (this media id's, stored by an earlier
 * attempt whose result was lost), and that counts as stored; it is never overwritten. The abort
 * controller ends the upload too: done() rejects at once and no further part is sent; a part
 * already in flight ends within the S3 client's request timeout (aws-clients.ts), and the bucket's
 * lifecycle rule removes the incomplete multipart upload.
 */
async function upload(
  body: Transform,
  transfer: MediaTransfer & { readonly contentType: string },
  deps: MediaTransferDependencies,
  controller: AbortController,
): Promise<void> {
  try {
    await new Upload({
      client: deps.s3,
      partSize: deps.partSize ?? 5 * 1024 * 1024,
      queueSize: deps.queueSize ?? 4,
      leavePartsOnError: false,
      abortController: controller,
      params: {
        Bucket: deps.bucket,
        Key: transfer.key,
        Body: body,
        ContentType: transfer.contentType,
        ...writeParameters(deps),
        Metadata: objectMetadata(transfer.metadata),
      },
    }).done();
  } catch (error) {
    if (!controller.signal.aborted && isAlreadyStored(error)) return;
    throw error;
  }
}

/**
 * The media file already stored under `key`, if any. ListObjectsV2 with the key as prefix rather
 * than HeadObject: S3 answers a HeadObject on a missing key with 403 unless the caller may list
 * the bucket, and a listing needs no read access to the identity data. A stored object is always
 * complete (a multipart upload only appears once completed) and never empty (an empty answer is
 * refused above); its SHA-256 is read back, which costs one GET only on this retry path.
 */
async function findStoredMedia(deps: MediaTransferDependencies, key: string): Promise<StoredMediaObject | undefined> {
  const abortSignal = deps.deadline.signal;
  const listed = await deps.s3.send(new ListObjectsV2Command({ Bucket: deps.bucket, Prefix: key, MaxKeys: 1 }), { abortSignal });
  const object = listed.Contents?.find((o) => o.Key === key);
  if (!object || !object.Size) return undefined;
  const got = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: key }), { abortSignal });
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

async function fetchFollowingAllowedRedirects(start: URL, deps: MediaTransferDependencies, signal: AbortSignal): Promise<Response> {
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
