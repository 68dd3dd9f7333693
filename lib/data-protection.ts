import { Annotations, ArnFormat, Lazy, Stack } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BUCKET_PREFIX } from '../contract/bucket-layout';

/**
 * The S3 actions that return a media file's bytes (or hand them to a copy): GetObject (also what
 * CopyObject and UploadPartCopy need on their source), GetObjectVersion on a versioned bucket, and
 * GetObjectVersionForReplication, which a replication rule's role needs
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html).
 */
export const MEDIA_READ_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectVersionForReplication'] as const;

/** The statement id of the bucket policy's media rule (docs/data-protection.md shows it for an existing bucket). */
export const MEDIA_READ_SID = 'OnlyNamedReadersReadMedia';

/**
 * Who may read `media/*`: a Deny in the bucket policy for every principal whose `aws:PrincipalArn`
 * is not listed. A Deny in a bucket policy wins over any Allow in an identity policy, so an
 * administrator with `s3:GetObject` and `kms:Decrypt` on `*` is refused too
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
 *
 * Why this pattern and not the others:
 * - `NotPrincipal` with Deny would have to name each role's assumed-role session ARN as well, and
 *   AWS recommends the `aws:PrincipalArn` condition instead
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html);
 *   for a role's session `aws:PrincipalArn` is the role's ARN
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).
 * - The key policy cannot say it: with S3 Bucket Keys the encryption context S3 sends to KMS is
 *   the bucket's ARN, not the object's (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html),
 *   so KMS cannot tell a media read from an archive read, and the key also serves the archive and
 *   the queues that operators must be able to read. The key policy stays CDK's default.
 *
 * The list is lazy: a reader added by {@link addReader} after construction (a later
 * `grantReadMedia`) is in the synthesized statement.
 */
export class MediaReadRestriction {
  private readonly readers: string[] = [];
  /** False when the bucket was passed in and has no policy of this app: the statement must be added by hand. */
  public readonly enforced: boolean;

  constructor(scope: Construct, bucket: s3.IBucket, readers: { processorRole: iam.IRole; breakGlassPrincipalArns: readonly string[] }) {
    this.readers.push(readers.processorRole.roleArn, ...readers.breakGlassPrincipalArns);
    const added = bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: MEDIA_READ_SID,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...MEDIA_READ_ACTIONS],
        resources: [bucket.arnForObjects(`${BUCKET_PREFIX.media}*`)],
        // ArnNotLike, so a break-glass entry may be a pattern (an IAM Identity Center role's ARN has a generated suffix).
        conditions: { ArnNotLike: { 'aws:PrincipalArn': Lazy.list({ produce: () => this.readers }) } },
      }),
    );
    this.enforced = added.statementAdded;
    if (!this.enforced) {
      Annotations.of(scope).addWarningV2(
        'facesign-webhooks:mediaReadPolicy',
        `existingBucketObj has no bucket policy in this app, so anyone with s3:GetObject and kms:Decrypt can read media/: add the ${MEDIA_READ_SID} statement yourself (docs/data-protection.md, "Who can read media").`,
      );
    }
  }

  /** Adds the principal behind `grantee` to the readers; refuses one without an ARN a policy can name. */
  public addReader(grantee: iam.IGrantable): void {
    this.readers.push(principalArn(grantee.grantPrincipal));
  }
}

/** The role's or user's ARN, which is what `aws:PrincipalArn` carries for it. */
function principalArn(principal: iam.IPrincipal): string {
  if ('roleArn' in principal && typeof principal.roleArn === 'string') return principal.roleArn;
  if ('userArn' in principal && typeof principal.userArn === 'string') return principal.userArn;
  throw new Error(
    `grantReadMedia needs an IAM role or user (a function, a role, a user), whose ARN the bucket policy's media rule can name; got ${principal.constructor.name}`,
  );
}

/**
 * The Secrets Manager calls that change what the verifier accepts, or who can: a new value or
 * stage (a secret of the caller's own), the resource policy (who may do so, or read it), rotation,
 * deletion, restoring, replication. Names as in CloudTrail
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieve-ct-entries.html).
 */
export const SECRET_CHANGE_EVENT_NAMES = [
  'PutSecretValue',
  'UpdateSecret',
  'UpdateSecretVersionStage',
  'RotateSecret',
  'CancelRotateSecret',
  'PutResourcePolicy',
  'DeleteResourcePolicy',
  'DeleteSecret',
  'RestoreSecret',
  'ReplicateSecretToRegions',
  'RemoveRegionsFromReplication',
  'StopReplicationToReplica',
] as const;

