/**
 * The stores between the verifier and the consumers: the event bus and its archive, the queue and
 * its dead-letter queue, and the idempotency table. Each is created in the construct's scope under
 * the construct id it has always had: a changed id replaces the resource.
 */
import { Duration, Names, RemovalPolicy, Stack, Stage, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EVENT_BRIDGE_SOURCE } from '../contract/event-bridge';
import { DEAD_LETTER_RETENTION_DAYS } from '../contract/construct-settings';
import { queueVisibilityTimeoutSeconds } from '../contract/time-budget';
import type { FaceSignWebhooksProps } from './facesign-webhooks-props';
import type { ResolvedSettings } from './resolve-props';

/**
 * SQS's largest message, set explicitly on both queues: a body up to `maxBodyBytes` (at most
 * 760,000) plus its attributes must fit, or the verifier would answer 503 to it forever. Queues
 * created before SQS raised its limit kept 256 KiB
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
 */
const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;

/** The bus passed in, or one created as `EventBus`. */
export function createEventBus(scope: Construct, props: FaceSignWebhooksProps): events.IEventBus {
  return (
    props.existingEventBusObj ??
    new events.EventBus(scope, 'EventBus', { ...props.eventBusProps, eventBusName: props.eventBusProps?.eventBusName ?? eventBusName(scope) })
  );
}

/**
 * Every published event is kept, so a consumer's outage can be replayed. Encrypted with the
 * AWS-owned key, EventBridge's default when no KmsKeyIdentifier is given
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/encryption-archives.html;
 * docs/data-protection.md says why not the construct's key).
 */
export function createEventArchive(scope: Construct, eventBus: events.IEventBus, retention: Duration): events.Archive {
  const archive = new events.Archive(scope, 'EventArchive', {
    sourceEventBus: eventBus,
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
export function createDeadLetterQueue(scope: Construct, encryptionKey: kms.IKey): sqs.Queue {
  return new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: encryptionKey,
    enforceSSL: true,
    retentionPeriod: Duration.days(DEAD_LETTER_RETENTION_DAYS),
    maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
  });
}

export function createQueue(scope: Construct, encryptionKey: kms.IKey, deadLetterQueue: sqs.IQueue, settings: ResolvedSettings): sqs.Queue {
  return new sqs.Queue(scope, 'Queue', {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: encryptionKey,
    enforceSSL: true,
    maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
    // Twice the function timeout, not AWS's suggested six: a crashed, timed-out or out-of-memory
    // invocation's records must come back while their media URLs live (docs/operations.md "Timeout budget").
    visibilityTimeout: Duration.seconds(queueVisibilityTimeoutSeconds(settings.processorTimeout)),
    // Shorter than the dead-letter queue's, which counts from the original enqueue time.
    retentionPeriod: Duration.days(4),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
  });
}

export function createIdempotencyTable(scope: Construct): dynamodb.Table {
  return new dynamodb.Table(scope, 'IdempotencyTable', {
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
