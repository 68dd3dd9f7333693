/**
 * The resources the stack creates, created in the local services: the idempotency table, the
 * archive bucket, the queue and its dead-letter queue, with the settings read from the construct.
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_RETENTION_DAYS } from '../../contract/construct-settings';
import { SECONDS_PER_DAY } from '../../contract/time-budget';
import type { StackSettings } from '../stack-settings';

/** The names of the local resources. */
export const LOCAL_RESOURCE_NAMES = {
  table: 'facesign-idempotency',
  bucket: 'facesign-archive',
  queue: 'facesign-events',
  deadLetterQueue: 'facesign-dlq',
  eventBus: 'facesign-local-bus',
} as const;

/** The created resources. */
export interface LocalResources {
  readonly tableName: string;
  readonly bucket: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueName: string;
  readonly eventBusName: string;
}

/** Creates the table, the bucket and both queues (nothing to delete: the services live in memory). */
export async function createResources(
  clients: { readonly ddb: DynamoDBClient; readonly s3: S3Client; readonly sqs: SQSClient },
  queueSettings: StackSettings['queue'],
): Promise<LocalResources> {
  const { ddb, s3, sqs } = clients;
  const names = LOCAL_RESOURCE_NAMES;
  await Promise.all([
    ddb.send(
      new CreateTableCommand({
        TableName: names.table,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    ),
    s3.send(new CreateBucketCommand({ Bucket: names.bucket })),
  ]);
  const queueArnOf = async (queueUrl: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const deadLetterQueueUrl = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: names.deadLetterQueue,
        Attributes: { MessageRetentionPeriod: String(DEAD_LETTER_RETENTION_DAYS * SECONDS_PER_DAY) },
      }),
    )
  ).QueueUrl!;
  const queueUrl = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: names.queue,
        Attributes: {
          VisibilityTimeout: String(queueSettings.visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await queueArnOf(deadLetterQueueUrl), maxReceiveCount: String(queueSettings.maxReceiveCount) }),
        },
      }),
    )
  ).QueueUrl!;
  return {
    tableName: names.table,
    bucket: names.bucket,
    queueUrl,
    queueArn: await queueArnOf(queueUrl),
    deadLetterQueueUrl,
    deadLetterQueueName: names.deadLetterQueue,
    eventBusName: names.eventBus,
  };
}
