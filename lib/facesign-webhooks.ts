import { Annotations, Duration, Names, RemovalPolicy, Stack, Stage, Token } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
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
import { FACESIGN_EVENT_TYPES } from '../contract/event';
import { EVENT_BRIDGE_SOURCE } from '../contract/event-bridge';
import { METRIC } from '../contract/metric-names';
import { ARCHIVE_PREFIXES, BUCKET_PREFIX, HELD_PREFIX } from '../contract/bucket-layout';
import { HOLD_COUNTER_KEY_PREFIX } from '../contract/held-delivery';
import { DEAD_LETTER_RETENTION_DAYS, functionEnvironment, queueVisibilityTimeoutSeconds, SETTINGS } from '../contract/settings';
import { WEBHOOK_PATH } from '../contract/webhook-path';
import {
  refuseExistingWithNew,
  resolveFrontDoor,
  resolveRetention,
  resolveSettings,
  type FaceSignWebhooksProps,
  type OnEventOptions,
  type ResolvedSettings,
  type Retention,
} from './facesign-webhooks-props';
import { functionRole, grantSendEncrypted, handlerFunction } from './handler-function';
import { suppressJustifiedNagFindings, suppressNag } from './nag-suppressions';
import { createAccessLogGroup } from './front-door/access-log';
import { createFrontDoor, type FrontDoor } from './front-door/front-door';
import { WebhookMonitoring } from './webhook-monitoring';
import type { WebhookMetricName } from './webhook-metrics';

export { WEBHOOK_PATH };
export type { FaceSignWebhooksProps, OnEventOptions } from './facesign-webhooks-props';

/**
 * SQS's largest message, set explicitly on both queues: a body up to `maxBodyBytes` (at most
 * 760,000) plus its attributes must fit, or the verifier would answer 503 to it forever. Queues
 * created before SQS raised its limit kept 256 KiB
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
 */
const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * EventBridge's bounds on a target's retry policy, which are also onEvent's defaults (its most):
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_RetryPolicy.html
 */
