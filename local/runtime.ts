/**
 * The whole pipeline on this machine: local DynamoDB, SQS and S3, a Secrets Manager endpoint,
 * the HTTP API route running the real verifier bundle, and an SQS event source running the real
 * processor bundle. The handlers are the deployed bundles, configured through the same
 * environment variables as in AWS and pointed at the local services with AWS_ENDPOINT_URL_*.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { DEFAULTS, ENV, queueVisibilityTimeoutSeconds } from '../lambda/shared/config';
import { SERVICE } from '../lambda/shared/metric-names';
import { ArchiveMirror } from './archive-mirror';
import { startEventBridge, type PublishedEvent } from './eventbridge-server';
import { startFaultProxy } from './fault-proxy';
import { buildHandlerBundles } from './bundle';
import { startHttpApi } from './http-api';
import { LocalLambda } from './local-lambda';
import { startSecretsManager } from './secrets-manager-server';
import { startDynamoDB, type DynamoDBEngine } from './services/dynamodb';
import { startSqsS3 } from './services/sqs-s3';
import { startSqsEventSource, type SqsEventSourceStats } from './sqs-event-source';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const SECRET_ID = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:facesign-local-signing-secret';
const LOCAL_KEY_ARN = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000';

/** How the local runtime runs. Every field has a local default. */
export interface LocalRuntimeOptions {
  /** Port of the webhook server; 0 picks a free one. @default 3000 */
  readonly port?: number;
  /** The signing secret. @default a generated `whsec_...` */
  readonly signingSecret?: string;
  /** Where archived events and media are copied, and the bundles built. @default .facesign-local */
  readonly dataDir?: string;
  /** `host[:port]` entries the processor may download media from (plain http allowed for loopback). */
  readonly mediaHosts?: readonly string[];
  /** Which local DynamoDB. @default 'auto' (DynamoDB Local when Java is present, else dynalite) */
  readonly dynamodb?: DynamoDBEngine;
  readonly processor?: {
    readonly batchSize?: number;
    readonly maxConcurrency?: number;
    readonly timeoutSeconds?: number;
    readonly visibilityTimeoutSeconds?: number;
    readonly maxReceiveCount?: number;
    readonly retryBaseDelaySeconds?: number;
    readonly mediaMaxBytes?: number;
  };
  /** Execution environments of the verifier. @default 4 */
  readonly verifierConcurrency?: number;
  /**
   * The verifier's reserved concurrency: requests beyond this many in flight get API Gateway's 500,
   * as in AWS (those between `verifierConcurrency` and this wait for an environment).
   * @default the construct's default, 50
   */
  readonly verifierReservedConcurrency?: number;
  /** How long the verifier caches the signing secret, in seconds. @default 300 */
  readonly secretCacheSeconds?: number;
  /** Receives each line a function prints, with the function's name. */
  readonly onLog?: (functionName: string, line: string) => void;
  /** Told after every processor batch. */
  readonly onBatch?: (report: { records: number; failed: number; error?: Error }) => void;
}

/** A running local pipeline. */
export interface LocalRuntime {
  readonly webhookUrl: string;
  readonly port: number;
  readonly signingSecret: string;
  readonly dataDir: string;
  readonly dynamodbKind: string;
  readonly endpoints: { readonly dynamodb: string; readonly sqsS3: string; readonly secretsManager: string; readonly eventBridge: string };
  /** What the processor published to EventBridge. */
  readonly published: PublishedEvent[];
  /** Durations of completed invocations, in ms, per function. */
  readonly durations: { readonly verifier: number[]; readonly processor: number[] };
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly bucket: string;
  readonly tableName: string;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly eventSource: SqsEventSourceStats;
  /** Makes Secrets Manager fail (to see the verifier's 503), or recover. */
  setSecretsManagerFailing(failing: boolean): void;
  /** Makes SQS unreachable for the verifier (connections dropped), or reachable again. */
  setQueueReachableFromVerifier(reachable: boolean): void;
  /** Makes S3 hang for the processor (connections accepted, never answered), or answer again. */
  setS3HungForProcessor(hung: boolean): void;
  /** Copies new objects from the local bucket into `dataDir`. */
  syncArchive(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const stack: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stack.reverse()) await step().catch(() => undefined);
    stack.length = 0;
  };
  try {
    return await start(options, stack, stop);
  } catch (error) {
    await stop();
    throw error;
  }
}

