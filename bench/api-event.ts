import { WEBHOOK_PATH } from '../contract/webhook-path';

/** A delivery to the webhook route as API Gateway's HTTP API (payload 2.0) hands it to the verifier. */
export function httpApiEvent(body: string, headers: Record<string, string>, isBase64Encoded = false) {
  return { version: '2.0', routeKey: `POST ${WEBHOOK_PATH}`, rawPath: WEBHOOK_PATH, rawQueryString: '', headers, body, isBase64Encoded, requestContext: {} };
}
