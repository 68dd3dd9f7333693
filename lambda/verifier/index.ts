/**
 * Verifier Lambda: API Gateway (REST API payload 1.0 or HTTP API payload 2.0) in, SQS out. Thin: clients and config are
 * built once per cold start, the decision is {@link handleWebhook}.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { apiRequest, type ApiGatewayEvent } from './api-event';
import { CLIENT_TIMEOUTS, clientConfig, HOLD_BUDGET_MS } from '../shared/aws-clients';
import { loadVerifierConfig } from '../shared/config';
import { VERIFIER_TIMEOUT_SECONDS } from '../../contract/time-budget';
import { SERVICE } from '../../contract/metric-names';
import { createObservability } from '../shared/observability';
import { enqueueVerifiedEvent } from './enqueue';
import { handleWebhook } from './handle-webhook';
import { SigningSecretCache } from './signing-secrets';
import type { DeliveryHoldStore, HoldRequest } from './hold-store';

const config = loadVerifierConfig();
const { logger, metrics, eventMetrics, tracer } = createObservability(SERVICE.verifier);
// Connection and request timeouts on both clients (shared/aws-clients.ts): a hung service is a 503, not a Lambda timeout.
const secretsManager = tracer.captureAWSv3Client(new SecretsManagerClient(clientConfig(CLIENT_TIMEOUTS.verifierSecretsManager)));
// The regional (or AWS_ENDPOINT_URL_SQS) endpoint, not the queue URL's host: same in AWS, and local queue URLs use *.localhost.
const sqs = tracer.captureAWSv3Client(new SQSClient({ useQueueUrlAsEndpoint: false, ...clientConfig(CLIENT_TIMEOUTS.verifierSqs) }));

/**
 * Kept back from the invocation's remaining time: the SDK calls are aborted this long before the
 * function timeout, which leaves time to log, publish metrics and answer 503 (FaceSign retries).
 */
export const RESPONSE_RESERVE_MS = 1_000;
/** The remaining time assumed when the context does not say (the verifier's 10 s function timeout). */
const DEFAULT_REMAINING_MS = VERIFIER_TIMEOUT_SECONDS * 1000;

// The current invocation's deadline, for the secret read. A Lambda execution environment runs one
// invocation at a time; a read shared by concurrent callers (tests) uses the latest deadline.
let invocationSignal: AbortSignal | undefined;

const secrets = new SigningSecretCache(
  async () => {
    const out = await secretsManager.send(new GetSecretValueCommand({ SecretId: config.signingSecretArn }), { abortSignal: invocationSignal });
    if (out.SecretString === undefined) throw new Error('the secret has no SecretString');
    return out.SecretString;
  },
  { maxAgeMs: config.secretCacheSeconds * 1000, minRefreshIntervalMs: 30_000 },
);

/**
 * The hold store, built at the first hold: its S3 and DynamoDB clients are loaded then (a dynamic
 * import of a chunk of its own: scripts/handler-bundles.ts splits the bundle), so a cold start that
 * holds nothing neither parses nor runs them.
 */
let holdStore: Promise<DeliveryHoldStore> | undefined;
const hold = config.hold;
function holdStoreOf(settings: NonNullable<typeof hold>): Promise<DeliveryHoldStore> {
  holdStore ??= import('./hold-clients.js').then(({ createHoldStore }) => createHoldStore(settings, tracer));
  return holdStore;
}

/** Holds within HOLD_BUDGET_MS (counted from here, the first hold's module loading included) and the invocation's own deadline. */
async function holdWithin(request: HoldRequest, invocation: AbortSignal): Promise<Awaited<ReturnType<DeliveryHoldStore['hold']>>> {
  const budget = AbortSignal.any([invocation, AbortSignal.timeout(HOLD_BUDGET_MS)]);
  const store = await holdStoreOf(hold!);
  return store.hold(request, budget);
}

export async function handler(event: ApiGatewayEvent, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  logger.addContext(context);
  metrics.captureColdStartMetric(context.functionName);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  const remaining = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : DEFAULT_REMAINING_MS;
  const signal = AbortSignal.timeout(Math.max(remaining - RESPONSE_RESERVE_MS, Math.floor(remaining / 2)));
  invocationSignal = signal;
  const response = await handleWebhook(apiRequest(event), {
    secrets,
    enqueue: (verified) => enqueueVerifiedEvent(sqs, config.queueUrl, verified, signal),
    logger,
    metrics: eventMetrics,
    toleranceSeconds: config.toleranceSeconds,
    maxBodyBytes: config.maxBodyBytes,
    hold: hold ? (request) => holdWithin(request, signal) : undefined,
  }).finally(() => metrics.publishStoredMetrics());
  return {
    statusCode: response.statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(response.body),
  };
}
