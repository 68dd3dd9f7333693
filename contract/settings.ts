/**
 * The one table of settings. For each: the construct prop that sets it (if any), the environment
 * variable a handler reads it from (if any), which function gets it, its default, bounds and unit.
 * The construct's prop validation (lib/facesign-webhooks-props.ts), the handlers' config loader
 * (lambda/shared/config.ts) and the local runtime's environment (local/runtime.ts) are all derived
 * from it, so a setting is defined here and nowhere else. The facts its bounds follow from (the
 * media URLs' life, the retry cap, the failure reserve) are defined here too, and the handlers
 * import them. Adding a setting (CONTRIBUTING.md "Adding a setting"): a row here; its prop with
 * JSDoc in FaceSignWebhooksProps, if it has one; for a handler setting, its field and loader in
 * lambda/shared/config.ts; its line in docs/reference.md; CHANGELOG.md.
 * test/contract/settings.test.ts checks the row, the prop's `@default` and the docs agree.
 */
import { DEFAULT_METRICS_NAMESPACE, SERVICE } from './metric-names';

/** The handler functions: the verifier and processor on the delivery path, and the reverifier of held deliveries. */
export type HandlerFunction = 'verifier' | 'processor' | 'reverifier';

/** Every handler function, in the order they are built and listed. */
export const HANDLER_FUNCTIONS: readonly HandlerFunction[] = ['verifier', 'processor', 'reverifier'];

/** What a setting's number counts; Duration props are converted to this unit. */
export type SettingUnit =
  'seconds' | 'milliseconds' | 'days' | 'bytes' | 'MiB' | 'count' | 'percent' | 'requests per second' | 'requests' | 'host list' | 'boolean' | 'name';

/** One row of {@link SETTINGS}. */
export interface SettingRow {
  /** True when FaceSignWebhooksProps has a prop of the row's name; false for a handler-only or fixed setting. */
  readonly prop: boolean;
  /** The environment variable a handler (or Node.js, or Powertools) reads it from; absent when only the construct uses it. */
  readonly env?: string;
  /** For a boolean: the variable holds this flag when true and is left out when false (a `NODE_OPTIONS` flag). */
  readonly flag?: string;
  /** The functions whose environment carries it (empty when no handler reads it). */
  readonly functions: readonly HandlerFunction[];
  readonly unit: SettingUnit;
  /** Absent when the setting is off unless given (the stage throttle). */
  readonly default?: number | boolean | string | readonly string[];
  /** Smallest accepted value, in `unit`. */
  readonly min?: number;
  /** Largest accepted value, in `unit`. */
  readonly max?: number;
  /** One line: what it is, and why its bounds are what they are. */
  readonly doc: string;
}

/** Seconds in a day. */
export const SECONDS_PER_DAY = 24 * 3600;
const DAY = SECONDS_PER_DAY;

/**
 * The idempotency window's default, and so the signature tolerance's (contract/signature.ts
 * accepts this much when not told otherwise): FaceSign does not say whether it re-signs its
 * retries, so a retry signed at the first attempt must still be accepted, and a replay inside the
 * window is absorbed by idempotency on the event id.
 */
export const DEFAULT_IDEMPOTENCY_WINDOW_SECONDS = 7 * DAY;

/**
 * How long both dead-letter queues (the processor's and an onEvent target's) keep a message: SQS's
 * longest. The event archive keeps events as long by default, so anything a consumer's dead-letter
 * queue still holds can also be replayed.
 */
export const DEAD_LETTER_RETENTION_DAYS = 14;

/** FaceSign's signed media URLs expire this long after they are made (FaceSign's webhook document). */
export const MEDIA_URL_LIFETIME_SECONDS = 15 * 60;

/**
 * Assumed time between FaceSign making a media URL and our queue having the event: the part of
 * the URL's life we never see (docs/operations.md "Timeout budget").
 */
export const ASSUMED_DELIVERY_DELAY_SECONDS = 60;

/** Longest backoff the processor waits between two attempts of a record. */
export const MAX_RETRY_DELAY_SECONDS = 300;

/**
 * What the processor keeps back from its remaining time for the failure path: per failed record
 * one ChangeMessageVisibility or SendMessage (SQS client: 2 s connect + 4 s request per attempt).
 */
export const FAILURE_RESERVE_SECONDS = 15;

/**
 * What processorTimeout must leave beyond mediaDownloadTimeout: the failure reserve, and 5 s more
 * so that a download running its full time still ends before the invocation's deadline.
 */
