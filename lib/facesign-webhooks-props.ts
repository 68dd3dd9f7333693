/**
 * What a user of {@link FaceSignWebhooks} passes: the props, grouped by concern, and the options of
 * `onEvent`. Each prop's JSDoc is its one description (docs/reference.md's table is generated from
 * it); lib/resolve-props.ts turns the props into settings.
 */
import type { Duration } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import type { FaceSignEventType } from '../contract/event';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { WebhookAlarmOptions } from './monitoring/alarm-options';
import type { FrontDoorType } from './front-door/front-door';

/**
 * Properties of {@link FaceSignWebhooks}, grouped by concern: where events, media and the signing
 * secret are kept ({@link StorageOptions}), what FaceSign posts to ({@link FrontDoorOptions}), how the
 * handlers run ({@link HandlerOptions}) and who is paged ({@link WebhookAlarmOptions}).
 */
export interface FaceSignWebhooksProps extends StorageOptions, FrontDoorOptions, HandlerOptions, WebhookAlarmOptions {}

/** The signing secret, the data key, the bucket and the event bus (created or passed in), who may read media, and how long things are kept. */
export interface StorageOptions {
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
   * Give the processor and the verifier no more on it than the construct grants (docs/data-protection.md).
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
   * SSL and TLS 1.2 stay enforced whatever is given; `lifecycleRules` are added to the construct's,
   * and one without an expiration, transition or abort action (CloudFormation refuses it) is
   * refused at synth. Not allowed with `existingBucketObj`.
   * @default - the defaults described on `existingBucketObj`
   */
  readonly bucketProps?: s3.BucketProps;

  /**
   * Principals that may read stored media (`media/*`) besides the processor and
   * `grantReadMedia` grantees: IAM role or user ARNs, or `ArnLike` patterns (such as an IAM
   * Identity Center role's `arn:aws:iam::<account>:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_BreakGlass_*`).
   * Every other principal, administrators included, is denied `s3:GetObject` on `media/*` by the
   * bucket policy (docs/data-protection.md, "Who can read media"). Also the way to name a reader in
   * another stack, whose ARN would otherwise make the stacks refer to each other.
   * @default - none: only the processor and `grantReadMedia` grantees read media
   */
  readonly mediaBreakGlassPrincipalArns?: readonly string[];

  /**
   * Log every read of `media/*` as CloudTrail data events: a single-Region trail with an S3 data
   * event selector on `media/`, writing to the server-access-log bucket under `cloudtrail/`.
   * CloudTrail charges $0.10 per 100,000 data events (docs/data-protection.md, "Read auditing").
   * Created bucket only.
   * @default false
   */
  readonly auditMediaReads?: boolean;

  /**
   * Turns on S3 Versioning and Object Lock in governance mode with this default retention (whole
   * days, at most `mediaRetention`): for that long no stored object can be overwritten or deleted
   * except by a principal allowed `s3:BypassGovernanceRetention`. **Decide at the first deploy:**
   * `ObjectLockEnabled` is create-only in CloudFormation, so adding this to a deployed stack
   * replaces the bucket (a new, empty one; the old one is retained with its objects and its bucket
   * policy), and Object Lock can never be turned off again. Created bucket only.
   * @default - no versioning, no Object Lock
   */
  readonly objectLockRetention?: Duration;

  /**
   * Page (on the topic Critical alarms notify) on every change to the signing secret's value,
   * stages, rotation, replication or resource policy, from CloudTrail's management events (needs a
   * trail logging in the account and Region). See docs/operations.md, "The signing secret changed".
   * @default true
   */
  readonly watchSigningSecret?: boolean;

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
   * How long the event archive keeps every event published to the bus, so a consumer's outage can
   * be replayed (`aws events start-replay`).
   * @default Duration.days(14) - as long as an onEvent target's dead-letter queue keeps its messages
   */
  readonly eventArchiveRetention?: Duration;
}

/** The API FaceSign posts to: its kind, its web ACL, its custom domain and its stage throttle. */
export interface FrontDoorOptions {
  /**
   * What FaceSign posts to (docs/reference.md "Front door" compares them, with prices):
   * - `'rest-api-waf'`: a regional REST API behind a WAF web ACL. API Gateway's throttles (the
   *   account's, shared by every API in the account and Region, and the stage's) and the web ACL's
   *   blocks are answered 503 with Retry-After, which FaceSign retries.
   * - `'http-api'`: the plain HTTP API, about a third of the price per request, but API Gateway
   *   answers its throttles 429 (docs/reference.md "A 4xx is never retried"), and it cannot carry a web ACL.
   * @default 'rest-api-waf'
   */
  readonly frontDoor?: FrontDoorType;

  /**
   * Requests one source IP may make within `wafRateLimitWindow` before the web ACL blocks its
   * further requests (answered 503; FaceSign retries). `frontDoor` `'rest-api-waf'` only.
   * At least 10 (AWS WAF's least).
   * @default 50000 (about 170 a second over 5 minutes)
   */
  readonly wafRateLimit?: number;

