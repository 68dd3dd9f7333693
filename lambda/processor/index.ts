/**
 * Processor Lambda: SQS batches in, partial batch failures out. Thin: clients, the idempotency
 * store and config are built once per cold start; the work is {@link processRecord} and
 * {@link processEvent}. It ships pre-built: your logic subscribes to what it publishes, through
 * `FaceSignWebhooks.onEvent` (see process-event.ts).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { IDEMPOTENCY_KEY_PREFIX, loadProcessorConfig } from '../shared/config';
import { createObservability, SERVICE } from '../shared/observability';
import { CLIENT_TIMEOUTS, clientConfig } from '../shared/aws-clients';
import { invocationDeadline } from './deadline';
import { publishProcessedEvent } from './event-publisher';
import { storeMedia } from './media-archiver';
import { processEvent, writeEventPayload, type EventInput, type ProcessingResult } from './process-event';
import { processRecord, type UnitOptions } from './process-record';
import { archiveQuarantinedBody, type QuarantineInput, type QuarantineResult } from './quarantine';
import { conflictArchiveKey } from './s3-keys';

const config = loadProcessorConfig();
const { logger, metrics, eventMetrics, tracer } = createObservability(SERVICE.processor);
// Every client has connection and request timeouts (aws-clients.ts).
const s3 = tracer.captureAWSv3Client(new S3Client(clientConfig(CLIENT_TIMEOUTS.s3)));
const eventBusName = config.eventBusName;
const eventBridge = eventBusName ? tracer.captureAWSv3Client(new EventBridgeClient(clientConfig(CLIENT_TIMEOUTS.eventBridge))) : undefined;
// The regional (or AWS_ENDPOINT_URL_SQS) endpoint, not the queue URL's host: same in AWS, and local queue URLs use *.localhost.
const sqs = tracer.captureAWSv3Client(new SQSClient({ ...clientConfig(CLIENT_TIMEOUTS.sqs), useQueueUrlAsEndpoint: false }));
const dynamodb = tracer.captureAWSv3Client(new DynamoDBClient(clientConfig(CLIENT_TIMEOUTS.dynamodb)));

const idempotencyConfig = new IdempotencyConfig({
  // FaceSign's event id, not the SQS message id: FaceSign's retries arrive as new messages.
  eventKeyJmesPath: 'event.id',
  throwOnNoIdempotencyKey: true,
  // Same id, different content: compares the parsed event (keys sorted), so a re-serialized retry
  // is still a plain duplicate and another version throws IdempotencyValidationError.
  // https://docs.powertools.aws.dev/lambda/typescript/latest/features/idempotency/#payload-validation
  payloadValidationJmesPath: 'event',
  expiresAfterSeconds: config.idempotencyWindowSeconds,
  // Marks the stored result handed back for a repeat delivery, so that it is logged as a duplicate.
  responseHook: (response) => ({ ...(response as object), duplicate: true }),
});

let remainingMs: () => number = () => Infinity;

const processEventOnce = makeIdempotent(
  // The options (deadline signal, receive count) are not part of the idempotency key (dataIndexArgument 0).
  (input: EventInput, { signal, attempt }: UnitOptions = { attempt: 1 }): Promise<ProcessingResult> =>
    processEvent(input, {
      s3,
      bucket: config.bucketName,
      encryptionKeyArn: config.encryptionKeyArn,
      logger,
      signal,
      storeMedia: (event) =>
        storeMedia(event, {
          s3,
          bucket: config.bucketName,
          encryptionKeyArn: config.encryptionKeyArn,
          policy: config.media,
          signal,
          remainingMs,
          retry: attempt > 1,
        }),
      publish: eventBridge && eventBusName ? (event, result) => publishProcessedEvent(eventBridge, eventBusName, event, result, signal) : undefined,
    }),
  {
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: config.idempotencyTableName, awsSdkV3Client: dynamodb }),
    config: idempotencyConfig,
    keyPrefix: IDEMPOTENCY_KEY_PREFIX,
    dataIndexArgument: 0,
  },
);

// Unrecognized envelopes: keyed by the body's SHA-256, in their own key space (see quarantine.ts).
const quarantineIdempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: 'bodySha256',
  throwOnNoIdempotencyKey: true,
  expiresAfterSeconds: config.idempotencyWindowSeconds,
  responseHook: (response) => ({ ...(response as object), duplicate: true }),
});
const quarantineOnce = makeIdempotent(
  // The options (deadline signal) are not part of the idempotency key (dataIndexArgument 0).
  (input: QuarantineInput, options?: { signal?: AbortSignal }): Promise<QuarantineResult> =>
    archiveQuarantinedBody(input, {
      s3,
      bucket: config.bucketName,
      encryptionKeyArn: config.encryptionKeyArn,
      // A quarantined media event's file is stored next to its body (quarantine.ts).
      media: { policy: config.media, signal: options?.signal, remainingMs },
    }),
  {
    // A store of its own: a Powertools persistence layer keeps the first configuration it is given.
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: config.idempotencyTableName, awsSdkV3Client: dynamodb }),
    config: quarantineIdempotencyConfig,
    keyPrefix: `${IDEMPOTENCY_KEY_PREFIX}-quarantine`,
    dataIndexArgument: 0,
  },
);

const batch = new BatchProcessor(EventType.SQS);

/** Keeps a different version of an already processed event id, byte for byte, under `conflicts/`. */
async function archiveConflict(event: EventInput['event'], rawBody: string): Promise<string> {
  const key = conflictArchiveKey(event, rawBody);
  await writeEventPayload({ s3, bucket: config.bucketName, encryptionKeyArn: config.encryptionKeyArn }, key, { event, rawBody });
  return key;
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  metrics.captureColdStartMetric(context.functionName);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  // Lets in-progress idempotency records expire with this invocation if it dies mid-way.
  idempotencyConfig.registerLambdaContext(context);
  quarantineIdempotencyConfig.registerLambdaContext(context);
  const deadline = invocationDeadline(context);
  remainingMs = deadline.remainingMs;
  return processPartialResponse(
    event,
    (record: SQSRecord) =>
      processRecord(record, {
        processEventOnce,
        sqs,
        queueUrl: config.queueUrl,
        deadLetterQueueUrl: config.deadLetterQueueUrl,
        maxReceiveCount: config.maxReceiveCount,
        retryBaseDelaySeconds: config.retryBaseDelaySeconds,
        logger,
        metrics: eventMetrics,
        quarantineOnce,
        deadline,
        archiveConflict,
      }),
    batch,
    { context, throwOnFullBatchFailure: false },
  ).finally(() => {
    deadline.dispose();
    metrics.publishStoredMetrics();
  });
}
