/**
 * The three functions, each the deployed bundle in its own execution environments, with the stack's
 * environment for it and then what points it at the local services (AWS_ENDPOINT_URL_<SERVICE>).
 */
import { functionEnvironment, POWERTOOLS_ENV, type EnvironmentSettings } from '../../contract/function-environment';
import { LocalLambda } from '../local-lambda';
import type { StackSettings } from '../stack-settings';
import type { FaultEndpoints } from './faults';
import type { LocalResources } from './resources';
import type { LocalServices } from './services';
import { LOCAL_SECRET_ID } from './services';
import type { Teardown } from './teardown';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
const LOCAL_KEY_ARN = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000';

/** What the functions take from the runtime's options. */
export interface LocalFunctionsOptions {
  /** Execution environments of the verifier. */
  readonly verifierConcurrency: number;
  /** `host[:port]` entries the processor may download media from. @default - the stack's */
  readonly mediaHosts?: readonly string[];
  /** Plain http to loopback media hosts (the sample media host); the stack never allows it. */
  readonly mediaAllowHttpLoopback: boolean;
  /** Base of the processor's retry backoff, in seconds. @default - the handler's */
  readonly retryBaseDelaySeconds?: number;
  readonly onLog?: (functionName: string, line: string) => void;
  /** Told each line the processor prints too (the inspector's journal reads its attempts from them). */
  readonly onProcessorLog?: (line: string) => void;
}

/** The running functions: the verifier and processor, and the reverifier the reverify route runs. */
export interface LocalFunctions {
  readonly verifier: LocalLambda;
  readonly processor: LocalLambda;
  readonly reverifier: LocalLambda;
}

/** Starts the functions (their environments start on first invocation); their stops go to `teardown`. */
export function startFunctions(
  services: LocalServices,
  resources: LocalResources,
  settings: StackSettings,
  options: LocalFunctionsOptions,
  faultEndpoints: FaultEndpoints | undefined,
  teardown: Teardown,
): LocalFunctions {
  const common: Record<string, string> = {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: services.dynamodb.endpoint,
    AWS_ENDPOINT_URL_SQS: services.sqsS3.endpoint,
    AWS_ENDPOINT_URL_S3: services.sqsS3.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: services.secrets.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: services.eventBridge.endpoint,
    // Node 20 here: the SDK's notice that it will need Node 22 is noise (Lambda runs Node 24).
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // The log level of the shell that started the runtime, when it sets one.
    ...(process.env[POWERTOOLS_ENV.logLevel] ? { [POWERTOOLS_ENV.logLevel]: process.env[POWERTOOLS_ENV.logLevel]! } : {}),
    // No X-Ray daemon here.
    [POWERTOOLS_ENV.traceEnabled]: 'false',
  };
  // What the local runtime sets differently from the stack: readable stack traces, and metrics in
  // a namespace of their own.
  const local: EnvironmentSettings = { sourceMapStackTraces: true, metricsNamespace: 'FaceSignWebhooksLocal' };
  const verifier = new LocalLambda({
    functionName: 'facesign-verifier',
    bundle: services.bundles.verifier,
    timeoutMs: settings.verifier.timeoutSeconds * 1000,
    memoryMb: settings.verifier.memoryMb,
    concurrency: options.verifierConcurrency,
    onLog: (line) => options.onLog?.('verifier', line),
    environment: {
      ...settings.verifier.environment,
      // Held deliveries go to the local bucket's held/, counted in the local idempotency table, as in AWS.
      ...functionEnvironment(
        'verifier',
        {
          signingSecretArn: LOCAL_SECRET_ID,
          queueUrl: resources.queueUrl,
          holdBucketName: resources.bucket,
          holdCounterTableName: resources.tableName,
          encryptionKeyArn: LOCAL_KEY_ARN,
        },
        local,
      ),
      ...common,
      ...(faultEndpoints ? { AWS_ENDPOINT_URL_SQS: faultEndpoints.verifier.sqs } : {}),
    },
  });
  const processor = new LocalLambda({
    functionName: 'facesign-processor',
    bundle: services.bundles.processor,
    timeoutMs: settings.processor.timeoutSeconds * 1000,
    memoryMb: settings.processor.memoryMb,
    concurrency: settings.processor.maxConcurrency,
    onLog: (line) => {
      options.onLog?.('processor', line);
      options.onProcessorLog?.(line);
    },
    environment: {
      ...settings.processor.environment,
      ...functionEnvironment(
        'processor',
        {
          bucketName: resources.bucket,
          idempotencyTableName: resources.tableName,
          queueUrl: resources.queueUrl,
          deadLetterQueueUrl: resources.deadLetterQueueUrl,
          eventBusName: resources.eventBusName,
          // Every object is written SSE-KMS, as in AWS (the local S3 accepts and ignores the key).
          encryptionKeyArn: LOCAL_KEY_ARN,
        },
        // What only the local runtime sets: plain http to the local media server, a shorter backoff in tests.
        {
          ...local,
          ...(options.mediaAllowHttpLoopback ? { mediaAllowHttpLoopback: true } : {}),
          ...(options.retryBaseDelaySeconds ? { retryBaseDelaySeconds: options.retryBaseDelaySeconds } : {}),
          ...(options.mediaHosts?.length ? { allowedMediaHosts: options.mediaHosts } : {}),
        },
      ),
      ...common,
      ...(faultEndpoints ? { AWS_ENDPOINT_URL_S3: faultEndpoints.processor.s3, AWS_ENDPOINT_URL_DYNAMODB: faultEndpoints.processor.dynamodb } : {}),
    },
  });
  // The reverifier, run on demand by the reverify route (local/reverify-route.ts).
  const reverifier = new LocalLambda({
    functionName: 'facesign-reverifier',
    bundle: services.bundles.reverifier,
    timeoutMs: settings.reverifier.timeoutSeconds * 1000,
    memoryMb: settings.reverifier.memoryMb,
    concurrency: 1,
    onLog: (line) => options.onLog?.('reverifier', line),
    environment: {
      ...settings.reverifier.environment,
      ...functionEnvironment('reverifier', { signingSecretArn: LOCAL_SECRET_ID, queueUrl: resources.queueUrl, holdBucketName: resources.bucket }, local),
      ...common,
    },
  });
  teardown.add(
    () => verifier.stop(),
    () => processor.stop(),
    () => reverifier.stop(),
  );
  return { verifier, processor, reverifier };
}