export const PROCESSOR_TIMEOUT_RESERVE_SECONDS = FAILURE_RESERVE_SECONDS + 5;

/**
 * The queue's visibility timeout is this many times the processor timeout. AWS suggests six
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html: room for Lambda to
 * retry a throttled invocation); we use two, so that a crashed, timed-out or out-of-memory
 * invocation's records come back within 4 minutes with the default 2-minute timeout, while the
 * 15-minute media URLs still live. docs/operations.md "Timeout budget" has the reasoning.
 */
export const VISIBILITY_TIMEOUT_FACTOR = 2;

/** Longest processorTimeout: its visibility timeout must end before a URL delivered after the assumed delay dies (420 s). */
const MAX_PROCESSOR_TIMEOUT_SECONDS = Math.floor((MEDIA_URL_LIFETIME_SECONDS - ASSUMED_DELIVERY_DELAY_SECONDS) / VISIBILITY_TIMEOUT_FACTOR);

/** Every setting, keyed by its construct prop name (or, without a prop, the name the handlers use). */
export const SETTINGS = {
  signatureTolerance: {
    prop: true,
    env: 'FACESIGN_SIGNATURE_TOLERANCE_SECONDS',
    functions: ['verifier', 'reverifier'],
    unit: 'seconds',
    // The idempotency window's default; a given window is followed too (DEFAULTS_FROM).
    default: DEFAULT_IDEMPOTENCY_WINDOW_SECONDS,
    min: 60,
    max: 366 * DAY,
    doc: 'Oldest accepted signature; at most idempotencyWindow, so every replay it admits is a duplicate.',
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
    doc: 'Largest accepted request body; larger authentic bodies get 413.',
  },
  signingSecretCacheTtl: {
    prop: true,
    env: 'FACESIGN_SECRET_CACHE_SECONDS',
    functions: ['verifier'],
    unit: 'seconds',
    default: 300,
    min: 1,
    max: 3600,
    doc: 'How long the verifier uses a signing secret it has read before reading it again.',
  },
  throttlingRateLimit: {
    prop: true,
    functions: [],
    unit: 'requests per second',
    min: 1,
    max: 100_000,
    doc: 'Steady-state rate limit of the API stage; opt-in (a throttled request gets 429, which FaceSign never retries).',
  },
  throttlingBurstLimit: {
    prop: true,
    functions: [],
    unit: 'requests',
    min: 1,
    max: 100_000,
    doc: 'Burst limit of the API stage; opt-in, like throttlingRateLimit.',
  },
  verifierReservedConcurrency: {
    prop: true,
    functions: [],
    unit: 'count',
    // No default: Lambda keeps 100 of the account's concurrency unreserved, and new accounts start
    // with a quota below 100 + any reservation, so a default reservation would fail the first deploy.
    min: 1,
    max: 10_000,
    doc: "Reserved concurrency of the verifier, opt-in: guarantees it that much of the account's Lambda concurrency and caps the public endpoint's share.",
  },
  verifierTimeout: {
    prop: false,
    functions: [],
    unit: 'seconds',
    default: 10,
    min: 10,
    max: 10,
    doc: 'Fixed verifier timeout; the verifier assumes it when the context does not tell its remaining time.',
  },
  reverifierTimeout: {
    prop: false,
    functions: [],
    unit: 'seconds',
    default: 300,
    min: 300,
    max: 300,
    doc: 'Fixed reverifier timeout; `npm run reverify` invokes it again until every held delivery has been looked at.',
  },
  holdRetention: {
    prop: true,
    env: 'FACESIGN_HOLD_RETENTION_DAYS',
    functions: ['reverifier'],
    unit: 'days',
    // Long enough to notice the page, fix the secret and reverify over a long weekend; a shorter
    // idempotencyWindow, in whole days, when not given (lib/facesign-webhooks-props.ts).
    default: 7,
    min: 1,
    // At most idempotencyWindow too (CROSS_SETTING_RULES): a later re-verification must still meet the record of a redelivery.
    max: 366,
    doc: "How long a refused delivery in FaceSign's form is held for re-verification (held/ lifecycle rule, and the reverifier's own limit).",
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
    doc: 'Most refused deliveries held per clock hour, across every verifier instance; more are counted (HoldsDropped) and dropped.',
  },
  processorBatchSize: {
    prop: true,
    functions: [],
    unit: 'count',
    default: 5,
    min: 1,
    max: 10,
    doc: 'Records per processor invocation, processed in parallel.',
  },
  processorMaxConcurrency: {
    prop: true,
    functions: [],
    unit: 'count',
    default: 20,
    // Lambda's SQS event source scaling limits.
    min: 2,
    max: 1000,
    doc: 'Most concurrent processor invocations the queue starts.',
  },
  processorTimeout: {
    prop: true,
    functions: [],
    unit: 'seconds',
    default: 120,
    min: 30,
    // Its visibility timeout must end before the media URLs die.
    max: MAX_PROCESSOR_TIMEOUT_SECONDS,
    doc: 'Processor timeout; the queue visibility timeout is twice this.',
  },
  processorMemorySize: {
    prop: true,
    functions: [],
    unit: 'MiB',
    default: 1024,
    min: 128,
    max: 10_240,
    doc: 'Processor memory.',
  },
  verifierMemorySize: {
    prop: true,
    functions: [],
    unit: 'MiB',
    default: 512,
    min: 128,
    max: 10_240,
    doc: 'Verifier memory; more memory is more CPU, so a faster answer.',
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
    doc: 'How long an event id is remembered, so that a repeat delivery is skipped.',
  },
  maxReceiveCount: {
    prop: true,
    env: 'FACESIGN_MAX_RECEIVE_COUNT',
    functions: ['processor'],
    unit: 'count',
    default: 5,
    min: 1,
    max: 1000,
    doc: 'Receives of a message before SQS dead-letters it; the processor dead-letters it itself on the last one.',
  },
  allowedMediaHosts: {
    prop: true,
    env: 'FACESIGN_MEDIA_HOSTS',
    functions: ['processor'],
    unit: 'host list',
    default: ['media.facesign.ai'],
    doc: 'Hosts media may be downloaded from over https: host, host:port or *.domain, comma-separated in the environment.',
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
    doc: 'Time cap for one media download, from request to the last byte stored.',
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
    doc: 'Size cap for one media file; a larger file is refused and dead-lettered.',
  },
  mediaRetention: {
    prop: true,
    functions: [],
    unit: 'days',
    // Selfies, document photos, videos: long enough to review and dispute a verification, short of any biometric-law outer limit.
    default: 30,
    min: 1,
    doc: 'How long stored media is kept (created bucket only); S3 lifecycle counts whole days.',
  },
  archiveRetention: {
    prop: true,
    functions: [],
    unit: 'days',
    // Event payloads (no biometrics): outlive the media they describe and the 14-day dead-letter queue, for audit and redrive.
    default: 90,
    min: 1,
    doc: 'How long archived event payloads are kept (created bucket only); S3 lifecycle counts whole days.',
  },
  eventArchiveRetention: {
    prop: true,
    functions: [],
    unit: 'days',
    // As long as an onEvent target's dead-letter queue keeps its messages. No bounds: EventBridge's own apply (0 is forever).
    default: DEAD_LETTER_RETENTION_DAYS,
    doc: 'How long the event archive keeps every published event, for replay.',
  },
  logRetention: {
    prop: true,
    functions: [],
    // A logs.RetentionDays value: CloudWatch Logs accepts only the enum's days, so the type bounds it.
    unit: 'days',
    default: 30,
    doc: "Retention of the functions' logs and the API access logs (logs.RetentionDays.ONE_MONTH by default).",
  },
  sourceMapStackTraces: {
    prop: true,
    env: 'NODE_OPTIONS',
    flag: '--enable-source-maps',
    functions: ['verifier', 'processor', 'reverifier'],
    unit: 'boolean',
    // Loading the source maps adds about 40 ms to every cold start (bench/RESULTS.md).
    default: false,
    doc: 'Start Node.js with --enable-source-maps, so stack traces point at the TypeScript sources.',
  },
  metricsNamespace: {
    prop: true,
    env: 'POWERTOOLS_METRICS_NAMESPACE',
    functions: ['verifier', 'processor', 'reverifier'],
    unit: 'name',
    default: DEFAULT_METRICS_NAMESPACE,
    doc: "CloudWatch namespace of the handlers' custom metrics; Powertools Metrics reads it.",
  },
  retryBaseDelaySeconds: {
    prop: false,
    env: 'FACESIGN_RETRY_BASE_DELAY_SECONDS',
    functions: ['processor'],
    unit: 'seconds',
    default: 10,
    min: 1,
    // A base above the cap would make every delay the cap.
    max: MAX_RETRY_DELAY_SECONDS,
    doc: 'Base of the processor retry backoff; only the local runtime and tests set it (shorter), the construct never does.',
  },
  mediaAllowHttpLoopback: {
    prop: false,
    env: 'FACESIGN_MEDIA_ALLOW_HTTP_LOOPBACK',
    functions: ['processor'],
    unit: 'boolean',
    default: false,
    doc: 'Plain http to loopback media hosts; only the local runtime sets it, the construct never does.',
  },
} as const satisfies Record<string, SettingRow>;

