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
import { DEAD_LETTER_RETENTION_DAYS, functionEnvironment, POWERTOOLS_ENV, SECONDS_PER_DAY, type SettingValues } from '../contract/settings';
import { ArchiveMirror } from './archive-mirror';
import { startEventBridge, type PublishedEvent } from './eventbridge-server';
import { startFaultProxy } from './fault-proxy';
import { buildHandlerBundles } from '../scripts/handler-bundles';
import { DEFAULT_LOCAL_PORT, startHttpApi } from './http-api';
import { LocalLambda, type EnvironmentInfo } from './local-lambda';
import { readStackSettings, type LocalStackProps, type StackSettings } from './stack-settings';
import { startSecretsManager } from './secrets-manager-server';
import { startDynamoDB, type DynamoDBEngine } from './services/dynamodb';
import { startSqsS3 } from './services/sqs-s3';
import { startSqsEventSource, type SqsEventSourceStats } from './sqs-event-source';
import { DeliveryJournal, observeBatch } from './inspector/journal';
import { createInspector } from './inspector/server';

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
  /** Where archived events and media are copied. @default .facesign-local */
  readonly dataDir?: string;
  /** `host[:port]` entries the processor may download media from (plain http allowed for loopback). */
  readonly mediaHosts?: readonly string[];
  /** Which local DynamoDB. @default 'auto' (DynamoDB Local when Java is present, else dynalite) */
  readonly dynamodb?: DynamoDBEngine;
  /**
   * Props of the FaceSignWebhooks construct. The local queue and functions take the settings the
   * construct derives from them (visibility timeout, redrive count, timeouts, memory, batch size,
   * concurrency, the functions' environment), read from the construct itself.
   * @default { processorMaxConcurrency: 2 } (two batches at a time, to spare a laptop)
   */
  readonly stack?: LocalStackProps;
  /** Base of the processor's retry backoff, in seconds (the handler's own default when unset; tests shorten it). */
  readonly retryBaseDelaySeconds?: number;
  /** Execution environments of the verifier. @default 4 */
  readonly verifierConcurrency?: number;
  /** Receives each line a function prints, with the function's name. */
  readonly onLog?: (functionName: string, line: string) => void;
  /** Told after every processor batch. */
  readonly onBatch?: (report: { records: number; failed: number; error?: Error }) => void;
  /** Told about each message that arrives in the dead-letter queue (checked every second). */
  readonly onDeadLetter?: (message: DeadLetterEntry, deadLetterCount: number) => void;
  /** Origin of the sample media host, used by the inspector's media sample buttons. @default - they point at media.facesign.ai */
  readonly sampleMediaOrigin?: string;
}

/** A message in the dead-letter queue, as the status page shows it. */
export interface DeadLetterEntry {
  readonly messageId: string;
  readonly failureReason: string;
  readonly eventId?: string;
  readonly eventType?: string;
  readonly sessionId?: string;
  readonly attempts?: string;
  readonly failedAt?: string;
}

/** What `/__local/status` answers: where everything is. */
export interface LocalStatus {
  readonly dynamodb: string;
  readonly queue: {
    readonly visible: number;
    readonly inFlight: number;
    readonly delayed: number;
    readonly visibilityTimeoutSeconds: number;
    readonly maxReceiveCount: number;
  };
  readonly deadLetterQueue: { readonly count: number; readonly messages: DeadLetterEntry[]; readonly more: number };
  readonly eventSource: {
    readonly received: number;
    readonly deleted: number;
    readonly failedRecords: number;
    readonly failedInvocations: number;
    readonly inFlight: number;
  };
  readonly functions: Record<
    'verifier' | 'processor',
    { readonly environments: Array<{ pid?: number; busy: boolean }>; readonly coldStarts: number; readonly crashes: number }
  >;
  readonly published: { readonly total: number; readonly recent: PublishedEvent[]; readonly more: number };
}