const EVENTBRIDGE_RETRY_POLICY = {
  maxRetryAttempts: 185,
  minEventAge: Duration.seconds(60),
  maxEventAge: Duration.hours(24),
} as const;

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
  /** The children onEvent created, by construct id, with the id of the call that created them. */
  private readonly onEventChildren = new Map<string, string>();
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
    // idempotency table → verifier → processor → API → monitoring → cdk-nag acknowledgements.
    this.createdSigningSecret = props.existingSigningSecretObj ? undefined : this.createSigningSecret(props.signingSecretProps);
    this.signingSecret = props.existingSigningSecretObj ?? this.createdSigningSecret!;
    this.encryptionKey = props.existingEncryptionKeyObj ?? this.createEncryptionKey(props.encryptionKeyProps);
    if (props.existingBucketObj) {
      this.bucket = props.existingBucketObj;
    } else {
      this.accessLogsBucket = this.createAccessLogsBucket();
      this.bucket = this.createBucket(retention, this.accessLogsBucket, props.bucketProps);
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
      queueAgeAlarmThreshold: props.queueAgeAlarmThreshold,
      apiServerErrorRateThreshold: props.apiServerErrorRateThreshold,
      apiServerErrorMinimumCount: props.apiServerErrorMinimumCount,
      apiLatencyP99Threshold: props.apiLatencyP99Threshold,
      signatureFailureAlarmThreshold: props.signatureFailureAlarmThreshold,
    });
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

  private createSigningSecret(overrides: FaceSignWebhooksProps['signingSecretProps']): secretsmanager.Secret {
    return new secretsmanager.Secret(this, 'SigningSecret', {
      description: 'FaceSign webhook signing secret: the value from the FaceSign dashboard, or {"secrets":["new","old"]}',
      ...overrides,
      // An empty list, so the verifier knows the secret is not set yet and answers 503 (FaceSign retries).
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ secrets: [] }),
        generateStringKey: 'placeholder',
        excludePunctuation: true,
      },
    });
  }

  private createEncryptionKey(overrides: FaceSignWebhooksProps['encryptionKeyProps']): kms.Key {
    return new kms.Key(this, 'EncryptionKey', {
      description: 'FaceSign webhooks: archived events, stored identity media, and the event queues',
      removalPolicy: RemovalPolicy.RETAIN,
      ...overrides,
      // Not negotiable: this key protects identity data.
      enableKeyRotation: true,
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
      timeout: Duration.seconds(SETTINGS.verifierTimeout.default),
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
      timeout: Duration.seconds(SETTINGS.reverifierTimeout.default),
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

  private createAccessLogsBucket(): s3.Bucket {
    return new s3.Bucket(this, 'AccessLogsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // Object keys and requesters, no contents: SSE-S3, so that log delivery needs no grant on the data key.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(365) }],
    });
  }

  private createBucket(retention: Retention, accessLogsBucket: s3.Bucket, overrides: s3.BucketProps = {}): s3.Bucket {
    for (const name of ['encryption', 'encryptionKey', 'bucketKeyEnabled'] as const) {
      if (overrides[name] !== undefined) {
        throw new Error(
          `bucketProps.${name} is set by the construct (SSE-KMS with its key and S3 Bucket Keys); pass existingEncryptionKeyObj to choose the key, got ${name} in bucketProps`,
        );
      }
    }
    refuseRulesWithoutAction(overrides.lifecycleRules ?? []);
    const bucket = new s3.Bucket(this, 'Bucket', {
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Identity documents and selfies: never deleted with the stack by accident.
      removalPolicy: RemovalPolicy.RETAIN,
      ...overrides,
      // Not negotiable: this bucket holds identity documents.
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // SSE-KMS under the customer-managed key; Bucket Keys keep KMS requests (and their cost)
      // flat per object: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      // Retention on purpose: nothing identifying outlives its retention by more than a day, in
      // any version or as a part of an unfinished upload. CloudFormation refuses a rule without one
      // of AbortIncompleteMultipartUpload, ExpirationDate, ExpirationInDays, NoncurrentVersion*
      // or Transition(s) (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-s3-bucket-rule.html),
      // so a rule of ExpiredObjectDeleteMarker alone fails the deploy; it rides on the abort rule,
      // and only on a versioned bucket (bucketProps.versioned), the only kind that has delete markers.
      lifecycleRules: [
        {
          id: 'AbortIncompleteMultipartUploads',
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          ...(overrides.versioned === true ? { expiredObjectDeleteMarker: true } : {}),
        },
        { id: 'ExpireMedia', prefix: BUCKET_PREFIX.media, expiration: retention.media, noncurrentVersionExpiration: Duration.days(1) },
        // Rule ids as they were before quarantine/ and conflicts/ existed, so upgrades keep the rules.
        ...ARCHIVE_PREFIXES.map((prefix) => ({
          id: prefix === BUCKET_PREFIX.events ? 'ExpireArchive' : `ExpireArchive-${prefix.replace('/', '')}`,
          prefix,
          expiration: retention.archive,
          noncurrentVersionExpiration: Duration.days(1),
        })),
        // Held deliveries (refused, in FaceSign's form) live only as long as a re-verification may use them.
        { id: 'ExpireHeld', prefix: HELD_PREFIX, expiration: retention.held, noncurrentVersionExpiration: Duration.days(1) },
        ...(overrides.lifecycleRules ?? []),
      ],
    });
    // Server access logs delivered under a bucket policy, not ACLs, whatever the app's feature
    // flags say (the ACL route needs ObjectWriter ownership on the log bucket).
    (bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
      destinationBucketName: accessLogsBucket.bucketName,
      logFilePrefix: 'archive/',
    };
    accessLogsBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [accessLogsBucket.arnForObjects('archive/*')],
        conditions: {
          ArnLike: { 'aws:SourceArn': bucket.bucketArn },
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
        },
      }),
    );
    return bucket;
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
   * Lets `grantee` read stored media (`media/*`): `s3:GetObject` on that prefix and
   * `kms:Decrypt` on {@link encryptionKey} through S3 only. For example, a rule target that
   * reads the photo a `media.user_photo` event points at.
   */
  public grantReadMedia(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadPrefixes(grantee, [BUCKET_PREFIX.media]);
  }

  /**
   * Lets `grantee` read archived event payloads (`events/*`, and the quarantined and conflicting
   * ones under `quarantine/*` and `conflicts/*`), as {@link grantReadMedia} does for media.
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
   * it could not deliver. Every event is also kept in {@link eventArchive}, for replay.
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
    if (typeof id !== 'string' || !/^[A-Z][A-Za-z0-9]*$/.test(id)) {
      throw new Error(`onEvent id must be PascalCase letters and digits, got ${JSON.stringify(id)}`);
    }
    this.refuseTakenOnEventId(id);
    const types: unknown = options?.eventTypes;
    if (!Array.isArray(types) || types.length === 0 || types.some((t) => typeof t !== 'string' || t.trim() === '')) {
      throw new Error(`onEvent needs eventTypes, one or more event type names, got ${JSON.stringify(types)}`);
    }
    if (options.target === undefined || typeof options.target.bind !== 'function') {
      throw new Error(`onEvent needs a target (an events.IRuleTarget), got ${String(options.target)}`);
    }
    const retryAttempts = options.retryAttempts ?? EVENTBRIDGE_RETRY_POLICY.maxRetryAttempts;
    const maxEventAgeSeconds = checkedMaxEventAge(options.maxEventAge ?? EVENTBRIDGE_RETRY_POLICY.maxEventAge);
    if (
      !Token.isUnresolved(retryAttempts) &&
      !(Number.isInteger(retryAttempts) && retryAttempts >= 0 && retryAttempts <= EVENTBRIDGE_RETRY_POLICY.maxRetryAttempts)
    ) {
      throw new Error(
        `onEvent retryAttempts must be an integer from 0 to ${EVENTBRIDGE_RETRY_POLICY.maxRetryAttempts} (EventBridge's limits), got ${retryAttempts}`,
      );
    }
    const list = [...(types as string[])];
    const target = options.target;
    const rule = new events.Rule(this, id, {
      eventBus: this.eventBus,
      description: options.description ?? `FaceSign ${list.join(', ')} events`,
      eventPattern: { source: [EVENT_BRIDGE_SOURCE], detailType: list },
    });
    const ruleId = id;
    this.onEventChildren.set(id, id).set(`${id}DeadLetterQueue`, id);
    // A warning, never an error: FaceSign may send types it has not documented yet, and a rule for one is legitimate.
    const documented: readonly string[] = FACESIGN_EVENT_TYPES;
    for (const type of list.filter((t) => !documented.includes(t))) {
      Annotations.of(rule).addWarningV2(
        'facesign-webhooks:onEventUndocumentedType',
        `onEvent "${id}": "${type}" is not a documented FaceSign event type (${FACESIGN_EVENT_TYPES.join(', ')}); the rule matches it exactly as written, so check its spelling`,
      );
    }
    let deadLetterQueue: sqs.IQueue | undefined;
    // Rule.addTarget binds at once, so after it we know whether the target brought its own settings.
    rule.addTarget({
      bind: (boundRule, targetId) => {
        const config = target.bind(boundRule, targetId);
        let deadLetterConfig = config.deadLetterConfig;
        if (!deadLetterConfig) {
          deadLetterQueue = options.deadLetterQueue ?? this.consumerDeadLetterQueue(`${ruleId}DeadLetterQueue`);
          // What EventBridge needs to send there (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
          deadLetterQueue.addToResourcePolicy(
            new iam.PolicyStatement({
              sid: `AllowEventRule${ruleId}`,
              principals: [new iam.ServicePrincipal('events.amazonaws.com')],
              actions: ['sqs:SendMessage'],
              resources: [deadLetterQueue.queueArn],
              conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
            }),
          );
          deadLetterConfig = { arn: deadLetterQueue.queueArn };
        }
        const retryPolicy = config.retryPolicy ?? { maximumRetryAttempts: retryAttempts, maximumEventAgeInSeconds: maxEventAgeSeconds };
        return { ...config, deadLetterConfig, retryPolicy };
      },
    });
    this.monitoring.monitorConsumer(ruleId, rule, this.eventBus, deadLetterQueue);
    return rule;
  }

  /**
   * Refuses an onEvent id whose rule or dead-letter queue name is already a child of this
   * construct, saying whether an earlier onEvent call took it or the construct's own resources do.
   */
  private refuseTakenOnEventId(id: string): void {
    for (const name of [id, `${id}DeadLetterQueue`]) {
      if (!this.node.tryFindChild(name)) continue;
      const taken = name === id ? `onEvent id "${id}"` : `onEvent id "${id}" would name its dead-letter queue "${name}", which`;
      const earlier = this.onEventChildren.get(name);
      if (earlier !== undefined) {
        const what = name === earlier ? 'rule' : 'dead-letter queue';
        throw new Error(`${taken} is already used in this construct: an earlier onEvent("${earlier}") created the ${what} of that name`);
      }
      throw new Error(`${taken} is reserved: FaceSignWebhooks names one of its own resources so; choose another id`);
    }
  }

  /**
   * A dead-letter queue for one onEvent target: SSL only, 14 days, SSE-SQS. What it holds is the
   * published detail (no signed URL, no media), so the customer key and the key-policy grant to
   * EventBridge it would need are not used here.
   */
  private consumerDeadLetterQueue(id: string): sqs.Queue {
    const queue = new sqs.Queue(this, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(DEAD_LETTER_RETENTION_DAYS),
    });
    suppressNag(queue, [
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself a dead-letter queue: EventBridge sends it the events an onEvent target could not take (a rule target DLQ, which cdk-nag does not recognise as one).',
      },
    ]);
    return queue;
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

