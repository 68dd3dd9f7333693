/**
 * The archive bucket's layout: one definition of each prefix, read by the processor (which writes
 * there), the construct (its IAM grants, lifecycle rules and read grants) and the tests. No imports.
 */

/** Every prefix the processor writes, and what it holds. */
export const BUCKET_PREFIX = {
  /** Every processed event, byte for byte: `events/<sessionId>/<createdAt>-<eventId>.json`. */
  events: 'events/',
  /** Stored media: `media/<sessionId>/<eventType>/<mediaId>.<ext>`. */
  media: 'media/',
  /** Authentic envelopes the schema does not recognise: `quarantine/<yyyy>/<mm>/<dd>/<sha256>.json`. */
  quarantine: 'quarantine/',
  /** A second, different version of a processed event id: `conflicts/<sessionId>/<createdAt>-<eventId>/<sha256>.json`. */
  conflicts: 'conflicts/',
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
