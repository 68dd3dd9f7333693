/**
 * What only the construct reads: the rows no handler gets in its environment, the defaults one
 * setting takes from another, and the rules between settings the construct checks at synth. A
 * prop's meaning is its JSDoc in FaceSignWebhooksProps.
 */
import type { SettingName, SettingRow } from './settings';
import { MAX_PROCESSOR_TIMEOUT_SECONDS, MEDIA_URL_LIFETIME_SECONDS, PROCESSOR_TIMEOUT_RESERVE_SECONDS, SECONDS_PER_DAY as DAY } from './time-budget';

/** API Gateway's longest integration timeout: a p99 above it cannot be measured (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html). */
const API_GATEWAY_MAX_INTEGRATION_MS = 30_000;

/**
 * How long both dead-letter queues (the processor's and an onEvent target's) keep a message: SQS's
 * longest. The event archive keeps events as long by default, so anything a consumer's dead-letter
 * queue still holds can also be replayed.
 */
export const DEAD_LETTER_RETENTION_DAYS = 14;

/** The construct's own settings, keyed by prop name. */
export const CONSTRUCT_SETTINGS = {
  throttlingRateLimit: {
    prop: true,
    functions: [],
    unit: 'requests per second',
    min: 1,
    max: 100_000,
  },
  throttlingBurstLimit: {
    prop: true,
    functions: [],
    unit: 'requests',
    min: 1,
    max: 100_000,
  },
  verifierReservedConcurrency: {
    prop: true,
    functions: [],
    unit: 'count',
    // No default: Lambda keeps 100 of the account's concurrency unreserved, and new accounts start
    // with a quota below 100 + any reservation, so a default reservation would fail the first deploy.
    min: 1,
    max: 10_000,
  },
  processorBatchSize: {
    prop: true,
    functions: [],
    unit: 'count',
    default: 5,
    min: 1,
    max: 10,
  },
  processorMaxConcurrency: {
    prop: true,
    functions: [],
    unit: 'count',
    default: 20,
    // Lambda's SQS event source scaling limits.
    min: 2,
    max: 1000,
  },
  processorTimeout: {
    prop: true,
    functions: [],
    unit: 'seconds',
    default: 120,
    min: 30,
    // Its visibility timeout must end before the media URLs die.
    max: MAX_PROCESSOR_TIMEOUT_SECONDS,
  },
  processorMemorySize: {
    prop: true,
    functions: [],
    unit: 'MiB',
    default: 1024,
    min: 128,
    max: 10_240,
  },
  verifierMemorySize: {
    prop: true,
    functions: [],
    unit: 'MiB',
    default: 512,
    min: 128,
    max: 10_240,
  },
  mediaRetention: {
    prop: true,
    functions: [],
    unit: 'days',
    // Selfies, document photos, videos: long enough to review and dispute a verification, short of any biometric-law outer limit.
    default: 30,
    min: 1,
  },
  archiveRetention: {
    prop: true,
    functions: [],
    unit: 'days',
    // Event payloads (no biometrics): outlive the media they describe and the 14-day dead-letter queue, for audit and redrive.
    default: 90,
    min: 1,
  },
  eventArchiveRetention: {
    prop: true,
    functions: [],
    unit: 'days',
    // As long as an onEvent target's dead-letter queue keeps its messages. No bounds: EventBridge's own apply (0 is forever).
    default: DEAD_LETTER_RETENTION_DAYS,
  },
  logRetention: {
    prop: true,
    functions: [],
    // A logs.RetentionDays value: CloudWatch Logs accepts only the enum's days, so the type bounds it.
    unit: 'days',
    default: 30,
  },
  // The alarm thresholds (lib/monitoring/).
  queueAgeAlarmThreshold: {
    prop: true,
    functions: [],
    unit: 'seconds',
    default: 120,
    min: 1,
    // The page comes a period or two after the threshold, and media URLs die 15 minutes after they are made.
    max: MEDIA_URL_LIFETIME_SECONDS - 1,
  },
  apiServerErrorRateThreshold: {
    prop: true,
    functions: [],
    unit: 'percent',
    default: 5,
    min: 1,
    max: 100,
  },
  apiServerErrorMinimumCount: {
    prop: true,
    functions: [],
    unit: 'count',
    default: 5,
    min: 1,
  },
  apiLatencyP99Threshold: {
    prop: true,
    functions: [],
    unit: 'milliseconds',
    default: 1000,
    min: 1,
    max: API_GATEWAY_MAX_INTEGRATION_MS,
  },
  signatureFailureAlarmThreshold: {
    prop: true,
    functions: [],
    unit: 'count',
    default: 10,
    min: 1,
  },
} as const satisfies Record<string, SettingRow>;

/**
 * Rules between settings, checked by the construct (the handlers each see only their own). Each
 * returns the error message, or undefined when the values agree.
 */
export const CROSS_SETTING_RULES = {
  /** The processor must outlive its longest download by enough to record the failure. */
  processorTimeoutCoversDownload(processorTimeoutSeconds: number, mediaDownloadTimeoutSeconds: number): string | undefined {
    if (processorTimeoutSeconds >= mediaDownloadTimeoutSeconds + PROCESSOR_TIMEOUT_RESERVE_SECONDS) return undefined;
    return `processorTimeout must exceed mediaDownloadTimeout by at least ${PROCESSOR_TIMEOUT_RESERVE_SECONDS} seconds, got ${processorTimeoutSeconds} s and ${mediaDownloadTimeoutSeconds} s`;
  },
  /** A replay older than the window would be processed again. */
  toleranceWithinIdempotencyWindow(toleranceSeconds: number, idempotencyWindowSeconds: number): string | undefined {
    if (toleranceSeconds <= idempotencyWindowSeconds) return undefined;
    return `signatureTolerance must not exceed idempotencyWindow (a replay older than the window would be processed again), got ${toleranceSeconds} s and ${idempotencyWindowSeconds} s`;
  },
  /**
   * A held delivery re-verified after the idempotency window could be processed a second time, if
   * FaceSign also delivered it again and that record has expired: so holds never outlive the window.
   */
  holdRetentionWithinIdempotencyWindow(holdRetentionDays: number, idempotencyWindowSeconds: number): string | undefined {
    // S3 lifecycle rules count whole days, so a window under a day still keeps holds for one; the
    // reverifier re-queues none older than the window (lambda/reverifier/reverify.ts).
    if (holdRetentionDays * DAY <= Math.max(DAY, idempotencyWindowSeconds)) return undefined;
    return `holdRetention must not exceed idempotencyWindow (a held delivery re-verified later could be processed twice), got ${holdRetentionDays} days and ${idempotencyWindowSeconds} s`;
  },
} as const;

/** Settings whose default, when not given, is another setting's resolved value. */
export const DEFAULTS_FROM: { readonly [N in SettingName]?: SettingName } = {
  // Every replay the tolerance admits is then a duplicate the idempotency window still remembers.
  signatureTolerance: 'idempotencyWindow',
};
