import { Duration, Names, RemovalPolicy, Stack, Stage, Token } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_BRIDGE_SOURCE } from '../contract/event-bridge';
import { METRIC } from '../contract/metric-names';
import { ARCHIVE_PREFIXES, BUCKET_PREFIX, HELD_PREFIX } from '../contract/bucket-layout';
import { HOLD_COUNTER_KEY_PREFIX } from '../contract/held-delivery';
import { DEAD_LETTER_RETENTION_DAYS } from '../contract/construct-settings';
import { functionEnvironment } from '../contract/function-environment';
import { queueVisibilityTimeoutSeconds, REVERIFIER_TIMEOUT_SECONDS, VERIFIER_TIMEOUT_SECONDS } from '../contract/time-budget';
import {
  refuseExistingWithNew,
  resolveFrontDoor,
  resolveRetention,
  resolveSettings,
  type FaceSignWebhooksProps,
  type OnEventOptions,
  type ResolvedSettings,
} from './facesign-webhooks-props';
import { createMediaReadTrail, MediaReadRestriction, SigningSecretWatch } from './data-protection';
import { functionRole, grantSendEncrypted, handlerFunction } from './handler-function';
import { createAccessLogsBucket, createArchiveBucket, createEncryptionKey, createSigningSecret } from './storage';
import { suppressJustifiedNagFindings } from './nag-suppressions';
import { addConsumer } from './consumers';
import { createAccessLogGroup } from './front-door/access-log';
import { createFrontDoor, type FrontDoor } from './front-door/front-door';
import { WebhookMonitoring } from './monitoring/webhook-monitoring';
import type { WebhookMetricName } from './webhook-metrics';

/**
 * SQS's largest message, set explicitly on both queues: a body up to `maxBodyBytes` (at most
 * 760,000) plus its attributes must fit, or the verifier would answer 503 to it forever. Queues
 * created before SQS raised its limit kept 256 KiB
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
 */
const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Receives FaceSign webhooks: an HTTP API route to a verifier Lambda that checks the HMAC
 * signature and queues the event; a processor Lambda that archives every event to S3, streams
 * media from its signed URL into S3, and skips repeat deliveries by event id; a dead-letter
 * queue for what cannot be processed.
 */
export class FaceSignWebhooks extends Construct {
  /** The API FaceSign posts to: a `RestApi` (`frontDoor` `rest-api-waf`, the default) or an `HttpApi` (`http-api`). */
  public readonly api: apigateway.RestApi | HttpApi;
  /** The front door: the API, its web ACL (REST API only), and the API metrics the alarms read. */
  public readonly frontDoor: FrontDoor;
  /** The URL to give FaceSign. */
  public readonly webhookUrl: string;
  /** The signing secret the verifier reads. */
  public readonly signingSecret: secretsmanager.ISecret;
  /** The secret this construct created (undefined when one was passed in): only it gets our resource policy. */
  private readonly createdSigningSecret?: secretsmanager.Secret;
  /** Verified events waiting for the processor. */
  public readonly queue: sqs.Queue;
  /** Events that could not be processed, with the reason as message attributes. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Powertools idempotency records, keyed by FaceSign event id. */
  public readonly idempotencyTable: dynamodb.Table;
  /** Archived events (`events/`), stored media (`media/`) and unrecognized envelopes (`quarantine/`). */
  public readonly bucket: s3.IBucket;
  /** The customer-managed key of the archive, the stored media and both queues. */
  public readonly encryptionKey: kms.IKey;
  /** Every processed event is published here: `source` `facesign.webhooks`, `detail-type` the event type. */
  public readonly eventBus: events.IEventBus;
  /** Keeps every event published to {@link eventBus}, for replay. */
  public readonly eventArchive: events.Archive;
  /** Checks signatures and queues events. */
  public readonly verifier: lambda.Function;
  /** Archives events, stores media, publishes each event to the event bus. */
  public readonly processor: lambda.Function;
  /** The verifier's log group. */
  public readonly verifierLogGroup: logs.LogGroup;
  /** The processor's log group. */
  public readonly processorLogGroup: logs.LogGroup;
  /**
   * Re-verifies held deliveries (refused deliveries in FaceSign's form, under `held/`) against the
   * current signing secret and queues those that now verify; `npm run reverify` invokes it.
   */
  public readonly reverifier: lambda.Function;
  /** The reverifier's log group. */
  public readonly reverifierLogGroup: logs.LogGroup;
  /** The API access log group. */
  public readonly accessLogGroup: logs.LogGroup;
  /** Server access logs of the created bucket (undefined when a bucket was passed in). */
  public readonly accessLogsBucket?: s3.Bucket;
  /** Alarms, their topic, and the dashboard. */
  public readonly monitoring: WebhookMonitoring;
  /** Pages on every change to the signing secret (undefined with `watchSigningSecret: false`). */
  public readonly signingSecretWatch?: SigningSecretWatch;
  /** The trail logging reads of `media/` (undefined unless `auditMediaReads`). */
  public readonly mediaReadTrail?: cloudtrail.Trail;
  /** The bucket policy's rule naming who may read `media/`. */
  private readonly mediaReaders: MediaReadRestriction;