  /**
   * The window `wafRateLimit` counts over: 1, 2, 5 or 10 minutes (what AWS WAF offers).
   * `frontDoor` `'rest-api-waf'` only.
   * @default Duration.minutes(5)
   */
  readonly wafRateLimitWindow?: Duration;

  /**
   * Source addresses (CIDRs, IPv4 or IPv6) that alone may reach the webhook URL, for when FaceSign
   * publishes the addresses it delivers from; others are blocked by the web ACL (answered 503).
   * `frontDoor` `'rest-api-waf'` only.
   * @default - every source may (the rate limit aside)
   */
  readonly allowedSourceIps?: string[];

  /**
   * A custom domain for the webhook URL (`https://<domainName>/webhooks/facesign`): regional, TLS 1.2.
   * The URL FaceSign holds then survives a replacement of the API or of the stack. Needs `certificate`.
   * @default - the API's execute-api URL
   */
  readonly domainName?: string;

  /**
   * The ACM certificate of `domainName`, in the stack's Region.
   * @default - none; required with `domainName`
   */
  readonly certificate?: acm.ICertificate;

  /**
   * A Route 53 hosted zone in which to create `domainName`'s alias A record to the API's domain.
   * @default - no record: point `domainName` at the API's regional domain name yourself
   */
  readonly hostedZone?: route53.IHostedZone;

  /**
   * Steady-state request rate limit of the API stage, in requests per second. Opt-in. On the
   * REST API door a throttled request is answered 503, which FaceSign retries (delayed, not lost).
   * On the HTTP API door it is dangerous: API Gateway answers it 429 (docs/reference.md "A 4xx is
   * never retried"), and the limit is shared by everyone on the internet, so junk traffic can make real
   * deliveries be dropped. Prefer `verifierReservedConcurrency` there (answers 500, which FaceSign retries).
   * @default - no stage throttle (the account-level API Gateway quota still applies)
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst limit of the API stage, in requests. Opt-in, with the warning of `throttlingRateLimit`.
   * @default - no stage throttle
   */
  readonly throttlingBurstLimit?: number;
}

/** The verifier, processor and reverifier: what they accept, their capacity, timeouts, logs and metrics. */
export interface HandlerOptions {
  /**
   * Oldest accepted signature: how far the signed timestamp `t` may lie in the past. A signature
   * up to 1 hour in the future (`MAX_FUTURE_SECONDS`) is accepted whatever this is (less if this is
   * shorter). FaceSign does not say whether it re-signs its retries, so a shorter limit can refuse
   * a retry for good; set it only to be stricter. At most `idempotencyWindow`, so every replay it admits is a duplicate.
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
   * `RequestsRejected` `payload_too_large`; see docs/reference.md "A 4xx is never retried"). Bounded
   * by SQS's 1 MiB message limit, less room for base64 and attributes.
   * @default 262144 (256 KiB)
   */
  readonly maxBodyBytes?: number;

  /**
   * Reserved concurrency of the verifier: guarantees it that much of the account's Lambda
   * concurrency (so other functions cannot starve it) and caps how much the public endpoint can
   * take. Beyond it Lambda throttles, and API Gateway answers 500, which FaceSign retries. Lambda
   * keeps 100 of the account's concurrency unreserved besides all reservations, so the deploy fails
   * unless the account's quota is at least 100 plus the reservations: set it once the account's
   * quota allows (docs/reference.md "Capacity").
   * @default - no reservation: the verifier draws on the account's unreserved concurrency, and the `Verifier-Throttles` alarm says when that ran out
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
   * Most concurrent processor invocations the queue starts (Lambda's SQS scaling limits bound it). The default drains a
   * burst of 10,000 events, half of them media, before any media URL dies even at a tenth of the
   * media throughput measured in bench/RESULTS.md (`npm run bench -- burst`; docs/operations.md "Burst capacity").
   * @default 20
   */
  readonly processorMaxConcurrency?: number;

  /**
   * Processor timeout. The queue's visibility timeout is twice this, so a crashed or timed-out
   * invocation's records are received again after 4 minutes by default, while the media URLs
   * still live (docs/reference.md "Media URLs live 15 minutes"; docs/operations.md "Timeout
   * budget"), which bounds it. Must exceed `mediaDownloadTimeout` by at least 20 seconds.
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
   * How long a refused delivery in FaceSign's form (a wrong or stale signing secret) is held under
   * `held/` for `npm run reverify`, in whole days: the created bucket's lifecycle rule expires it, and
   * the reverifier removes an older one unverified. At most `idempotencyWindow`, or a held delivery
   * re-verified later could be processed twice; so when not given, a shorter `idempotencyWindow`
   * (in whole days, at least 1) is used instead. Under a 1-day window holds are kept 1 day, and the
   * reverifier re-queues none received longer ago than the window.
   * @default Duration.days(7)
   */
  readonly holdRetention?: Duration;

  /**
   * Most refused deliveries held per clock hour, across every verifier instance (a counter in the
   * idempotency table). More are counted as `HoldsDropped` `rate_limit` and not held; the 401 is the same.
   * @default 1000
   */
  readonly maxHeldPerHour?: number;

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
