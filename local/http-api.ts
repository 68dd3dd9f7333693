/**
 * The local stand-in for the front door (lib/front-door/): one route, POST /webhooks/facesign,
 * turned into the event API Gateway would hand the verifier, and its answer turned back into an
 * HTTP response, with API Gateway's own answers where API Gateway would give them. Like the
 * construct, it is the REST API door by default (payload 1.0, every body base64, throttles
 * answered 503 with Retry-After, unknown routes 403) and the HTTP API door when asked (payload
 * 2.0, throttles 429, unknown routes 404).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { admitRequest } from './public-url';
import { listenOnLoopback } from './services/ports';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { WEBHOOK_PATH } from '../contract/webhook-path';
import type { FrontDoorType } from '../lib/front-door/front-door';
import { RETRYABLE_BLOCK } from '../lib/front-door/web-acl';

/** The port `npm run dev` serves the webhook route on unless PORT says otherwise, and where send-event looks for it. */
export const DEFAULT_LOCAL_PORT = 3000;

/** The webhook URL of a local HTTP API on this port: the one place the local URL is spelled. */
export function localWebhookUrl(port: number): string {
  return `http://127.0.0.1:${port}${WEBHOOK_PATH}`;
}

/** API Gateway's own limit on a request body. */
const API_GATEWAY_MAX_BODY = 10 * 1024 * 1024;
const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

/** Something that answers API Gateway events (payload 1.0 from the REST API door, 2.0 from the HTTP API door): the verifier. */
export type HttpApiTarget = (event: APIGatewayProxyEvent | APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** Extra routes of the local server (the status page, the reverify route); not part of the AWS API. Each answers every method. */
export type LocalRoute = (req: IncomingMessage, res: ServerResponse) => void;

/** The request's headers, lower-case names, repeated ones joined with commas (as API Gateway's payload 2.0 does). */
function flatHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

/** Builds the payload v2 event API Gateway would send for this request and body. */
export function toHttpApiEvent(req: IncomingMessage, body: Buffer, now = new Date()): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers = flatHeaders(req);
  const contentType = headers['content-type'] ?? '';
  const isText = body.length === 0 || TEXT_TYPES.test(contentType);
  return {
    version: '2.0',
    routeKey: `POST ${WEBHOOK_PATH}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'POST',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `POST ${WEBHOOK_PATH}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length === 0 ? undefined : isText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !isText,
  };
}

/**
 * Builds the payload 1.0 event a REST API with binary media types `*\/*` would send for this
 * request and body (Lambda proxy): header names as sent, repeated ones in multiValueHeaders (only
 * the last in headers), every body base64
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html).
 */
export function toRestApiEvent(req: IncomingMessage, body: Buffer, now = new Date()): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://local');
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) (multiValueHeaders[req.rawHeaders[i]] ??= []).push(req.rawHeaders[i + 1]);
  const headers = Object.fromEntries(Object.entries(multiValueHeaders).map(([name, values]) => [name, values[values.length - 1]]));
  const query = [...url.searchParams.keys()];
  return {
    resource: WEBHOOK_PATH,
    path: url.pathname,
    httpMethod: req.method ?? 'POST',
    headers,
    multiValueHeaders,
    queryStringParameters: query.length === 0 ? null : Object.fromEntries(query.map((k) => [k, url.searchParams.getAll(k).at(-1)!])),
    multiValueQueryStringParameters: query.length === 0 ? null : Object.fromEntries(query.map((k) => [k, url.searchParams.getAll(k)])),
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: req.method ?? 'POST',
      identity: {
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['User-Agent'] ?? headers['user-agent'] ?? null,
      } as APIGatewayProxyEvent['requestContext']['identity'],
      path: `/live${url.pathname}`,
      stage: 'live',
      requestId: randomUUID(),
      requestTimeEpoch: now.getTime(),
      resourceId: 'local',
      resourcePath: WEBHOOK_PATH,
    },
    body: body.length === 0 ? null : body.toString('base64'),
    isBase64Encoded: body.length > 0,
  };
}

/** A stage throttle's token bucket: `rateLimit` tokens a second, at most `burstLimit` held. */
export interface StageThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/** Options of {@link startHttpApi}. */
export interface HttpApiOptions {
  readonly port?: number;
  /**
   * Which door to stand in for, as the construct's `frontDoor` prop.
   * @default 'rest-api-waf'
   */
  readonly frontDoor?: FrontDoorType;
  /**
   * The stage throttle (`throttlingRateLimit`, `throttlingBurstLimit`): beyond it, the REST API
   * door answers 503 with Retry-After (its THROTTLED gateway response), the HTTP API door 429.
   * @default - no stage throttle
   */
  readonly throttle?: StageThrottle;
  readonly extraRoutes?: Record<string, LocalRoute>;
  /**
   * The target's reserved concurrency: requests beyond this many in flight are not invoked and get
   * 500 `{"message":"Internal Server Error"}`, as API Gateway answers when Lambda throttles its
   * integration (https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html).
   * @default - no limit
   */
  readonly maxConcurrency?: number;
  /**
   * The tunnel's public URL (`--public-url`, checked by `parsePublicUrl`): its host is served the
   * webhook route too (public-url.ts).
   * @default - loopback Hosts only
   */
  readonly publicUrl?: URL;
  /** Serves the local pages besides the webhook route (the inspector, local/inspector/); returns false for a request it does not serve. */
  readonly localPages?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Told about every answer of the webhook route, with the request's headers and body (the inspector's journal). */
  readonly onAnswer?: (exchange: WebhookExchange) => void;
}

