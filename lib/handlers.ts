/**
 * The three Lambda functions (verifier, processor, reverifier), each with its log group, role and
 * exactly the grants it calls with. Created in the construct's scope under the construct ids they
 * have always had: a changed id replaces the function.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { BUCKET_PREFIX, HELD_PREFIX } from '../contract/bucket-layout';
import { HOLD_COUNTER_KEY_PREFIX } from '../contract/held-delivery';
import { functionEnvironment } from '../contract/function-environment';
import { REVERIFIER_TIMEOUT_SECONDS, VERIFIER_TIMEOUT_SECONDS } from '../contract/time-budget';
import type { ResolvedSettings } from './resolve-props';
import { functionRole, grantSendEncrypted, handlerFunction } from './handler-function';

/** What the functions read, write and are configured from. */
export interface HandlerResources {
  readonly signingSecret: secretsmanager.ISecret;
  readonly encryptionKey: kms.IKey;
  readonly bucket: s3.IBucket;
  readonly eventBus: events.IEventBus;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly idempotencyTable: dynamodb.Table;
  readonly settings: ResolvedSettings;
  readonly metricsDeployment: string;
}

/** A function and the log group it writes to. */
export interface Handler {
  readonly fn: lambda.Function;
  readonly logGroup: logs.LogGroup;
}

function handlerLogGroup(scope: Construct, id: string, settings: ResolvedSettings): logs.LogGroup {
  // The table holds it in days; the prop's type admits only the days CloudWatch Logs accepts.
  const retention: logs.RetentionDays = settings.logRetention;
  return new logs.LogGroup(scope, id, { retention, removalPolicy: RemovalPolicy.DESTROY });
}

/** Through S3 only: `kms:ViaService` names the stack's Region's S3 endpoint. */
function viaS3(scope: Construct): Record<string, Record<string, string>> {
  return { StringEquals: { 'kms:ViaService': `s3.${Stack.of(scope).region}.amazonaws.com` } };
}

/** The verifier, with read on the signing secret (only it) and send on the queue. */
export function createVerifier(scope: Construct, r: HandlerResources): Handler {
  const logGroup = handlerLogGroup(scope, 'VerifierLogGroup', r.settings);
  const verifier = handlerFunction(scope, 'Verifier', 'verifier', {
    role: functionRole(scope, 'VerifierRole', logGroup),
    description: 'FaceSign webhooks: verifies the HMAC signature and queues the event',
    memorySize: r.settings.verifierMemorySize,
    timeout: Duration.seconds(VERIFIER_TIMEOUT_SECONDS),
    // Throttled invocations become API Gateway 500s (retried by FaceSign), never 429s:
    // https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html
    reservedConcurrentExecutions: r.settings.verifierReservedConcurrency,
    logGroup,
    environment: functionEnvironment(
      'verifier',
      {
        metricsDeployment: r.metricsDeployment,
        signingSecretArn: r.signingSecret.secretArn,
        queueUrl: r.queue.queueUrl,
        holdBucketName: r.bucket.bucketName,
        holdCounterTableName: r.idempotencyTable.tableName,
        encryptionKeyArn: r.encryptionKey.keyArn,
      },
      r.settings,
    ),
  });
  r.signingSecret.grantRead(verifier);
  grantSendEncrypted(r.queue, r.encryptionKey, verifier);
  grantHold(scope, r, verifier);
  return { fn: verifier, logGroup };
}

/**
 * What holding a refused delivery takes, and no more: PutObject on `held/*` only (the verifier can
 * neither read nor list what it held), the SSE-KMS upload's key use through S3 only, and
 * UpdateItem on the hold counters' keys only: dynamodb:LeadingKeys limits it to `hold-rate#*`
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
 */
