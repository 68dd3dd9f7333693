/**
 * Processor Lambda: SQS batches in, partial batch failures out. Wiring only: config, clients, the
 * two idempotent units and the record dependencies are built once per cold start; each invocation
 * gets its own deadline, passed to every record. Where a record goes is routing.ts; what a failure
 * means is disposition.ts. It ships pre-built: your logic subscribes to what it publishes, through
 * `FaceSignWebhooks.onEvent` (see event-unit.ts).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { IDEMPOTENCY_KEY_PREFIX } from '../../contract/idempotency';
import { SERVICE } from '../../contract/metric-names';
import { loadProcessorConfig } from '../shared/config';
import { createObservability } from '../shared/observability';
import { CLIENT_TIMEOUTS, clientConfig } from '../shared/aws-clients';
import { invocationDeadline } from './deadline';
import { eventPublisher } from './event-publisher';
import { processEvent, type EventInput, type EventUnitDependencies, type UnitOptions } from './event-unit';
import { mediaStore } from './media-transfer';
import { archiveQuarantinedBody, type QuarantineInput, type QuarantineUnitDependencies } from './quarantine-unit';
import { processRecord, type RecordDependencies } from './routing';
import type { ObjectStore } from './storage-writer';

const config = loadProcessorConfig();
const { logger, metrics, eventMetrics, tracer } = createObservability(SERVICE.processor);
// Every client has connection and request timeouts (aws-clients.ts).
const s3 = tracer.captureAWSv3Client(new S3Client(clientConfig(CLIENT_TIMEOUTS.s3)));
const eventBusName = config.eventBusName;
const eventBridge = eventBusName ? tracer.captureAWSv3Client(new EventBridgeClient(clientConfig(CLIENT_TIMEOUTS.eventBridge))) : undefined;
// The regional (or AWS_ENDPOINT_URL_SQS) endpoint, not the queue URL's host: same in AWS, and local queue URLs use *.localhost.
const sqs = tracer.captureAWSv3Client(new SQSClient({ ...clientConfig(CLIENT_TIMEOUTS.sqs), useQueueUrlAsEndpoint: false }));
const dynamodb = tracer.captureAWSv3Client(new DynamoDBClient(clientConfig(CLIENT_TIMEOUTS.dynamodb)));

const store: ObjectStore = { s3, bucket: config.bucketName, encryptionKeyArn: config.encryptionKeyArn };
const eventUnit: EventUnitDependencies = {
  ...store,
  storeMedia: mediaStore({ ...store, policy: config.media, now: Date.now }),
  publish: eventBridge && eventBusName ? eventPublisher(eventBridge, eventBusName) : undefined,
  logger,
  now: Date.now,
};
const quarantineUnit: QuarantineUnitDependencies = { ...store, policy: config.media, now: Date.now };

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

const processEventOnce = makeIdempotent(
  // The options (deadline, receive count) are not part of the idempotency key (dataIndexArgument 0).
  (input: EventInput, options: UnitOptions) => processEvent(input, eventUnit, options),
  {
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: config.idempotencyTableName, awsSdkV3Client: dynamodb }),
    config: idempotencyConfig,
    keyPrefix: IDEMPOTENCY_KEY_PREFIX,
    dataIndexArgument: 0,
  },
);

// Unrecognized envelopes: keyed by the body's SHA-256, in their own key space (see routing.ts).
const quarantineIdempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: 'bodySha256',
  throwOnNoIdempotencyKey: true,
  expiresAfterSeconds: config.idempotencyWindowSeconds,
  responseHook: (response) => ({ ...(response as object), duplicate: true }),
});
const quarantineOnce = makeIdempotent(
  // The options (deadline, receive count) are not part of the idempotency key (dataIndexArgument 0).
  (input: QuarantineInput, options: UnitOptions) => archiveQuarantinedBody(input, quarantineUnit, options),
  {
    // A store of its own: a Powertools persistence layer keeps the first configuration it is given.
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: config.idempotencyTableName, awsSdkV3Client: dynamodb }),
    config: quarantineIdempotencyConfig,
    keyPrefix: `${IDEMPOTENCY_KEY_PREFIX}-quarantine`,
    dataIndexArgument: 0,
  },
);

const batch = new BatchProcessor(EventType.SQS);

const records: Omit<RecordDependencies, 'deadline'> = {
  processEventOnce,
  quarantineOnce,
  store,
  sqs,
  queueUrl: config.queueUrl,
  deadLetterQueueUrl: config.deadLetterQueueUrl,
  maxReceiveCount: config.maxReceiveCount,
  retryBaseDelaySeconds: config.retryBaseDelaySeconds,
  logger,
  metrics: eventMetrics,
  now: Date.now,
  random: Math.random,
};

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  metrics.captureColdStartMetric(context.functionName);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  // Lets in-progress idempotency records expire with this invocation if it dies mid-way.
  idempotencyConfig.registerLambdaContext(context);
  quarantineIdempotencyConfig.registerLambdaContext(context);
  const deadline = invocationDeadline(context);
  return processPartialResponse(event, (record: SQSRecord) => processRecord(record, { ...records, deadline }), batch, {
    context,
    throwOnFullBatchFailure: false,
  }).finally(() => {
    deadline.dispose();
    metrics.publishStoredMetrics();
  });
}
