/**
 * Names for authentic deliveries that our envelope schema does not recognise (no `sessionId`,
 * `createdAt` as a string, ...). A 4xx would lose them (docs/reference.md "A 4xx is never retried"), so the verifier answers 200 and
 * queues them marked with {@link UNRECOGNIZED_ENVELOPE_ATTRIBUTE}; the processor validates them
 * again itself and archives them byte for byte under {@link QUARANTINE_PREFIX}. No imports: the
 * construct reads the prefix for its IAM grant.
 */
import { BUCKET_PREFIX } from './bucket-layout';

/** S3 prefix of quarantined bodies: `quarantine/<yyyy>/<mm>/<dd>/<sha256 of the body>.json` (their media: bucket-layout.ts QUARANTINE_MEDIA). */
export const QUARANTINE_PREFIX = BUCKET_PREFIX.quarantine;

/** SQS message attribute set by the verifier on an unrecognized envelope; its value is the problem code. */
export const UNRECOGNIZED_ENVELOPE_ATTRIBUTE = 'unrecognizedEnvelope';

/** The `EventType` dimension the verifier counts unrecognized envelopes under. */
export const UNRECOGNIZED_EVENT_TYPE = 'unrecognized';
