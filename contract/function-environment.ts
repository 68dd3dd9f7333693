/**
 * A function's environment: the resources it is pointed at, Powertools' own variables, and the
 * one function that writes them all. The construct calls {@link functionEnvironment} with tokens,
 * the local runtime and the benchmarks with local names.
 */
import { LOCAL_SETTINGS } from './handler-settings';
import { SERVICE } from './metric-names';
import { SETTINGS, type HandlerFunction, type SettingName, type SettingRow, type SettingValues } from './settings';

/** One resource a function is pointed at through its environment. */
export interface ResourceRow {
  readonly env: string;
  readonly functions: readonly HandlerFunction[];
  /** The handler refuses to start without it; an optional one switches a feature off when unset. */
  readonly required: boolean;
}

/** The resources the functions are pointed at, in the order their variables are written. */
export const RESOURCES = {
  /** The `deployment` dimension of every custom metric (stack name and construct path). */
  metricsDeployment: { env: 'FACESIGN_METRICS_DEPLOYMENT', functions: ['verifier', 'processor', 'reverifier'], required: false },
  /** The secret holding the FaceSign signing secret. */
  signingSecretArn: { env: 'FACESIGN_SIGNING_SECRET_ARN', functions: ['verifier', 'reverifier'], required: true },
  /** The archive and media bucket. */
  bucketName: { env: 'FACESIGN_BUCKET_NAME', functions: ['processor'], required: true },
  /** The KMS key every object is written under; unset means the bucket's default encryption. */
  encryptionKeyArn: { env: 'FACESIGN_ENCRYPTION_KEY_ARN', functions: ['verifier', 'processor'], required: false },
  idempotencyTableName: { env: 'FACESIGN_IDEMPOTENCY_TABLE_NAME', functions: ['processor'], required: true },
  queueUrl: { env: 'FACESIGN_QUEUE_URL', functions: ['verifier', 'processor', 'reverifier'], required: true },
  deadLetterQueueUrl: { env: 'FACESIGN_DEAD_LETTER_QUEUE_URL', functions: ['processor'], required: true },
  /** Where refused deliveries in FaceSign's form are held (under held/); unset means the verifier holds nothing (the reverifier requires it). */
  holdBucketName: { env: 'FACESIGN_HOLD_BUCKET_NAME', functions: ['verifier', 'reverifier'], required: false },
  /** The table of the hourly hold counters (the idempotency table, keys hold-rate#*); unset means the verifier holds nothing. */
  holdCounterTableName: { env: 'FACESIGN_HOLD_COUNTER_TABLE_NAME', functions: ['verifier'], required: false },
  /** Where processed events are published; unset means not published. */
  eventBusName: { env: 'FACESIGN_EVENT_BUS_NAME', functions: ['processor'], required: false },
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

/** A setting only the local runtime and tests give (contract/handler-settings.ts LOCAL_SETTINGS). */
export type LocalSettingName = keyof typeof LOCAL_SETTINGS;

/** What a function's environment is written from: the table's settings, and the local-only ones. */
export type EnvironmentSettings = SettingValues & {
  readonly retryBaseDelaySeconds?: number;
  readonly mediaAllowHttpLoopback?: boolean;
};

const SETTING_ROWS = [...Object.entries(SETTINGS), ...Object.entries(LOCAL_SETTINGS)] as [SettingName | LocalSettingName, SettingRow][];

type EnvNames = { readonly [N in SettingName as (typeof SETTINGS)[N] extends { env: string } ? N : never]: string } & {
  readonly [N in LocalSettingName]: string;
} & {
  readonly [R in ResourceName]: string;
};

/** Every environment variable name, by setting or resource name: a view of the tables, not a copy. */
export const ENV = Object.fromEntries(
  [...SETTING_ROWS, ...Object.entries(RESOURCES)].flatMap(([name, row]) => ('env' in row && row.env ? [[name, row.env]] : [])),
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
 * other setting it reads that has a value. The one place variables are named and written.
 */
export function functionEnvironment<F extends HandlerFunction>(fn: F, resources: ResourceValues<F>, settings: EnvironmentSettings): Record<string, string> {
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
  const values = settings as Readonly<Record<string, unknown>>;
  for (const [name, row] of SETTING_ROWS) {
    const value = values[name];
    if (row.env === undefined || row.flag !== undefined || !row.functions.includes(fn) || value === undefined || row.env in environment) continue;
    environment[row.env] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return environment;
}
