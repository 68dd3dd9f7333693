/**
 * What a user of {@link FaceSignWebhooks} passes, and how it becomes settings: defaults and bounds
 * come from the settings table (contract/settings.ts), so the construct, the handlers and the local
 * runtime agree on them.
 */
import { Duration, Token } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import type { FaceSignEventType } from '../contract/event';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { CROSS_SETTING_RULES, DEFAULTS_FROM } from '../contract/construct-settings';
import { describeBounds, isValidHostEntry, SETTINGS, withinBounds, type SettingName, type SettingRow, type SettingValue } from '../contract/settings';
import { SECONDS_PER_DAY } from '../contract/time-budget';
import type { WebhookAlarmOptions } from './monitoring/alarm-options';
import type { FrontDoorDomain, FrontDoorType } from './front-door/front-door';
import { WAF_RATE_LIMIT } from './front-door/web-acl';

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
   * What FaceSign posts to (docs/reference.md "Front door" compares them, with prices):
   * - `'rest-api-waf'`: a regional REST API behind a WAF web ACL. API Gateway's throttles (the
   *   account's, shared by every API in the account and Region, and the stage's) and the web ACL's
   *   blocks are answered 503 with Retry-After, which FaceSign retries.
   * - `'http-api'`: the plain HTTP API, about a third of the price per request, but API Gateway
   *   answers its throttles 429, which FaceSign never retries, and it cannot carry a web ACL.
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

/** Units named in a bound's error, since the prop is given in another form (a Duration) or the number alone is ambiguous. */
const UNITS_NAMED = new Set<string>(['seconds', 'milliseconds', 'days', 'percent']);

/** The settings the construct resolves from its props: every table row with a prop. */
type ResolvedName = { [N in SettingName]: (typeof SETTINGS)[N]['prop'] extends true ? N : never }[SettingName];
type WithDefault = { [N in ResolvedName]: (typeof SETTINGS)[N] extends { default: unknown } ? N : never }[ResolvedName];

/** Settings in the table's units (Durations in seconds or whole days), defaults applied and bounds checked. */
export type ResolvedSettings = { readonly [N in WithDefault]: SettingValue<N> } & { readonly [N in Exclude<ResolvedName, WithDefault>]?: SettingValue<N> };

/**
 * Applies the table's defaults and refuses values outside its bounds or its cross-setting rules,
 * naming the value received. Token values are passed on unchecked.
 */
export function resolveSettings(props: FaceSignWebhooksProps): ResolvedSettings {
  const given: Record<string, unknown> = { ...props };
  const values: Record<string, unknown> = {};
  const rows = (Object.entries(SETTINGS) as [SettingName, SettingRow][]).filter(([, row]) => row.prop);
  for (const [name, row] of rows) {
    const value = given[name];
    values[name] = value === undefined ? row.default : value instanceof Duration ? inUnit(name, row, value) : value;
  }
  for (const [name, from] of Object.entries(DEFAULTS_FROM)) if (given[name] === undefined) values[name] = values[from];
  for (const [name, row] of rows) {
    const value = values[name];
    if (value === undefined) continue;
    if (row.unit === 'host list') {
      values[name] = checkHostList(name, value as readonly string[]);
    } else if (typeof value === 'number' && !Token.isUnresolved(value) && !withinBounds(name, value)) {
      throw new Error(`${UNITS_NAMED.has(row.unit) ? `${name} (${row.unit})` : name} must be ${describeBounds(name)}, got ${value}`);
    }
  }
  // Holds never outlive the idempotency window (CROSS_SETTING_RULES): unless given, holdRetention
  // follows a shorter window, in the whole days S3 lifecycle rules count (at least one; the
  // reverifier re-queues nothing older than the window itself).
  const window = values.idempotencyWindow as number;
  if (given.holdRetention === undefined && !Token.isUnresolved(window)) {
    values.holdRetention = Math.max(1, Math.min(SETTINGS.holdRetention.default, Math.floor(window / SECONDS_PER_DAY)));
  }
  const settings = values as ResolvedSettings;
  const known = (...numbers: number[]) => numbers.every((n) => !Token.isUnresolved(n));
  if (known(settings.processorTimeout, settings.mediaDownloadTimeout)) {
    failIf(CROSS_SETTING_RULES.processorTimeoutCoversDownload(settings.processorTimeout, settings.mediaDownloadTimeout));
  }
  if (known(settings.signatureTolerance, settings.idempotencyWindow)) {
    failIf(CROSS_SETTING_RULES.toleranceWithinIdempotencyWindow(settings.signatureTolerance, settings.idempotencyWindow));
  }
  if (known(settings.holdRetention, settings.idempotencyWindow)) {
    failIf(CROSS_SETTING_RULES.holdRetentionWithinIdempotencyWindow(settings.holdRetention, settings.idempotencyWindow));
  }
  return settings;
}