async function start(options: LocalRuntimeOptions, stack: Array<() => Promise<void>>, stop: () => Promise<void>): Promise<LocalRuntime> {
  const dataDir = path.resolve(options.dataDir ?? '.facesign-local');
  // Owner-only when created: it holds the runtime file with the secret, and copies of the media.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const signingSecret = options.signingSecret ?? `whsec_${randomBytes(24).toString('hex')}`;
  const processor = {
    batchSize: 5,
    maxConcurrency: 2,
    timeoutSeconds: 120,
    maxReceiveCount: DEFAULTS.maxReceiveCount,
    retryBaseDelaySeconds: DEFAULTS.retryBaseDelaySeconds,
    mediaMaxBytes: DEFAULTS.mediaMaxBytes,
    ...options.processor,
  };
  const visibilityTimeoutSeconds = options.processor?.visibilityTimeoutSeconds ?? queueVisibilityTimeoutSeconds(processor.timeoutSeconds);

  const [bundles, dynamodb, sqsS3, secrets, eventBridge] = await Promise.all([
    buildHandlerBundles(path.join(dataDir, 'bundles')),
    startDynamoDB(options.dynamodb ?? 'auto', (reason) => options.onLog?.('runtime', `using dynalite: ${reason}`)),
    startSqsS3(),
    startSecretsManager({ [SECRET_ID]: signingSecret }),
    startEventBridge(path.join(dataDir, 'published-events.jsonl')),
  ]);
  stack.push(() => dynamodb.stop(), () => sqsS3.stop(), () => secrets.close(), () => eventBridge.close());
  const verifierSqs = await startFaultProxy(sqsS3.endpoint);
  stack.push(() => verifierSqs.stop());
  const processorS3 = await startFaultProxy(sqsS3.endpoint);
  stack.push(() => processorS3.stop());

  const clientConfig = { region: REGION, credentials: CREDENTIALS };
  const ddb = new DynamoDBClient({ ...clientConfig, endpoint: dynamodb.endpoint });
  const sqs = new SQSClient({ ...clientConfig, endpoint: sqsS3.endpoint, useQueueUrlAsEndpoint: false });
  const s3 = new S3Client({ ...clientConfig, endpoint: sqsS3.endpoint, forcePathStyle: true });

  const tableName = 'facesign-idempotency';
  const bucket = 'facesign-archive';
  await ddb.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const deadLetterQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'facesign-dlq', Attributes: { MessageRetentionPeriod: '1209600' } }))).QueueUrl!;
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const queueUrl = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: 'facesign-events',
        Attributes: {
          VisibilityTimeout: String(visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: String(processor.maxReceiveCount) }),
        },
      }),
    )
  ).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;

  const common: Record<string, string> = {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsS3.endpoint,
    AWS_ENDPOINT_URL_S3: sqsS3.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
    NODE_OPTIONS: '--enable-source-maps',
    // Node 20 here: the SDK's notice that it will need Node 22 is noise (Lambda runs Node 24).
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO',
    POWERTOOLS_METRICS_NAMESPACE: 'FaceSignWebhooksLocal',
    // No X-Ray daemon here.
    POWERTOOLS_TRACE_ENABLED: 'false',
  };
  const verifier = new LocalLambda({
    functionName: 'facesign-verifier',
    bundle: bundles.verifier,
    timeoutMs: 10_000,
    memoryMb: 512,
    concurrency: options.verifierConcurrency ?? 4,
    onLog: (line) => options.onLog?.('verifier', line),
    environment: {
      ...common,
      POWERTOOLS_SERVICE_NAME: SERVICE.verifier,
      AWS_ENDPOINT_URL_SQS: verifierSqs.endpoint,
      [ENV.signingSecretArn]: SECRET_ID,
      [ENV.queueUrl]: queueUrl,
      [ENV.secretCacheSeconds]: String(options.secretCacheSeconds ?? DEFAULTS.secretCacheSeconds),
    },
  });
  const processorFn = new LocalLambda({
    functionName: 'facesign-processor',
    bundle: bundles.processor,
    timeoutMs: processor.timeoutSeconds * 1000,
    memoryMb: 1024,
    concurrency: processor.maxConcurrency,
    onLog: (line) => options.onLog?.('processor', line),
    environment: {
      ...common,
      POWERTOOLS_SERVICE_NAME: SERVICE.processor,
      AWS_ENDPOINT_URL_S3: processorS3.endpoint,
      [ENV.bucketName]: bucket,
      [ENV.idempotencyTableName]: tableName,
      [ENV.queueUrl]: queueUrl,
      [ENV.deadLetterQueueUrl]: deadLetterQueueUrl,
      [ENV.maxReceiveCount]: String(processor.maxReceiveCount),
      [ENV.retryBaseDelaySeconds]: String(processor.retryBaseDelaySeconds),
      [ENV.mediaMaxBytes]: String(processor.mediaMaxBytes),
      [ENV.mediaAllowHttpLoopback]: 'true',
      [ENV.eventBusName]: 'facesign-local-bus',
      // Every object is written SSE-KMS, as in AWS (the local S3 accepts and ignores the key).
      [ENV.encryptionKeyArn]: LOCAL_KEY_ARN,
      ...(options.mediaHosts?.length ? { [ENV.mediaAllowedHosts]: options.mediaHosts.join(',') } : {}),
    },
  });
  stack.push(() => verifier.stop(), () => processorFn.stop());

  const mirror = new ArchiveMirror(s3, bucket, path.join(dataDir, 'archive'));
  const eventSource = startSqsEventSource({
    sqs,
    queueUrl,
    queueArn,
    region: REGION,
    batchSize: processor.batchSize,
    maxConcurrency: processor.maxConcurrency,
    invoke: (event) => processorFn.invoke<SQSBatchResponse>(event),
    onBatch: (report) => {
      options.onBatch?.(report);
      void mirror.sync().catch(() => undefined);
    },
  });
  stack.push(() => eventSource.stop());

  const api = await startHttpApi((event) => verifier.invoke(event), {
    port: options.port ?? 3000,
    maxConcurrency: options.verifierReservedConcurrency ?? DEFAULTS.verifierReservedConcurrency,
    extraRoutes: {
      '/__local/status': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ eventSource: eventSource.stats, published: eventBridge.published, dynamodb: dynamodb.kind }));
      },
    },
  });
  stack.push(() => api.stop());

  return {
    webhookUrl: api.url,
    port: api.port,
    signingSecret,
    dataDir,
    dynamodbKind: dynamodb.kind,
    endpoints: { dynamodb: dynamodb.endpoint, sqsS3: sqsS3.endpoint, secretsManager: secrets.endpoint, eventBridge: eventBridge.endpoint },
    published: eventBridge.published,
    durations: { verifier: verifier.durations, processor: processorFn.durations },
    queueUrl,
    deadLetterQueueUrl,
    bucket,
    tableName,
    sqs,
    s3,
    eventSource: eventSource.stats,
    setSecretsManagerFailing: (failing) => secrets.setFailing(failing),
    setQueueReachableFromVerifier: (reachable) => verifierSqs.setReachable(reachable),
    setS3HungForProcessor: (hung) => processorS3.setHung(hung),
    syncArchive: () => mirror.sync(),
    stop,
  };
}
