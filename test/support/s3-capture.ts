import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

/** An S3 client mock that keeps what was uploaded, single-part or multipart, by key. */
export function captureS3() {
  const mock = mockClient(S3Client);
  const objects = new Map<string, { body: Buffer; contentType?: string; metadata?: Record<string, string> }>();
  const uploads = new Map<string, { key: string; parts: Map<number, Buffer>; contentType?: string; metadata?: Record<string, string> }>();
  let nextUpload = 0;

  mock.on(PutObjectCommand).callsFake(async (input) => {
    objects.set(input.Key, { body: await toBuffer(input.Body), contentType: input.ContentType, metadata: input.Metadata });
    return { ETag: '"etag"' };
  });
  mock.on(CreateMultipartUploadCommand).callsFake(async (input) => {
    const id = `upload-${nextUpload++}`;
    uploads.set(id, { key: input.Key, parts: new Map(), contentType: input.ContentType, metadata: input.Metadata });
    return { UploadId: id };
  });
  mock.on(UploadPartCommand).callsFake(async (input) => {
    uploads.get(input.UploadId)?.parts.set(input.PartNumber, await toBuffer(input.Body));
    return { ETag: `"p${input.PartNumber}"` };
  });
  mock.on(CompleteMultipartUploadCommand).callsFake(async (input) => {
    const upload = uploads.get(input.UploadId);
    if (!upload) throw new Error('no such upload');
    const parts = [...upload.parts.entries()].sort(([a], [b]) => a - b).map(([, b]) => b);
    objects.set(upload.key, { body: Buffer.concat(parts), contentType: upload.contentType, metadata: upload.metadata });
    uploads.delete(input.UploadId);
    return {};
  });
  mock.on(AbortMultipartUploadCommand).callsFake(async (input) => {
    uploads.delete(input.UploadId);
    return {};
  });
  return { mock, objects, uploads, client: new S3Client({ region: 'eu-west-1' }) };
}

async function toBuffer(body: unknown): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
