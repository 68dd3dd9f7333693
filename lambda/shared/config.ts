/**
 * The one configuration loader for both functions. The construct sets these variables; the local
 * runtime sets the same ones. A bad value fails the cold start with a message naming the variable,
 * so a misconfiguration shows as a 5xx (and FaceSign retries) rather than as lost events.
 */

/** Environment variable names, shared with the construct that sets them. */
export const ENV = {
  signingSecretArn: 'FACESIGN_SIGNING_SECRET_ARN',
  queueUrl: 'FACESIGN_QUEUE_URL',
  deadLetterQueueUrl: 'FACESIGN_DEAD_LETTER_QUEUE_URL',
  toleranceSeconds: 'FACESIGN_SIGNATURE_TOLERANCE_SECONDS',
  maxBodyBytes: 'FACESIGN_MAX_BODY_BYTES',
  secretCacheSeconds: 'FACESIGN_SECRET_CACHE_SECONDS',
  bucketName: 'FACESIGN_BUCKET_NAME',
  idempotencyTableName: 'FACESIGN_IDEMPOTENCY_TABLE_NAME',
  idempotencyWindowSeconds: 'FACESIGN_IDEMPOTENCY_WINDOW_SECONDS',
  maxReceiveCount: 'FACESIGN_MAX_RECEIVE_COUNT',
  mediaAllowedHosts: 'FACESIGN_MEDIA_HOSTS',
  mediaAllowHttpLoopback: 'FACESIGN_MEDIA_ALLOW_HTTP_LOOPBACK',
  mediaDownloadTimeoutSeconds: 'FACESIGN_MEDIA_DOWNLOAD_TIMEOUT_SECONDS',
  mediaMaxBytes: 'FACESIGN_MEDIA_MAX_BYTES',
  retryBaseDelaySeconds: 'FACESIGN_RETRY_BASE_DELAY_SECONDS',
  eventBusName: 'FACESIGN_EVENT_BUS_NAME',
  encryptionKeyArn: 'FACESIGN_ENCRYPTION_KEY_ARN',
  metricsDeployment: 'FACESIGN_METRICS_DEPLOYMENT',
} as const;

/** Defaults shared by the construct and the handlers. */
export const DEFAULTS = {
  /** Oldest accepted signature: the idempotency window, so that every replay it lets in is a duplicate. */
  toleranceSeconds: 7 * 24 * 3600,
  maxBodyBytes: 256 * 1024,
  secretCacheSeconds: 300,
  idempotencyWindowSeconds: 7 * 24 * 3600,
  maxReceiveCount: 5,
  mediaAllowedHosts: ['media.facesign.ai'],
  mediaDownloadTimeoutSeconds: 90,
  mediaMaxBytes: 1024 * 1024 * 1024,
  retryBaseDelaySeconds: 10,
  /** Not a handler setting: the verifier's reserved concurrency, read by the construct and the local API stand-in. */
  verifierReservedConcurrency: 50,
} as const;

/**
 * The queue's visibility timeout is this many times the processor timeout. AWS suggests six
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html: room for Lambda to
 * retry a throttled invocation); we use two, so that a crashed, timed-out or out-of-memory
 * invocation's records come back within 4 minutes with the default 2-minute timeout, while the
 * 15-minute media URLs still live. README "Timeout budget" has the reasoning.
 */
export const VISIBILITY_TIMEOUT_FACTOR = 2;

/** The queue visibility timeout for a processor timeout: the one rule the construct and the local runtime share. */
export function queueVisibilityTimeoutSeconds(processorTimeoutSeconds: number): number {
  return processorTimeoutSeconds * VISIBILITY_TIMEOUT_FACTOR;
}

/** The idempotency key prefix. Stable on purpose: renaming the function must not forget processed events. */
export const IDEMPOTENCY_KEY_PREFIX = 'facesign-webhooks';

type Env = Readonly<Record<string, string | undefined>>;

/** Configuration of the verifier function. */
export interface VerifierConfig {
  readonly signingSecretArn: string;
  readonly queueUrl: string;
  readonly toleranceSeconds: number;
  readonly maxBodyBytes: number;
  readonly secretCacheSeconds: number;
}

