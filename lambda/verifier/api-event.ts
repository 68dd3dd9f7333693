/**
 * The verifier's one view of an API Gateway request, from either door: a REST API's Lambda proxy
 * event (payload format 1.0) or an HTTP API's (2.0). Headers are keyed in lower case, with
 * repeated ones joined by commas as payload 2.0 does; the body is passed as API Gateway gave it
 * (base64 when `isBase64Encoded`), so the HMAC sees exactly the bytes FaceSign signed.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import type { WebhookRequest } from './handle-webhook';

/** What API Gateway invokes the verifier with. */
export type ApiGatewayEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

/** The request as the verifier reads it, and where it came from (for logs). */
export interface ApiRequest extends WebhookRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly sourceIp?: string;
  readonly requestId?: string;
}

/** The request inside either payload format. */
export function apiRequest(event: ApiGatewayEvent): ApiRequest {
  const body = event.body ?? undefined;
  const isBase64Encoded = event.isBase64Encoded === true;
  if ('version' in event && event.version === '2.0') {
    const v2 = event as APIGatewayProxyEventV2;
    return {
      headers: lowerCased(Object.entries(v2.headers ?? {})),
      body,
      isBase64Encoded,
      sourceIp: v2.requestContext?.http?.sourceIp,
      requestId: v2.requestContext?.requestId,
    };
  }
  const v1 = event as APIGatewayProxyEvent;
  // multiValueHeaders holds every value of a repeated header; headers only the last one.
  const entries: Array<[string, string | undefined]> = v1.multiValueHeaders
    ? Object.entries(v1.multiValueHeaders).map(([name, values]) => [name, values?.join(',')])
    : Object.entries(v1.headers ?? {});
  return { headers: lowerCased(entries), body, isBase64Encoded, sourceIp: v1.requestContext?.identity?.sourceIp, requestId: v1.requestContext?.requestId };
}

/** Header names in lower case; two spellings of one name are joined, in the order given. */
function lowerCased(entries: Iterable<[string, string | undefined]>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (value === undefined || value === null) continue;
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]},${value}` : value;
  }
  return headers;
}
