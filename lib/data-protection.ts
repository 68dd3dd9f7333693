import { Annotations, ArnFormat, Lazy, Names, Stack } from 'aws-cdk-lib';
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
  /**
   * Whether the topic (and its key) are this app's to change: false for a topic the user passed,
   * whose policies are theirs (a first topic policy would replace SNS's default one, which is what
   * lets their alarms publish).
   */
  readonly topicIsOurs: boolean;
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
 * - The rule publishes with no role, through the topic's resource policy (and the topic key's
 *   policy when a key of this app encrypts it): EventBridge's page says not to give an SNS target a
 *   RoleArn, and that delivery through a role may fail for a topic encrypted with KMS
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions).
 *   Both statements let `events.amazonaws.com` act only with `aws:SourceArn` = this rule's ARN
 *   (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
 *   The rule gets a name of its own so its ARN is known before it exists: the key policy naming
 *   the rule's attribute would make a cycle (key -> rule -> topic -> key).
 * - A topic or key not of this app keeps its policies: synth warns, and docs/operations.md
 *   "Bring your own alarm topic" gives the statements to add.
 */
export class SigningSecretWatch extends Construct {
  /** The rule. */
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SigningSecretWatchProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const name = props.secret.secretName;
    const partialArn = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    // A name of our own (unique in the account and Region per construct path), so the policies can
    // name the rule's ARN without referring to the rule.
    const ruleName = Names.uniqueResourceName(this, { maxLength: 64 });
    const ruleArn = stack.formatArn({ service: 'events', resource: 'rule', resourceName: ruleName });
    this.rule = new events.Rule(this, 'Rule', {
      ruleName,
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
    // Not targets.SnsTopic: without a role its bind grants events.amazonaws.com sns:Publish (and the
    // key's kms:GenerateDataKey*) with no aws:SourceArn condition, so any rule of any account could publish.
    const onBehalfOfThisRule = { ArnEquals: { 'aws:SourceArn': ruleArn } };
    const notAdded = { statementAdded: false };
    const topicStatement = !props.topicIsOurs
      ? notAdded
      : props.topic.addToResourcePolicy(
          new iam.PolicyStatement({
            sid: 'AllowSigningSecretWatchToPublish',
            principals: [new iam.ServicePrincipal('events.amazonaws.com')],
            actions: ['sns:Publish'],
            resources: [props.topic.topicArn],
            conditions: onBehalfOfThisRule,
          }),
        );
    const keyStatement = !props.topicIsOurs
      ? undefined
      : props.topic.masterKey?.addToResourcePolicy(
          new iam.PolicyStatement({
            sid: 'AllowSigningSecretWatchToPublish',
            principals: [new iam.ServicePrincipal('events.amazonaws.com')],
            actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
            resources: ['*'],
            conditions: onBehalfOfThisRule,
          }),
          true,
        );
    if (!topicStatement.statementAdded || (keyStatement && !keyStatement.statementAdded)) {
      Annotations.of(this).addWarningV2(
        'facesign-webhooks:secretWatchTopicPolicy',
        `The signing-secret watch publishes to a topic you passed, or one whose key is not of this app, and leaves its policies as they are: allow events.amazonaws.com sns:Publish on the topic (and kms:GenerateDataKey* and kms:Decrypt on its key) with aws:SourceArn = the ARN of rule ${ruleName}, or the watch's pages are lost (docs/operations.md, "Bring your own alarm topic").`,
      );
    }
    const message = events.RuleTargetInput.fromText(
      `FaceSign webhooks: the signing secret changed (${events.EventField.fromPath('$.detail.eventName')} by ${events.EventField.fromPath(
        '$.detail.userIdentity.arn',
      )} at ${events.EventField.time}, ${events.EventField.region}). If nobody you know did this, see docs/operations.md "The signing secret changed".`,
    );
    this.rule.addTarget({ bind: () => ({ arn: props.topic.topicArn, input: message }) });
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
