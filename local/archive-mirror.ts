/**
 * Copies what the processor stored in the local S3 bucket into a folder, so a person can open
 * archived events and downloaded media with ordinary tools. Only new or changed objects are copied.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

export class ArchiveMirror {
  private readonly copied = new Map<string, string>();
  private running: Promise<void> = Promise.resolve();
  private queued: Promise<string[]> | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly folder: string,
  ) {}

  /**
   * Copies new objects. Calls are serialised, and calls made while one is waiting share it, so a
   * burst of batches costs one listing, not one each. Resolves with the keys copied.
   */
  sync(): Promise<string[]> {
    if (this.queued) return this.queued;
    const next = this.running.then(() => {
      this.queued = undefined;
      return this.copyNew();
    });
    this.queued = next;
    this.running = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private async copyNew(): Promise<string[]> {
    const copied: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        if (!object.Key || this.copied.get(object.Key) === object.ETag) continue;
        const target = path.join(this.folder, ...object.Key.split('/'));
        if (!target.startsWith(this.folder + path.sep)) continue;
        mkdirSync(path.dirname(target), { recursive: true });
        const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: object.Key }));
        await pipeline(out.Body as Readable, createWriteStream(target));
        this.copied.set(object.Key, object.ETag ?? '');
        copied.push(object.Key);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return copied;
  }
}
