/**
 * Verifier Lambda: API Gateway HTTP API (payload v2) in, SQS out. Thin: clients and config are
 * built once per cold start, the decision is {@link handleWebhook}.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { loadVerifierConfig } from '../shared/config';
import { createObservability, SERVICE } from '../shared/observability';
import { enqueueVerifiedEvent } from './enqueue';
import { handleWebhook } from './handle-webhook';
import { SigningSecretCache } from './signing-secrets';

const config = loadVerifierConfig();
const { logger, metrics, eventMetrics, tracer } = createObservability(SERVICE.verifier);
const secretsManager = tracer.captureAWSv3Client(new SecretsManagerClient({}));
// The regional (or AWS_ENDPOINT_URL_SQS) endpoint, not the queue URL's host: same in AWS, and local queue URLs use *.localhost.
const sqs = tracer.captureAWSv3Client(new SQSClient({ useQueueUrlAsEndpoint: false }));

const secrets = new SigningSecretCache(
  async () => {
    const out = await secretsManager.send(new GetSecretValueCommand({ SecretId: config.signingSecretArn }));
    if (out.SecretString === undefined) throw new Error('the secret has no SecretString');
    return out.SecretString;
  },
  { maxAgeMs: config.secretCacheSeconds * 1000, minRefreshIntervalMs: 30_000 },
);

export async function handler(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  logger.addContext(context);
  metrics.captureColdStartMetric(context.functionName);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  const response = await handleWebhook(
    { headers: event.headers ?? {}, body: event.body, isBase64Encoded: event.isBase64Encoded },
    {
      secrets,
      enqueue: (verified) => enqueueVerifiedEvent(sqs, config.queueUrl, verified),
      logger,
      metrics: eventMetrics,
      toleranceSeconds: config.toleranceSeconds,
      maxBodyBytes: config.maxBodyBytes,
    },
  ).finally(() => metrics.publishStoredMetrics());
  return {
    statusCode: response.statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(response.body),
  };
}
