/**
 * The whole pipeline on this machine: local DynamoDB, SQS and S3, a Secrets Manager endpoint,
 * the HTTP API route running the real verifier bundle, and an SQS event source running the real
 * processor bundle. The handlers are the deployed bundles, configured through the same
 * environment variables as in AWS and pointed at the local services with AWS_ENDPOINT_URL_*.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { WEBHOOK_PATH } from '../contract/webhook-path';
import { ArchiveMirror } from './archive-mirror';
import type { PublishedEvent } from './eventbridge-server';
import { DEFAULT_LOCAL_PORT, startHttpApi } from './http-api';
import { DeliveryJournal, observeBatch } from './inspector/journal';
import { createInspector } from './inspector/server';
import type { EnvironmentInfo } from './local-lambda';
import { inspectDeadLetters, watchDeadLetters } from './pipeline/dead-letters';
import { startFaultInjection, type LocalFaults } from './pipeline/faults';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startFunctions, type LocalFunctions } from './pipeline/functions';
import { createResources, type LocalResources } from './pipeline/resources';
import { startServices, type LocalServices } from './pipeline/services';
import { readStatus, statusRoute } from './pipeline/status';
import { Teardown } from './pipeline/teardown';
import { parsePublicUrl } from './public-url';
import type { DynamoDBEngine } from './services/dynamodb';
import { startSqsEventSource, type SqsEventSourceStats } from './sqs-event-source';
import { LOCAL_REVERIFY_PATH, reverifyRoute } from './reverify-route';
import type { ReverifyReport } from '../contract/held-delivery';
import { readStackSettings, type LocalStackProps, type StackSettings } from './stack-settings';

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
  /**
   * Puts a fault proxy between the functions and the services the e2e suite faults (SQS for the
   * verifier, S3 and DynamoDB for the processor), and gives the switches as `faults`.
   * @default false
   */
  readonly faultInjection?: boolean;
  /**
   * The tunnel's public URL (`npm run dev -- --public-url`, checked by `parsePublicUrl`). Its host
   * is served the webhook route (public-url.ts), and the pipeline runs as deployed: `signingSecret`
   * is required (FaceSign's), and media is downloaded over https only, from `mediaHosts` or the
   * stack's default (media.facesign.ai).
   * @default - loopback only, plain http allowed to loopback media hosts
   */
  readonly publicUrl?: string;
  /** Origin of the sample media host, used by the inspector's media sample buttons. @default - none: those buttons are disabled */
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

/** A running local pipeline. */
export interface LocalRuntime {
  readonly webhookUrl: string;
  /** The webhook URL to give FaceSign: the public URL and the webhook path, when started with `publicUrl`. */
  readonly publicWebhookUrl?: string;
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
  /** Kills every child process at once without waiting: for a process that is about to exit. */
  killNow(): void;
  /** The fault switches, when started with `faultInjection: true`. */
  readonly faults?: LocalFaults;
  /** Copies new objects from the local bucket into `dataDir`. */
  syncArchive(): Promise<string[]>;
  /** Runs the reverifier bundle once over the held deliveries (what `POST /__local/reverify` and `npm run reverify -- --local` do). */
  reverify(): Promise<ReverifyReport>;
  stop(): Promise<void>;
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const teardown = new Teardown();
  try {
    return await start(options, teardown);
  } catch (error) {
    await teardown.run();
    throw error;
  }
}

