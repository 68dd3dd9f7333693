import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ARCHIVE_PREFIXES, BUCKET_PREFIX, HELD_PREFIX } from '../contract/bucket-layout';
import type { FaceSignWebhooksProps } from './facesign-webhooks-props';
import type { Retention } from './resolve-props';

/**
 * What stores the data: the signing secret, the data key, the archive bucket (its encryption,
 * lifecycle and optional Object Lock) and its server-access-log bucket. Who may read what is in
 * data-protection.ts.
 */

/** The signing secret, created empty (an empty list) so the verifier answers 503 until a value is put. */
export function createSigningSecret(scope: Construct, overrides: FaceSignWebhooksProps['signingSecretProps']): secretsmanager.Secret {
  return new secretsmanager.Secret(scope, 'SigningSecret', {
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

/** The data key: rotation on, retained with the stack. */
export function createEncryptionKey(scope: Construct, overrides: FaceSignWebhooksProps['encryptionKeyProps']): kms.Key {
  return new kms.Key(scope, 'EncryptionKey', {
    description: 'FaceSign webhooks: archived events, stored identity media, and the event queues',
    removalPolicy: RemovalPolicy.RETAIN,
    ...overrides,
    // Not negotiable: this key protects identity data.
    enableKeyRotation: true,
  });
}

/** The bucket the archive bucket's server access logs (and, with `auditMediaReads`, its read trail) go to. */
export function createAccessLogsBucket(scope: Construct): s3.Bucket {
  return new s3.Bucket(scope, 'AccessLogsBucket', {
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

/** What the archive bucket is made of besides `bucketProps`. */
export interface ArchiveBucketOptions {
  readonly retention: Retention;
  readonly encryptionKey: kms.IKey;
  readonly accessLogsBucket: s3.Bucket;
  /** Governance-mode Object Lock's default retention (versioning on); undefined for neither. */
  readonly objectLockRetention?: Duration;
  readonly overrides?: s3.BucketProps;
}

/** The archive bucket: events, media, quarantine, conflicts and held deliveries. */
export function createArchiveBucket(scope: Construct, options: ArchiveBucketOptions): s3.Bucket {
  const { retention, accessLogsBucket, overrides = {} } = options;
  for (const name of ['encryption', 'encryptionKey', 'bucketKeyEnabled'] as const) {
    if (overrides[name] !== undefined) {
      throw new Error(
        `bucketProps.${name} is set by the construct (SSE-KMS with its key and S3 Bucket Keys); pass existingEncryptionKeyObj to choose the key, got ${name} in bucketProps`,
      );
    }
  }
  refuseRulesWithoutAction(overrides.lifecycleRules ?? []);
  const lock = objectLock(options.objectLockRetention, retention, overrides);
  const versioned = lock !== undefined || overrides.versioned === true;
  const bucket = new s3.Bucket(scope, 'Bucket', {
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
    encryptionKey: options.encryptionKey,
    bucketKeyEnabled: true,
    ...lock,
    // Retention on purpose: nothing identifying outlives its retention by more than a day, in
    // any version or as a part of an unfinished upload. CloudFormation refuses a rule without one
    // of AbortIncompleteMultipartUpload, ExpirationDate, ExpirationInDays, NoncurrentVersion*
    // or Transition(s) (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-s3-bucket-rule.html),
    // so a rule of ExpiredObjectDeleteMarker alone fails the deploy; it rides on the abort rule,
    // and only on a versioned bucket (bucketProps.versioned or Object Lock), the only kind that has delete markers.
    lifecycleRules: [
      {
        id: 'AbortIncompleteMultipartUploads',
        abortIncompleteMultipartUploadAfter: Duration.days(1),
        ...(versioned ? { expiredObjectDeleteMarker: true } : {}),
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
  // The policy (SSL-only, the media-read Deny) stays with the bucket it was on: a replaced bucket
  // (Object Lock added) is retained with its objects, and `Bucket` is a replace-on-change property
  // of AWS::S3::BucketPolicy, so CloudFormation would otherwise delete the old bucket's policy
  // (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucketpolicy.html,
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-updatereplacepolicy.html).
  // DeletionPolicy too: the bucket outlives the stack, and so does what guards it.
  bucket.policy?.applyRemovalPolicy(RemovalPolicy.RETAIN);
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
        StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
      },
    }),
  );
  return bucket;
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
 * Versioning and governance-mode Object Lock with a default retention, refused with a clear error
 * where it could not work or would keep biometrics past their retention. Object Lock needs
 * versioning and can never be turned off; `ObjectLockEnabled` is create-only, so adding it to a
 * deployed bucket replaces the bucket (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucket.html).
 * Governance mode: a principal allowed `s3:BypassGovernanceRetention` can still delete a locked
 * version (an erasure request), and nothing else can
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-retention-modes).
 * The processor needs no permission more: a default retention is applied by S3 to each new object
 * version, and `s3:PutObjectRetention` is only needed to set one in the request
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-permissions).
 */
function objectLock(retention: Duration | undefined, kept: Retention, overrides: s3.BucketProps): Partial<s3.BucketProps> | undefined {
  if (retention === undefined) return undefined;
  for (const name of ['versioned', 'objectLockEnabled', 'objectLockDefaultRetention'] as const) {
    if (overrides[name] !== undefined) {
      throw new Error(`bucketProps.${name} cannot be set with objectLockRetention, which sets versioning and Object Lock itself; got ${name} in bucketProps`);
    }
  }
  const days = retention.toDays({ integral: false });
  if (!Number.isInteger(days) || days < 1 || days > kept.media.toDays()) {
    throw new Error(
      `objectLockRetention must be whole days from 1 day to mediaRetention (${kept.media.toDays()} days): a longer lock would keep media past its retention, got ${retention.toHumanString()}`,
    );
  }
  return { versioned: true, objectLockEnabled: true, objectLockDefaultRetention: s3.ObjectLockRetention.governance(Duration.days(days)) };
}
