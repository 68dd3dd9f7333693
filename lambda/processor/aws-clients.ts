/**
 * Connection and request timeouts for every AWS SDK client the processor builds (S3, DynamoDB,
 * the Powertools persistence layer's DynamoDB, EventBridge, SQS). Without them a service that
 * accepts a connection and never answers holds the invocation until its Lambda timeout, and the
 * batch only comes back after the queue's visibility timeout.
 *
 * `requestHandler` is given as NodeHttpHandler options (the SDK builds the handler):
 * `connectionTimeout` caps the TCP/TLS connect, `requestTimeout` the time from sending the
 * request to the response headers, and only throws with `throwOnRequestTimeout`; `socketTimeout`
 * caps a silent socket while a body streams. All in ms.
 * https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-maxsockets.html
 * https://github.com/smithy-lang/smithy-typescript/blob/main/packages/types/src/http/httpHandlerInitialization.ts
 *
 * These caps are per attempt; each call also gets the invocation's deadline as its `abortSignal`
 * (see deadline.ts), so that no wait outlives the time the invocation has left.
 */

/** Timeouts of one client, in ms, and how many attempts its retry strategy makes. */
export interface ClientTimeouts {
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
}

/**
 * Per service. S3's request timeout covers uploading one 5 MiB multipart part (at least 0.5 MiB/s);
 * the others send a few KB. The worst case of one call is `maxAttempts × (connection + request)`
 * plus the SDK's backoff: about 20 s for DynamoDB and EventBridge, 13 s for SQS, 40 s for S3, all well under
 * the processor's 2-minute timeout.
 */
export const CLIENT_TIMEOUTS = {
  s3: { connectionTimeoutMs: 3_000, requestTimeoutMs: 10_000, maxAttempts: 3 },
  dynamodb: { connectionTimeoutMs: 2_000, requestTimeoutMs: 4_000, maxAttempts: 3 },
  eventBridge: { connectionTimeoutMs: 2_000, requestTimeoutMs: 4_000, maxAttempts: 3 },
  // Two attempts: the failure path (visibility change, dead-lettering) must fit the 15 s the deadline keeps for it.
  sqs: { connectionTimeoutMs: 2_000, requestTimeoutMs: 4_000, maxAttempts: 2 },
} as const satisfies Record<string, ClientTimeouts>;

/** Constructor settings for an SDK v3 client with these timeouts. */
export function clientConfig(timeouts: ClientTimeouts) {
  return {
    maxAttempts: timeouts.maxAttempts,
    requestHandler: {
      connectionTimeout: timeouts.connectionTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: timeouts.requestTimeoutMs,
    },
  };
}
