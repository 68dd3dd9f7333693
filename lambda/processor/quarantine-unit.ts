/**
 * Authentic deliveries that our envelope schema does not recognise (no `sessionId`, `createdAt`
 * as a string, a media event without `media`, ...). FaceSign was answered 200, so they are ours to
 * keep: each is archived byte for byte under `quarantine/`, counted (`EventsQuarantined`, per
 * `Reason`), and nothing is published, because nothing can be typed. The decision is the
 * processor's own validation, not the verifier's message attribute: a redriven or hand-sent
 * message is judged the same way.
 *
 * The idempotency key is the SHA-256 of the body, in its own key space: an unrecognized body may
 * have no usable `id`, and keying by `id` would let one version of an event hide another.
 *
 * A quarantined body may still be an authentic media event whose signed URL dies soon
 * (MEDIA_URL_LIFETIME_SECONDS, contract/time-budget.ts). When it carries a `media.url` that passes the media URL/host checks, its file is
 * downloaded (best effort) and stored under the media rules, because it is biometric like any other
 * media file: `media/<sessionId>/quarantine/<sha256>.<ext>`, or dated under `media/_unknown-session/`
 * when the body has no usable session id (contract/bucket-layout.ts QUARANTINE_MEDIA).
 * The body is written first, so it stays archived whatever happens to the media. What a failure
 * means is the failure policy's decision (disposition.ts), as for every record; routing.ts applies
 * it. When the media is given up, the body is kept without it, and that is logged as an error.
 */
import { createHash } from 'node:crypto';
import { usableIdentifier, type EnvelopeProblem } from '../../contract/event';
import { redactUrl } from '../../contract/redact-url';
import type { MediaPolicy } from '../shared/config';
import type { UnitOptions } from './event-unit';
import { PermanentFailure } from './failures';
import { storedObject, transferMedia, type StoredMedia, type StoredMediaObject } from './media-transfer';
import { validContentType } from './media-types';
import { mediaExpiresAt } from './media-url';
import { quarantineKey, quarantineMediaKey } from './storage-names';
import { writeObject, type ObjectStore } from './storage-writer';

/** One body to quarantine: the unit's input, keyed by `bodySha256`. */
export interface QuarantineInput {
  readonly rawBody: string;
  /** Hex SHA-256 of the body's UTF-8 bytes: the idempotency key and the object name. */
  readonly bodySha256: string;
  readonly problem: EnvelopeProblem;
  readonly message: string;
  /** When SQS first took the message (ms): the key's date, stable across retries. */
  readonly receivedAt: number;
  /** Set when the media download was given up (the last attempt, or the URL dead by the next): archive the body only. */
  readonly mediaGivenUp?: { readonly reason: string; readonly message: string };
}

/** Where a quarantined body was archived; kept in the idempotency record. */
export interface QuarantineResult {
  readonly bucket: string;
  readonly key: string;
  readonly problem: EnvelopeProblem;
  readonly bodySha256: string;
  readonly quarantinedAt: string;
  /** Set on the copy returned for a body that was already quarantined. */
  readonly duplicate?: boolean;
  /** The body's media file, when it carried a media URL we may fetch. */
  readonly media?: StoredMediaObject;
  /** Seconds the media URL had left when its download finished (not kept for a duplicate: it is measured once). */
  readonly urlHeadroomSeconds?: number;
  /** Why the body's media URL was not stored (not fetched, or the download failed for good). */
  readonly mediaFailure?: { readonly reason: string; readonly message: string };
}

/** What {@link archiveQuarantinedBody} needs. */
export interface QuarantineUnitDependencies extends ObjectStore {
  /** The media URL policy (allowed hosts, caps). */
  readonly policy: MediaPolicy;
  readonly now: () => number;
  /** The HTTP client (tests pass one that fails on cue). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** Media URL failures that mean the URL was never contacted: not a lost file, only a warning. */
export const NOT_OURS_TO_FETCH: ReadonlySet<string> = new Set(['media_url_invalid', 'media_host_not_allowed']);

/** Hex SHA-256 of a body's UTF-8 bytes. */
export function bodySha256(rawBody: string): string {
  return createHash('sha256').update(rawBody, 'utf8').digest('hex');
}

/** The `media` object of a body, when the body is a JSON object whose `media.url` is a non-empty string. */
export function quarantinedMedia(rawBody: string): (Record<string, unknown> & { readonly url: string }) | undefined {
  const media = parsedObject(rawBody)?.media;
  if (!isObject(media) || typeof media.url !== 'string' || media.url.length === 0) return undefined;
  return media as Record<string, unknown> & { url: string };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Archives the body exactly as received, then stores its media file when it has one we may fetch.
 * The unit of work; it either completes or throws (a transient media failure throws, so that the
 * failure policy can decide; the body is already archived, and its conditional write is refused
 * as "already stored" next time).
 */
export async function archiveQuarantinedBody(input: QuarantineInput, deps: QuarantineUnitDependencies, options: UnitOptions): Promise<QuarantineResult> {
  const key = quarantineKey(input.bodySha256, input.receivedAt);
  const metadata = { 'facesign-quarantine-reason': input.problem, 'facesign-body-sha256': input.bodySha256 };
  await writeObject(deps, { key, body: input.rawBody, contentType: 'application/json', metadata }, options.deadline.signal);
  const result: QuarantineResult = {
    bucket: deps.bucket,
    key,
    problem: input.problem,
    bodySha256: input.bodySha256,
    quarantinedAt: new Date(deps.now()).toISOString(),
  };
  const media = quarantinedMedia(input.rawBody);
  if (!media) return result;
  if (input.mediaGivenUp) return { ...result, mediaFailure: input.mediaGivenUp };
  try {
    const stored = await transferMedia(
      {
        url: media.url,
        key: quarantineMediaKey(
          input.bodySha256,
          input.receivedAt,
          quarantinedSessionId(input.rawBody),
          validContentType(media.contentType) ?? 'application/octet-stream',
        ),
        expiresAt: mediaExpiresAt(media.expires),
        declaredContentType: media.contentType,
        metadata: { ...metadata, 'facesign-source': redactUrl(media.url) },
      },
      { ...deps, deadline: options.deadline, retry: options.attempt > 1 },
    );
    return { ...result, media: storedObject(stored), ...headroom(stored) };
  } catch (error) {
    // No retry can change these: the body stays archived, without its media, and that is flagged.
    if (error instanceof PermanentFailure) return { ...result, mediaFailure: { reason: error.reason, message: error.message } };
    throw error;
  }
}

function headroom(stored: StoredMedia): { urlHeadroomSeconds?: number } {
  return stored.urlHeadroomSeconds === undefined ? {} : { urlHeadroomSeconds: stored.urlHeadroomSeconds };
}

/** The body's `sessionId`, when it is a usable identifier: the media file then goes into that session's folder. */
export function quarantinedSessionId(rawBody: string): string | undefined {
  return usableIdentifier(parsedObject(rawBody)?.sessionId);
}

function parsedObject(rawBody: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(rawBody);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
