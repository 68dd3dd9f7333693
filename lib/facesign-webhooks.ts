import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC } from '../contract/metric-names';
import { ARCHIVE_PREFIXES, BUCKET_PREFIX } from '../contract/bucket-layout';
import type { FaceSignWebhooksProps, OnEventOptions } from './facesign-webhooks-props';
import { refuseExistingWithNew, resolveFrontDoor, resolveRetention, resolveSettings, type Retention } from './resolve-props';
import { createMediaReadTrail, MediaReadRestriction, SigningSecretWatch } from './data-protection';
import { createProcessor, createReverifier, createVerifier } from './handlers';
import { createDeadLetterQueue, createEventArchive, createEventBus, createIdempotencyTable, createQueue } from './pipeline';
import { createAccessLogsBucket, createArchiveBucket, createEncryptionKey, createSigningSecret } from './storage';
import { suppressJustifiedNagFindings } from './nag-suppressions';
import { addConsumer } from './consumers';
import { createAccessLogGroup } from './front-door/access-log';
import { createFrontDoor, type FrontDoor } from './front-door/front-door';
import { WebhookMonitoring } from './monitoring/webhook-monitoring';
import type { WebhookMetricName } from './webhook-metrics';

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
    refuseExistingWithNew(props);
    const retention = resolveRetention(props, settings);
    // Unique per deployment in an account and region: a stack name is, and so is a path inside it.
    const metricsDeployment = `${Stack.of(this).stackName}/${this.node.path.slice(Stack.of(this).node.path.length + 1)}`;

    // The architecture, in order: signing secret → key → bucket → bus and archive → queues →
    // idempotency table → verifier → processor (and the media read rule naming it) → API →
    // monitoring → the signing-secret watch → cdk-nag acknowledgements. Construct ids are the
    // resources' logical ids: lib/pipeline.ts and lib/handlers.ts keep them.
    this.createdSigningSecret = props.existingSigningSecretObj ? undefined : createSigningSecret(this, props.signingSecretProps);
    this.signingSecret = props.existingSigningSecretObj ?? this.createdSigningSecret!;
    this.encryptionKey = props.existingEncryptionKeyObj ?? createEncryptionKey(this, props.encryptionKeyProps);
    ({ bucket: this.bucket, accessLogsBucket: this.accessLogsBucket } = createOrUseBucket(this, props, retention, this.encryptionKey));
    this.eventBus = createEventBus(this, props);
    this.eventArchive = createEventArchive(this, this.eventBus, Duration.days(settings.eventArchiveRetention));
    this.deadLetterQueue = createDeadLetterQueue(this, this.encryptionKey);
    this.queue = createQueue(this, this.encryptionKey, this.deadLetterQueue, settings);
    this.idempotencyTable = createIdempotencyTable(this);

    const resources = { ...this.stores(), settings, metricsDeployment };
    ({ fn: this.verifier, logGroup: this.verifierLogGroup } = createVerifier(this, resources));
    ({ fn: this.processor, logGroup: this.processorLogGroup } = createProcessor(this, resources));
    this.mediaReaders = new MediaReadRestriction(this, this.bucket, {
      processorRole: this.processor.role!,
      breakGlassPrincipalArns: props.mediaBreakGlassPrincipalArns ?? [],
    });
    if (props.auditMediaReads === true) this.mediaReadTrail = createMediaReadTrail(this, 'MediaReadTrail', this.bucket, this.accessLogsBucket!);
    ({ fn: this.reverifier, logGroup: this.reverifierLogGroup } = createReverifier(this, resources));
    this.restrictSecretValueTo([this.verifier, this.reverifier]);

    this.accessLogGroup = createAccessLogGroup(this, settings.logRetention);
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
      this.monitoring.monitorSigningSecretWatch(this.signingSecretWatch.rule);
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

  /** The stores the functions are wired to. */
  private stores() {
    const { signingSecret, encryptionKey, bucket, eventBus, queue, deadLetterQueue, idempotencyTable } = this;
    return { signingSecret, encryptionKey, bucket, eventBus, queue, deadLetterQueue, idempotencyTable };
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
   * Authentic deliveries the verifier refused (400, 413, or 401 after the signature matched; see docs/reference.md "A 4xx is never retried"). Add `Reason` for one reason.
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
   * Requests API Gateway answered 429, counted from the access log (docs/reference.md "A 4xx is never retried"). It has the `deployment` dimension only.
   * @default - Sum over 5 minutes
   */
  public metricRequestsThrottled(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.requestsThrottled, props);
  }
}

/** The bucket passed in (Object Lock and the media read trail are then the user's to configure), or a created one with its access-log bucket. */
function createOrUseBucket(
  scope: Construct,
  props: FaceSignWebhooksProps,
  retention: Retention,
  encryptionKey: kms.IKey,
): { bucket: s3.IBucket; accessLogsBucket?: s3.Bucket } {
  if (props.existingBucketObj) {
    for (const name of ['objectLockRetention', 'auditMediaReads'] as const) {
      if (props[name] !== undefined)
        throw new Error(`${name} applies to a created bucket only; configure existingBucketObj yourself, got ${name} with existingBucketObj`);
    }
    return { bucket: props.existingBucketObj };
  }
  const accessLogsBucket = createAccessLogsBucket(scope);
  const bucket = createArchiveBucket(scope, {
    retention,
    encryptionKey,
    accessLogsBucket,
    objectLockRetention: props.objectLockRetention,
    overrides: props.bucketProps,
  });
  return { bucket, accessLogsBucket };
}
