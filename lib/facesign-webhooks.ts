import { CfnResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { DEFAULTS, ENV, isValidHostEntry, queueVisibilityTimeoutSeconds } from '../lambda/shared/config';
import type { FaceSignEventType } from '../contract/event';
import { EVENT_BRIDGE_SOURCE } from '../contract/event-bridge';
import { DEFAULT_METRICS_NAMESPACE, METRIC } from '../contract/metric-names';
import { ARCHIVE_PREFIXES, BUCKET_PREFIX } from '../contract/bucket-layout';
import { handlerCode, type HandlerName } from './handler-code';
import { WEBHOOK_PATH } from '../contract/webhook-path';
import { ACCESS_LOG_DEPLOYMENT_FIELD, WebhookMonitoring, type WebhookAlarmOptions } from './webhook-monitoring';
import type { WebhookMetricName } from './webhook-metrics';

export { WEBHOOK_PATH };

/**
 * The construct's own defaults (those the handlers share live in lambda/shared/config.ts). Exported
 * so that what depends on them, like the cost model in bench/, reads them instead of copying them.
 */
export const CONSTRUCT_DEFAULTS = {
  processorBatchSize: 5,
  processorMaxConcurrency: 20,
  processorTimeoutSeconds: 120,
  processorMemorySize: 1024,
  verifierMemorySize: 512,
  /** Selfies, document photos, videos: long enough to review and dispute a verification, short of any biometric-law outer limit. */
  mediaRetentionDays: 30,
  /** Event payloads (no biometrics): outlive the media they describe and the 14-day dead-letter queue, for audit and redrive. */
  archiveRetentionDays: 90,
} as const;

/**
 * SQS's largest message, set explicitly on both queues: a body up to `maxBodyBytes` (at most
 * 760,000) plus its attributes must fit, or the verifier would answer 503 to it forever. Queues
 * created before SQS raised its limit kept 256 KiB
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
 */
const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;

/** Properties of {@link FaceSignWebhooks}; the alarm settings are those of {@link WebhookAlarmOptions}. */
export interface FaceSignWebhooksProps extends WebhookAlarmOptions {
  /**
   * An existing Secrets Manager secret holding the FaceSign signing secret: either the secret
   * string itself, or JSON `{"secrets": ["<new>", "<old>"]}` to accept several during a rotation.
   * @default - a secret is created; set its value after deploying (see the README)
   */
  readonly existingSigningSecretObj?: secretsmanager.ISecret;

  /**
   * Settings for the created signing secret (name, description, KMS key, removal policy).
   * Not allowed with `existingSigningSecretObj`.
   * @default - a generated name, the AWS-managed key
   */
  readonly signingSecretProps?: Pick<secretsmanager.SecretProps, 'secretName' | 'description' | 'encryptionKey' | 'removalPolicy'>;

  /**
   * An existing customer-managed KMS key for the archive, the stored media and both queues.
   * Give the processor and the verifier no more on it than the construct grants (see the README).
   * @default - a key is created, with yearly rotation on
   */
  readonly existingEncryptionKeyObj?: kms.IKey;

  /**
   * Settings for the created key (alias, description, admins, policy, removal policy). Rotation
   * stays on whatever is given. Not allowed with `existingEncryptionKeyObj`.
   * @default - no alias, rotation on, retained on stack deletion
   */
  readonly encryptionKeyProps?: Pick<kms.KeyProps, 'alias' | 'description' | 'admins' | 'policy' | 'pendingWindow' | 'rotationPeriod' | 'removalPolicy'>;

  /**
   * An existing bucket for archived events and media. The processor gets `s3:PutObject` on the
   * `events/*`, `media/*`, `quarantine/*` and `conflicts/*` prefixes only, lists and reads `media/*`
   * only, and writes every object SSE-KMS under {@link FaceSignWebhooks.encryptionKey}. Its
   * lifecycle (retention) is yours to set.
   * @default - a bucket is created: public access blocked, SSE-KMS with the construct's key and S3 Bucket Keys, SSL and TLS 1.2 enforced, retained on stack deletion
   */
  readonly existingBucketObj?: s3.IBucket;

  /**
   * Settings for the created bucket, merged over the defaults. Public access stays blocked and
   * SSL and TLS 1.2 stay enforced whatever is given. Not allowed with `existingBucketObj`.
   * @default - the defaults described on `existingBucketObj`
   */
  readonly bucketProps?: s3.BucketProps;

  /**
   * An existing EventBridge bus to publish processed events to.
   * @default - a bus is created
   */
  readonly existingEventBusObj?: events.IEventBus;

  /**
   * Settings for the created event bus (for example its name). Not allowed with `existingEventBusObj`.
   * @default - a generated name
   */
  readonly eventBusProps?: events.EventBusProps;

  /**
   * How long stored media (`media/`: selfies, document photos, videos) is kept, in whole days
   * (created bucket only). Older objects, their noncurrent versions one day after they become
   * noncurrent, and incomplete uploads after one day are deleted by S3 lifecycle rules.
   * @default Duration.days(30)
   */
  readonly mediaRetention?: Duration;

  /**
   * How long archived event payloads (`events/`) are kept, in whole days (created bucket only).
   * Expired like `mediaRetention`.
   * @default Duration.days(90)
   */
  readonly archiveRetention?: Duration;

  /**
   * @deprecated Use `mediaRetention` and `archiveRetention`. When given (and neither of those
   * is), it sets both.
   * @default - see `mediaRetention` and `archiveRetention`
   */
  readonly archiveExpiration?: Duration;

  /**
   * Oldest accepted signature: how far the signed timestamp `t` may lie in the past. A signature
   * up to 5 minutes in the future is accepted whatever this is (less if this is shorter). FaceSign
   * does not say whether it re-signs its retries, so a shorter limit can refuse a retry for good;
   * set it only to be stricter. At most `idempotencyWindow`, so every replay it admits is a duplicate.
   * @default - the `idempotencyWindow` (7 days)
   */
  readonly signatureTolerance?: Duration;

  /**
   * How long the verifier uses a signing secret it has read before reading it again. After a
   * signature mismatch it rereads at most every 30 seconds, so a rotation takes effect quickly.
   * @default Duration.minutes(5)
   */
  readonly signingSecretCacheTtl?: Duration;

  /**
   * Largest accepted request body, in bytes; larger authentic bodies get 413 (counted as
   * `RequestsRejected` `payload_too_large`: FaceSign does not retry it). At most 760,000 (SQS's
   * 1 MiB message limit, less room for attributes).
   * @default 262144 (256 KiB)
   */
  readonly maxBodyBytes?: number;

  /**
   * Steady-state request rate limit of the API stage, in requests per second. Opt-in, and
   * dangerous: API Gateway answers a throttled request with 429, which FaceSign treats as
   * permanent, and the limit is shared by everyone on the internet, so junk traffic can make real
   * deliveries be dropped. Prefer `verifierReservedConcurrency` (answers 500, which FaceSign retries).
   * @default - no stage throttle (the account-level API Gateway quota still applies)
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst limit of the API stage, in requests. Opt-in, with the warning of `throttlingRateLimit`.
   * @default - no stage throttle
   */
  readonly throttlingBurstLimit?: number;

  /**
   * Reserved concurrency of the verifier: caps how much of the account's Lambda concurrency the
   * public endpoint can take (so a flood cannot starve the processor) and guarantees it that much.
   * Beyond it Lambda throttles, and API Gateway answers 500, which FaceSign retries. The account
   * must keep 100 unreserved executions besides this.
   * @default 50
   */
  readonly verifierReservedConcurrency?: number;

  /**
   * Receives of a message before SQS moves it to the dead-letter queue. The processor itself
   * sends a message to the dead-letter queue, with the reason, on its last attempt.
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * Records per processor invocation. They are processed in parallel.
   * @default 5
   */
  readonly processorBatchSize?: number;

  /**
   * Most concurrent processor invocations the queue starts (2 to 1000). The default drains a
   * burst of 10,000 events, half of them media, before any media URL dies even at a tenth of the
   * media throughput measured in bench/RESULTS.md (`npm run bench -- burst`; README "Burst capacity").
   * @default 20
   */
  readonly processorMaxConcurrency?: number;

  /**
   * Processor timeout (30 s to 7 minutes). The queue's visibility timeout is twice this, so a
   * crashed or timed-out invocation's records are received again after 4 minutes by default,
   * while the 15-minute media URLs still live (README "Timeout budget"). Must exceed
   * `mediaDownloadTimeout` by at least 20 seconds.
   * @default Duration.minutes(2)
   */
  readonly processorTimeout?: Duration;

  /**
   * Processor memory, in MiB.
   * @default 1024
   */
  readonly processorMemorySize?: number;

  /**
   * Verifier memory, in MiB. More memory is more CPU, so a faster answer.
   * @default 512
   */
  readonly verifierMemorySize?: number;

  /**
   * How long an event id is remembered, so that a repeat delivery is skipped.
   * @default Duration.days(7)
   */
  readonly idempotencyWindow?: Duration;

  /**
   * Hosts media may be downloaded from, over https: `host`, `host:port` or `*.domain`.
   * @default ['media.facesign.ai']
   */
  readonly allowedMediaHosts?: string[];

  /**
   * Time cap for one media download, from request to the last byte stored.
   * @default Duration.seconds(90)
   */
  readonly mediaDownloadTimeout?: Duration;

  /**
   * Size cap for one media file, in bytes. A larger file is refused and dead-lettered.
   * @default 1073741824 (1 GiB)
   */
  readonly maxMediaBytes?: number;

  /**
   * Retention of the functions' logs and the API access logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Start Node.js with `--enable-source-maps`, so stack traces in the logs point at the TypeScript
   * sources. Off by default: loading the source maps adds about 40 ms to every cold start (measured
   * in bench/RESULTS.md); the maps ship with the bundles either way.
   * @default false
   */
  readonly sourceMapStackTraces?: boolean;

  /**
   * CloudWatch namespace of the handlers' custom metrics (EMF). Every metric also carries a
   * `deployment` dimension (stack name and construct path), so deployments sharing a namespace in
   * one account and region never mix.
   * @default 'FaceSignWebhooks'
   */
  readonly metricsNamespace?: string;

  /**
   * How long the event archive keeps every event published to the bus, so a consumer's outage can
   * be replayed (`aws events start-replay`).
   * @default Duration.days(14) - as long as an onEvent target's dead-letter queue keeps its messages
   */
  readonly eventArchiveRetention?: Duration;
}

/** Options of {@link FaceSignWebhooks.onEvent}. */
export interface OnEventOptions {
  /**
   * The FaceSign event types (`detail-type`s) the rule matches: one or more.
   */
  readonly eventTypes: ReadonlyArray<FaceSignEventType | string>;
  /**
   * Where the matched events go.
   */
  readonly target: events.IRuleTarget;
  /**
   * Description of the rule.
   * @default - the event types
   */
  readonly description?: string;
  /**
   * Where events go that EventBridge could not deliver to the target after its retries. Used only
   * when the target sets no dead-letter queue itself. A queue of this app gets the policy statement
   * that lets this rule send to it; an imported queue must already allow `events.amazonaws.com`
   * `sqs:SendMessage` for the rule's ARN.
   * @default - a queue is created: SQS-managed encryption, SSL only, 14 days retention
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * Retries of a failed delivery, when the target sets no retry policy itself.
   * @default 185 (EventBridge's own maximum)
   */
  readonly retryAttempts?: number;
  /**
   * How long EventBridge keeps retrying, when the target sets no retry policy itself.
   * @default Duration.hours(24) (EventBridge's own maximum)
   */
  readonly maxEventAge?: Duration;
}

/**
 * Receives FaceSign webhooks: an HTTP API route to a verifier Lambda that checks the HMAC
 * signature and queues the event; a processor Lambda that archives every event to S3, streams
 * media from its signed URL into S3, and skips repeat deliveries by event id; a dead-letter
 * queue for what cannot be processed.
 */
export class FaceSignWebhooks extends Construct {
  /** The HTTP API. */
  public readonly api: HttpApi;
  /** The API's `$default` stage, with access logs (and throttling only if asked for). */
  public readonly stage: HttpStage;
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
  /** The API access log group. */
  public readonly accessLogGroup: logs.LogGroup;
  /** Server access logs of the created bucket (undefined when a bucket was passed in). */
  public readonly accessLogsBucket?: s3.Bucket;
  /** Alarms, their topic, and the dashboard. */
  public readonly monitoring: WebhookMonitoring;

  constructor(scope: Construct, id: string, props: FaceSignWebhooksProps = {}) {
    super(scope, id);
    const settings = resolveSettings(props);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    exclusive('existingSigningSecretObj', props.existingSigningSecretObj, 'signingSecretProps', props.signingSecretProps);
    exclusive('existingBucketObj', props.existingBucketObj, 'bucketProps', props.bucketProps);
    exclusive('existingEventBusObj', props.existingEventBusObj, 'eventBusProps', props.eventBusProps);
    exclusive('existingAlarmTopicObj', props.existingAlarmTopicObj, 'alarmTopicProps', props.alarmTopicProps);
    exclusive('existingEncryptionKeyObj', props.existingEncryptionKeyObj, 'encryptionKeyProps', props.encryptionKeyProps);
    const retention = resolveRetention(props);

    this.createdSigningSecret = props.existingSigningSecretObj
      ? undefined
      : new secretsmanager.Secret(this, 'SigningSecret', {
          description: 'FaceSign webhook signing secret: the value from the FaceSign dashboard, or {"secrets":["new","old"]}',
          ...props.signingSecretProps,
          // An empty list, so the verifier knows the secret is not set yet and answers 503 (FaceSign retries).
          generateSecretString: {
            secretStringTemplate: JSON.stringify({ secrets: [] }),
            generateStringKey: 'placeholder',
            excludePunctuation: true,
          },
        });
    this.signingSecret = props.existingSigningSecretObj ?? this.createdSigningSecret!;

    this.encryptionKey =
      props.existingEncryptionKeyObj ??
      new kms.Key(this, 'EncryptionKey', {
        description: 'FaceSign webhooks: archived events, stored identity media, and the event queues',
        removalPolicy: RemovalPolicy.RETAIN,
        ...props.encryptionKeyProps,
        // Not negotiable: this key protects identity data.
        enableKeyRotation: true,
      });

    if (props.existingBucketObj) {
      this.bucket = props.existingBucketObj;
    } else {
      this.accessLogsBucket = this.createAccessLogsBucket();
      this.bucket = this.createBucket(retention, this.accessLogsBucket, props.bucketProps);
    }
    this.eventBus = props.existingEventBusObj ?? new events.EventBus(this, 'EventBus', props.eventBusProps);
    // Every published event is kept, so a consumer's outage can be replayed.
    this.eventArchive = new events.Archive(this, 'EventArchive', {
      sourceEventBus: this.eventBus,
      eventPattern: { source: [EVENT_BRIDGE_SOURCE] },
      retention: props.eventArchiveRetention ?? Duration.days(14),
      description: 'Every FaceSign event published by the processor, for replay after a consumer outage',
    });

    // The queues hold whole event payloads, signed media URLs included, for up to 14 days: the
    // same key as the bucket, so one key policy says who can read identity data (README, "Data protection").
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
      // Twice the function timeout, not AWS's suggested six: a crashed, timed-out or out-of-memory
      // invocation's records must come back while their media URLs live (README "Timeout budget").
      visibilityTimeout: Duration.seconds(queueVisibilityTimeoutSeconds(settings.processorTimeout.toSeconds())),
      // Shorter than the dead-letter queue's, which counts from the original enqueue time.
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
    });

    this.idempotencyTable = new dynamodb.Table(this, 'IdempotencyTable', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // Event ids, session ids and S3 locations, gone after the TTL: no identity data, so the
      // AWS-managed key (README, "Data protection").
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Only dedup state with a TTL: nothing to keep when the stack goes.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.verifierLogGroup = new logs.LogGroup(this, 'VerifierLogGroup', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    // Unique per deployment in an account and region: a stack name is, and so is a path inside it.
    const metricsDeployment = `${Stack.of(this).stackName}/${this.node.path.slice(Stack.of(this).node.path.length + 1)}`;
    this.verifier = handlerFunction(this, 'Verifier', 'verifier', {
      role: functionRole(this, 'VerifierRole', this.verifierLogGroup),
      description: 'FaceSign webhooks: verifies the HMAC signature and queues the event',
      memorySize: settings.verifierMemorySize,
      timeout: Duration.seconds(10),
      // Throttled invocations become API Gateway 500s (retried by FaceSign), never 429s:
      // https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html
      reservedConcurrentExecutions: settings.verifierReservedConcurrency,
      logGroup: this.verifierLogGroup,
      environment: {
        ...commonEnvironment('facesign-verifier', metricsNamespace, metricsDeployment, props.sourceMapStackTraces ?? false),
        [ENV.signingSecretArn]: this.signingSecret.secretArn,
        [ENV.queueUrl]: this.queue.queueUrl,
        [ENV.toleranceSeconds]: String(settings.toleranceSeconds),
        [ENV.maxBodyBytes]: String(settings.maxBodyBytes),
        [ENV.secretCacheSeconds]: String(settings.secretCacheSeconds),
      },
    });
    this.signingSecret.grantRead(this.verifier);
    this.restrictSecretValueToVerifier();
    grantSendEncrypted(this.queue, this.encryptionKey, this.verifier);

    this.processorLogGroup = new logs.LogGroup(this, 'ProcessorLogGroup', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.processor = handlerFunction(this, 'Processor', 'processor', {
      role: functionRole(this, 'ProcessorRole', this.processorLogGroup),
      description: 'FaceSign webhooks: archives events, stores media, skips repeat deliveries',
      memorySize: settings.processorMemorySize,
      timeout: settings.processorTimeout,
      logGroup: this.processorLogGroup,
      environment: {
        ...commonEnvironment('facesign-processor', metricsNamespace, metricsDeployment, props.sourceMapStackTraces ?? false),
        [ENV.bucketName]: this.bucket.bucketName,
        [ENV.encryptionKeyArn]: this.encryptionKey.keyArn,
        [ENV.idempotencyTableName]: this.idempotencyTable.tableName,
        [ENV.queueUrl]: this.queue.queueUrl,
        [ENV.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
        [ENV.idempotencyWindowSeconds]: String(settings.idempotencyWindowSeconds),
        [ENV.maxReceiveCount]: String(settings.maxReceiveCount),
        [ENV.mediaAllowedHosts]: settings.allowedMediaHosts.join(','),
        [ENV.mediaDownloadTimeoutSeconds]: String(settings.mediaDownloadTimeoutSeconds),
        [ENV.mediaMaxBytes]: String(settings.maxMediaBytes),
        [ENV.eventBusName]: this.eventBus.eventBusName,
      },
    });
    this.processor.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: settings.processorBatchSize,
        maxConcurrency: settings.processorMaxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    this.grantProcessor();

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogGroup', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.api = new HttpApi(this, 'Api', {
      description: 'FaceSign webhooks',
      createDefaultStage: false,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      // No throttle unless asked for: a throttled request gets 429, which FaceSign never retries.
      ...(settings.throttlingRateLimit !== undefined || settings.throttlingBurstLimit !== undefined
        ? { throttle: { rateLimit: settings.throttlingRateLimit, burstLimit: settings.throttlingBurstLimit } }
        : {}),
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        // No headers: the signature header must never reach a log.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            sourceIp: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            // A constant, so the 429 metric filter can give its metric this deployment's dimension.
            [ACCESS_LOG_DEPLOYMENT_FIELD]: metricsDeployment,
          }),
        ),
      },
    });
    this.api.addRoutes({
      path: WEBHOOK_PATH,
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration('VerifierIntegration', this.verifier),
    });
    this.webhookUrl = `${this.api.apiEndpoint}${WEBHOOK_PATH}`;

    this.monitoring = new WebhookMonitoring(this, 'Monitoring', {
      api: this.api,
      verifier: this.verifier,
      processor: this.processor,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      idempotencyTable: this.idempotencyTable,
      accessLogGroup: this.accessLogGroup,
      processorMaxConcurrency: settings.processorMaxConcurrency,
      metricsNamespace,
      metricsDeployment,
      existingAlarmTopicObj: props.existingAlarmTopicObj,
      alarmTopicProps: props.alarmTopicProps,
      alarmEmail: props.alarmEmail,
      alarmNamePrefix: props.alarmNamePrefix,
      queueAgeAlarmThreshold: props.queueAgeAlarmThreshold,
      apiServerErrorRateThreshold: props.apiServerErrorRateThreshold,
      apiServerErrorMinimumCount: props.apiServerErrorMinimumCount,
      apiLatencyP99Threshold: props.apiLatencyP99Threshold,
      signatureFailureAlarmThreshold: props.signatureFailureAlarmThreshold,
    });
    this.suppressJustifiedNagFindings();
  }

  /**
   * cdk-nag (AwsSolutions) findings that have no fix, each on one resource with its reason.
   * Written as the metadata cdk-nag reads, so that users of the construct need no cdk-nag.
   */
  private suppressJustifiedNagFindings(): void {
    const route = this.api.node.findAll().find((c) => c instanceof CfnResource && c.cfnResourceType === 'AWS::ApiGatewayV2::Route');
    suppressNag(route, [
      {
        id: 'AwsSolutions-APIG4',
        reason:
          'FaceSign cannot send API Gateway credentials; every request is authenticated by its HMAC signature, verified in the verifier Lambda before anything is trusted.',
      },
    ]);
    if (this.createdSigningSecret) {
      suppressNag(this.createdSigningSecret, [
        {
          id: 'AwsSolutions-SMG4',
          reason:
            'FaceSign issues the signing secret; it is rotated in the FaceSign dashboard, and the {"secrets":[...]} form lets both values be active during the switch. A rotation Lambda cannot mint FaceSign secrets.',
        },
      ]);
    }
    for (const [fn, logGroup] of [
      [this.verifier, this.verifierLogGroup],
      [this.processor, this.processorLogGroup],
    ] as const) {
      suppressNag(fn.role?.node.tryFindChild('DefaultPolicy')?.node.defaultChild, [
        {
          id: 'AwsSolutions-IAM5',
          reason: 'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions.',
          appliesTo: ['Resource::*'],
        },
        {
          id: 'AwsSolutions-IAM5',
          reason: "Log streams are created by Lambda with generated names; the grant is limited to the function's own log group.",
          appliesTo: [nagResource(this, `${logGroup.logGroupArn}:*`)],
        },
        ...(fn === this.processor
          ? [
              {
                id: 'AwsSolutions-IAM5',
                reason:
                  'Object keys are per event and per media file; the grant is limited to the events/, media/, quarantine/ and conflicts/ prefixes of the archive bucket (reads: media/ only).',
                appliesTo: [...Object.values(BUCKET_PREFIX).map((prefix) => nagResource(this, this.bucket.arnForObjects(`${prefix}*`)))],
              },
            ]
          : []),
      ]);
    }
    if (this.accessLogsBucket) {
      suppressNag(this.accessLogsBucket, [{ id: 'AwsSolutions-S1', reason: 'This is the server access log bucket; logging it into itself would loop.' }]);
    }
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
      // any version or as a part of an unfinished upload.
      lifecycleRules: [
        { id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'ExpireMedia', prefix: BUCKET_PREFIX.media, expiration: retention.media, noncurrentVersionExpiration: Duration.days(1) },
        // Rule ids as they were before quarantine/ and conflicts/ existed, so upgrades keep the rules.
        ...ARCHIVE_PREFIXES.map((prefix) => ({
          id: prefix === BUCKET_PREFIX.events ? 'ExpireArchive' : `ExpireArchive-${prefix.replace('/', '')}`,
          prefix,
          expiration: retention.archive,
          noncurrentVersionExpiration: Duration.days(1),
        })),
        { id: 'RemoveExpiredDeleteMarkers', expiredObjectDeleteMarker: true },
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
  private grantProcessor(): void {
    // Consuming (receive, delete, change visibility, and kms:Decrypt on the queue's key) is granted by the event source.
    grantSendEncrypted(this.deadLetterQueue, this.encryptionKey, this.processor);
    this.processor.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [this.idempotencyTable.tableArn],
      }),
    );
    this.processor.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: Object.values(BUCKET_PREFIX).map((prefix) => this.bucket.arnForObjects(`${prefix}*`)),
      }),
    );
    // A retried or redriven media event whose file is already stored counts as done: the
    // processor lists its own media key and reads that file back for its SHA-256.
    this.processor.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${BUCKET_PREFIX.media}*`] } },
      }),
    );
    this.processor.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(`${BUCKET_PREFIX.media}*`)] }));
    // An SSE-KMS upload needs kms:GenerateDataKey, and a multipart one kms:Decrypt as well (S3
    // decrypts the parts' data keys to complete it), only through S3; reading a stored file back
    // needs kms:Decrypt too:
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions
    this.processor.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    this.eventBus.grantPutEventsTo(this.processor);
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
   * Only the verifier's role may read the signing secret's value; everyone else, administrators
   * included, may still describe it, put a new value, and change or delete the policy. An
   * existing secret passed in is left alone (the README says what to add to it).
   */
  private restrictSecretValueToVerifier(): void {
    // Not `instanceof Secret`: a secret passed in may be a Secret of the same app, and it is the user's.
    if (!this.createdSigningSecret) return;
    this.createdSigningSecret.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheVerifierReadsTheValue',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['secretsmanager:GetSecretValue'],
        resources: ['*'],
        // For a Lambda's assumed-role session, aws:PrincipalArn is the role's ARN:
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
        conditions: { StringNotEquals: { 'aws:PrincipalArn': this.verifier.role!.roleArn } },
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
    if (this.node.tryFindChild(id) || this.node.tryFindChild(`${id}DeadLetterQueue`)) {
      throw new Error(`onEvent id "${id}" is already used in this construct`);
    }
    const types: unknown = options?.eventTypes;
    if (!Array.isArray(types) || types.length === 0 || types.some((t) => typeof t !== 'string' || t.trim() === '')) {
      throw new Error(`onEvent needs eventTypes, one or more event type names, got ${JSON.stringify(types)}`);
    }
    if (options.target === undefined || typeof options.target.bind !== 'function') {
      throw new Error(`onEvent needs a target (an events.IRuleTarget), got ${String(options.target)}`);
    }
    const list = [...(types as string[])];
    const target = options.target;
    const rule = new events.Rule(this, id, {
      eventBus: this.eventBus,
      description: options.description ?? `FaceSign ${list.join(', ')} events`,
      eventPattern: { source: [EVENT_BRIDGE_SOURCE], detailType: list },
    });
    const ruleId = id;
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
        const retryPolicy = config.retryPolicy ?? {
          maximumRetryAttempts: options.retryAttempts ?? 185,
          maximumEventAgeInSeconds: (options.maxEventAge ?? Duration.hours(24)).toSeconds(),
        };
        return { ...config, deadLetterConfig, retryPolicy };
      },
    });
    this.monitoring.monitorConsumer(ruleId, rule, this.eventBus, deadLetterQueue);
    return rule;
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
      retentionPeriod: Duration.days(14),
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
   * Requests the verifier answered 401 (add the `Reason` dimension: `missing_signature`, `signature_mismatch`, ...).
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
   * Requests API Gateway answered 429, counted from the access log (FaceSign never retries them). It has the `deployment` dimension only.
   * @default - Sum over 5 minutes
   */
  public metricRequestsThrottled(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.requestsThrottled, props);
  }
}

/**
 * One handler function, its code the pre-built bundle in `dist/assets/<name>` (lib/handler-code.ts):
 * the same files whether the construct is installed from npm or used from this repository.
 */
function handlerFunction(scope: Construct, id: string, name: HandlerName, props: Omit<lambda.FunctionProps, 'code' | 'handler' | 'runtime'>): lambda.Function {
  return new lambda.Function(scope, id, {
    ...props,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    loggingFormat: lambda.LoggingFormat.JSON,
    tracing: lambda.Tracing.ACTIVE,
    code: handlerCode(name),
    handler: 'index.handler',
  });
}

/** Refuses an existing resource together with settings for a new one. */
function exclusive(existingName: string, existing: unknown, propsName: string, newProps: unknown): void {
  if (existing !== undefined && newProps !== undefined) {
    throw new Error(`${existingName} and ${propsName} are mutually exclusive: pass an existing resource or settings for a new one, got both`);
  }
}

/**
 * Sending to a queue encrypted with a customer-managed key: the SQS actions, plus
 * kms:GenerateDataKey and kms:Decrypt through SQS, which is what a producer needs
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html);
 * `grantSendMessages` would add kms:Encrypt and kms:ReEncrypt* too.
 */
function grantSendEncrypted(queue: sqs.IQueue, key: kms.IKey, fn: lambda.IFunction): void {
  queue.grant(fn, 'sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl');
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `sqs.${Stack.of(fn).region}.amazonaws.com` } },
    }),
  );
}

interface Retention {
  readonly media: Duration;
  readonly archive: Duration;
}

/** The retention of media and archive, from the props and the deprecated `archiveExpiration`. */
function resolveRetention(props: FaceSignWebhooksProps): Retention {
  const given = { mediaRetention: props.mediaRetention, archiveRetention: props.archiveRetention, archiveExpiration: props.archiveExpiration };
  if (props.archiveExpiration && (props.mediaRetention || props.archiveRetention)) {
    throw new Error('archiveExpiration is deprecated and replaced by mediaRetention and archiveRetention; pass those only, got archiveExpiration with them');
  }
  if (props.existingBucketObj) {
    const set = Object.entries(given)
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k);
    if (set.length > 0)
      throw new Error(
        `${set.join(', ')} apply to a created bucket only; set the lifecycle of existingBucketObj yourself, got ${set.join(', ')} with existingBucketObj`,
      );
  }
  const retention = {
    media: props.mediaRetention ?? props.archiveExpiration ?? Duration.days(CONSTRUCT_DEFAULTS.mediaRetentionDays),
    archive: props.archiveRetention ?? props.archiveExpiration ?? Duration.days(CONSTRUCT_DEFAULTS.archiveRetentionDays),
  };
  for (const [name, value] of [
    ['mediaRetention', retention.media],
    ['archiveRetention', retention.archive],
  ] as const) {
    if (value.isUnresolved()) continue;
    // S3 lifecycle counts whole days.
    const days = value.toHours() / 24;
    if (!Number.isInteger(days) || days < 1) throw new Error(`${name} must be a whole number of days, at least 1, got ${value.toHumanString()}`);
  }
  return retention;
}

function commonEnvironment(serviceName: string, metricsNamespace: string, metricsDeployment: string, sourceMaps: boolean): Record<string, string> {
  return {
    ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
    POWERTOOLS_SERVICE_NAME: serviceName,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
    [ENV.metricsDeployment]: metricsDeployment,
  };
}

/**
 * A function role with exactly what Lambda needs to write to the function's own log group,
 * instead of the AWSLambdaBasicExecutionRole managed policy (logs on every group in the account).
 */
function functionRole(scope: Construct, id: string, logGroup: logs.ILogGroup): iam.Role {
  const role = new iam.Role(scope, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [`${logGroup.logGroupArn}:*`],
    }),
  );
  return role;
}

/**
 * The name cdk-nag gives a wildcard resource finding: `Resource::` and the resolved ARN, with
 * `Ref` written `<Name>` and `Fn::GetAtt` written `<Name.Attr>`.
 */
function nagResource(scope: Construct, arn: string): string {
  const render = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const v = value as Record<string, unknown>;
    if (v.Ref) return `<${v.Ref as string}>`;
    if (v['Fn::GetAtt']) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if (v['Fn::Join']) {
      const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
    throw new Error(`cannot name a cdk-nag finding for ${JSON.stringify(value)}`);
  };
  return `Resource::${render(Stack.of(scope).resolve(arn))}`;
}

interface NagSuppression {
  readonly id: string;
  readonly reason: string;
  readonly appliesTo?: string[];
}

/**
 * Acknowledges cdk-nag findings on one resource, in both forms cdk-nag reads: CDK's native
 * `Validations.of().acknowledge()` (cdk-nag 3; IAM findings as `IAM5[<finding>]`) and the
 * `cdk_nag` metadata with `appliesTo` (cdk-nag 2). Users of the construct need neither installed.
 */
function suppressNag(target: IConstruct | undefined, suppressions: NagSuppression[]): void {
  const resource = target instanceof CfnResource ? target : target?.node.defaultChild;
  if (!(resource instanceof CfnResource)) throw new Error(`cannot suppress cdk-nag findings on ${target?.node.path ?? 'a missing resource'}`);
  const existing = (resource.getMetadata('cdk_nag')?.rules_to_suppress ?? []) as NagSuppression[];
  resource.addMetadata('cdk_nag', { rules_to_suppress: [...existing, ...suppressions] });
  for (const { id, reason, appliesTo } of suppressions) {
    const ids = appliesTo ? appliesTo.map((finding) => `${id}[${finding}]`) : [id];
    Validations.of(resource).acknowledge(...ids.map((rule) => ({ id: `AwsSolutions::${rule}`, reason })));
  }
}

interface Settings {
  readonly toleranceSeconds: number;
  readonly secretCacheSeconds: number;
  readonly maxBodyBytes: number;
  readonly throttlingRateLimit?: number;
  readonly throttlingBurstLimit?: number;
  readonly verifierReservedConcurrency: number;
  readonly maxReceiveCount: number;
  readonly processorBatchSize: number;
  readonly processorMaxConcurrency: number;
  readonly processorTimeout: Duration;
  readonly processorMemorySize: number;
  readonly verifierMemorySize: number;
  readonly idempotencyWindowSeconds: number;
  readonly allowedMediaHosts: readonly string[];
  readonly mediaDownloadTimeoutSeconds: number;
  readonly maxMediaBytes: number;
}

/** Applies defaults and refuses values that would break the pipeline, naming the value received. */
function resolveSettings(props: FaceSignWebhooksProps): Settings {
  const settings: Settings = {
    toleranceSeconds: props.signatureTolerance?.toSeconds() ?? props.idempotencyWindow?.toSeconds() ?? DEFAULTS.toleranceSeconds,
    secretCacheSeconds: props.signingSecretCacheTtl?.toSeconds() ?? DEFAULTS.secretCacheSeconds,
    maxBodyBytes: props.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    throttlingRateLimit: props.throttlingRateLimit,
    throttlingBurstLimit: props.throttlingBurstLimit,
    verifierReservedConcurrency: props.verifierReservedConcurrency ?? DEFAULTS.verifierReservedConcurrency,
    maxReceiveCount: props.maxReceiveCount ?? DEFAULTS.maxReceiveCount,
    processorBatchSize: props.processorBatchSize ?? CONSTRUCT_DEFAULTS.processorBatchSize,
    processorMaxConcurrency: props.processorMaxConcurrency ?? CONSTRUCT_DEFAULTS.processorMaxConcurrency,
    processorTimeout: props.processorTimeout ?? Duration.seconds(CONSTRUCT_DEFAULTS.processorTimeoutSeconds),
    processorMemorySize: props.processorMemorySize ?? CONSTRUCT_DEFAULTS.processorMemorySize,
    verifierMemorySize: props.verifierMemorySize ?? CONSTRUCT_DEFAULTS.verifierMemorySize,
    idempotencyWindowSeconds: props.idempotencyWindow?.toSeconds() ?? DEFAULTS.idempotencyWindowSeconds,
    allowedMediaHosts: (props.allowedMediaHosts ?? [...DEFAULTS.mediaAllowedHosts]).map((h) => h.trim().toLowerCase()),
    mediaDownloadTimeoutSeconds: props.mediaDownloadTimeout?.toSeconds() ?? DEFAULTS.mediaDownloadTimeoutSeconds,
    maxMediaBytes: props.maxMediaBytes ?? DEFAULTS.mediaMaxBytes,
  };
  requireInteger('signatureTolerance (seconds)', settings.toleranceSeconds, 60, 366 * 24 * 3600);
  requireInteger('signingSecretCacheTtl (seconds)', settings.secretCacheSeconds, 1, 3600);
  // 760,000 bytes base64-encoded (a body with characters SQS refuses travels so) is 1,013,336, which
  // with its attributes still fits in one 1 MiB SQS message.
  requireInteger('maxBodyBytes', settings.maxBodyBytes, 1024, 760_000);
  if (settings.throttlingRateLimit !== undefined) requireInteger('throttlingRateLimit', settings.throttlingRateLimit, 1, 100_000);
  if (settings.throttlingBurstLimit !== undefined) requireInteger('throttlingBurstLimit', settings.throttlingBurstLimit, 1, 100_000);
  requireInteger('verifierReservedConcurrency', settings.verifierReservedConcurrency, 1, 10_000);
  requireInteger('maxReceiveCount', settings.maxReceiveCount, 1, 1000);
  requireInteger('processorBatchSize', settings.processorBatchSize, 1, 10);
  requireInteger('processorMaxConcurrency', settings.processorMaxConcurrency, 2, 1000);
  // Its visibility timeout (twice this: at most 14 minutes) must stay under the media URLs' 15.
  requireInteger('processorTimeout (seconds)', settings.processorTimeout.toSeconds(), 30, 420);
  requireInteger('processorMemorySize', settings.processorMemorySize, 128, 10_240);
  requireInteger('verifierMemorySize', settings.verifierMemorySize, 128, 10_240);
  requireInteger('idempotencyWindow (seconds)', settings.idempotencyWindowSeconds, 60, 366 * 24 * 3600);
  // At most the longest processorTimeout (420 s) less the 20 s it must leave.
  requireInteger('mediaDownloadTimeout (seconds)', settings.mediaDownloadTimeoutSeconds, 1, 400);
  requireInteger('maxMediaBytes', settings.maxMediaBytes, 1, 5 * 1024 ** 4);
  if (settings.processorTimeout.toSeconds() < settings.mediaDownloadTimeoutSeconds + 20) {
    throw new Error(
      `processorTimeout must exceed mediaDownloadTimeout by at least 20 seconds, got ${settings.processorTimeout.toSeconds()} s and ${settings.mediaDownloadTimeoutSeconds} s`,
    );
  }
  if (
    !Token.isUnresolved(settings.toleranceSeconds) &&
    !Token.isUnresolved(settings.idempotencyWindowSeconds) &&
    settings.toleranceSeconds > settings.idempotencyWindowSeconds
  ) {
    throw new Error(
      `signatureTolerance must not exceed idempotencyWindow (a replay older than the window would be processed again), got ${settings.toleranceSeconds} s and ${settings.idempotencyWindowSeconds} s`,
    );
  }
  if (settings.allowedMediaHosts.length === 0) throw new Error('allowedMediaHosts must name at least one host, got []');
  for (const host of settings.allowedMediaHosts) {
    if (!isValidHostEntry(host)) throw new Error(`allowedMediaHosts entries must be host, host:port or *.domain, got "${host}"`);
  }
  return settings;
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}
