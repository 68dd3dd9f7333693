import { CfnResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { DEFAULTS, ENV, isValidHostEntry, queueVisibilityTimeoutSeconds } from '../lambda/shared/config';
import type { FaceSignEventType } from '../lambda/shared/event';
import { EVENT_BRIDGE_SOURCE } from '../lambda/shared/event-bridge';
import { DEFAULT_METRICS_NAMESPACE } from '../lambda/shared/metric-names';
import { handlerEntry, type HandlerName } from './handler-bundle';
import { LAMBDA_BUNDLING } from './lambda-bundling';
import { WEBHOOK_PATH } from './webhook-path';
import { WebhookMonitoring, type WebhookAlarmOptions } from './webhook-monitoring';

export { WEBHOOK_PATH };

/**
 * The construct's own defaults (those the handlers share live in lambda/shared/config.ts). Exported
 * so that what depends on them, like the cost model in bench/, reads them instead of copying them.
 */
export const CONSTRUCT_DEFAULTS = {
  throttlingRateLimit: 50,
  throttlingBurstLimit: 100,
  processorBatchSize: 5,
  processorMaxConcurrency: 20,
  processorTimeoutSeconds: 120,
  processorMemorySize: 1024,
  verifierMemorySize: 512,
} as const;

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
   * An existing bucket for archived events and media. The processor gets `s3:PutObject` on the
   * `events/*`, `media/*` and `conflicts/*` prefixes only, and lists and reads `media/*` only.
   * @default - a bucket is created: public access blocked, S3-managed encryption, SSL and TLS 1.2 enforced, retained on stack deletion
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
   * Expire archived events and stored media this long after they were written (created bucket only).
   * @default - objects are kept until you delete them
   */
  readonly archiveExpiration?: Duration;

  /**
   * Largest accepted distance between the signature timestamp `t` and the clock, past or future.
   * @default Duration.minutes(5)
   */
  readonly signatureTolerance?: Duration;

  /**
   * How long the verifier uses a signing secret it has read before reading it again. After a
   * signature mismatch it rereads at most every 30 seconds, so a rotation takes effect quickly.
   * @default Duration.minutes(5)
   */
  readonly signingSecretCacheTtl?: Duration;

  /**
   * Largest accepted request body, in bytes; larger bodies get 413. At most 1,000,000 (SQS's
   * 1 MiB message limit, less room for attributes).
   * @default 262144 (256 KiB)
   */
  readonly maxBodyBytes?: number;

  /**
   * Steady-state request rate limit of the API stage, in requests per second.
   * @default 50
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst limit of the API stage, in requests.
   * @default 100
   */
  readonly throttlingBurstLimit?: number;

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
   * CloudWatch namespace of the handlers' custom metrics (EMF).
   * @default 'FaceSignWebhooks'
   */
  readonly metricsNamespace?: string;
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
  /** The API's `$default` stage, with throttling and access logs. */
  public readonly stage: HttpStage;
  /** The URL to give FaceSign. */
  public readonly webhookUrl: string;
  /** The signing secret the verifier reads. */
  public readonly signingSecret: secretsmanager.ISecret;
  /** Verified events waiting for the processor. */
  public readonly queue: sqs.Queue;
  /** Events that could not be processed, with the reason as message attributes. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Powertools idempotency records, keyed by FaceSign event id. */
  public readonly idempotencyTable: dynamodb.Table;
  /** Archived events (`events/`) and stored media (`media/`). */
  public readonly bucket: s3.IBucket;
  /** Every processed event is published here: `source` `facesign.webhooks`, `detail-type` the event type. */
  public readonly eventBus: events.IEventBus;
  /** Checks signatures and queues events. */
  public readonly verifier: lambda.Function;
  /** Archives events, stores media, runs per-type handlers. */
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
    if (props.existingBucketObj && props.archiveExpiration) {
      throw new Error('archiveExpiration applies to a created bucket only; set the lifecycle of existingBucketObj yourself');
    }

    this.signingSecret =
      props.existingSigningSecretObj ??
      new secretsmanager.Secret(this, 'SigningSecret', {
        description: 'FaceSign webhook signing secret: the value from the FaceSign dashboard, or {"secrets":["new","old"]}',
        ...props.signingSecretProps,
        // An empty list, so the verifier knows the secret is not set yet and answers 503 (FaceSign retries).
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ secrets: [] }),
          generateStringKey: 'placeholder',
          excludePunctuation: true,
        },
      });

    if (props.existingBucketObj) {
      this.bucket = props.existingBucketObj;
    } else {
      this.accessLogsBucket = this.createAccessLogsBucket();
      this.bucket = this.createBucket(props.archiveExpiration, this.accessLogsBucket, props.bucketProps);
    }
    this.eventBus = props.existingEventBusObj ?? new events.EventBus(this, 'EventBus', props.eventBusProps);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
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
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Only dedup state with a TTL: nothing to keep when the stack goes.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.verifierLogGroup = new logs.LogGroup(this, 'VerifierLogGroup', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    this.verifier = handlerFunction(this, 'Verifier', 'verifier', {
      role: functionRole(this, 'VerifierRole', this.verifierLogGroup),
      description: 'FaceSign webhooks: verifies the HMAC signature and queues the event',
      memorySize: settings.verifierMemorySize,
      timeout: Duration.seconds(10),
      logGroup: this.verifierLogGroup,
      environment: {
        ...commonEnvironment('facesign-verifier', metricsNamespace, props.sourceMapStackTraces ?? false),
        [ENV.signingSecretArn]: this.signingSecret.secretArn,
        [ENV.queueUrl]: this.queue.queueUrl,
        [ENV.toleranceSeconds]: String(settings.toleranceSeconds),
        [ENV.maxBodyBytes]: String(settings.maxBodyBytes),
        [ENV.secretCacheSeconds]: String(settings.secretCacheSeconds),
      },
    });
    this.signingSecret.grantRead(this.verifier);
    this.queue.grantSendMessages(this.verifier);

    this.processorLogGroup = new logs.LogGroup(this, 'ProcessorLogGroup', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.processor = handlerFunction(this, 'Processor', 'processor', {
      role: functionRole(this, 'ProcessorRole', this.processorLogGroup),
      description: 'FaceSign webhooks: archives events, stores media, skips repeat deliveries',
      memorySize: settings.processorMemorySize,
      timeout: settings.processorTimeout,
      logGroup: this.processorLogGroup,
      environment: {
        ...commonEnvironment('facesign-processor', metricsNamespace, props.sourceMapStackTraces ?? false),
        [ENV.bucketName]: this.bucket.bucketName,
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
      throttle: { rateLimit: settings.throttlingRateLimit, burstLimit: settings.throttlingBurstLimit },
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
      metricsNamespace,
      existingAlarmTopicObj: props.existingAlarmTopicObj,
      alarmTopicProps: props.alarmTopicProps,
      alarmEmail: props.alarmEmail,
      alarmNamePrefix: props.alarmNamePrefix,
      queueAgeAlarmThreshold: props.queueAgeAlarmThreshold,
      apiServerErrorRateThreshold: props.apiServerErrorRateThreshold,
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
        reason: 'FaceSign cannot send API Gateway credentials; every request is authenticated by its HMAC signature, verified in the verifier Lambda before anything is trusted.',
      },
    ]);
    if (this.signingSecret instanceof secretsmanager.Secret) {
      suppressNag(this.signingSecret, [
        {
          id: 'AwsSolutions-SMG4',
          reason: 'FaceSign issues the signing secret; it is rotated in the FaceSign dashboard, and the {"secrets":[...]} form lets both values be active during the switch. A rotation Lambda cannot mint FaceSign secrets.',
        },
      ]);
    }
    for (const [fn, logGroup] of [[this.verifier, this.verifierLogGroup], [this.processor, this.processorLogGroup]] as const) {
      suppressNag(fn.role?.node.tryFindChild('DefaultPolicy')?.node.defaultChild, [
        {
          id: 'AwsSolutions-IAM5',
          reason: 'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions.',
          appliesTo: ['Resource::*'],
        },
        {
          id: 'AwsSolutions-IAM5',
          reason: 'Log streams are created by Lambda with generated names; the grant is limited to the function\'s own log group.',
          appliesTo: [nagResource(this, `${logGroup.logGroupArn}:*`)],
        },
        ...(fn === this.processor
          ? [
              {
                id: 'AwsSolutions-IAM5',
                reason: 'Object keys are per event and per media file; the grant is limited to the events/, media/ and conflicts/ prefixes of the archive bucket (reads: media/ only).',
                appliesTo: [
                  nagResource(this, this.bucket.arnForObjects('events/*')),
                  nagResource(this, this.bucket.arnForObjects('media/*')),
                  nagResource(this, this.bucket.arnForObjects('conflicts/*')),
                ],
              },
            ]
          : []),
      ]);
    }
    if (this.accessLogsBucket) {
      suppressNag(this.accessLogsBucket, [
        { id: 'AwsSolutions-S1', reason: 'This is the server access log bucket; logging it into itself would loop.' },
      ]);
    }
  }


  private createAccessLogsBucket(): s3.Bucket {
    return new s3.Bucket(this, 'AccessLogsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(365) }],
    });
  }

  private createBucket(archiveExpiration: Duration | undefined, accessLogsBucket: s3.Bucket, overrides: s3.BucketProps = {}): s3.Bucket {
    const bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Identity documents and selfies: never deleted with the stack by accident.
      removalPolicy: RemovalPolicy.RETAIN,
      ...overrides,
      // Not negotiable: this bucket holds identity documents.
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [
        { id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        ...(overrides.lifecycleRules ?? []),
        ...(archiveExpiration ? [{ id: 'ExpireArchive', expiration: archiveExpiration }] : []),
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
    // Consuming (receive, delete, change visibility) is granted by the event source.
    this.deadLetterQueue.grantSendMessages(this.processor);
    this.processor.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [this.idempotencyTable.tableArn],
      }),
    );
    this.processor.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [this.bucket.arnForObjects('events/*'), this.bucket.arnForObjects('media/*'), this.bucket.arnForObjects('conflicts/*')],
      }),
    );
    // A retried or redriven media event whose file is already stored counts as done: the
    // processor lists its own media key and reads that file back for its SHA-256.
    this.processor.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': ['media/*'] } },
      }),
    );
    this.processor.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects('media/*')] }));
    // Multipart uploads to an SSE-KMS bucket need both.
    this.bucket.encryptionKey?.grantEncryptDecrypt(this.processor);
    this.eventBus.grantPutEventsTo(this.processor);
  }

  /**
   * Sends processed events of the given FaceSign type(s) to a target of yours: creates an
   * EventBridge rule on {@link eventBus} matching `source` `facesign.webhooks` and those
   * `detail-type`s. The target receives `detail` as {@link FaceSignEventBridgeDetail}: the event,
   * and the S3 locations of its archived payload and stored media. Delivery is at least once; use
   * `detail.event.id` to deduplicate.
   *
   * @example webhooks.onEvent('session.status', new targets.LambdaFunction(myFn));
   * @example webhooks.onEvent(['media.user_photo', 'media.document_photo'], new targets.SqsQueue(q));
   */
  public onEvent(types: FaceSignEventType | string | ReadonlyArray<FaceSignEventType | string>, target: events.IRuleTarget, options: { readonly description?: string } = {}): events.Rule {
    const list = typeof types === 'string' ? [types] : [...types];
    if (list.length === 0 || list.some((t) => typeof t !== 'string' || t.trim() === '')) {
      throw new Error(`onEvent needs one or more event types, got ${JSON.stringify(types)}`);
    }
    const base = `On${list.map((t) => t.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase()).replace(/^./, (c) => c.toUpperCase())).join('Or')}`;
    let id = base;
    for (let n = 2; this.node.tryFindChild(id); n++) id = `${base}${n}`;
    return new events.Rule(this, id, {
      eventBus: this.eventBus,
      description: options.description ?? `FaceSign ${list.join(', ')} events`,
      eventPattern: { source: [EVENT_BRIDGE_SOURCE], detailType: list },
      targets: [target],
    });
  }
}