/** A request to the webhook route and its answer. */
export interface WebhookExchange {
  readonly receivedAt: Date;
  readonly headers: Readonly<Record<string, string>>;
  /** The body; empty when it was over API Gateway's limit and not kept. */
  readonly body: Buffer;
  /** The body's size in bytes. */
  readonly bytes: number;
  readonly status: number;
  readonly responseBody: Buffer;
  readonly durationMs: number;
}

/** Starts the local HTTP API on 127.0.0.1. */
export async function startHttpApi(
  target: HttpApiTarget,
  options: HttpApiOptions = {},
): Promise<{ url: string; port: number; server: Server; stop(): Promise<void> }> {
  let inFlight = 0;
  const rest = (options.frontDoor ?? 'rest-api-waf') === 'rest-api-waf';
  const bucket = options.throttle ? { tokens: options.throttle.burstLimit, at: Date.now() } : undefined;
  /** Takes a token from the stage throttle's bucket; false when it is empty (throttled). */
  const admitThrottle = (): boolean => {
    if (!bucket || !options.throttle) return true;
    const now = Date.now();
    // An unlimited rate (Infinity) refills at once; written apart so that 0 ms × Infinity never makes NaN.
    const refill = options.throttle.rateLimit === Infinity ? Infinity : ((now - bucket.at) / 1000) * options.throttle.rateLimit;
    bucket.tokens = Math.min(options.throttle.burstLimit, bucket.tokens + refill);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    // Before any route: /__local/status shows event contents (DNS rebinding, see loopback-host.ts),
    // and only the webhook route is served through a tunnel (public-url.ts).
    const admission = admitRequest({ headers: req.headers, path, localPort: req.socket.localPort ?? -1, publicUrl: options.publicUrl });
    if (!admission.admitted) return json(res, 403, { message: admission.message }, { connection: 'close' });
    const extra = options.extraRoutes?.[path];
    // An extra route answers every method itself (the status page reads, the reverify route runs on POST).
    if (extra) return extra(req, res);
    if (path !== WEBHOOK_PATH && options.localPages?.(req, res)) return;
    // A REST API answers a route or method it does not have 403 MISSING_AUTHENTICATION_TOKEN; an HTTP API 404.
    if (path !== WEBHOOK_PATH || req.method !== 'POST')
      return rest ? json(res, 403, { message: 'Missing Authentication Token' }) : json(res, 404, { message: 'Not Found' });
    const chunks: Buffer[] = [];
    let size = 0;
    const receivedAt = new Date();
    // Every answer of the webhook route goes through here, so that onAnswer sees each one.
    const answer = (status: number, headers: Record<string, string | number>, body: Buffer) => {
      res.writeHead(status, { ...headers, 'content-length': body.length });
      res.end(body);
      if (!options.onAnswer) return;
      const requestBody = size > API_GATEWAY_MAX_BODY ? Buffer.alloc(0) : Buffer.concat(chunks);
      const exchange = {
        receivedAt,
        headers: flatHeaders(req),
        body: requestBody,
        bytes: size,
        status,
        responseBody: body,
        durationMs: Date.now() - receivedAt.getTime(),
      };
      try {
        options.onAnswer(exchange);
      } catch {
        // An observer's mistake is not the API's.
      }
    };
    const answerJson = (status: number, body: unknown) => answer(status, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify(body)));
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= API_GATEWAY_MAX_BODY) chunks.push(chunk);
    });
    req.on('end', async () => {
      if (size > API_GATEWAY_MAX_BODY) return answerJson(413, { message: 'Request Entity Too Large' });
      if (!admitThrottle()) {
        // The construct's THROTTLED gateway response on the REST door (lib/front-door/front-door.ts); API Gateway's 429 on the HTTP API.
        if (!rest) return answerJson(429, { message: 'Too Many Requests' });
        return answer(
          RETRYABLE_BLOCK.statusCode,
          { 'content-type': 'application/json', 'retry-after': RETRYABLE_BLOCK.retryAfterSeconds },
          Buffer.from(JSON.stringify({ message: 'Too Many Requests', type: 'THROTTLED' })),
        );
      }
      // Lambda throttles (TooManyRequestsException) and API Gateway turns that into a 500, never a 429.
      if (options.maxConcurrency !== undefined && inFlight >= options.maxConcurrency) {
        return answerJson(500, { message: 'Internal Server Error' });
      }
      inFlight++;
      try {
        const body = Buffer.concat(chunks);
        const result = await target(rest ? toRestApiEvent(req, body) : toHttpApiEvent(req, body));
        const answered = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : Buffer.from(result.body ?? '');
        answer(result.statusCode ?? 200, { ...(result.headers as Record<string, string>) }, answered);
      } catch {
        // What API Gateway answers when the integration fails (crash, timeout).
        answerJson(500, { message: 'Internal Server Error' });
      } finally {
        inFlight--;
      }
    });
  });
  const listener = await listenOnLoopback(server, options.port ?? 0);
  const { port } = listener;
  return {
    url: localWebhookUrl(port),
    port,
    server,
    stop: listener.close,
  };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