function grantHold(scope: Construct, r: HandlerResources, verifier: lambda.Function): void {
  verifier.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [r.bucket.arnForObjects(`${HELD_PREFIX}*`)] }));
  // A single-part SSE-KMS PutObject needs kms:GenerateDataKey; AWS's S3 pages list kms:Decrypt
  // beside it for uploads in some cases (multipart, directory buckets), and we cannot try it on
  // AWS here, so it is granted as the processor has it: through S3 only, where the verifier can
  // read no object (no s3:GetObject), so it decrypts nothing it did not just write.
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions
  verifier.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [r.encryptionKey.keyArn], conditions: viaS3(scope) }),
  );
  verifier.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:UpdateItem'],
      resources: [r.idempotencyTable.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${HOLD_COUNTER_KEY_PREFIX}*`] } },
    }),
  );
}

/**
 * The reverifier: reads the signing secret (the secret's policy admits its role beside the
 * verifier's), lists, reads and removes `held/*`, and sends to the queue as the verifier does.
 */
export function createReverifier(scope: Construct, r: HandlerResources): Handler {
  const logGroup = handlerLogGroup(scope, 'ReverifierLogGroup', r.settings);
  const reverifier = handlerFunction(scope, 'Reverifier', 'reverifier', {
    role: functionRole(scope, 'ReverifierRole', logGroup),
    description: 'FaceSign webhooks: re-verifies held deliveries against the current signing secret (npm run reverify)',
    memorySize: 512,
    timeout: Duration.seconds(REVERIFIER_TIMEOUT_SECONDS),
    // No reserved concurrency: a reservation, even of 1, fails the deploy in a new account whose
    // quota leaves no room beside Lambda's 100 unreserved. Two runs at once are harmless: a
    // delivery queued twice is dropped by the processor's idempotency, and removing is idempotent.
    logGroup,
    environment: functionEnvironment(
      'reverifier',
      { metricsDeployment: r.metricsDeployment, signingSecretArn: r.signingSecret.secretArn, queueUrl: r.queue.queueUrl, holdBucketName: r.bucket.bucketName },
      r.settings,
    ),
  });
  r.signingSecret.grantRead(reverifier);
  grantSendEncrypted(r.queue, r.encryptionKey, reverifier);
  reverifier.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [r.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${HELD_PREFIX}*`] } },
    }),
  );
  reverifier.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:DeleteObject'], resources: [r.bucket.arnForObjects(`${HELD_PREFIX}*`)] }));
  reverifier.addToRolePolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [r.encryptionKey.keyArn], conditions: viaS3(scope) }));
  return { fn: reverifier, logGroup };
}

/** The processor, fed by the queue, with exactly the grants of {@link grantProcessor}. */
export function createProcessor(scope: Construct, r: HandlerResources): Handler {
  const logGroup = handlerLogGroup(scope, 'ProcessorLogGroup', r.settings);
  const processor = handlerFunction(scope, 'Processor', 'processor', {
    role: functionRole(scope, 'ProcessorRole', logGroup),
    description: 'FaceSign webhooks: archives events, stores media, skips repeat deliveries',
    memorySize: r.settings.processorMemorySize,
    timeout: Duration.seconds(r.settings.processorTimeout),
    logGroup,
    environment: functionEnvironment(
      'processor',
      {
        metricsDeployment: r.metricsDeployment,
        bucketName: r.bucket.bucketName,
        encryptionKeyArn: r.encryptionKey.keyArn,
        idempotencyTableName: r.idempotencyTable.tableName,
        queueUrl: r.queue.queueUrl,
        deadLetterQueueUrl: r.deadLetterQueue.queueUrl,
        eventBusName: r.eventBus.eventBusName,
      },
      r.settings,
    ),
  });
  processor.addEventSource(
    new SqsEventSource(r.queue, {
      batchSize: r.settings.processorBatchSize,
      maxConcurrency: r.settings.processorMaxConcurrency,
      reportBatchItemFailures: true,
    }),
  );
  grantProcessor(scope, r, processor);
  return { fn: processor, logGroup };
}

/** Exactly what the processor calls, on exactly what it touches. */
function grantProcessor(scope: Construct, r: HandlerResources, processor: lambda.Function): void {
  // Consuming (receive, delete, change visibility, and kms:Decrypt on the queue's key) is granted by the event source.
  grantSendEncrypted(r.deadLetterQueue, r.encryptionKey, processor);
  processor.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resources: [r.idempotencyTable.tableArn],
    }),
  );
  processor.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resources: Object.values(BUCKET_PREFIX).map((prefix) => r.bucket.arnForObjects(`${prefix}*`)),
    }),
  );
  // A retried or redriven media event whose file is already stored counts as done: the
  // processor lists its own media key and reads that file back for its SHA-256.
  processor.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [r.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${BUCKET_PREFIX.media}*`] } },
    }),
  );
  processor.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [r.bucket.arnForObjects(`${BUCKET_PREFIX.media}*`)] }));
  // An SSE-KMS upload needs kms:GenerateDataKey, and a multipart one kms:Decrypt as well (S3
  // decrypts the parts' data keys to complete it), only through S3; reading a stored file back
  // needs kms:Decrypt too:
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions
  processor.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [r.encryptionKey.keyArn], conditions: viaS3(scope) }),
  );
  r.eventBus.grantPutEventsTo(processor);
}
