/**
 * The media file the integration test serves FaceSign-style: the same bytes every run, so the
 * integ app knows their size and SHA-256 at synth time and the assertions compare what the
 * processor stored in S3 against them. Larger than the processor's 5 MiB multipart part size,
 * so the upload to the archive bucket is multipart (the case that needs both kms:GenerateDataKey
 * and kms:Decrypt on an SSE-KMS bucket, which only AWS checks).
 */
import { createHash } from 'node:crypto';

/** 6 MiB: two multipart parts at the processor's 5 MiB part size. */
export const FIXTURE_BYTES = 6 * 1024 * 1024;
/** What the fixture is served as; the stored object keeps it and the key ends in `.jpg`. */
export const FIXTURE_CONTENT_TYPE = 'image/jpeg';

/** The fixture's bytes: a fixed xorshift32 stream (not an image; the processor never decodes media). */
export function fixtureBody(): Buffer {
  const body = Buffer.allocUnsafe(FIXTURE_BYTES);
  let x = 0x9e3779b9;
  for (let i = 0; i < FIXTURE_BYTES; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    body.writeUInt32LE(x >>> 0, i);
  }
  return body;
}

/** Hex SHA-256 of {@link fixtureBody}. */
export function fixtureSha256(): string {
  return createHash('sha256').update(fixtureBody()).digest('hex');
}