/** Where an installed package keeps the handler bundles it ships (built by `npm run build:package`). */
export function prebuiltHandlerDir(name: HandlerName): string {
  return path.join(__dirname, '..', 'assets', name);
}

/**
 * One handler function. An installed package ships pre-built bundles and loads them with
 * `Code.fromAsset` (no esbuild, no Docker, no TypeScript sources in the user's app); this repo's
 * own app bundles from source with NodejsFunction. Both use the same esbuild settings.
 */
function handlerFunction(
  scope: Construct,
  id: string,
  name: HandlerName,
  props: Omit<lambda.FunctionProps, 'code' | 'handler' | 'runtime'>,
): lambda.Function {
  const common = {
    ...props,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    loggingFormat: lambda.LoggingFormat.JSON,
    tracing: lambda.Tracing.ACTIVE,
  };
  const prebuilt = prebuiltHandlerDir(name);
  if (existsSync(path.join(prebuilt, 'index.mjs'))) {
    return new lambda.Function(scope, id, { ...common, code: lambda.Code.fromAsset(prebuilt), handler: 'index.handler' });
  }
  return new NodejsFunction(scope, id, { ...common, entry: handlerEntry(name), handler: 'handler', bundling: LAMBDA_BUNDLING });
}

/** Refuses an existing resource together with settings for a new one. */
function exclusive(existingName: string, existing: unknown, propsName: string, newProps: unknown): void {
  if (existing !== undefined && newProps !== undefined) {
    throw new Error(`${existingName} and ${propsName} are mutually exclusive: pass an existing resource or settings for a new one, got both`);
  }
}


