// Cold-start floor for the processor: only the AWS SDK clients it must have (S3 with multipart
// streaming, DynamoDB, SQS, EventBridge), built with the same esbuild settings.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Upload } from '@aws-sdk/lib-storage';

const clients = [new S3Client({}), new DynamoDBClient({}), new SQSClient({ useQueueUrlAsEndpoint: false }), new EventBridgeClient({}), Upload];
export const handler = async () => ({ batchItemFailures: [], clients: clients.length });