/**
 * A Duration prop in its row's unit. A value that is not a whole number of that unit is refused
 * here, naming the prop (CDK's own conversion error names neither the prop nor the unit wanted).
 */
function inUnit(prop: string, row: SettingRow, value: Duration): number {
  const convert = (options?: { integral: false }) =>
    row.unit === 'days' ? value.toDays(options) : row.unit === 'milliseconds' ? value.toMilliseconds(options) : value.toSeconds(options);
  // A token converts only from its own unit; CDK's error says so.
  if (value.isUnresolved()) return convert();
  const amount = convert({ integral: false });
  if (!Number.isInteger(amount)) throw new Error(`${prop} must be a whole number of ${row.unit}, got ${value.toHumanString()}`);
  return amount;
}

function failIf(message: string | undefined): void {
  if (message !== undefined) throw new Error(message);
}

function checkHostList(name: string, hosts: readonly string[]): readonly string[] {
  const normalized = hosts.map((h) => h.trim().toLowerCase());
  if (normalized.length === 0) throw new Error(`${name} must name at least one host, got []`);
  for (const host of normalized) {
    if (!isValidHostEntry(host)) throw new Error(`${name} entries must be host, host:port or *.domain, got "${host}"`);
  }
  return normalized;
}

/** How long the created bucket keeps media and archived payloads. */
export interface Retention {
  readonly media: Duration;
  readonly archive: Duration;
  readonly held: Duration;
}

/**
 * The retention of media and archive (resolved, like every setting, by {@link resolveSettings}),
 * after refusing either beside an existing bucket, whose lifecycle is the user's.
 */
export function resolveRetention(props: FaceSignWebhooksProps, settings: ResolvedSettings): Retention {
  const given = { mediaRetention: props.mediaRetention, archiveRetention: props.archiveRetention };
  if (props.existingBucketObj) {
    const set = Object.entries(given)
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k);
    if (set.length > 0) {
      throw new Error(
        `${set.join(', ')} ${set.length === 1 ? 'applies' : 'apply'} to a created bucket only; set the lifecycle of existingBucketObj yourself, got ${set.join(', ')} with existingBucketObj`,
      );
    }
  }
  return { media: Duration.days(settings.mediaRetention), archive: Duration.days(settings.archiveRetention), held: Duration.days(settings.holdRetention) };
}

/** Refuses an existing resource together with settings for a new one. */
export function exclusive(existingName: string, existing: unknown, propsName: string, newProps: unknown): void {
  if (existing !== undefined && newProps !== undefined) {
    throw new Error(`${existingName} and ${propsName} are mutually exclusive: pass an existing resource or settings for a new one, got both`);
  }
}

/** Refuses every pair of an existing resource and settings for a new one. */
export function refuseExistingWithNew(props: FaceSignWebhooksProps): void {
  exclusive('existingSigningSecretObj', props.existingSigningSecretObj, 'signingSecretProps', props.signingSecretProps);
  exclusive('existingBucketObj', props.existingBucketObj, 'bucketProps', props.bucketProps);
  exclusive('existingEventBusObj', props.existingEventBusObj, 'eventBusProps', props.eventBusProps);
  exclusive('existingAlarmTopicObj', props.existingAlarmTopicObj, 'alarmTopicProps', props.alarmTopicProps);
  exclusive('existingEncryptionKeyObj', props.existingEncryptionKeyObj, 'encryptionKeyProps', props.encryptionKeyProps);
}

