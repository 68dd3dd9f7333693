/**
 * Processor Lambda: SQS batches in, partial batch failures out. Thin: clients, the idempotency
 * store and config are built once per cold start; the work is {@link processRecord} and
 * {@link processEvent}.
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
import { publishProcessedEvent } from './event-publisher';
import { storeMedia } from './media-archiver';
import { processEvent, type EventInput, type ProcessingResult } from './process-event';
import { processRecord } from './process-record';
import { archiveQuarantinedBody, type QuarantineInput, type QuarantineResult } from './quarantine';

const config = loadProcessorConfig();
const { logger, metrics, eventMetrics, tracer } = createObservability(SERVICE.processor);
const s3 = tracer.captureAWSv3Client(new S3Client({}));
const eventBusName = config.eventBusName;
const eventBridge = eventBusName ? tracer.captureAWSv3Client(new EventBridgeClient({})) : undefined;
// The regional (or AWS_ENDPOINT_URL_SQS) endpoint, not the queue URL's host: same in AWS, and local queue URLs use *.localhost.
const sqs = tracer.captureAWSv3Client(new SQSClient({ useQueueUrlAsEndpoint: false }));

const idempotencyConfig = new IdempotencyConfig({
  // FaceSign's event id, not the SQS message id: FaceSign's retries arrive as new messages.
  eventKeyJmesPath: 'event.id',
  throwOnNoIdempotencyKey: true,
  expiresAfterSeconds: config.idempotencyWindowSeconds,
  // Marks the stored result handed back for a repeat delivery, so that it is logged as a duplicate.
  responseHook: (response) => ({ ...(response as object), duplicate: true }),
});

const dynamodb = tracer.captureAWSv3Client(new DynamoDBClient({}));

const processEventOnce = makeIdempotent(
  (input: EventInput): Promise<ProcessingResult> =>
    processEvent(input, {
      s3,
      bucket: config.bucketName,
      encryptionKeyArn: config.encryptionKeyArn,
      logger,
      storeMedia: (event) => storeMedia(event, { s3, bucket: config.bucketName, encryptionKeyArn: config.encryptionKeyArn, policy: config.media }),
      publish: eventBridge && eventBusName ? (event, result) => publishProcessedEvent(eventBridge, eventBusName, event, result) : undefined,
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
  (input: QuarantineInput): Promise<QuarantineResult> => archiveQuarantinedBody(input, { s3, bucket: config.bucketName }),
  {
    // A store of its own: a Powertools persistence layer keeps the first configuration it is given.
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: config.idempotencyTableName, awsSdkV3Client: dynamodb }),
    config: quarantineIdempotencyConfig,
    keyPrefix: `${IDEMPOTENCY_KEY_PREFIX}-quarantine`,
    dataIndexArgument: 0,
  },
);

const batch = new BatchProcessor(EventType.SQS);

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  metrics.captureColdStartMetric(context.functionName);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  // Lets in-progress idempotency records expire with this invocation if it dies mid-way.
  idempotencyConfig.registerLambdaContext(context);
  quarantineIdempotencyConfig.registerLambdaContext(context);
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
      }),
    batch,
    { context, throwOnFullBatchFailure: false },
  ).finally(() => metrics.publishStoredMetrics());
}
