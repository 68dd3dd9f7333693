/**
 * Lambda edge of the integration test's driver. The assertions invoke it with a
 * {@link DriverRequest}; it answers a small JSON document (CloudFormation custom resource
 * responses are limited to 4 KB) that never contains the signing secret or a presigned URL.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { drive, type DriverConfig, type DriverRequest } from './drive';

/** Environment variables the integ app sets on the driver. */
export const DRIVER_ENV = {
  runId: 'INTEG_RUN_ID',
  webhookUrl: 'INTEG_WEBHOOK_URL',
  signingSecretArn: 'INTEG_SIGNING_SECRET_ARN',
  fixtureBucket: 'INTEG_FIXTURE_BUCKET',
  archiveBucket: 'INTEG_ARCHIVE_BUCKET',
  queueUrl: 'INTEG_QUEUE_URL',
  deadLetterQueueUrl: 'INTEG_DEAD_LETTER_QUEUE_URL',
  consumerQueueUrl: 'INTEG_CONSUMER_QUEUE_URL',
  alarmQueueUrl: 'INTEG_ALARM_QUEUE_URL',
} as const satisfies Record<keyof DriverConfig, string>;

/** Reads the driver's settings, naming the first one missing. */
export function driverConfigFromEnv(env: NodeJS.ProcessEnv = process.env): DriverConfig {
  const entries = Object.entries(DRIVER_ENV).map(([field, name]) => {
    const value = env[name];
    if (!value) throw new Error(`environment variable ${name} is not set`);
    return [field, value];
  });
  return Object.fromEntries(entries) as unknown as DriverConfig;
}

const clientOptions = { requestHandler: { requestTimeout: 10_000, connectionTimeout: 3_000 } };
const clients = {
  // Path-style only against a local S3 stand-in (its host has no bucket subdomains); never set in AWS.
  s3: new S3Client({ ...clientOptions, forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined }),
  sqs: new SQSClient(clientOptions),
  secrets: new SecretsManagerClient(clientOptions),
};

export async function handler(request: DriverRequest): Promise<unknown> {
  const result = await drive(request, driverConfigFromEnv(), clients);
  console.log(JSON.stringify({ request, result }));
  return result;
}
