/**
 * Connection and request timeouts for every AWS SDK client the Lambdas build: the processor's
 * (S3, DynamoDB, the Powertools persistence layer's DynamoDB, EventBridge, SQS) and the
 * verifier's (Secrets Manager, SQS). Without them a service that accepts a connection and never
 * answers holds the invocation until its Lambda timeout: for the processor the batch only comes
 * back after the queue's visibility timeout; for the verifier FaceSign gets API Gateway's
 * timeout instead of our 503.
 *
 * `requestHandler` is given as NodeHttpHandler options (the SDK builds the handler):
 * `connectionTimeout` caps the TCP/TLS connect, `requestTimeout` the time from sending the
 * request to the response headers, and only throws with `throwOnRequestTimeout`; `socketTimeout`
 * caps a silent socket while a body streams. All in ms.
 * https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-maxsockets.html
 * https://github.com/smithy-lang/smithy-typescript/blob/main/packages/types/src/http/httpHandlerInitialization.ts
 *
 * These caps are per attempt; each call also gets the invocation's deadline as its `abortSignal`
 * (processor/deadline.ts, verifier/index.ts), so that no wait outlives the time the invocation has left.
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
  /**
   * The verifier's clients (function timeout 10 s). GetSecretValue and SendMessage send and get a
   * few KB and normally answer in tens of ms. Worst case of each call: 2 × (1 s + 1.5 s) plus
   * backoff, about 5 s; a request reads the secret (rarely) and then sends once, and each call also
   * gets the invocation's deadline as its abortSignal (verifier/index.ts), so the 503 always
   * leaves before the function timeout.
   */
  verifierSecretsManager: { connectionTimeoutMs: 1_000, requestTimeoutMs: 1_500, maxAttempts: 2 },
  verifierSqs: { connectionTimeoutMs: 1_000, requestTimeoutMs: 1_500, maxAttempts: 2 },
  /**
   * The verifier's hold of a refused delivery (verifier/hold-store.ts): one UpdateItem on the hold
   * counter and one PutObject of at most maxBodyBytes (760,000 bytes at most; 3 s is 0.25 MB/s).
   * The whole hold is also capped by HOLD_BUDGET_MS (5 s) and the invocation's deadline, whichever
   * ends first, so the 401 always leaves before the verifier's 10 s timeout.
   */
  verifierHoldCounter: { connectionTimeoutMs: 1_000, requestTimeoutMs: 1_000, maxAttempts: 2 },
  verifierHoldStore: { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000, maxAttempts: 2 },
  /** The reverifier's clients (function timeout 5 minutes): a held object, a secret read, one SendMessage each. */
  reverifier: { connectionTimeoutMs: 2_000, requestTimeoutMs: 5_000, maxAttempts: 3 },
} as const satisfies Record<string, ClientTimeouts>;

/**
 * Most of the verifier's time a hold of a refused delivery may take, from the moment it starts:
 * loading the hold's clients at the first one, the counter and the upload together. FaceSign gets
 * its 401 after the hold, so this bounds how much later it comes (a 401 is final either way); the
 * invocation's deadline (10 s less 1 s) bounds it too. Here, not in verifier/hold-store.ts, so that
 * the verifier starts the clock before it loads that module.
 */
export const HOLD_BUDGET_MS = 5_000;

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