/** A setting's name. */
export type SettingName = keyof typeof SETTINGS;

/** The value type of a setting: a number in its unit, a host list, a flag, or a name. */
export type SettingValue<N extends SettingName> = (typeof SETTINGS)[N]['unit'] extends 'host list'
  ? readonly string[]
  : (typeof SETTINGS)[N]['unit'] extends 'boolean'
    ? boolean
    : (typeof SETTINGS)[N]['unit'] extends 'name'
      ? string
      : number;

/** Settings in their units, as the construct resolves them or the local runtime overrides them. */
export type SettingValues = { readonly [N in SettingName]?: SettingValue<N> };

/** One resource a function is pointed at through its environment. */
export interface ResourceRow {
  readonly env: string;
  readonly functions: readonly HandlerFunction[];
  /** The handler refuses to start without it; an optional one switches a feature off when unset. */
  readonly required: boolean;
  readonly doc: string;
}

/** The resources the functions are pointed at, in the order their variables are written. */
export const RESOURCES = {
  metricsDeployment: {
    env: 'FACESIGN_METRICS_DEPLOYMENT',
    functions: ['verifier', 'processor', 'reverifier'],
    required: false,
    doc: 'The `deployment` dimension of every custom metric (stack name and construct path).',
  },
  signingSecretArn: {
    env: 'FACESIGN_SIGNING_SECRET_ARN',
    functions: ['verifier', 'reverifier'],
    required: true,
    doc: 'The secret holding the FaceSign signing secret.',
  },
  bucketName: { env: 'FACESIGN_BUCKET_NAME', functions: ['processor'], required: true, doc: 'The archive and media bucket.' },
  encryptionKeyArn: {
    env: 'FACESIGN_ENCRYPTION_KEY_ARN',
    functions: ['verifier', 'processor'],
    required: false,
    doc: "The KMS key every object is written under; unset means the bucket's default encryption.",
  },
  idempotencyTableName: { env: 'FACESIGN_IDEMPOTENCY_TABLE_NAME', functions: ['processor'], required: true, doc: 'The idempotency table.' },
  queueUrl: { env: 'FACESIGN_QUEUE_URL', functions: ['verifier', 'processor', 'reverifier'], required: true, doc: 'The event queue.' },
  deadLetterQueueUrl: { env: 'FACESIGN_DEAD_LETTER_QUEUE_URL', functions: ['processor'], required: true, doc: 'The dead-letter queue.' },
  holdBucketName: {
    env: 'FACESIGN_HOLD_BUCKET_NAME',
    functions: ['verifier', 'reverifier'],
    required: false,
    doc: "Where refused deliveries in FaceSign's form are held (under held/); unset means the verifier holds nothing (the reverifier requires it).",
  },
  holdCounterTableName: {
    env: 'FACESIGN_HOLD_COUNTER_TABLE_NAME',
    functions: ['verifier'],
    required: false,
    doc: 'The table of the hourly hold counters (the idempotency table, keys hold-rate#*); unset means the verifier holds nothing.',
  },
  eventBusName: {
    env: 'FACESIGN_EVENT_BUS_NAME',
    functions: ['processor'],
    required: false,
    doc: 'Where processed events are published; unset means not published.',
  },
} as const satisfies Record<string, ResourceRow>;