  constructor(scope: Construct, id: string, props: FaceSignWebhooksProps = {}) {
    super(scope, id);
    // Defaults and bounds of every setting come from the table in contract/settings.ts.
    const settings = resolveSettings(props);
    // The table holds it in days; the prop's type admits only the days CloudWatch Logs accepts.
    const logRetention: logs.RetentionDays = settings.logRetention;
    refuseExistingWithNew(props);
    const retention = resolveRetention(props, settings);
    // Unique per deployment in an account and region: a stack name is, and so is a path inside it.
    const metricsDeployment = `${Stack.of(this).stackName}/${this.node.path.slice(Stack.of(this).node.path.length + 1)}`;

    // The architecture, in order: signing secret → key → bucket → bus and archive → queues →
    // idempotency table → verifier → processor (and the media read rule naming it) → API →
    // monitoring → the signing-secret watch → cdk-nag acknowledgements.
    this.createdSigningSecret = props.existingSigningSecretObj ? undefined : createSigningSecret(this, props.signingSecretProps);
    this.signingSecret = props.existingSigningSecretObj ?? this.createdSigningSecret!;
    this.encryptionKey = props.existingEncryptionKeyObj ?? createEncryptionKey(this, props.encryptionKeyProps);
    if (props.existingBucketObj) {
      for (const name of ['objectLockRetention', 'auditMediaReads'] as const) {
        if (props[name] !== undefined)
          throw new Error(`${name} applies to a created bucket only; configure existingBucketObj yourself, got ${name} with existingBucketObj`);
      }
      this.bucket = props.existingBucketObj;
    } else {
      this.accessLogsBucket = createAccessLogsBucket(this);
      this.bucket = createArchiveBucket(this, {
        retention,
        encryptionKey: this.encryptionKey,
        accessLogsBucket: this.accessLogsBucket,
        objectLockRetention: props.objectLockRetention,
        overrides: props.bucketProps,
      });
    }
    this.eventBus =
      props.existingEventBusObj ??
      new events.EventBus(this, 'EventBus', { ...props.eventBusProps, eventBusName: props.eventBusProps?.eventBusName ?? eventBusName(this) });
    this.eventArchive = this.createEventArchive(Duration.days(settings.eventArchiveRetention));
    this.deadLetterQueue = this.createDeadLetterQueue();
    this.queue = this.createQueue(settings);
    this.idempotencyTable = this.createIdempotencyTable();

    this.verifierLogGroup = new logs.LogGroup(this, 'VerifierLogGroup', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.verifier = this.createVerifier(settings, metricsDeployment);
    this.processorLogGroup = new logs.LogGroup(this, 'ProcessorLogGroup', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.processor = this.createProcessor(settings, metricsDeployment);
    this.mediaReaders = new MediaReadRestriction(this, this.bucket, {
      processorRole: this.processor.role!,
      breakGlassPrincipalArns: props.mediaBreakGlassPrincipalArns ?? [],
    });
    if (props.auditMediaReads === true) this.mediaReadTrail = createMediaReadTrail(this, 'MediaReadTrail', this.bucket, this.accessLogsBucket!);
    this.reverifierLogGroup = new logs.LogGroup(this, 'ReverifierLogGroup', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.reverifier = this.createReverifier(settings, metricsDeployment);
    this.restrictSecretValueTo([this.verifier, this.reverifier]);

    this.accessLogGroup = createAccessLogGroup(this, logRetention);
    this.frontDoor = createFrontDoor(this, {
      ...resolveFrontDoor(props),
      verifier: this.verifier,
      accessLogGroup: this.accessLogGroup,
      metricsDeployment,
      throttlingRateLimit: settings.throttlingRateLimit,
      throttlingBurstLimit: settings.throttlingBurstLimit,
    });
    this.api = this.frontDoor.api;
    this.webhookUrl = this.frontDoor.webhookUrl;

    this.monitoring = new WebhookMonitoring(this, 'Monitoring', {
      api: this.frontDoor,
      verifier: this.verifier,
      processor: this.processor,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      idempotencyTable: this.idempotencyTable,
      accessLogGroup: this.accessLogGroup,
      processorMaxConcurrency: settings.processorMaxConcurrency,
      metricsNamespace: settings.metricsNamespace,
      metricsDeployment,
      existingAlarmTopicObj: props.existingAlarmTopicObj,
      alarmTopicProps: props.alarmTopicProps,
      alarmEmail: props.alarmEmail,
      existingCriticalAlarmTopicObj: props.existingCriticalAlarmTopicObj,
      criticalAlarmEmail: props.criticalAlarmEmail,
      silenceAlarmAfter: props.silenceAlarmAfter,
      alarmNamePrefix: props.alarmNamePrefix,
      thresholds: settings,
      runbookBaseUrl: props.runbookBaseUrl,
    });
    if (props.watchSigningSecret !== false) {
      this.signingSecretWatch = new SigningSecretWatch(this, 'SigningSecretWatch', {
        secret: this.signingSecret,
        topic: this.monitoring.criticalAlarmTopic,
        // A topic the user passed is left as it is (a first topic policy would replace SNS's default one).
        topicIsOurs: ![props.existingAlarmTopicObj, props.existingCriticalAlarmTopicObj].includes(this.monitoring.criticalAlarmTopic),
      });
    }
    suppressJustifiedNagFindings({
      scope: this,
      frontDoor: this.frontDoor,
      createdSigningSecret: this.createdSigningSecret,
      verifier: this.verifier,
      verifierLogGroup: this.verifierLogGroup,
      processor: this.processor,
      processorLogGroup: this.processorLogGroup,
      reverifier: this.reverifier,
      reverifierLogGroup: this.reverifierLogGroup,
      bucket: this.bucket,
      accessLogsBucket: this.accessLogsBucket,
    });
  }

  /**
   * Every published event is kept, so a consumer's outage can be replayed. Encrypted with the
   * AWS-owned key, EventBridge's default when no KmsKeyIdentifier is given
   * (https://docs.aws.amazon.com/eventbridge/latest/userguide/encryption-archives.html;
   * docs/data-protection.md says why not the construct's key).
   */
  private createEventArchive(retention: Duration): events.Archive {
    const archive = new events.Archive(this, 'EventArchive', {
      sourceEventBus: this.eventBus,
      eventPattern: { source: [EVENT_BRIDGE_SOURCE] },
      retention,
      description: 'Every FaceSign event published by the processor, for replay after a consumer outage',
    });
    // aws-cdk-lib writes KmsKeyIdentifier: "" when no key is given, which some regions refuse
    // (aws/aws-cdk#37847); omitted, as CDK's fix (aws/aws-cdk#37865) does, it means the default key.
    (archive.node.defaultChild as events.CfnArchive).addPropertyDeletionOverride('KmsKeyIdentifier');
    return archive;
  }

  // The queues hold whole event payloads, signed media URLs included, for up to 14 days: the
  // same key as the bucket, so one key policy says who can read identity data (docs/data-protection.md).
  private createDeadLetterQueue(): sqs.Queue {
    return new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(DEAD_LETTER_RETENTION_DAYS),
      maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
    });
  }

  private createQueue(settings: ResolvedSettings): sqs.Queue {
    return new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
      // Twice the function timeout, not AWS's suggested six: a crashed, timed-out or out-of-memory
      // invocation's records must come back while their media URLs live (docs/operations.md "Timeout budget").
      visibilityTimeout: Duration.seconds(queueVisibilityTimeoutSeconds(settings.processorTimeout)),
      // Shorter than the dead-letter queue's, which counts from the original enqueue time.
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
    });
  }

  private createIdempotencyTable(): dynamodb.Table {
    return new dynamodb.Table(this, 'IdempotencyTable', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // Event ids, session ids and S3 locations, gone after the TTL: no identity data, so the
      // AWS-managed key (docs/data-protection.md).
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Only dedup state with a TTL: nothing to keep when the stack goes.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /** The verifier, with read on the signing secret (only it) and send on the queue. */
  private createVerifier(settings: ResolvedSettings, metricsDeployment: string): lambda.Function {
    const verifier = handlerFunction(this, 'Verifier', 'verifier', {
      role: functionRole(this, 'VerifierRole', this.verifierLogGroup),
      description: 'FaceSign webhooks: verifies the HMAC signature and queues the event',
      memorySize: settings.verifierMemorySize,
      timeout: Duration.seconds(VERIFIER_TIMEOUT_SECONDS),
      // Throttled invocations become API Gateway 500s (retried by FaceSign), never 429s:
      // https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html
      reservedConcurrentExecutions: settings.verifierReservedConcurrency,
      logGroup: this.verifierLogGroup,
      environment: functionEnvironment(
        'verifier',
        {
          metricsDeployment,
          signingSecretArn: this.signingSecret.secretArn,
          queueUrl: this.queue.queueUrl,
          holdBucketName: this.bucket.bucketName,
          holdCounterTableName: this.idempotencyTable.tableName,
          encryptionKeyArn: this.encryptionKey.keyArn,
        },
        settings,
      ),
    });
    this.signingSecret.grantRead(verifier);
    grantSendEncrypted(this.queue, this.encryptionKey, verifier);
    this.grantHold(verifier);
    return verifier;
  }

  /**
   * What holding a refused delivery takes, and no more: PutObject on `held/*` only (the verifier can
   * neither read nor list what it held), the SSE-KMS upload's key use through S3 only, and
   * UpdateItem on the hold counters' keys only: dynamodb:LeadingKeys limits it to `hold-rate#*`
   * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
   */
  private grantHold(verifier: lambda.Function): void {
    verifier.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects(`${HELD_PREFIX}*`)] }));
    // A single-part SSE-KMS PutObject needs kms:GenerateDataKey; AWS's S3 pages list kms:Decrypt
    // beside it for uploads in some cases (multipart, directory buckets), and we cannot try it on
    // AWS here, so it is granted as the processor has it: through S3 only, where the verifier can
    // read no object (no s3:GetObject), so it decrypts nothing it did not just write.
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions
    verifier.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    verifier.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [this.idempotencyTable.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${HOLD_COUNTER_KEY_PREFIX}*`] } },
      }),
    );
  }

  /**
   * The reverifier: reads the signing secret (the secret's policy admits its role beside the
   * verifier's), lists, reads and removes `held/*`, and sends to the queue as the verifier does.
   */
  private createReverifier(settings: ResolvedSettings, metricsDeployment: string): lambda.Function {
    const reverifier = handlerFunction(this, 'Reverifier', 'reverifier', {
      role: functionRole(this, 'ReverifierRole', this.reverifierLogGroup),
      description: 'FaceSign webhooks: re-verifies held deliveries against the current signing secret (npm run reverify)',
      memorySize: 512,
      timeout: Duration.seconds(REVERIFIER_TIMEOUT_SECONDS),
      // No reserved concurrency: a reservation, even of 1, fails the deploy in a new account whose
      // quota leaves no room beside Lambda's 100 unreserved. Two runs at once are harmless: a
      // delivery queued twice is dropped by the processor's idempotency, and removing is idempotent.
      logGroup: this.reverifierLogGroup,
      environment: functionEnvironment(
        'reverifier',
        { metricsDeployment, signingSecretArn: this.signingSecret.secretArn, queueUrl: this.queue.queueUrl, holdBucketName: this.bucket.bucketName },
        settings,
      ),
    });
    this.signingSecret.grantRead(reverifier);
    grantSendEncrypted(this.queue, this.encryptionKey, reverifier);
    reverifier.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${HELD_PREFIX}*`] } },
      }),
    );
    reverifier.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:DeleteObject'], resources: [this.bucket.arnForObjects(`${HELD_PREFIX}*`)] }),
    );
    reverifier.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    return reverifier;
  }

  /** The processor, fed by the queue, with exactly the grants of {@link grantProcessor}. */
  private createProcessor(settings: ResolvedSettings, metricsDeployment: string): lambda.Function {
    const processor = handlerFunction(this, 'Processor', 'processor', {
      role: functionRole(this, 'ProcessorRole', this.processorLogGroup),
      description: 'FaceSign webhooks: archives events, stores media, skips repeat deliveries',
      memorySize: settings.processorMemorySize,
      timeout: Duration.seconds(settings.processorTimeout),
      logGroup: this.processorLogGroup,
      environment: functionEnvironment(
        'processor',
        {
          metricsDeployment,
          bucketName: this.bucket.bucketName,
          encryptionKeyArn: this.encryptionKey.keyArn,
          idempotencyTableName: this.idempotencyTable.tableName,
          queueUrl: this.queue.queueUrl,
          deadLetterQueueUrl: this.deadLetterQueue.queueUrl,
          eventBusName: this.eventBus.eventBusName,
        },
        settings,
      ),
    });
    processor.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: settings.processorBatchSize,
        maxConcurrency: settings.processorMaxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    this.grantProcessor(processor);
    return processor;
  }

  /** Exactly what the processor calls, on exactly what it touches. */
  private grantProcessor(processor: lambda.Function): void {
    // Consuming (receive, delete, change visibility, and kms:Decrypt on the queue's key) is granted by the event source.
    grantSendEncrypted(this.deadLetterQueue, this.encryptionKey, processor);
    processor.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [this.idempotencyTable.tableArn],
      }),
    );
    processor.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: Object.values(BUCKET_PREFIX).map((prefix) => this.bucket.arnForObjects(`${prefix}*`)),
      }),
    );
    // A retried or redriven media event whose file is already stored counts as done: the
    // processor lists its own media key and reads that file back for its SHA-256.
    processor.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${BUCKET_PREFIX.media}*`] } },
      }),
    );
    processor.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(`${BUCKET_PREFIX.media}*`)] }));
    // An SSE-KMS upload needs kms:GenerateDataKey, and a multipart one kms:Decrypt as well (S3
    // decrypts the parts' data keys to complete it), only through S3; reading a stored file back
    // needs kms:Decrypt too:
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions
    processor.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    this.eventBus.grantPutEventsTo(processor);
  }

  /**
   * Lets `grantee` (a role, user or function) read stored media (`media/*`): `s3:GetObject` on
   * that prefix, `kms:Decrypt` on {@link encryptionKey} through S3 only, and its ARN among the
   * readers the bucket policy's media rule admits (every other principal is denied). For example,
   * a rule target that reads the photo a `media.user_photo` event points at.
   */
  public grantReadMedia(grantee: iam.IGrantable): iam.Grant {
    this.mediaReaders.addReader(grantee);
    return this.grantReadPrefixes(grantee, [BUCKET_PREFIX.media]);
  }

  /**
   * Lets `grantee` read archived event payloads (`events/*`, and the quarantined and conflicting
   * ones under `quarantine/*` and `conflicts/*`), as {@link grantReadMedia} does for media. No
   * media: every media file, a quarantined event's included, is under `media/`, which the bucket
   * policy denies to anyone not named by {@link grantReadMedia}.
   */
  public grantReadArchive(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadPrefixes(grantee, ARCHIVE_PREFIXES);
  }

  private grantReadPrefixes(grantee: iam.IGrantable, prefixes: readonly string[]): iam.Grant {
    const read = iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: ['s3:GetObject'],
      resourceArns: prefixes.map((prefix) => this.bucket.arnForObjects(`${prefix}*`)),
      resource: this.bucket,
    });
    const decrypt = iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: ['kms:Decrypt'],
      resourceArns: [this.encryptionKey.keyArn],
      // In a key policy (a grantee of another account) the key is "*": its own ARN there would make
      // the key depend on itself (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
      resourceSelfArns: ['*'],
      resource: this.encryptionKey,
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
    });
    return read.combine(decrypt);
  }

  /**
   * Only the verifier's and the reverifier's roles may read the signing secret's value; everyone
   * else, administrators included, may still describe it, put a new value, and change or delete the
   * policy. An existing secret passed in is left alone (docs/data-protection.md says what to add to it).
   */
  private restrictSecretValueTo(readers: lambda.Function[]): void {
    // Not `instanceof Secret`: a secret passed in may be a Secret of the same app, and it is the user's.
    if (!this.createdSigningSecret) return;
    this.createdSigningSecret.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheVerifierAndReverifierReadTheValue',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['secretsmanager:GetSecretValue'],
        resources: ['*'],
        // For a Lambda's assumed-role session, aws:PrincipalArn is the role's ARN:
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
        conditions: { StringNotEquals: { 'aws:PrincipalArn': readers.map((fn) => fn.role!.roleArn) } },
      }),
    );
  }

  /**
   * Sends processed events of the given FaceSign type(s) to a target of yours: creates an
   * EventBridge rule on {@link eventBus} matching `source` `facesign.webhooks` and those
   * `detail-type`s. The target receives `detail` as {@link FaceSignEventBridgeDetail}: the event,
   * and the S3 locations of its archived payload and stored media. Delivery is at least once; use
   * `detail.event.id` to deduplicate.
   *
   * Unless the target sets its own, it gets a retry policy (24 hours, 185 attempts) and a dead-letter
   * queue for what still fails, and a Critical alarm in {@link monitoring} fires on the first event
   * it could not deliver. A Lambda function target (a `Function`, `Alias` or `Version` of this
   * stack without asynchronous invocation settings) also gets that queue as its on-failure
   * destination: EventBridge invokes it asynchronously, so what the function fails after Lambda
   * took the event is otherwise dropped after Lambda's retries. Every event is also kept in
   * {@link eventArchive}, for replay.
   *
   * A type that is not in FaceSign's documented list gets a synth-time warning (a misspelling would
   * match nothing), never an error: FaceSign may send types it has not documented yet.
   * `retryAttempts` (0 to 185) and `maxEventAge` (1 minute to 24 hours) outside EventBridge's
   * bounds are refused at synth rather than at deploy.
   *
   * @param id construct id of the rule (PascalCase, unique in this construct); also names its
   *   dead-letter queue (`<id>DeadLetterQueue`) and its alarms (`<prefix>-Consumer<id>-...`). Keep it
   *   when you reorder calls: a changed id replaces the rule.
   *
   * @example webhooks.onEvent('OnSessionStatus', { eventTypes: ['session.status'], target: new targets.LambdaFunction(myFn) });
   * @example webhooks.onEvent('Photos', { eventTypes: ['media.user_photo', 'media.document_photo'], target: new targets.SqsQueue(q) });
   */
  public onEvent(id: string, options: OnEventOptions): events.Rule {
    return addConsumer({ scope: this, eventBus: this.eventBus, monitoring: this.monitoring }, id, options);
  }

  /**
   * One of this deployment's custom metrics (namespace `metricsNamespace`, dimensions `service` and
   * `deployment`), as the built-in alarms and dashboard read it. `props.dimensionsMap` adds
   * dimensions, such as `EventType` or `Reason` for the metrics also published per type or reason.
   * @param metricName the metric's CloudWatch name, e.g. `'EventsReceived'`
   */
  public metric(metricName: WebhookMetricName, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.monitoring.metrics.metric(metricName, props);
  }

  /**
   * Events the verifier accepted and queued (FaceSign got a 2xx). Add the `EventType` dimension for one type.
   * @default - Sum over 5 minutes
   */
  public metricEventsReceived(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.eventsReceived, props);
  }

  /**
   * Requests the verifier answered 401 because no signature matched: possible forgeries (add the `Reason` dimension:
   * `missing_signature`, `malformed_signature`, `signature_mismatch`). An authentic delivery refused with a 401 for its
   * timestamp counts in {@link metricRequestsRejected}.
   * @default - Sum over 5 minutes
   */
  public metricSignatureFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.signatureFailures, props);
  }

  /**
   * Authentic deliveries the verifier refused (400, 413, or 401 after the signature matched): FaceSign never retries them. Add `Reason` for one reason.
   * @default - Sum over 5 minutes
   */
  public metricRequestsRejected(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.requestsRejected, props);
  }

  /**
   * 401s in FaceSign's exact signature form, with a fresh timestamp, over a FaceSign envelope, that no
   * active secret verified: almost certainly a wrong or stale signing secret. Add `EventType` for one type.
   * @default - Sum over 5 minutes
   */
  public metricWrongSecretSuspected(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.wrongSecretSuspected, props);
  }

  /**
   * Refused deliveries counted in {@link metricWrongSecretSuspected} that were held under `held/` for
   * `npm run reverify`. Add `EventType` for one type.
   * @default - Sum over 5 minutes
   */
  public metricDeliveriesHeld(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.deliveriesHeld, props);
  }

  /**
   * Refused deliveries counted in {@link metricWrongSecretSuspected} that were not held. Add `Reason`:
   * `rate_limit` (over `maxHeldPerHour`), `counter_unavailable`, `store_unavailable`.
   * @default - Sum over 5 minutes
   */
  public metricHoldsDropped(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.holdsDropped, props);
  }

  /**
   * Requests the verifier answered 503 (our own failure; FaceSign retries). Add `Reason` for one reason.
   * @default - Sum over 5 minutes
   */
  public metricRequestsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.requestsFailed, props);
  }

  /**
   * Age of each accepted signature, in seconds (negative when ahead of our clock).
   * @default - Maximum over 5 minutes
   */
  public metricSignatureAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.signatureAge, props);
  }

  /**
   * Accepted deliveries whose timestamps are not as documented (never refused). Add `Reason` for one reason.
   * @default - Sum over 5 minutes
   */
  public metricTimestampHeaderMismatches(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.timestampHeaderMismatches, props);
  }

  /**
   * Authentic events the envelope schema does not recognise, archived under `quarantine/`. Add `Reason` for one reason.
   * @default - Sum over 5 minutes
   */
  public metricEventsQuarantined(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.eventsQuarantined, props);
  }

  /**
   * Events the processor handled for the first time. Add the `EventType` dimension for one type.
   * @default - Sum over 5 minutes
   */
  public metricEventsProcessed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.eventsProcessed, props);
  }

  /**
   * Repeat deliveries the processor skipped by event id.
   * @default - Sum over 5 minutes
   */
  public metricDuplicatesSkipped(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.duplicatesSkipped, props);
  }

  /**
   * Deliveries that reused a processed event id with different content (archived under `conflicts/`).
   * @default - Sum over 5 minutes
   */
  public metricConflictingDuplicates(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.conflictingDuplicates, props);
  }

  /**
   * Messages the processor sent to the dead-letter queue. Add `Reason` for one reason.
   * @default - Sum over 5 minutes
   */
  public metricPermanentFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.permanentFailures, props);
  }

  /**
   * Processor attempts that will be retried. Add `Reason` for one reason.
   * @default - Sum over 5 minutes
   */
  public metricTransientFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.transientFailures, props);
  }

  /**
   * Bytes of media stored in S3.
   * @default - Sum over 5 minutes
   */
  public metricMediaBytesStored(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.mediaBytesStored, props);
  }

  /**
   * Milliseconds from the first media request to the stored object.
   * @default - p99 over 5 minutes
   */
  public metricMediaDownloadTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.mediaDownloadTime, props);
  }

  /**
   * Seconds a media file's signed URL had left when its download finished (negative: after it expired).
   * @default - Minimum over 5 minutes
   */
  public metricMediaUrlHeadroom(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.mediaUrlHeadroom, props);
  }

  /**
   * Requests API Gateway answered 429, counted from the access log (FaceSign never retries them). It has the `deployment` dimension only.
   * @default - Sum over 5 minutes
   */
  public metricRequestsThrottled(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.requestsThrottled, props);
  }
}

/**
 * The created bus's name, unless `eventBusProps.eventBusName` gives one. CloudFormation requires a
 * bus name, and CDK's default ({@link Names.uniqueId} of the bus) is built from construct ids only:
 * one app deployed twice in an account and Region under two stack names (which the `deployment`
 * dimension allows) would make the second stack's bus fail to create, as a name already in use.
 * A stack with the name CDK gives it (its id, after the stage's name in a Stage) keeps that default,
 * since a new name would replace the bus, its archive and the events in it; a stack with a name of
 * its own gets one from its stack name and the construct's path. A custom bus name is at most 256 characters of `[.\-_A-Za-z0-9]`
 * (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_CreateEventBus.html).
 */
function eventBusName(scope: Construct): string | undefined {
  const stack = Stack.of(scope);
  // CDK's own stack name (the id, after the stage's name in a Stage) follows the path, and so does the default bus name.
  const stageName = Stage.of(stack)?.stageName;
  const defaultStackName = stageName ? `${stageName}-${stack.node.id}` : stack.node.id;
  if (Token.isUnresolved(stack.stackName) || stack.stackName === defaultStackName) return undefined;
  return `${Names.uniqueResourceName(scope, { maxLength: 256 - '-events'.length, separator: '-' })}-events`;
}