/** What {@link SigningSecretWatch} needs. */
export interface SigningSecretWatchProps {
  /** The secret to watch. */
  readonly secret: secretsmanager.ISecret;
  /** Where a change is told (the topic Critical alarms notify). */
  readonly topic: sns.ITopic;
}

/**
 * Pages on every change to the signing secret's value, stages, rotation or resource policy: an
 * EventBridge rule on the default bus matching CloudTrail's "AWS API Call via CloudTrail" events
 * for this secret, which publishes a one-line message to the topic.
 *
 * What AWS requires and what we assumed:
 * - CloudTrail delivers management events to the default bus only where a trail is logging in the
 *   account and Region (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html);
 *   this construct creates none (most accounts have one, often an organization trail).
 * - `requestParameters.secretId` is what the caller passed: the full ARN, the ARN without its
 *   six-character suffix, or the name. The rule matches all three: the ARN without the suffix as a
 *   prefix (which also matches a secret whose name begins with this one's: an extra page, never a
 *   missed one) and the name exactly.
 * - The rule publishes through a role of its own (`sns:Publish` on the topic, and the topic key's
 *   data-key use when the topic is encrypted with a key of this app), not through the topic and
 *   key policies: a role of the same account needs nothing in a topic policy that does not deny it,
 *   nor in a key policy that delegates to IAM
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions,
 *   https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
 */
export class SigningSecretWatch extends Construct {
  /** The rule. */
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SigningSecretWatchProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const name = props.secret.secretName;
    const partialArn = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.rule = new events.Rule(this, 'Rule', {
      description: 'FaceSign webhooks: pages on every change to the signing secret (value, stages, rotation, policy)',
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: [...SECRET_CHANGE_EVENT_NAMES],
          requestParameters: { secretId: [{ prefix: partialArn }, name] },
        },
      },
    });
    // A role of its own, granted exactly what publishing needs: a same-account role needs nothing in
    // a topic policy that does not deny it, nor in a key policy that delegates to IAM (as the
    // created alarm topic's does). SNS's page asks a publisher to an encrypted topic for
    // kms:GenerateDataKey* and kms:Decrypt; assumed, not tried on AWS here: the variant SNS calls is
    // GenerateDataKey itself (cdk-nag refuses an action wildcard). If the watch's pages stop arriving
    // (the rule's FailedInvocations metric), this is the first thing to check.
    const role = new iam.Role(this, 'PublishRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: 'Publishes the signing-secret watch to the alarm topic',
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.topic.topicArn] }));
    if (props.topic.masterKey) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [props.topic.masterKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `sns.${stack.region}.amazonaws.com` } },
        }),
      );
    }
    const message = events.RuleTargetInput.fromText(
      `FaceSign webhooks: the signing secret changed (${events.EventField.fromPath('$.detail.eventName')} by ${events.EventField.fromPath(
        '$.detail.userIdentity.arn',
      )} at ${events.EventField.time}, ${events.EventField.region}). If nobody you know did this, see docs/operations.md "The signing secret changed".`,
    );
    // Not targets.SnsTopic: its grantPublish would add kms:GenerateDataKey* (an action wildcard) to the role.
    this.rule.addTarget({ bind: () => ({ arn: props.topic.topicArn, role, input: message }) });
  }
}

/**
 * Optional read auditing: a single-Region trail that logs, as CloudTrail data events, every read
 * of `media/` (GetObject and the other read-only object calls), and no management events
 * (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html).
 * The log files (who read which key: session ids, no media) go to `logBucket` under `cloudtrail/`.
 */
export function createMediaReadTrail(scope: Construct, id: string, bucket: s3.IBucket, logBucket: s3.IBucket): cloudtrail.Trail {
  const trail = new cloudtrail.Trail(scope, id, {
    bucket: logBucket,
    s3KeyPrefix: 'cloudtrail',
    isMultiRegionTrail: false,
    includeGlobalServiceEvents: false,
    managementEvents: cloudtrail.ReadWriteType.NONE,
    enableFileValidation: true,
    sendToCloudWatchLogs: false,
  });
  trail.addS3EventSelector([{ bucket, objectPrefix: BUCKET_PREFIX.media }], {
    readWriteType: cloudtrail.ReadWriteType.READ_ONLY,
    includeManagementEvents: false,
  });
  return trail;
}