/** A resource's name. */
export type ResourceName = keyof typeof RESOURCES;

type FunctionResources<F extends HandlerFunction> = {
  [R in ResourceName as F extends (typeof RESOURCES)[R]['functions'][number] ? R : never]: string;
};
type RequiredKeys<F extends HandlerFunction> = {
  [R in keyof FunctionResources<F>]: R extends ResourceName ? ((typeof RESOURCES)[R]['required'] extends true ? R : never) : never;
}[keyof FunctionResources<F>];

/** The resource values one function's environment names: the required ones must be given. */
export type ResourceValues<F extends HandlerFunction> = Pick<FunctionResources<F>, RequiredKeys<F>> & Partial<FunctionResources<F>>;

type EnvNames = { readonly [N in SettingName as (typeof SETTINGS)[N] extends { env: string } ? N : never]: string } & {
  readonly [R in ResourceName]: string;
};

/** Every environment variable name, by setting or resource name: a view of the two tables, not a copy. */
export const ENV = Object.fromEntries(
  [...Object.entries(SETTINGS), ...Object.entries(RESOURCES)].flatMap(([name, row]) => ('env' in row && row.env ? [[name, row.env]] : [])),
) as EnvNames;

/**
 * Powertools' own variables besides metricsNamespace's row: functionEnvironment writes the service
 * name and the log level, the handlers read them by these names; only the local runtime turns
 * tracing off (no X-Ray daemon there).
 */