/** Where media may be downloaded from, and how much. */
export interface MediaPolicy {
  /** `host` or `host:port`; `*.example.com` matches any subdomain. */
  readonly allowedHosts: readonly string[];
  /** Plain `http` to loopback hosts. Only the local runtime sets this; the construct never does. */
  readonly allowHttpLoopback: boolean;
  readonly downloadTimeoutMs: number;
  readonly maxBytes: number;
}

/** Configuration of the processor function. */
export interface ProcessorConfig {
  readonly bucketName: string;
  readonly idempotencyTableName: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly idempotencyWindowSeconds: number;
  readonly maxReceiveCount: number;
  readonly retryBaseDelaySeconds: number;
  readonly media: MediaPolicy;
  /** Where processed events are published; unset means not published (the local runtime without EventBridge). */
  readonly eventBusName?: string;
  /** The KMS key every object is written under (SSE-KMS); unset means the bucket's default encryption. */
  readonly encryptionKeyArn?: string;
}

/** Reads the verifier's configuration; throws an error naming the first bad variable. */
export function loadVerifierConfig(env: Env = process.env): VerifierConfig {
  return {
    signingSecretArn: required(env, ENV.signingSecretArn),
    queueUrl: required(env, ENV.queueUrl),
    toleranceSeconds: positiveInt(env, ENV.toleranceSeconds, DEFAULTS.toleranceSeconds),
    maxBodyBytes: positiveInt(env, ENV.maxBodyBytes, DEFAULTS.maxBodyBytes),
    secretCacheSeconds: positiveInt(env, ENV.secretCacheSeconds, DEFAULTS.secretCacheSeconds),
  };
}

/** Reads the processor's configuration; throws an error naming the first bad variable. */
export function loadProcessorConfig(env: Env = process.env): ProcessorConfig {
  return {
    bucketName: required(env, ENV.bucketName),
    idempotencyTableName: required(env, ENV.idempotencyTableName),
    queueUrl: required(env, ENV.queueUrl),
    deadLetterQueueUrl: required(env, ENV.deadLetterQueueUrl),
    idempotencyWindowSeconds: positiveInt(env, ENV.idempotencyWindowSeconds, DEFAULTS.idempotencyWindowSeconds),
    maxReceiveCount: positiveInt(env, ENV.maxReceiveCount, DEFAULTS.maxReceiveCount),
    retryBaseDelaySeconds: positiveInt(env, ENV.retryBaseDelaySeconds, DEFAULTS.retryBaseDelaySeconds),
    eventBusName: env[ENV.eventBusName]?.trim() || undefined,
    encryptionKeyArn: env[ENV.encryptionKeyArn]?.trim() || undefined,
    media: {
      allowedHosts: hostList(env, ENV.mediaAllowedHosts, DEFAULTS.mediaAllowedHosts),
      allowHttpLoopback: env[ENV.mediaAllowHttpLoopback] === 'true',
      downloadTimeoutMs: positiveInt(env, ENV.mediaDownloadTimeoutSeconds, DEFAULTS.mediaDownloadTimeoutSeconds) * 1000,
      maxBytes: positiveInt(env, ENV.mediaMaxBytes, DEFAULTS.mediaMaxBytes),
    },
  };
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`environment variable ${name} is required and is not set`);
  return value;
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`environment variable ${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}

const HOST_ENTRY = /^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/;

/** True for `host`, `host:port` or `*.domain` in lower case: the forms an allowed media host may take. */
export function isValidHostEntry(entry: string): boolean {
  return HOST_ENTRY.test(entry);
}

function hostList(env: Env, name: string, fallback: readonly string[]): readonly string[] {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const hosts = raw
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  const bad = hosts.find((h) => !isValidHostEntry(h));
  if (hosts.length === 0 || bad !== undefined) {
    throw new Error(`environment variable ${name} must be a comma-separated list of host or host:port, got "${raw}"`);
  }
  return hosts;
}
