import type { APIGatewayProxyEventV2 } from 'aws-lambda';
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
