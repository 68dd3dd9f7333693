import { createServer, type Server, type Socket } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../contract/function-environment';
import { signFaceSignPayload } from '../../../contract/signature';
import { sampleEvent, webhookApiEvent } from '../../support/events';
import { captureOutputJson } from '../../support/observability';
import { HOLD_BUDGET_MS } from '../../../lambda/shared/aws-clients';

/**
 * The verifier's SDK clients against a service that accepts the connection and never answers:
 * the real handler, real SDK clients, a real socket on 127.0.0.1. The answer must be our 503
 * (FaceSign retries) well inside the 10 s function timeout, never the Lambda timeout.
 */

const SECRET = 'whsec_live';
const FUNCTION_TIMEOUT_MS = 10_000;

let hung: Server;
let ok: Server;
const sockets = new Set<Socket>();

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    }),
  );
}

let hungUrl: string;
let secretsUrl: string;
let dynamodbUrl: string;
let dynamodb: Server;

beforeAll(async () => {
  // Accepts every connection, reads the request, answers nothing.
  hung = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  // A Secrets Manager that answers GetSecretValue at once.
  ok = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', () => {
      const body = JSON.stringify({ SecretString: SECRET, ARN: 'arn', Name: 'n', VersionId: 'v' });
      socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  });
  // A DynamoDB that accepts every UpdateItem at once (the hold counter).
  dynamodb = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: 2\r\n\r\n{}'));
  });
  [hungUrl, secretsUrl, dynamodbUrl] = await Promise.all([listen(hung), listen(ok), listen(dynamodb)]);
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all([hung, ok, dynamodb].map((s) => new Promise((resolve) => s.close(resolve))));
});

function signedEvent(secret = SECRET): APIGatewayProxyEventV2 {
  const body = JSON.stringify(sampleEvent('session.status'));
  const { headers } = signFaceSignPayload(body, secret);
  return webhookApiEvent(body, { 'x-facesign-signature': headers['X-FaceSign-Signature'] });
}

function contextWith(remainingMs: number): Context {
  const started = Date.now();
  return { awsRequestId: 'req-1', functionName: 'verifier', getRemainingTimeInMillis: () => remainingMs - (Date.now() - started) } as Context;
}

async function loadHandler() {
  vi.resetModules();
  return (await import('../../../lambda/verifier/index.js')).handler;
}

async function timed(remainingMs: number, secret = SECRET) {
  const handler = await loadHandler();
  const started = Date.now();
  const response = await handler(signedEvent(secret), contextWith(remainingMs));
  return { elapsedMs: Date.now() - started, statusCode: response.statusCode, error: JSON.parse(response.body as string).error as string };
}

describe('verifier handler: a service that accepts and never answers', () => {
  beforeEach(() => {
    vi.stubEnv(ENV.signingSecretArn, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:facesign-AbCdEf');
    vi.stubEnv(ENV.queueUrl, 'https://sqs.eu-west-1.amazonaws.com/123456789012/facesign');
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    vi.stubEnv('POWERTOOLS_TRACE_ENABLED', 'false');
  });
  afterEach(() => vi.unstubAllEnvs());

  it('a hung SQS: 503 queue_unavailable well inside the function timeout', { timeout: 30_000 }, async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', secretsUrl);
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', hungUrl);
    const answer = await timed(FUNCTION_TIMEOUT_MS);
    expect(answer).toMatchObject({ statusCode: 503, error: 'queue_unavailable' });
    // The client's own caps end it (2 attempts × 1.5 s request timeout + backoff), before the deadline.
    expect(answer.elapsedMs).toBeLessThan(FUNCTION_TIMEOUT_MS / 2);
  });

  it('a hung Secrets Manager: 503 secret_unavailable well inside the function timeout', { timeout: 30_000 }, async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', hungUrl);
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', hungUrl);
    const answer = await timed(FUNCTION_TIMEOUT_MS);
    expect(answer).toMatchObject({ statusCode: 503, error: 'secret_unavailable' });
    expect(answer.elapsedMs).toBeLessThan(FUNCTION_TIMEOUT_MS / 2);
  });

  it('with little time left, the invocation deadline aborts the call before the client caps would', { timeout: 30_000 }, async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', secretsUrl);
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', hungUrl);
    const remainingMs = 2_000;
    const answer = await timed(remainingMs);
    expect(answer).toMatchObject({ statusCode: 503, error: 'queue_unavailable' });
    // Aborted at remaining - 1 s (at least half of it), not after the clients' ~3 s of attempts.
    expect(answer.elapsedMs).toBeLessThan(remainingMs);
  });
});

describe('verifier handler: holding a refused delivery when S3 or DynamoDB accepts and never answers', () => {
  let output: ReturnType<typeof captureOutputJson>;
  beforeEach(() => {
    vi.stubEnv(ENV.signingSecretArn, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:facesign-AbCdEf');
    vi.stubEnv(ENV.queueUrl, 'https://sqs.eu-west-1.amazonaws.com/123456789012/facesign');
    vi.stubEnv(ENV.holdBucketName, 'archive');
    vi.stubEnv(ENV.holdCounterTableName, 'idempotency');
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    vi.stubEnv('POWERTOOLS_TRACE_ENABLED', 'false');
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', secretsUrl);
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', hungUrl);
    output = captureOutputJson();
  });
  afterEach(() => {
    output.restore();
    vi.unstubAllEnvs();
  });

  /** The HoldsDropped data points the handler emitted (EMF), by Reason. */
  const dropped = () =>
    output
      .lines()
      .filter((l) => (l as { HoldsDropped?: number }).HoldsDropped !== undefined)
      .map((l) => l.Reason);

  it('a hung S3: still the 401, within the hold budget, counted as store_unavailable', { timeout: 30_000 }, async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamodbUrl);
    vi.stubEnv('AWS_ENDPOINT_URL_S3', hungUrl);
    const answer = await timed(FUNCTION_TIMEOUT_MS, 'whsec_wrong');
    expect(answer).toMatchObject({ statusCode: 401, error: 'signature_mismatch' });
    // The budget, plus the secret read and the verification on a busy machine; well inside the 10 s timeout.
    expect(answer.elapsedMs).toBeLessThan(HOLD_BUDGET_MS + 2_000);
    expect(dropped()).toContain('store_unavailable');
  });

  it('a hung DynamoDB: still the 401, within the hold budget, counted as counter_unavailable', { timeout: 30_000 }, async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', hungUrl);
    vi.stubEnv('AWS_ENDPOINT_URL_S3', hungUrl);
    const answer = await timed(FUNCTION_TIMEOUT_MS, 'whsec_wrong');
    expect(answer).toMatchObject({ statusCode: 401, error: 'signature_mismatch' });
    expect(answer.elapsedMs).toBeLessThan(HOLD_BUDGET_MS + 1_000);
    expect(dropped()).toContain('counter_unavailable');
  });

  it('with less time left than the hold budget, the invocation deadline ends the hold first', { timeout: 30_000 }, async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamodbUrl);
    vi.stubEnv('AWS_ENDPOINT_URL_S3', hungUrl);
    const remainingMs = 1_600;
    const answer = await timed(remainingMs, 'whsec_wrong');
    expect(answer).toMatchObject({ statusCode: 401, error: 'signature_mismatch' });
    // Aborted at remaining - 1 s (at least half of it): 800 ms, well before the 5 s budget.
    expect(answer.elapsedMs).toBeLessThan(remainingMs);
  });
});