/** What makes a lifecycle rule one CloudFormation accepts: an expiration, transition or abort action. */
const LIFECYCLE_ACTIONS = [
  'abortIncompleteMultipartUploadAfter',
  'expiration',
  'expirationDate',
  'noncurrentVersionExpiration',
  'noncurrentVersionTransitions',
  'transitions',
] as const satisfies readonly (keyof s3.LifecycleRule)[];

/**
 * Refuses, at synth, a `bucketProps.lifecycleRules` rule that CloudFormation would refuse at deploy
 * (after creating, and then retaining, the keys and the log bucket): one without any of the actions
 * the AWS::S3::Bucket Rule reference requires, such as a rule of `expiredObjectDeleteMarker` alone
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-s3-bucket-rule.html).
 */
function refuseRulesWithoutAction(rules: readonly s3.LifecycleRule[]): void {
  for (const rule of rules) {
    if (LIFECYCLE_ACTIONS.some((action) => rule[action] !== undefined && !(Array.isArray(rule[action]) && rule[action].length === 0))) continue;
    throw new Error(
      `bucketProps.lifecycleRules rule ${JSON.stringify(rule.id ?? '(no id)')} needs one of ${LIFECYCLE_ACTIONS.join(', ')}: CloudFormation refuses a rule without an action, got ${JSON.stringify(rule)}`,
    );
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

/** A retry policy's maximum event age in whole seconds, refused outside EventBridge's bounds with the value received. */
function checkedMaxEventAge(maxEventAge: Duration): number {
  const seconds = maxEventAge.toSeconds({ integral: false });
  if (Token.isUnresolved(seconds)) return maxEventAge.toSeconds();
  const { minEventAge, maxEventAge: most } = EVENTBRIDGE_RETRY_POLICY;
  if (!Number.isInteger(seconds) || seconds < minEventAge.toSeconds() || seconds > most.toSeconds()) {
    throw new Error(
      `onEvent maxEventAge must be whole seconds from ${minEventAge.toHumanString()} to ${most.toHumanString()} (EventBridge's limits), got ${maxEventAge.toHumanString()}`,
    );
  }
  return seconds;
}
