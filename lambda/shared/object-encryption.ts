/**
 * How the processor and the verifier's hold store ask S3 to encrypt what they write: SSE-KMS under
 * the construct's customer-managed key, with an S3 Bucket Key, on every request. Explicit, so that
 * objects are encrypted under that key even in a bucket passed in whose default encryption is
 * something else.
 */
import type { ServerSideEncryption } from '@aws-sdk/client-s3';

/** The PutObject / CreateMultipartUpload encryption parameters. */
export interface ObjectEncryption {
  readonly ServerSideEncryption?: ServerSideEncryption;
  readonly SSEKMSKeyId?: string;
  readonly BucketKeyEnabled?: boolean;
}

/** SSE-KMS under `keyArn`; nothing (the bucket's default) when no key is configured. */
export function objectEncryption(keyArn: string | undefined): ObjectEncryption {
  return keyArn ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn, BucketKeyEnabled: true } : {};
}