/** The front door's settings, from its props: defaults applied, and refused with the value received where AWS would refuse them. */
export function resolveFrontDoor(props: FaceSignWebhooksProps): {
  type: FrontDoorType;
  waf: { rateLimit: number; windowSeconds: number; allowedSourceIps?: readonly string[] };
  domain?: FrontDoorDomain;
} {
  const type = props.frontDoor ?? 'rest-api-waf';
  if (type !== 'rest-api-waf' && type !== 'http-api') throw new Error(`frontDoor must be 'rest-api-waf' or 'http-api', got ${JSON.stringify(type)}`);
  if (type === 'http-api') {
    const wafOnly = (['wafRateLimit', 'wafRateLimitWindow', 'allowedSourceIps'] as const).filter((name) => props[name] !== undefined);
    if (wafOnly.length > 0)
      throw new Error(
        `${wafOnly.join(', ')} need${wafOnly.length === 1 ? 's' : ''} a web ACL, which an HTTP API cannot carry: use frontDoor 'rest-api-waf', got frontDoor 'http-api'`,
      );
  }
  const rateLimit = props.wafRateLimit ?? 50_000;
  if (!Token.isUnresolved(rateLimit) && (!Number.isInteger(rateLimit) || rateLimit < WAF_RATE_LIMIT.min || rateLimit > WAF_RATE_LIMIT.max)) {
    throw new Error(`wafRateLimit must be an integer from ${WAF_RATE_LIMIT.min} to ${WAF_RATE_LIMIT.max} (AWS WAF's bounds), got ${rateLimit}`);
  }
  const window = props.wafRateLimitWindow ?? Duration.minutes(5);
  const windowSeconds = window.toSeconds({ integral: false });
  if (!(WAF_RATE_LIMIT.windowsSeconds as readonly number[]).includes(windowSeconds)) {
    throw new Error(`wafRateLimitWindow must be 1, 2, 5 or 10 minutes (AWS WAF's evaluation windows), got ${window.toHumanString()}`);
  }
  const allowed = props.allowedSourceIps?.map((cidr) => cidr.trim());
  if (allowed !== undefined) {
    if (allowed.length === 0) throw new Error('allowedSourceIps must name at least one CIDR (leave it out to allow every source), got []');
    for (const cidr of allowed) {
      if (!isCidr(cidr)) throw new Error(`allowedSourceIps entries must be CIDRs such as 192.0.2.0/24 or 2001:db8::/32, got ${JSON.stringify(cidr)}`);
    }
  }
  if (props.domainName === undefined) {
    const orphans = (['certificate', 'hostedZone'] as const).filter((name) => props[name] !== undefined);
    if (orphans.length > 0)
      throw new Error(
        `${orphans.join(' and ')} belong${orphans.length === 1 ? 's' : ''} to a custom domain: set domainName too, got ${orphans.join(' and ')} without it`,
      );
    return { type, waf: { rateLimit, windowSeconds, allowedSourceIps: allowed } };
  }
  if (props.certificate === undefined)
    throw new Error(`domainName needs certificate (an ACM certificate for it in the stack's Region), got domainName ${JSON.stringify(props.domainName)} alone`);
  return {
    type,
    waf: { rateLimit, windowSeconds, allowedSourceIps: allowed },
    domain: { domainName: props.domainName, certificate: props.certificate, hostedZone: props.hostedZone },
  };
}

/** An IPv4 or IPv6 CIDR as AWS WAF IP sets take them (https://docs.aws.amazon.com/waf/latest/APIReference/API_IPSet.html). */
function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  if (rest.length > 0 || prefix === undefined || !/^\d{1,3}$/.test(prefix)) return false;
  const bits = Number(prefix);
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) return address.split('.').every((octet) => Number(octet) <= 255) && bits >= 1 && bits <= 32;
  return /^[0-9a-f:]+$/i.test(address) && address.includes(':') && bits >= 1 && bits <= 128;
}
