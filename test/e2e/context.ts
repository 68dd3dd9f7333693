/** What the e2e global setup hands to the tests. */
export interface E2EContext {
  readonly webhookUrl: string;
  readonly signingSecret: string;
  readonly statusUrl: string;
  /** The local runtime's own server (webhook route, status page, reverify route). */
  readonly localUrl: string;
  /** The local Secrets Manager, for putting another signing secret. */
  readonly secretsManagerEndpoint: string;
  /** fauxqs endpoint, for reading the bucket and the dead-letter queue. */
  readonly sqsS3Endpoint: string;
  readonly bucket: string;
  readonly deadLetterQueueUrl: string;
  /** The test media host, allowed in the runtime's configuration. */
  readonly mediaOrigin: string;
  /** Test-only control endpoint: media routes and faults. */
  readonly controlUrl: string;
  readonly dynamodbKind: string;
  /** The local DynamoDB the processor uses (DynamoDB Local or dynalite), for its guard's tests. */
  readonly dynamodbEndpoint: string;
  /** The queue's visibility timeout, as the construct derived it from the props the suite passes. */
  readonly visibilityTimeoutSeconds: number;
  readonly processorTimeoutSeconds: number;
}

/** One planned answer of the media server for a path; the last one repeats. */
export interface MediaAnswer {
  readonly status: number;
  /** Bytes served with a 200: `mediaStream(seed, size)`. */
  readonly seed?: string;
  readonly size?: number;
  readonly contentType?: string;
  /** Serve the body slowly, over this many milliseconds (to catch a download in the middle). */
  readonly durationMs?: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2EContext;
  }
}
