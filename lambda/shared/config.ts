/**
 * The one configuration loader for the handlers. Variable names, defaults and bounds are the rows
 * of contract/handler-settings.ts, written by contract/function-environment.ts's functionEnvironment,
 * which the construct and the local runtime both use. A bad value fails the cold start with a message naming the variable and the value,
 * so a misconfiguration shows as a 5xx (and FaceSign retries) rather than as lost events.
 */

import { ENV } from '../../contract/function-environment';
import { HANDLER_SETTINGS, LOCAL_SETTINGS } from '../../contract/handler-settings';
import { describeBounds, isValidHostEntry, withinBounds, type SettingRow } from '../../contract/settings';

type Env = Readonly<Record<string, string | undefined>>;

/** Configuration of the verifier function. */
export interface VerifierConfig {
  readonly signingSecretArn: string;
  readonly queueUrl: string;
  readonly toleranceSeconds: number;
  readonly maxBodyBytes: number;
  readonly secretCacheSeconds: number;
  /** Where refused deliveries in FaceSign's form are held; unset (no bucket or no counter table) means none are. */
  readonly hold?: { readonly bucketName: string; readonly counterTableName: string; readonly encryptionKeyArn?: string; readonly maxPerHour: number };
}

/** Configuration of the reverifier function. */
export interface ReverifierConfig {
  readonly signingSecretArn: string;
  readonly queueUrl: string;
  readonly holdBucketName: string;
  readonly toleranceSeconds: number;
  readonly maxBodyBytes: number;
  readonly holdRetentionDays: number;
  readonly idempotencyWindowSeconds: number;
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
    toleranceSeconds: integer(env, HANDLER_SETTINGS.signatureTolerance),
    maxBodyBytes: integer(env, HANDLER_SETTINGS.maxBodyBytes),
    secretCacheSeconds: integer(env, HANDLER_SETTINGS.signingSecretCacheTtl),
    hold: holdConfig(env),
  };
}

function holdConfig(env: Env): VerifierConfig['hold'] {
  const bucketName = env[ENV.holdBucketName]?.trim();
  const counterTableName = env[ENV.holdCounterTableName]?.trim();
  const maxPerHour = integer(env, HANDLER_SETTINGS.maxHeldPerHour);
  if (!bucketName || !counterTableName) return undefined;
  return { bucketName, counterTableName, encryptionKeyArn: env[ENV.encryptionKeyArn]?.trim() || undefined, maxPerHour };
}

/** Reads the reverifier's configuration; throws an error naming the first bad variable. */
export function loadReverifierConfig(env: Env = process.env): ReverifierConfig {
  return {
    signingSecretArn: required(env, ENV.signingSecretArn),
    queueUrl: required(env, ENV.queueUrl),
    holdBucketName: required(env, ENV.holdBucketName),
    toleranceSeconds: integer(env, HANDLER_SETTINGS.signatureTolerance),
    maxBodyBytes: integer(env, HANDLER_SETTINGS.maxBodyBytes),
    holdRetentionDays: integer(env, HANDLER_SETTINGS.holdRetention),
    idempotencyWindowSeconds: integer(env, HANDLER_SETTINGS.idempotencyWindow),
  };
}

/** Reads the processor's configuration; throws an error naming the first bad variable. */
export function loadProcessorConfig(env: Env = process.env): ProcessorConfig {
  return {
    bucketName: required(env, ENV.bucketName),
    idempotencyTableName: required(env, ENV.idempotencyTableName),
    queueUrl: required(env, ENV.queueUrl),
    deadLetterQueueUrl: required(env, ENV.deadLetterQueueUrl),
    idempotencyWindowSeconds: integer(env, HANDLER_SETTINGS.idempotencyWindow),
    maxReceiveCount: integer(env, HANDLER_SETTINGS.maxReceiveCount),
    retryBaseDelaySeconds: integer(env, LOCAL_SETTINGS.retryBaseDelaySeconds),
    eventBusName: env[ENV.eventBusName]?.trim() || undefined,
    encryptionKeyArn: env[ENV.encryptionKeyArn]?.trim() || undefined,
    media: {
      allowedHosts: hostList(env),
      allowHttpLoopback: env[ENV.mediaAllowHttpLoopback] === 'true',
      downloadTimeoutMs: integer(env, HANDLER_SETTINGS.mediaDownloadTimeout) * 1000,
      maxBytes: integer(env, HANDLER_SETTINGS.maxMediaBytes),
    },
  };
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`environment variable ${name} is required and is not set`);
  return value;
}

/** A numeric setting: the row's default when unset, else an integer within the row's bounds. */
function integer(env: Env, row: SettingRow & { readonly env: string; readonly default: number }): number {
  const raw = env[row.env]?.trim();
  if (raw === undefined || raw === '') return row.default;
  const value = Number(raw);
  if (!withinBounds(row, value)) {
    throw new Error(`environment variable ${row.env} must be ${describeBounds(row)}, got "${raw}"`);
  }
  return value;
}

function hostList(env: Env): readonly string[] {
  const row = HANDLER_SETTINGS.allowedMediaHosts;
  const raw = env[row.env]?.trim();
  if (raw === undefined || raw === '') return row.default;
  const hosts = raw
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  const bad = hosts.find((h) => !isValidHostEntry(h));
  if (hosts.length === 0 || bad !== undefined) {
    throw new Error(`environment variable ${row.env} must be a comma-separated list of host or host:port, got "${raw}"`);
  }
  return hosts;
}
