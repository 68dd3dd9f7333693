/**
 * What the handlers read from their environment (lambda/shared/config.ts loads them): each row's
 * variable, the functions that get it, its default and bounds. The construct validates the same
 * rows for their props; a prop's meaning is its JSDoc in FaceSignWebhooksProps.
 */
import { DEFAULT_METRICS_NAMESPACE } from './metric-names';
import type { SettingRow } from './settings';
import { MAX_PROCESSOR_TIMEOUT_SECONDS, MAX_RETRY_DELAY_SECONDS, PROCESSOR_TIMEOUT_RESERVE_SECONDS, SECONDS_PER_DAY as DAY } from './time-budget';

/**
 * The idempotency window's default, and so the signature tolerance's (contract/signature.ts
 * accepts this much when not told otherwise): FaceSign does not say whether it re-signs its
 * retries, so a retry signed at the first attempt must still be accepted, and a replay inside the
 * window is absorbed by idempotency on the event id.
 */
export const DEFAULT_IDEMPOTENCY_WINDOW_SECONDS = 7 * DAY;

/** The handlers' prop-backed settings, keyed by prop name. */
export const HANDLER_SETTINGS = {
  signatureTolerance: {
    prop: true,
    env: 'FACESIGN_SIGNATURE_TOLERANCE_SECONDS',
    functions: ['verifier', 'reverifier'],
    unit: 'seconds',
    // The idempotency window's default; a given window is followed too (DEFAULTS_FROM).
    default: DEFAULT_IDEMPOTENCY_WINDOW_SECONDS,
    min: 60,
    max: 366 * DAY,
  },
  maxBodyBytes: {
    prop: true,
    env: 'FACESIGN_MAX_BODY_BYTES',
    functions: ['verifier', 'reverifier'],
    unit: 'bytes',
    default: 256 * 1024,
    min: 1024,
    // 760,000 bytes base64-encoded (a body with characters SQS refuses travels so) is 1,013,336,
    // which with its attributes still fits in one 1 MiB SQS message.
    max: 760_000,
  },
  signingSecretCacheTtl: {
    prop: true,
    env: 'FACESIGN_SECRET_CACHE_SECONDS',
    functions: ['verifier'],
    unit: 'seconds',
    default: 300,
    min: 1,
    max: 3600,
  },
  holdRetention: {
    prop: true,
    env: 'FACESIGN_HOLD_RETENTION_DAYS',
    functions: ['reverifier'],
    unit: 'days',
    // Long enough to notice the page, fix the secret and reverify over a long weekend; a shorter
    // idempotencyWindow, in whole days, when not given (lib/resolve-props.ts).
    default: 7,
    min: 1,
    // At most idempotencyWindow too (CROSS_SETTING_RULES): a later re-verification must still meet the record of a redelivery.
    max: 366,
  },
  maxHeldPerHour: {
    prop: true,
    env: 'FACESIGN_MAX_HELD_PER_HOUR',
    functions: ['verifier'],
    unit: 'count',
    // 1,000 an hour of at most maxBodyBytes each: under 2 GiB a day with the default 256 KiB (docs/data-protection.md).
    default: 1000,
    min: 1,
    max: 100_000,
  },
  idempotencyWindow: {
    prop: true,
    env: 'FACESIGN_IDEMPOTENCY_WINDOW_SECONDS',
    // The reverifier re-queues nothing older than the window: a redelivery's record would be gone.
    functions: ['processor', 'reverifier'],
    unit: 'seconds',
    default: DEFAULT_IDEMPOTENCY_WINDOW_SECONDS,
    min: 60,
    max: 366 * DAY,
  },
  maxReceiveCount: {
    prop: true,
    env: 'FACESIGN_MAX_RECEIVE_COUNT',
    functions: ['processor'],
    unit: 'count',
    default: 5,
    min: 1,
    max: 1000,
  },
  allowedMediaHosts: {
    prop: true,
    // Comma-separated in the environment.
    env: 'FACESIGN_MEDIA_HOSTS',
    functions: ['processor'],
    unit: 'host list',
    default: ['media.facesign.ai'],
  },
  mediaDownloadTimeout: {
    prop: true,
    env: 'FACESIGN_MEDIA_DOWNLOAD_TIMEOUT_SECONDS',
    functions: ['processor'],
    unit: 'seconds',
    default: 90,
    min: 1,
    // The longest processorTimeout less what it must leave beyond a download.
    max: MAX_PROCESSOR_TIMEOUT_SECONDS - PROCESSOR_TIMEOUT_RESERVE_SECONDS,
  },
  maxMediaBytes: {
    prop: true,
    env: 'FACESIGN_MEDIA_MAX_BYTES',
    functions: ['processor'],
    unit: 'bytes',
    default: 1024 ** 3,
    min: 1,
    // S3's largest object.
    max: 5 * 1024 ** 4,
  },
  sourceMapStackTraces: {
    prop: true,
    env: 'NODE_OPTIONS',
    flag: '--enable-source-maps',
    functions: ['verifier', 'processor', 'reverifier'],
    unit: 'boolean',
    // Loading the source maps adds about 40 ms to every cold start (bench/RESULTS.md).
    default: false,
  },
  metricsNamespace: {
    prop: true,
    // Powertools Metrics reads it.
    env: 'POWERTOOLS_METRICS_NAMESPACE',
    functions: ['verifier', 'processor', 'reverifier'],
    unit: 'name',
    default: DEFAULT_METRICS_NAMESPACE,
  },
} as const satisfies Record<string, SettingRow>;

/**
 * Handler settings without a prop: only the local runtime and tests set them, the construct never
 * does, so they are not in the public SETTINGS table.
 */
export const LOCAL_SETTINGS = {
  /** Base of the processor's retry backoff (the local runtime and tests set it shorter). */
  retryBaseDelaySeconds: {
    prop: false,
    env: 'FACESIGN_RETRY_BASE_DELAY_SECONDS',
    functions: ['processor'],
    unit: 'seconds',
    default: 10,
    min: 1,
    // A base above the cap would make every delay the cap.
    max: MAX_RETRY_DELAY_SECONDS,
  },
  /** Plain http to loopback media hosts (the local runtime's sample media host). */
  mediaAllowHttpLoopback: {
    prop: false,
    env: 'FACESIGN_MEDIA_ALLOW_HTTP_LOOPBACK',
    functions: ['processor'],
    unit: 'boolean',
    default: false,
  },
} as const satisfies Record<string, SettingRow>;