/** How many published events and dead letters the status page lists; it counts the rest. */
export const STATUS_RECENT = 20;
export const STATUS_DEAD_LETTERS = 100;

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
  /** The settings read from the construct for this run. */
  readonly settings: StackSettings;
  /** Where everything is: the queue, the dead-letter queue, the functions, what was published. */
  status(): Promise<LocalStatus>;
  /** The live execution environments of a function (PIDs, what each is running). */
  environments(fn: 'verifier' | 'processor'): EnvironmentInfo[];
  /** Holds the processor's DynamoDB requests unanswered (a hung DynamoDB), or lets them through. */
  setDynamoDBPaused(paused: boolean): void;
  /** Kills every child process at once without waiting: for a process that is about to exit. */
  killNow(): void;
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
  // The inspector (local/inspector/) records every delivery and what became of it.
  const journal = new DeliveryJournal();
  const [bundles, dynamodb, sqsS3, secrets, eventBridge] = await Promise.all([
    // The very files the package ships and cdk deploys (dist/assets), rebuilt from the sources.
    buildHandlerBundles(),
    startDynamoDB(options.dynamodb ?? 'auto', (reason) => options.onLog?.('runtime', `using dynalite: ${reason}`)),
    startSqsS3(),
    startSecretsManager({ [SECRET_ID]: signingSecret }),
    startEventBridge(path.join(dataDir, 'published-events.jsonl'), (event) => journal.published(event)),
  ]);
  stack.push(
    () => dynamodb.stop(),
    () => sqsS3.stop(),
    () => secrets.close(),
    () => eventBridge.close(),
  );
  // After the build: the construct, which the settings are read from, loads those bundles.
  const settings = readStackSettings({ processorMaxConcurrency: 2, ...options.stack });
  const verifierSqs = await startFaultProxy(sqsS3.endpoint);
  stack.push(() => verifierSqs.stop());
  const processorS3 = await startFaultProxy(sqsS3.endpoint);
  const processorDynamoDB = await startFaultProxy(dynamodb.endpoint);
  stack.push(
    () => processorS3.stop(),
    () => processorDynamoDB.stop(),
  );

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
  const deadLetterQueueUrl = (
    await sqs.send(
      new CreateQueueCommand({ QueueName: 'facesign-dlq', Attributes: { MessageRetentionPeriod: String(DEAD_LETTER_RETENTION_DAYS * SECONDS_PER_DAY) } }),
    )
  ).QueueUrl!;
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const queueUrl = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: 'facesign-events',
        Attributes: {
          VisibilityTimeout: String(settings.queue.visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: String(settings.queue.maxReceiveCount) }),
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
    // Node 20 here: the SDK's notice that it will need Node 22 is noise (Lambda runs Node 24).
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // The log level of the shell that started the runtime, when it sets one.
    ...(process.env[POWERTOOLS_ENV.logLevel] ? { [POWERTOOLS_ENV.logLevel]: process.env[POWERTOOLS_ENV.logLevel]! } : {}),
    // No X-Ray daemon here.
    [POWERTOOLS_ENV.traceEnabled]: 'false',
  };
  // What the local runtime sets differently from the stack: readable stack traces, and metrics in
  // a namespace of their own.
  const local: SettingValues = { sourceMapStackTraces: true, metricsNamespace: 'FaceSignWebhooksLocal' };
  // The stack's environment for each function, then what points it at the local services.
  const verifier = new LocalLambda({
    functionName: 'facesign-verifier',
    bundle: bundles.verifier,
    timeoutMs: settings.verifier.timeoutSeconds * 1000,
    memoryMb: settings.verifier.memoryMb,
    concurrency: options.verifierConcurrency ?? 4,
    onLog: (line) => options.onLog?.('verifier', line),
    environment: {
      ...settings.verifier.environment,
      ...functionEnvironment('verifier', { signingSecretArn: SECRET_ID, queueUrl }, local),
      ...common,
      AWS_ENDPOINT_URL_SQS: verifierSqs.endpoint,
    },
  });
  const processorFn = new LocalLambda({
    functionName: 'facesign-processor',
    bundle: bundles.processor,
    timeoutMs: settings.processor.timeoutSeconds * 1000,
    memoryMb: settings.processor.memoryMb,
    concurrency: settings.processor.maxConcurrency,
    onLog: (line) => {
      options.onLog?.('processor', line);
      journal.processorLog(line);
    },
    environment: {
      ...settings.processor.environment,
      ...functionEnvironment(
        'processor',
        {
          bucketName: bucket,
          idempotencyTableName: tableName,
          queueUrl,
          deadLetterQueueUrl,
          eventBusName: 'facesign-local-bus',
          // Every object is written SSE-KMS, as in AWS (the local S3 accepts and ignores the key).
          encryptionKeyArn: LOCAL_KEY_ARN,
        },
        // What only the local runtime sets: plain http to the local media server, a shorter backoff in tests.
        {
          ...local,
          mediaAllowHttpLoopback: true,
          ...(options.retryBaseDelaySeconds ? { retryBaseDelaySeconds: options.retryBaseDelaySeconds } : {}),
          ...(options.mediaHosts?.length ? { allowedMediaHosts: options.mediaHosts } : {}),
        },
      ),
      ...common,
      AWS_ENDPOINT_URL_S3: processorS3.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: processorDynamoDB.endpoint,
    },
  });
  stack.push(
    () => verifier.stop(),
    () => processorFn.stop(),
  );

  const mirror = new ArchiveMirror(s3, bucket, path.join(dataDir, 'archive'));
  const eventSource = startSqsEventSource({
    sqs,
    queueUrl,
    queueArn,
    region: REGION,
    batchSize: settings.processor.batchSize,
    maxConcurrency: settings.processor.maxConcurrency,
    invoke: (event) => observeBatch(journal, event, () => processorFn.invoke<SQSBatchResponse>(event)),
    onBatch: (report) => {
      options.onBatch?.(report);
      void mirror.sync().catch(() => undefined);
    },
  });
  // Stop receiving and end the invocations in flight at once (their records are not deleted, as
  // after any failed invocation); waiting for them could take a whole processor timeout.
  stack.push(async () => {
    const stopped = eventSource.stop();
    await Promise.all([verifier.stop(), processorFn.stop()]);
    await stopped;
  });

  const deadLetters = watchDeadLetters(sqsS3.endpoint, 'facesign-dlq', (message, count) => {
    options.onDeadLetter?.(message, count);
    journal.deadLettered(message);
  });
  stack.push(async () => deadLetters.stop());

  const status = async (): Promise<LocalStatus> => {
    const [attributes, dead] = await Promise.all([
      sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
        }),
      ),
      inspectDeadLetters(sqsS3.endpoint, 'facesign-dlq'),
    ]);
    const a = attributes.Attributes ?? {};
    const functionStatus = (fn: LocalLambda) => ({
      environments: fn.environmentsInfo().map(({ pid, busy }) => ({ pid, busy })),
      coldStarts: fn.coldStarts,
      crashes: fn.crashes,
    });
    const recent = eventBridge.published.slice(-STATUS_RECENT);
    const { receivedEventIds: _ids, ...counts } = eventSource.stats;
    return {
      dynamodb: dynamodb.kind,
      queue: {
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
        visibilityTimeoutSeconds: settings.queue.visibilityTimeoutSeconds,
        maxReceiveCount: settings.queue.maxReceiveCount,
      },
      deadLetterQueue: { count: dead.length, messages: dead.slice(-STATUS_DEAD_LETTERS), more: Math.max(0, dead.length - STATUS_DEAD_LETTERS) },
      eventSource: counts,
      functions: { verifier: functionStatus(verifier), processor: functionStatus(processorFn) },
      published: { total: eventBridge.publishedTotal, recent, more: eventBridge.publishedTotal - recent.length },
    };
  };

  const inspector = createInspector({
    journal,
    signingSecret,
    sampleMediaOrigin: options.sampleMediaOrigin,
    s3,
    bucket,
    queues: { sqs, queueUrl, deadLetterQueueUrl },
    listDeadLetters: () => inspectDeadLetters(sqsS3.endpoint, 'facesign-dlq'),
  });
  const api = await startHttpApi((event) => verifier.invoke(event), {
    localPages: inspector.handle,
    onAnswer: (exchange) => journal.answered(exchange),
    port: options.port ?? DEFAULT_LOCAL_PORT,
    // The stack's reserved concurrency: beyond it, API Gateway's 500 (a throttled Lambda integration), as in AWS.
    maxConcurrency: settings.verifier.reservedConcurrency,
    extraRoutes: {
      '/__local/status': (_req, res) => {
        status().then(
          (body) => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify(body, null, 2));
          },
          (error: Error) => {
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ message: `status unavailable: ${error.message}` }));
          },
        );
      },
    },
  });
  stack.push(() => api.stop());
  // Runs before api.stop(): the open event streams would keep the server from closing.
  stack.push(async () => inspector.stop());

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
    settings,
    status,
    environments: (fn) => (fn === 'verifier' ? verifier : processorFn).environmentsInfo(),
    setDynamoDBPaused: (paused) => processorDynamoDB.setPaused(paused),
    killNow: () => {
      verifier.killNow();
      processorFn.killNow();
      dynamodb.killNow();
    },
    setSecretsManagerFailing: (failing) => secrets.setFailing(failing),
    setQueueReachableFromVerifier: (reachable) => verifierSqs.setReachable(reachable),
    setS3HungForProcessor: (hung) => processorS3.setHung(hung),
    syncArchive: () => mirror.sync(),
    stop,
  };
}

