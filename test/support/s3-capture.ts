import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
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

  /** Stores a single-part upload; a test that made PutObject fail or hang puts this back. */
  const putObject = async (input: { Key?: string; Body?: unknown; ContentType?: string; Metadata?: Record<string, string> }) => {
    objects.set(input.Key!, { body: await toBuffer(input.Body), contentType: input.ContentType, metadata: input.Metadata });
    return { ETag: '"etag"' };
  };
  mock.on(PutObjectCommand).callsFake(putObject);
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
  mock.on(ListObjectsV2Command).callsFake(async (input) => {
    const keys = [...objects.keys()]
      .filter((k) => k.startsWith(input.Prefix ?? ''))
      .sort()
      .slice(0, input.MaxKeys ?? 1000);
    return { Contents: keys.map((Key) => ({ Key, Size: objects.get(Key)!.body.length })), KeyCount: keys.length };
  });
  mock.on(GetObjectCommand).callsFake(async (input) => {
    const object = objects.get(input.Key);
    if (!object) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    return { Body: Readable.from([object.body]), ContentType: object.contentType, ContentLength: object.body.length, Metadata: object.metadata };
  });
  return { mock, objects, uploads, putObject, client: new S3Client({ region: 'eu-west-1' }) };
}

async function toBuffer(body: unknown): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