export const POWERTOOLS_ENV = {
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  traceEnabled: 'POWERTOOLS_TRACE_ENABLED',
} as const;

/** The log level the functions run at. */
export const LOG_LEVEL = 'INFO';

/**
 * A function's environment: Node.js's and Powertools' variables (its service name, the log level,
 * and the sourceMapStackTraces and metricsNamespace settings when given), its resources, then every
 * other setting it reads that has a value. The one place variables are named and written: the
 * construct calls it with tokens, the local runtime and the benchmarks with local names.
 */
export function functionEnvironment<F extends HandlerFunction>(fn: F, resources: ResourceValues<F>, settings: SettingValues): Record<string, string> {
  const environment: Record<string, string> = {};
  // Node.js and Powertools read these before any handler code runs; written first, in this order.
  const sourceMaps = SETTINGS.sourceMapStackTraces;
  if (settings.sourceMapStackTraces) environment[sourceMaps.env] = sourceMaps.flag;
  environment[POWERTOOLS_ENV.serviceName] = SERVICE[fn];
  environment[POWERTOOLS_ENV.logLevel] = LOG_LEVEL;
  if (settings.metricsNamespace !== undefined) environment[SETTINGS.metricsNamespace.env] = settings.metricsNamespace;
  const given = resources as Readonly<Record<string, string | undefined>>;
  for (const [name, row] of Object.entries(RESOURCES) as [ResourceName, ResourceRow][]) {
    const value = given[name];
    if (row.functions.includes(fn) && value !== undefined) environment[row.env] = value;
  }
  for (const [name, row] of Object.entries(SETTINGS) as [SettingName, SettingRow][]) {
    const value = settings[name];
    if (row.env === undefined || row.flag !== undefined || !row.functions.includes(fn) || value === undefined || row.env in environment) continue;
    environment[row.env] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return environment;
}

/** True when `value` is an integer within the row's bounds. */
export function withinBounds(name: SettingName, value: number): boolean {
  return rowWithinBounds(SETTINGS[name], value);
}

/** The row's bounds in words, for the construct's and the handlers' errors alike: `an integer from 1 to 10`. */
export function describeBounds(name: SettingName): string {
  return describeRowBounds(SETTINGS[name]);
}

/** {@link withinBounds} for a row of another table of settings (contract/alarm-settings.ts). */
export function rowWithinBounds(row: SettingRow, value: number): boolean {
  return Number.isInteger(value) && value >= (row.min ?? -Infinity) && value <= (row.max ?? Infinity);
}

/** {@link describeBounds} for a row of another table of settings. */
export function describeRowBounds(row: SettingRow): string {
  if (row.min !== undefined && row.max !== undefined) return `an integer from ${row.min} to ${row.max}`;
  if (row.min !== undefined) return `an integer of at least ${row.min}`;
  if (row.max !== undefined) return `an integer of at most ${row.max}`;
  return 'an integer';
}

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

/** The queue visibility timeout for a processor timeout: the one rule the construct and the local runtime share. */
export function queueVisibilityTimeoutSeconds(processorTimeoutSeconds: number): number {
  return processorTimeoutSeconds * VISIBILITY_TIMEOUT_FACTOR;
}

/** The idempotency key prefix. Stable on purpose: renaming the function must not forget processed events. */
export const IDEMPOTENCY_KEY_PREFIX = 'facesign-webhooks';

const HOST_ENTRY = /^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/;

/** True for `host`, `host:port` or `*.domain` in lower case: the forms an allowed media host may take. */
export function isValidHostEntry(entry: string): boolean {
  return HOST_ENTRY.test(entry);
}