/** Reads the dead-letter queue without receiving from it (fauxqs's inspection endpoint), oldest first. */
async function inspectDeadLetters(endpoint: string, queueName: string): Promise<DeadLetterEntry[]> {
  const response = await fetch(`${endpoint}/_fauxqs/queues/${queueName}`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`the dead-letter queue could not be inspected: HTTP ${response.status}`);
  type Inspected = { messageId: string; sentTimestamp?: number; messageAttributes?: Record<string, { StringValue?: string }> };
  const body = (await response.json()) as { messages: { ready: Inspected[]; delayed: Inspected[]; inflight: Array<{ message: Inspected }> } };
  const all = [...body.messages.ready, ...body.messages.delayed, ...body.messages.inflight.map((m) => m.message)];
  all.sort((x, y) => (x.sentTimestamp ?? 0) - (y.sentTimestamp ?? 0));
  return all.map((m) => {
    const attr = (name: string) => m.messageAttributes?.[name]?.StringValue;
    return {
      messageId: m.messageId,
      // A message moved by the redrive policy (its receives ran out) carries no reason of ours.
      failureReason: attr('failureReason') ?? 'max_receive_count_exceeded',
      eventId: attr('eventId'),
      eventType: attr('eventType'),
      sessionId: attr('sessionId'),
      attempts: attr('attempts'),
      failedAt: attr('failedAt'),
    };
  });
}

/** Tells `onDeadLetter` about each new dead-letter message, checking every second. */
function watchDeadLetters(endpoint: string, queueName: string, onDeadLetter?: (message: DeadLetterEntry, count: number) => void): { stop(): void } {
  if (!onDeadLetter) return { stop: () => undefined };
  const seen = new Set<string>();
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    inspectDeadLetters(endpoint, queueName)
      .then((messages) => {
        for (const m of messages) {
          if (seen.has(m.messageId)) continue;
          seen.add(m.messageId);
          onDeadLetter(m, messages.length);
        }
      })
      .catch(() => undefined)
      .finally(() => (checking = false));
  }, 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
