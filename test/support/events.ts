import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { WEBHOOK_PATH } from '../../contract/webhook-path';
import { buildSampleEvent, type SampleEventOptions } from '../../local/sample-events';

/**
 * A realistic event of the given type with stable defaults for unit tests: a fixed time, id,
 * session and media id, and a media URL with a signed-looking query string.
 */
export function sampleEvent(
  type: string,
  overrides: { id?: string; sessionId?: string; createdAt?: number; mediaUrl?: string; expires?: number; contentType?: string } = {},
): Record<string, unknown> {
  const createdAt = overrides.createdAt ?? 1761595700000;
  const contentType = overrides.contentType ?? (type === 'media.user_video' ? 'video/mp4' : 'image/jpeg');
  const options: SampleEventOptions = {
    id: overrides.id ?? `evt_${type.replace(/\W/g, '')}_1`,
    sessionId: overrides.sessionId ?? '3f0a4e1e-9c2b-4b6f-8d3a-2a8e1b7c4f01',
    createdAt,
    mediaId: 'm_1',
    mediaUrl: overrides.mediaUrl ?? `https://media.facesign.ai/m_1.${contentType === 'video/mp4' ? 'mp4' : 'jpg'}?X-Signature=abc123`,
    expires: overrides.expires,
    contentType,
  };
  return buildSampleEvent(type, options);
}

/** A delivery to the webhook route as API Gateway's HTTP API (payload 2.0) hands it to the verifier. */
export function webhookApiEvent(body: string, headers: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `POST ${WEBHOOK_PATH}`,
    rawPath: WEBHOOK_PATH,
    rawQueryString: '',
    headers,
    body,
    isBase64Encoded: false,
    requestContext: {} as APIGatewayProxyEventV2['requestContext'],
  };
}

/**
 * A delivery to the webhook route as a REST API with binary media types `*\/*` hands it to the
 * verifier (Lambda proxy, payload 1.0): the body base64-encoded, header names as sent, repeated
 * headers in multiValueHeaders and only their last value in headers.
 */
export function webhookRestApiEvent(body: string | Buffer, headers: Record<string, string | string[]>): APIGatewayProxyEvent {
  const multiValueHeaders = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value : [value]]));
  return {
    resource: WEBHOOK_PATH,
    path: WEBHOOK_PATH,
    httpMethod: 'POST',
    headers: Object.fromEntries(Object.entries(multiValueHeaders).map(([name, values]) => [name, values[values.length - 1]])),
    multiValueHeaders,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: Buffer.from(body).toString('base64'),
    isBase64Encoded: true,
    requestContext: { requestId: 'rest-req-1', identity: { sourceIp: '203.0.113.7' } } as APIGatewayProxyEvent['requestContext'],
  };
}