function commonEnvironment(serviceName: string, metricsNamespace: string, sourceMaps: boolean): Record<string, string> {
  return {
    ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
    POWERTOOLS_SERVICE_NAME: serviceName,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
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
  readonly throttlingRateLimit: number;
  readonly throttlingBurstLimit: number;
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
    toleranceSeconds: props.signatureTolerance?.toSeconds() ?? DEFAULTS.toleranceSeconds,
    secretCacheSeconds: props.signingSecretCacheTtl?.toSeconds() ?? DEFAULTS.secretCacheSeconds,
    maxBodyBytes: props.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    throttlingRateLimit: props.throttlingRateLimit ?? CONSTRUCT_DEFAULTS.throttlingRateLimit,
    throttlingBurstLimit: props.throttlingBurstLimit ?? CONSTRUCT_DEFAULTS.throttlingBurstLimit,
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
  requireInteger('signatureTolerance (seconds)', settings.toleranceSeconds, 1, 3600);
  requireInteger('signingSecretCacheTtl (seconds)', settings.secretCacheSeconds, 1, 3600);
  requireInteger('maxBodyBytes', settings.maxBodyBytes, 1024, 1_000_000);
  requireInteger('throttlingRateLimit', settings.throttlingRateLimit, 1, 100_000);
  requireInteger('throttlingBurstLimit', settings.throttlingBurstLimit, 1, 100_000);
  requireInteger('maxReceiveCount', settings.maxReceiveCount, 1, 1000);
  requireInteger('processorBatchSize', settings.processorBatchSize, 1, 10);
  requireInteger('processorMaxConcurrency', settings.processorMaxConcurrency, 2, 1000);
  // Its visibility timeout (twice this: at most 14 minutes) must stay under the media URLs' 15.
  requireInteger('processorTimeout (seconds)', settings.processorTimeout.toSeconds(), 30, 420);
  requireInteger('processorMemorySize', settings.processorMemorySize, 128, 10_240);
  requireInteger('verifierMemorySize', settings.verifierMemorySize, 128, 10_240);
  requireInteger('idempotencyWindow (seconds)', settings.idempotencyWindowSeconds, 60, 366 * 24 * 3600);
  requireInteger('mediaDownloadTimeout (seconds)', settings.mediaDownloadTimeoutSeconds, 1, 880);
  requireInteger('maxMediaBytes', settings.maxMediaBytes, 1, 5 * 1024 ** 4);
  if (settings.processorTimeout.toSeconds() < settings.mediaDownloadTimeoutSeconds + 20) {
    throw new Error(
      `processorTimeout must exceed mediaDownloadTimeout by at least 20 seconds, got ${settings.processorTimeout.toSeconds()} s and ${settings.mediaDownloadTimeoutSeconds} s`,
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
