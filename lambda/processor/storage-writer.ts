/**
 * The one way the processor writes an object (an event, a conflicting version, a quarantined body,
 * a media file): SSE-KMS under the construct's customer-managed key
 * (shared/object-encryption.ts), and never over an object that exists.
 *
 * Every write is conditional, `If-None-Match: *` (SDK v3 `IfNoneMatch: '*'`, on PutObject and on
 * CompleteMultipartUpload, which `@aws-sdk/lib-storage`'s Upload sends it with): S3 refuses to
 * replace an object with 412 Precondition Failed, so an archived event or a stored file is never
 * overwritten, whoever holds `s3:PutObject`
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html). A 412 means "already
 * stored"; what that means for each object is its caller's decision. A 409
 * ConditionalRequestConflict (a write of the same key raced this one) is not "stored": S3 asks for
 * a retry, and it is retried as a transient failure (failures.ts); the retry then gets 412.
 */
import { PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { objectEncryption, type ObjectEncryption } from '../shared/object-encryption';
import { objectMetadata } from './storage-names';

/** Where the processor writes, and under which key. */
export interface ObjectStore {
  readonly s3: S3Client;
  readonly bucket: string;
  /** The customer-managed KMS key; unset: the bucket's default encryption. */
  readonly encryptionKeyArn?: string;
}

/** The parameters every PutObject / CreateMultipartUpload / CompleteMultipartUpload of the processor carries. */
export interface WriteParameters extends ObjectEncryption {
  readonly IfNoneMatch: '*';
}

/** SSE-KMS under the store's key (shared/object-encryption.ts; nothing when it has none) and `If-None-Match: *`. */
export function writeParameters(store: Pick<ObjectStore, 'encryptionKeyArn'>): WriteParameters {
  return { ...objectEncryption(store.encryptionKeyArn), IfNoneMatch: '*' };
}

/** True when S3 refused a conditional write because the key already holds an object (412). */
export function isAlreadyStored(error: unknown): boolean {
  if (error instanceof S3ServiceException) return error.name === 'PreconditionFailed' || error.$metadata?.httpStatusCode === 412;
  return (error as { name?: unknown } | undefined)?.name === 'PreconditionFailed';
}

/** One small object, written in a single PutObject. */
export interface ObjectToWrite {
  readonly key: string;
  readonly body: string;
  readonly contentType: string;
  /** User metadata (plain values; encoded and capped by {@link objectMetadata}). */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Writes an object unless its key holds one already: `written`, or `already_stored` on S3's 412.
 * Every other error is thrown. `signal` (the invocation's deadline) aborts the request.
 */
export async function writeObject(store: ObjectStore, object: ObjectToWrite, signal: AbortSignal): Promise<'written' | 'already_stored'> {
  try {
    await store.s3.send(
      new PutObjectCommand({
        Bucket: store.bucket,
        Key: object.key,
        Body: object.body,
        ContentType: object.contentType,
        ...writeParameters(store),
        Metadata: objectMetadata(object.metadata),
      }),
      { abortSignal: signal },
    );
    return 'written';
  } catch (error) {
    if (isAlreadyStored(error)) return 'already_stored';
    throw error;
  }
}
