import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signFaceSignPayload } from '../../../contract/signature';
import { ENV } from '../../../contract/function-environment';
import { apiRequest } from '../../../lambda/verifier/api-event';
import { sampleEvent, webhookApiEvent, webhookRestApiEvent } from '../../support/events';

const bytesOf = (r: { body?: string; isBase64Encoded: boolean }) => Buffer.from(r.body ?? '', r.isBase64Encoded ? 'base64' : 'utf8');

describe('apiRequest: both payload formats become one request', () => {
  it('gives the same headers and body bytes for a REST API (1.0) and an HTTP API (2.0) event of one delivery', () => {
    const body = '{"id":"evt_1","note":"é"}';
    const rest = apiRequest(webhookRestApiEvent(body, { 'X-FaceSign-Signature': 't=1,v1=ab', 'Content-Type': 'application/json' }));
    const http = apiRequest(webhookApiEvent(body, { 'x-facesign-signature': 't=1,v1=ab', 'content-type': 'application/json' }));
    expect(rest.headers).toEqual(http.headers);
    expect(rest.headers).toEqual({ 'x-facesign-signature': 't=1,v1=ab', 'content-type': 'application/json' });
    expect(bytesOf(rest).equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(bytesOf(http).equals(Buffer.from(body, 'utf8'))).toBe(true);
  });

  it('keeps bytes that are not UTF-8 exactly (base64 from the REST API, never re-encoded)', () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0xc3, 0x7d]);
    const request = apiRequest(webhookRestApiEvent(bytes, { 'content-type': 'application/octet-stream' }));
    expect(request.isBase64Encoded).toBe(true);
    expect(bytesOf(request).equals(bytes)).toBe(true);
  });

  it('joins every value of a repeated header (payload 1.0 headers keep only the last), as payload 2.0 does', () => {
    const request = apiRequest(webhookRestApiEvent('{}', { 'X-FaceSign-Signature': ['t=1,v1=aa', 't=2,v1=bb'] }));
    expect(request.headers['x-facesign-signature']).toBe('t=1,v1=aa,t=2,v1=bb');
  });

  it('joins two spellings of one header name, and skips headers without a value', () => {
    const event = webhookRestApiEvent('{}', {});
    const request = apiRequest({
      ...event,
      multiValueHeaders: { 'X-FaceSign-Signature': ['t=1,v1=aa'], 'x-facesign-signature': ['t=2,v1=bb'], 'x-empty': undefined },
    });
    expect(request.headers).toEqual({ 'x-facesign-signature': 't=1,v1=aa,t=2,v1=bb' });
  });

  it('reads the headers field when a 1.0 event has no multiValueHeaders', () => {
    const event = webhookRestApiEvent('{}', {});
    const request = apiRequest({ ...event, multiValueHeaders: undefined as never, headers: { 'X-FaceSign-Signature': 't=3,v1=cc' } });
    expect(request.headers).toEqual({ 'x-facesign-signature': 't=3,v1=cc' });
  });

  it('says where the request came from in either format', () => {
    expect(apiRequest(webhookRestApiEvent('{}', {}))).toMatchObject({ sourceIp: '203.0.113.7', requestId: 'rest-req-1' });
    const v2 = webhookApiEvent('{}', {});
    const request = apiRequest({ ...v2, requestContext: { ...v2.requestContext, requestId: 'http-req-1', http: { sourceIp: '198.51.100.9' } as never } });
    expect(request).toMatchObject({ sourceIp: '198.51.100.9', requestId: 'http-req-1' });
  });

  it('treats a missing body as none, in either format', () => {
    const rest = { ...webhookRestApiEvent('', {}), body: null, isBase64Encoded: false };
    expect(apiRequest(rest)).toMatchObject({ body: undefined, isBase64Encoded: false });
    expect(apiRequest({ ...webhookApiEvent('', {}), body: undefined })).toMatchObject({ body: undefined, isBase64Encoded: false });
  });
});

describe('verifier handler behind the REST API door (payload 1.0)', () => {
  const secretsMock = mockClient(SecretsManagerClient);
  const sqsMock = mockClient(SQSClient);
  const context = { awsRequestId: 'req-1', functionName: 'verifier' } as Context;
  beforeEach(() => {
    secretsMock.reset();
    sqsMock.reset();
    vi.stubEnv(ENV.signingSecretArn, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:facesign-AbCdEf');
    vi.stubEnv(ENV.queueUrl, 'https://sqs.eu-west-1.amazonaws.com/123456789012/facesign');
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: 'whsec_live' });
    sqsMock.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  });
  afterEach(() => vi.unstubAllEnvs());

  async function handler() {
    vi.resetModules();
    return (await import('../../../lambda/verifier/index.js')).handler;
  }

  it('verifies a base64 body with mixed-case headers and queues the exact text that was signed', async () => {
    const body = JSON.stringify(sampleEvent('session.status', { id: 'evt_rest', sessionId: 'ses_rest' }));
    const { headers } = signFaceSignPayload(body, 'whsec_live');
    const response = await (await handler())(webhookRestApiEvent(body, { ...headers, 'Content-Type': 'application/json' }), context);
    expect(response.statusCode).toBe(200);
    const sent = sqsMock.commandCalls(SendMessageCommand);
    expect(sent).toHaveLength(1);
    expect(sent[0].args[0].input.MessageBody).toBe(body);
  });

  it('refuses a REST API delivery whose body bytes differ from the signed ones', async () => {
    const body = JSON.stringify(sampleEvent('session.status', { id: 'evt_rest2' }));
    const { headers } = signFaceSignPayload(body, 'whsec_live');
    const response = await (await handler())(webhookRestApiEvent(body.replace('evt_rest2', 'evt_rest3'), headers), context);
    expect(response.statusCode).toBe(401);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });
});
