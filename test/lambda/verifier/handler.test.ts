import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../contract/function-environment';
import { signFaceSignPayload } from '../../../contract/signature';
import { sampleEvent, webhookApiEvent } from '../../support/events';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:facesign-AbCdEf';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/facesign';
const secretsMock = mockClient(SecretsManagerClient);
const sqsMock = mockClient(SQSClient);
const context = { awsRequestId: 'req-1', functionName: 'verifier' } as Context;

async function loadHandler() {
  vi.resetModules();
  return (await import('../../../lambda/verifier/index.js')).handler;
}

function signed(body: string, secret = 'whsec_live'): APIGatewayProxyEventV2 {
  const { headers } = signFaceSignPayload(body, secret);
  return webhookApiEvent(body, { 'x-facesign-signature': headers['X-FaceSign-Signature'], 'x-facesign-timestamp': headers['X-FaceSign-Timestamp'] });
}

describe('verifier Lambda handler', () => {
  beforeEach(() => {
    secretsMock.reset();
    sqsMock.reset();
    vi.stubEnv(ENV.signingSecretArn, SECRET_ARN);
    vi.stubEnv(ENV.queueUrl, QUEUE_URL);
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: 'whsec_live' });
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  });
  afterEach(() => vi.unstubAllEnvs());

  it('queues the raw body with type, id and session id attributes, then answers 200 JSON', async () => {
    const handler = await loadHandler();
    const body = JSON.stringify(sampleEvent('media.user_photo', { id: 'evt_a', sessionId: 'ses_a' }));
    const response = await handler(signed(body), context);
    expect(response).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"received":true}' });
    expect(secretsMock.commandCalls(GetSecretValueCommand)[0].args[0].input).toEqual({ SecretId: SECRET_ARN });
    const sent = sqsMock.commandCalls(SendMessageCommand);
    expect(sent).toHaveLength(1);
    expect(sent[0].args[0].input).toEqual({
      QueueUrl: QUEUE_URL,
      MessageBody: body,
      MessageAttributes: {
        eventType: { DataType: 'String', StringValue: 'media.user_photo' },
        eventId: { DataType: 'String', StringValue: 'evt_a' },
        sessionId: { DataType: 'String', StringValue: 'ses_a' },
      },
    });
  });

  it('queues an unrecognized envelope with the problem code and only the usable ids as attributes', async () => {
    const handler = await loadHandler();
    const body = JSON.stringify({ id: 42, type: 'session.status', createdAt: '2025-10-27T19:50:51Z', sessionId: 'ses_b' });
    const response = await handler(signed(body), context);
    expect(response.statusCode).toBe(200);
    expect(sqsMock.commandCalls(SendMessageCommand)[0].args[0].input).toEqual({
      QueueUrl: QUEUE_URL,
      MessageBody: body,
      MessageAttributes: {
        eventType: { DataType: 'String', StringValue: 'session.status' },
        sessionId: { DataType: 'String', StringValue: 'ses_b' },
        unrecognizedEnvelope: { DataType: 'String', StringValue: 'invalid_id' },
      },
    });
  });

  it('sends a body SQS cannot carry (raw U+FFFE, U+FFFF) base64-encoded, with bodyEncoding=base64', async () => {
    const handler = await loadHandler();
    const body = JSON.stringify({ ...sampleEvent('session.status', { id: 'evt_nc', sessionId: 'ses_nc' }), note: '\uFFFE\uFFFF' });
    expect((await handler(signed(body), context)).statusCode).toBe(200);
    const input = sqsMock.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(input.MessageBody).toBe(Buffer.from(body, 'utf8').toString('base64'));
    expect(input.MessageAttributes).toMatchObject({ bodyEncoding: { DataType: 'String', StringValue: 'base64' }, eventId: { StringValue: 'evt_nc' } });
  });

  it('answers 503 queue_unavailable when SQS refuses the message', async () => {
    sqsMock.on(SendMessageCommand).rejects(Object.assign(new Error('throttled'), { name: 'RequestThrottled' }));
    const handler = await loadHandler();
    const response = await handler(signed(JSON.stringify(sampleEvent('session.status'))), context);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body as string)).toMatchObject({ error: 'queue_unavailable' });
  });

  it('answers 503 secret_unavailable when Secrets Manager fails, and nothing is queued', async () => {
    secretsMock.on(GetSecretValueCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const handler = await loadHandler();
    const response = await handler(signed(JSON.stringify(sampleEvent('session.status'))), context);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body as string)).toMatchObject({ error: 'secret_unavailable' });
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('reads the secret once for a burst of forged requests', async () => {
    const handler = await loadHandler();
    const body = JSON.stringify(sampleEvent('session.status'));
    const responses = await Promise.all(Array.from({ length: 50 }, () => handler(signed(body, 'whsec_forged'), context)));
    expect(responses.every((r) => r.statusCode === 401)).toBe(true);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('fails its cold start naming the missing variable', async () => {
    vi.stubEnv(ENV.queueUrl, '');
    await expect(loadHandler()).rejects.toThrow(ENV.queueUrl);
  });
});
