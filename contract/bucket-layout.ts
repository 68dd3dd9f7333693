/**
 * The archive bucket's layout: one definition of each prefix, read by the processor (which writes
 * there), the construct (its IAM grants, lifecycle rules and read grants) and the tests. No imports.
 */

/** Every prefix the processor writes, and what it holds. */
export const BUCKET_PREFIX = {
  /** Every processed event, byte for byte: `events/<sessionId>/<createdAt>-<eventId>.json`. */
  events: 'events/',
  /**
   * Stored media, every copy of a media file (biometric: `mediaRetention`, `grantReadMedia`):
   * `media/<sessionId>/<eventType>/<mediaId>.<ext>`, and a quarantined body's file (see
   * {@link QUARANTINE_MEDIA}).
   */
  media: 'media/',
  /** Authentic envelopes the schema does not recognise: `quarantine/<yyyy>/<mm>/<dd>/<sha256>.json` (their media files are under `media/`). */
  quarantine: 'quarantine/',
  /** A second, different version of a processed event id: `conflicts/<sessionId>/<createdAt>-<eventId>/<sha256>.json`. */
  conflicts: 'conflicts/',
} as const;

/**
 * Where a quarantined body's media file goes: under `media/`, so that media's retention, read
 * restrictions and erasure by session apply to it like any other media file.
 *   media/<sessionId>/quarantine/<sha256 of the body>.<ext>   the body carries a usable `sessionId`
 *   media/_unknown-session/quarantine/<yyyy>/<mm>/<dd>/<sha256 of the body>.<ext>   it does not
 * A session's folder then lists its quarantined files beside its other media; files with no
 * session are dated, like quarantined bodies, so they can be found by the day they came. No
 * event type is named `quarantine`, and a real session named `_unknown-session` would still not
 * collide (its files carry no date folders); every write is conditional anyway (no overwrite).
 */
export const QUARANTINE_MEDIA = {
  /** The folder under a session (or under {@link QUARANTINE_MEDIA.unknownSession}). */
  folder: 'quarantine',
  /** The session folder of a file whose body carries no usable session id. */
  unknownSession: '_unknown-session',
} as const;

/**
 * The prefixes that hold event payloads (kept for `archiveRetention`, readable through
 * `grantReadArchive`), as opposed to media (`mediaRetention`, `grantReadMedia`).
 */
export const ARCHIVE_PREFIXES = [BUCKET_PREFIX.events, BUCKET_PREFIX.quarantine, BUCKET_PREFIX.conflicts] as const;

/**
 * Refused deliveries in FaceSign's form, held for re-verification once the signing secret is fixed:
 * `held/<yyyy>/<mm>/<dd>/<receivedAtMs>-<sha256>.json` (contract/held-delivery.ts). Written by the
 * verifier only, read and removed by the reverifier only; kept for `holdRetention`. Not in
 * {@link BUCKET_PREFIX}: the processor never touches it, and no read grant covers it.
 */
export const HELD_PREFIX = 'held/';
