/**
 * The construct's promises about stored objects, read from the construct itself so that the
 * integration test asserts whatever the construct in this checkout promises:
 * - with `webhooks.encryptionKey` (customer-managed key): every object is SSE-KMS under that key,
 *   with an S3 Bucket Key, and `grantReadArchive` / `grantReadMedia` give readers access;
 * - without it (the construct before customer-managed keys): S3-managed encryption (AES256),
 *   and read access is the bucket's own `grantRead` on the two prefixes.
 * Feature-detected rather than imported so that this app synthesizes on either side of that change.
 */
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { FaceSignWebhooks } from '../../lib';

interface WithStorageKey {
  readonly encryptionKey?: kms.IKey;
  grantReadArchive?(grantee: iam.IGrantable): unknown;
  grantReadMedia?(grantee: iam.IGrantable): unknown;
}

/** How HeadObject must describe an archived event or a stored media file. */
export type StoredObjectEncryption =
  | { readonly serverSideEncryption: 'aws:kms'; readonly kmsKeyId: string; readonly bucketKeyEnabled: true }
  | { readonly serverSideEncryption: 'AES256' };

/** The encryption the construct promises for objects it writes. */
export function promisedEncryption(webhooks: FaceSignWebhooks): StoredObjectEncryption {
  const key = (webhooks as unknown as WithStorageKey).encryptionKey;
  return key ? { serverSideEncryption: 'aws:kms', kmsKeyId: key.keyArn, bucketKeyEnabled: true } : { serverSideEncryption: 'AES256' };
}

/** Lets the grantee read archived events and stored media, the way a user of the construct would. */
export function grantReadStored(webhooks: FaceSignWebhooks, grantee: iam.IGrantable): void {
  const w = webhooks as unknown as WithStorageKey;
  if (typeof w.grantReadArchive === 'function' && typeof w.grantReadMedia === 'function') {
    w.grantReadArchive.call(webhooks, grantee);
    w.grantReadMedia.call(webhooks, grantee);
    return;
  }
  webhooks.bucket.grantRead(grantee, 'events/*');
  webhooks.bucket.grantRead(grantee, 'media/*');
}