/** Services, then resources, then functions and what invokes them, then the HTTP API. */
async function start(options: LocalRuntimeOptions, teardown: Teardown): Promise<LocalRuntime> {
  const dataDir = path.resolve(options.dataDir ?? '.facesign-local');
  // Owner-only when created: it holds the runtime file with the secret, and copies of the media.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const publicUrl = options.publicUrl === undefined ? undefined : parsePublicUrl(options.publicUrl);
  if (publicUrl && !options.signingSecret) {
    throw new Error(`publicUrl needs signingSecret: FaceSign signs with the secret its dashboard shows, which a generated one never matches`);
  }
  const signingSecret = options.signingSecret ?? `whsec_${randomBytes(24).toString('hex')}`;
  // The inspector (local/inspector/) records every delivery and what became of it.
  const journal = new DeliveryJournal();
  const services = await startServices(
    {
      dynamodb: options.dynamodb ?? 'auto',
      signingSecret,
      dataDir,
      onFallback: (reason) => options.onLog?.('runtime', `using dynalite: ${reason}`),
      onPublish: (event) => journal.published(event),
    },
    teardown,
  );
  // After the build: the construct, which the settings are read from, loads those bundles.
  const settings = readStackSettings({ processorMaxConcurrency: 2, ...options.stack });
  const injection = options.faultInjection ? await startFaultInjection(services, teardown) : undefined;

  const clients = localClients(services);
  const resources = await createResources(clients, settings.queue);
  const functions = startFunctions(
    services,
    resources,
    settings,
    {
      verifierConcurrency: options.verifierConcurrency ?? 4,
      mediaHosts: options.mediaHosts,
      // Through a tunnel, media comes from FaceSign's host over https, as in the deployed stack.
      mediaAllowHttpLoopback: publicUrl === undefined,
      retryBaseDelaySeconds: options.retryBaseDelaySeconds,
      onLog: options.onLog,
      onProcessorLog: (line) => journal.processorLog(line),
    },
    injection?.endpoints,
    teardown,
  );
  const mirror = new ArchiveMirror(clients.s3, resources.bucket, path.join(dataDir, 'archive'));
  const eventSource = startProcessorEventSource(clients.sqs, resources, settings, functions, journal, teardown, (report) => {
    options.onBatch?.(report);
    void mirror.sync().catch(() => undefined);
  });
  // Checked every second in every run: the inspector's journal is told too.
  const deadLetters = watchDeadLetters(services.sqsS3.endpoint, resources.deadLetterQueueName, (message, count) => {
    options.onDeadLetter?.(message, count);
    journal.deadLettered(message);
  });
  teardown.add(() => deadLetters.stop());

  const reverify = (startAfter?: string) => functions.reverifier.invoke<ReverifyReport>(startAfter === undefined ? {} : { startAfter });
  const status = () => readStatus({ services, resources, functions, settings, sqs: clients.sqs, eventSource });
  const publicWebhookUrl = publicUrl && `${publicUrl.origin}${WEBHOOK_PATH}`;
  const inspector = createInspector({
    journal,
    signingSecret,
    sampleMediaOrigin: options.sampleMediaOrigin,
    publicWebhookUrl,
    s3: clients.s3,
    bucket: resources.bucket,
    queues: { sqs: clients.sqs, queueUrl: resources.queueUrl, deadLetterQueueUrl: resources.deadLetterQueueUrl },
    listDeadLetters: () => inspectDeadLetters(services.sqsS3.endpoint, resources.deadLetterQueueName),
  });
  const api = await startHttpApi((event) => functions.verifier.invoke(event), {
    // Served after the Host check: loopback only, never through the tunnel (public-url.ts).
    localPages: inspector.handle,
    onAnswer: (exchange) => journal.answered(exchange),
    port: options.port ?? DEFAULT_LOCAL_PORT,
    // The stack's reserved concurrency: beyond it, API Gateway's 500 (a throttled Lambda integration), as in AWS.
    maxConcurrency: settings.verifier.reservedConcurrency,
    // The stack's door and stage throttle: 503 with Retry-After on the REST door, 429 on the HTTP API door.
    frontDoor: settings.frontDoor.type,
    throttle: settings.frontDoor.throttle,
    publicUrl,
    extraRoutes: { '/__local/status': statusRoute(status), [LOCAL_REVERIFY_PATH]: reverifyRoute(reverify) },
  });
  teardown.add(
    () => api.stop(),
    // Runs before api.stop() (newest first): the open event streams would keep the server from closing.
    () => inspector.stop(),
  );

  const { dynamodb, sqsS3, secrets, eventBridge } = services;
  return {
    webhookUrl: api.url,
    ...(publicWebhookUrl ? { publicWebhookUrl } : {}),
    port: api.port,
    signingSecret,
    dataDir,
    dynamodbKind: dynamodb.kind,
    endpoints: { dynamodb: dynamodb.endpoint, sqsS3: sqsS3.endpoint, secretsManager: secrets.endpoint, eventBridge: eventBridge.endpoint },
    published: eventBridge.published,
    durations: { verifier: functions.verifier.durations, processor: functions.processor.durations },
    queueUrl: resources.queueUrl,
    deadLetterQueueUrl: resources.deadLetterQueueUrl,
    bucket: resources.bucket,
    tableName: resources.tableName,
    sqs: clients.sqs,
    s3: clients.s3,
    eventSource,
    settings,
    status,
    environments: (fn) => functions[fn].environmentsInfo(),
    killNow: () => {
      functions.verifier.killNow();
      functions.processor.killNow();
      functions.reverifier.killNow();
      dynamodb.killNow();
    },
    faults: injection?.faults,
    syncArchive: () => mirror.sync(),
    reverify,
    stop: () => teardown.run(),
  };
}

/** The runtime's own clients of the local services (creating resources, the event source, the status page). */
function localClients(services: LocalServices): { ddb: DynamoDBClient; sqs: SQSClient; s3: S3Client } {
  const config = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  return {
    ddb: new DynamoDBClient({ ...config, endpoint: services.dynamodb.endpoint }),
    sqs: new SQSClient({ ...config, endpoint: services.sqsS3.endpoint, useQueueUrlAsEndpoint: false }),
    s3: new S3Client({ ...config, endpoint: services.sqsS3.endpoint, forcePathStyle: true }),
  };
}

/** The processor's SQS event source, as Lambda's event source mapping runs it with the stack's settings, each batch told to the journal. */
function startProcessorEventSource(
  sqs: SQSClient,
  resources: LocalResources,
  settings: StackSettings,
  functions: LocalFunctions,
  journal: DeliveryJournal,
  teardown: Teardown,
  onBatch: (report: { records: number; failed: number; error?: Error }) => void,
): SqsEventSourceStats {
  const eventSource = startSqsEventSource({
    sqs,
    queueUrl: resources.queueUrl,
    queueArn: resources.queueArn,
    region: LOCAL_REGION,
    batchSize: settings.processor.batchSize,
    maxConcurrency: settings.processor.maxConcurrency,
    // The inspector's journal sees each batch's records go in and what became of them.
    invoke: (event) => observeBatch(journal, event, () => functions.processor.invoke<SQSBatchResponse>(event)),
    onBatch,
  });
  // Stop receiving and end the invocations in flight at once (their records are not deleted, as
  // after any failed invocation); waiting for them could take a whole processor timeout.
  teardown.add(async () => {
    const stopped = eventSource.stop();
    await Promise.all([functions.verifier.stop(), functions.processor.stop()]);
    await stopped;
  });
  return eventSource.stats;
}
